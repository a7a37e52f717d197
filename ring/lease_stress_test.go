package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
)

var leaseStressTasks = flag.Int("ring.lease-stress", 600, "tasks in TestLeaseKillStress (more: a longer soak)")

func init() {
	testproc.Register("ring-lease-worker", helperLeaseWorker)
}

// helperLeaseWorker: Arg(0) segment. Takes tasks from the joinable queue
// "jq" and, for each, works (spins up to 200 µs), reports its id on the
// queue "rep", works again and calls TaskDone, until jq is closed.
func helperLeaseWorker() {
	seg := openSegment(testproc.Arg(0))
	jq, err := ring.OpenJoinableQueue(seg, "jq", nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	rep, err := ring.OpenQueue(seg, "rep", nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	ctx := context.Background()
	work := func() {
		for end := time.Now().Add(time.Duration(rand.IntN(200)) * time.Microsecond); time.Now().Before(end); {
		}
	}
	testproc.Ready()
	for {
		b, err := jq.Get(ctx)
		if errors.Is(err, ring.ErrClosed) {
			return
		}
		if err != nil {
			testproc.Fatalf("get: %v", err)
		}
		work()
		if err := rep.Put(ctx, b); err != nil {
			testproc.Fatalf("report: %v", err)
		}
		work()
		if err := jq.TaskDone(); err != nil {
			testproc.Fatalf("task done: %v", err)
		}
	}
}

// TestLeaseKillStress: three worker processes take tasks under leases while
// the test SIGKILLs one at a random moment every few tasks and starts a
// replacement. Whatever instruction each died at, the counts add up: under
// CountLost no task is delivered twice and every task never delivered is
// counted in Lost; under Redeliver every task is delivered, none is lost,
// and deliveries beyond one per task are covered by Redelivered. Join
// returns in both, and neither count exceeds the number of kills.
func TestLeaseKillStress(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts processes for a few seconds")
	}
	for _, rule := range []ring.DeadHolder{ring.CountLost, ring.Redeliver} {
		t.Run(rule.String(), func(t *testing.T) { leaseKillStress(t, rule, *leaseStressTasks) })
	}
}

func leaseKillStress(t *testing.T, rule ring.DeadHolder, tasks int) {
	seg, name := newSegment(t, 4<<20)
	jq, err1 := ring.NewJoinableQueue(seg, "jq", &ring.QueueOptions{MaxSize: 16, MaxMessage: 8, Leases: 8, DeadHolder: rule})
	rep, err2 := ring.NewQueue(seg, "rep", &ring.QueueOptions{MaxSize: 2 * tasks, MaxMessage: 8, Leases: -1})
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := func() *testproc.Child {
		c := testproc.Start(t, "ring-lease-worker", testproc.Options{Args: []string{name}})
		c.WaitReady()
		return c
	}
	workers := []*testproc.Child{start(), start(), start()}
	rng := rand.New(rand.NewPCG(uint64(rule), uint64(tasks)))
	kills := 0
	for i := 0; i < tasks; i++ {
		if err := jq.Put(ctx, binary.LittleEndian.AppendUint64(nil, uint64(i))); err != nil {
			t.Fatalf("put %d: %v\n%s", i, err, ring.DebugLeases(jq))
		}
		if i%20 == 19 {
			w := rng.IntN(len(workers))
			workers[w].Kill()
			workers[w].ExitSignal()
			kills++
			workers[w] = start()
		}
	}
	if err := jq.Join(ctx); err != nil {
		t.Fatalf("Join: %v (Unfinished %d)", err, jq.Unfinished())
	}
	jq.Close()
	for _, w := range workers {
		w.MustWait()
	}
	got := make([]int, tasks)
	reports := 0
	for {
		b, err := rep.TryGet()
		if errors.Is(err, ring.ErrEmpty) {
			break
		}
		if err != nil || len(b) != 8 || binary.LittleEndian.Uint64(b) >= uint64(tasks) {
			t.Fatalf("report %q, %v", b, err)
		}
		got[binary.LittleEndian.Uint64(b)]++
		reports++
	}
	never, twice := 0, 0
	for _, n := range got {
		if n == 0 {
			never++
		}
		if n > 1 {
			twice += n - 1
		}
	}
	lost, re := int(jq.Lost()), int(jq.Redelivered())
	t.Logf("%d tasks, %d kills: %d reports, %d never delivered, %d extra deliveries, Lost %d, Redelivered %d",
		tasks, kills, reports, never, twice, lost, re)
	if lost > kills || re > kills {
		t.Fatalf("Lost %d, Redelivered %d: more than the %d kills", lost, re, kills)
	}
	switch rule {
	case ring.CountLost:
		if twice != 0 || never > lost || re != 0 {
			t.Fatalf("CountLost: %d extra deliveries, %d never delivered, Lost %d, Redelivered %d; want 0, <= Lost, 0", twice, never, lost, re)
		}
	case ring.Redeliver:
		if never != 0 || lost != 0 || twice > re {
			t.Fatalf("Redeliver: %d never delivered, Lost %d, %d extra deliveries, Redelivered %d; want 0, 0, <= Redelivered", never, lost, twice, re)
		}
	}
	if n := jq.Unfinished(); n != 0 {
		t.Fatalf("Unfinished: got %d; want 0", n)
	}
}
