package ring_test

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ring-lease-holder", helperLeaseHolder)
	testproc.Register("ring-typed-joinable-worker", helperTypedJoinableWorker)
}

// helperLeaseHolder: Arg(0) segment, Arg(1) queue, Arg(2) "joinable" or
// "queue": takes one message (a JoinableQueue's Get, or a Queue's
// GetLease), reports "<message> <token>" and hangs until killed.
func helperLeaseHolder() {
	seg := openSegment(testproc.Arg(0))
	ctx := context.Background()
	var msg []byte
	if testproc.Arg(2) == "joinable" {
		q, err := ring.OpenJoinableQueue(seg, testproc.Arg(1), nil)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		if msg, err = q.Get(ctx); err != nil {
			testproc.Fatalf("get: %v", err)
		}
	} else {
		q, err := ring.OpenQueue(seg, testproc.Arg(1), nil)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		l, err := q.GetLease(ctx)
		if err != nil {
			testproc.Fatalf("get lease: %v", err)
		}
		msg = l.Bytes()
	}
	testproc.Send("%s %d", msg, seg.Token())
	time.Sleep(time.Hour)
}

// holders starts n lease holders on queue qname and returns them with the
// message each took and its participant token.
func holders(t *testing.T, segName, qname, kind string, n int) ([]*testproc.Child, map[string]shm.Token) {
	t.Helper()
	var cs []*testproc.Child
	for i := 0; i < n; i++ {
		cs = append(cs, testproc.Start(t, "ring-lease-holder", testproc.Options{Args: []string{segName, qname, kind}}))
	}
	held := map[string]shm.Token{}
	for _, c := range cs {
		f := strings.Fields(c.Recv(30 * time.Second))
		if len(f) != 2 {
			t.Fatalf("holder reported %q", f)
		}
		tok, err := strconv.ParseUint(f[1], 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		held[f[0]] = shm.Token(tok)
	}
	return cs, held
}

func killAll(cs []*testproc.Child) {
	for _, c := range cs {
		c.Kill()
		c.ExitSignal()
	}
}

// putTasks puts "task0".."task<n-1>" and returns them.
func putTasks(t *testing.T, put func([]byte) error, n int) []string {
	t.Helper()
	var all []string
	for i := 0; i < n; i++ {
		m := fmt.Sprint("task", i)
		if err := put([]byte(m)); err != nil {
			t.Fatal(err)
		}
		all = append(all, m)
	}
	return all
}

// drainJoinable gets and marks done every task left, until a Get waits
// 300 ms for nothing.
func drainJoinable(t *testing.T, q *ring.JoinableQueue) []string {
	t.Helper()
	var got []string
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		b, err := q.Get(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			return got
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, string(b))
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestJoinableQueueConsumersKilledHoldingTasks (issue 10 point 3): three
// consumer processes SIGKILLed between Get and TaskDone do not wedge Join.
// Under CountLost (the default) their tasks are counted in Lost and every
// other task is delivered once; under Redeliver their tasks come back to
// the live consumer, each exactly once. Join returns with Unfinished 0
// either way. (Before leases, Join waited to its deadline with Unfinished
// 3.)
func TestJoinableQueueConsumersKilledHoldingTasks(t *testing.T) {
	for _, rule := range []ring.DeadHolder{ring.CountLost, ring.Redeliver} {
		t.Run(rule.String(), func(t *testing.T) {
			seg, name := newSegment(t, 1<<20)
			o := &ring.QueueOptions{DeadHolder: rule}
			if rule == ring.CountLost {
				o = nil // the default
			}
			q, err := ring.NewJoinableQueue(seg, "jq", o)
			if err != nil {
				t.Fatal(err)
			}
			all := putTasks(t, q.TryPut, 8)
			cs, held := holders(t, name, "jq", "joinable", 3)
			killAll(cs)
			got := drainJoinable(t, q)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := q.Join(ctx); err != nil {
				t.Fatalf("Join after 3 holders died: %v (Unfinished %d)", err, q.Unfinished())
			}
			wantLost, wantRe := uint64(3), uint64(0)
			if rule == ring.Redeliver {
				wantLost, wantRe = 0, 3
			} else {
				for m := range held {
					got = append(got, m)
				}
			}
			if n, lost, re := q.Unfinished(), q.Lost(), q.Redelivered(); n != 0 || lost != wantLost || re != wantRe {
				t.Fatalf("Unfinished %d, Lost %d, Redelivered %d; want 0, %d, %d", n, lost, re, wantLost, wantRe)
			}
			slices.Sort(got)
			if slices.Sort(all); !slices.Equal(got, all) {
				t.Fatalf("delivered (live consumer, + dead holders under CountLost): %q; want each of %q once", got, all)
			}
		})
	}
}

// TestQueueReclaimDeadSupervised: what a process pool does. Under the
// Supervised rule nothing ends a dead holder's lease but ReclaimDead, which
// hands the supervisor exactly the messages the dead processes held, with
// their tokens; one is redelivered, the others counted lost.
func TestQueueReclaimDeadSupervised(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 16, MaxMessage: 64, Leases: 4, DeadHolder: ring.Supervised})
	if err != nil {
		t.Fatal(err)
	}
	putTasks(t, q.TryPut, 3)
	cs, held := holders(t, name, "q", "queue", 3)
	killAll(cs)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	_, err = q.Get(ctx) // waits across slices: must not reclaim on its own
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with only dead holders' messages: got %v; want DeadlineExceeded", err)
	}
	seen := map[string]shm.Token{}
	var again string
	n, err := q.ReclaimDead(func(msg []byte, holder shm.Token) bool {
		seen[string(msg)] = holder
		if again == "" {
			again = string(msg)
			return true
		}
		return false
	})
	if err != nil || n != 3 {
		t.Fatalf("ReclaimDead: got %d, %v; want 3, nil", n, err)
	}
	if fmt.Sprint(seen) != fmt.Sprint(held) {
		t.Fatalf("ReclaimDead saw %v; the dead holders held %v", seen, held)
	}
	if b, err := q.TryGet(); err != nil || string(b) != again {
		t.Fatalf("TryGet after redelivery: got %q, %v; want %q", b, err, again)
	}
	if b, err := q.TryGet(); !errors.Is(err, ring.ErrEmpty) {
		t.Fatalf("TryGet: got %q, %v; want ErrEmpty", b, err)
	}
	if re, lost := q.Redelivered(), q.Lost(); re != 1 || lost != 2 {
		t.Fatalf("Redelivered %d, Lost %d; want 1, 2", re, lost)
	}
	if n, err := q.ReclaimDead(nil); n != 0 || err != nil {
		t.Fatalf("second ReclaimDead: got %d, %v; want 0, nil", n, err)
	}
}

type job struct {
	ID     int64
	Weight float64
}

// helperTypedJoinableWorker: Arg(1) the typed queue's ShareDesc in hex; typed
// Get + TaskDone until ErrClosed, reports the sum of the IDs it did.
func helperTypedJoinableWorker() {
	seg := openSegment(testproc.Arg(0))
	desc, err := hex.DecodeString(testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	var q ring.TypedJoinableQueue[job]
	if err := q.AttachShare(seg, string(desc)); err != nil {
		testproc.Fatalf("%v", err)
	}
	var sum int64
	for {
		j, err := q.Get(context.Background())
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		if err != nil {
			testproc.Fatalf("get: %v", err)
		}
		sum += j.ID
		if err := q.TaskDone(); err != nil {
			testproc.Fatalf("task done: %v", err)
		}
	}
	testproc.Send("%d", sum)
}

// TestTypedJoinableQueueCountsTasks (issue 10 point 2): values put through
// a typed view of a JoinableQueue (nil options in a 1 MiB segment, default
// codec) are tasks: Join waits for them, worker processes' TaskDone through
// their typed views (attached from the parent's ShareDesc) ends them, and a
// JoinableQueue cannot be opened as a plain Queue, whose Gets would skip
// the lease.
func TestTypedJoinableQueueCountsTasks(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	jq, err := ring.NewJoinableQueue(seg, "jobs", nil)
	if err != nil {
		t.Fatal(err)
	}
	q := ring.NewTypedJoinableQueue[job](jq, nil)
	ctx := context.Background()
	const n = 100
	for i := 1; i <= n; i++ {
		if err := q.Put(ctx, job{ID: int64(i), Weight: 0.5}); err != nil {
			t.Fatal(err)
		}
	}
	if u := q.Unfinished(); u != n {
		t.Fatalf("Unfinished after %d typed Puts: got %d; want %d", n, u, n)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	err = q.Join(short)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join with %d tasks and no worker: got %v; want DeadlineExceeded", n, err)
	}
	if _, err := ring.OpenQueue(seg, "jobs", nil); !errors.Is(err, ring.ErrTypeMismatch) {
		t.Fatalf("OpenQueue on a JoinableQueue: got %v; want ErrTypeMismatch", err)
	}
	_, desc := q.ShareDesc()
	var ws []*testproc.Child
	for i := 0; i < 2; i++ {
		ws = append(ws, testproc.Start(t, "ring-typed-joinable-worker", testproc.Options{Args: []string{name, hex.EncodeToString([]byte(desc))}}))
	}
	wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
	defer wcancel()
	if err := q.Join(wctx); err != nil {
		t.Fatalf("Join: %v (Unfinished %d)", err, q.Unfinished())
	}
	q.Close()
	var sum int64
	for _, w := range ws {
		v, _ := strconv.ParseInt(w.Recv(30*time.Second), 10, 64)
		sum += v
		w.MustWait()
	}
	if want := int64(n * (n + 1) / 2); sum != want || q.Unfinished() != 0 {
		t.Fatalf("workers summed IDs to %d, Unfinished %d; want %d, 0", sum, q.Unfinished(), want)
	}
}

// TestQueueDefaultsFitOneMiB (issue 10 point 8): every queue kind with nil
// options fits a 1 MiB segment, and one that does not fit says how much it
// needed and how much was free, naming the queue once.
func TestQueueDefaultsFitOneMiB(t *testing.T) {
	kinds := map[string]func(*shm.Segment) error{
		"Queue":         func(s *shm.Segment) error { _, err := ring.NewQueue(s, "q", nil); return err },
		"SimpleQueue":   func(s *shm.Segment) error { _, err := ring.NewSimpleQueue(s, "q", nil); return err },
		"JoinableQueue": func(s *shm.Segment) error { _, err := ring.NewJoinableQueue(s, "q", nil); return err },
	}
	for kind, mk := range kinds {
		seg, _ := newSegment(t, 1<<20)
		if err := mk(seg); err != nil {
			t.Fatalf("New%s with nil options in 1 MiB: %v", kind, err)
		}
		_, err := ring.NewQueue(seg, "big", &ring.QueueOptions{MaxSize: 1024})
		if !errors.Is(err, shm.ErrNoSpace) {
			t.Fatalf("a 4 MiB queue in what is left of 1 MiB: got %v; want ErrNoSpace", err)
		}
		msg := err.Error()
		if strings.Count(msg, "ring:") != 1 || strings.Count(msg, `"big"`) != 1 ||
			!strings.Contains(msg, "needs 4") || !strings.Contains(msg, "free") {
			t.Fatalf("error %q: want one ring: prefix, the name once, bytes needed and free", msg)
		}
		t.Logf("%s: %v", kind, msg)
	}
}

// TestQueueErrorTexts (issue 10 point 8): one package prefix, the queue's
// name once, and errors.Is still finds the sentinel.
func TestQueueErrorTexts(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 2, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	jq, err := ring.NewJoinableQueue(seg, "jq", &ring.QueueOptions{MaxSize: 2, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	_, errOpen := ring.OpenJoinableQueue(seg, "q", nil)
	errTooLarge := q.TryPut(make([]byte, 9))
	q.Close()
	for _, c := range []struct {
		err      error
		sentinel error
		text     string
	}{
		{errTooLarge, ring.ErrTooLarge, `ring: queue "q": message of 9 bytes, max 8: message too large`},
		{q.TryPut(nil), ring.ErrClosed, `ring: queue "q": closed`},
		{jq.TaskDone(), ring.ErrTaskDone, `ring: queue "jq": no task held by this process: task_done() called too many times`},
		{errOpen, ring.ErrTypeMismatch, `ring: queue "q" is a Queue or SimpleQueue, not a JoinableQueue: object type mismatch`},
	} {
		if !errors.Is(c.err, c.sentinel) || c.err.Error() != c.text {
			t.Errorf("got %v; want %q (errors.Is %v)", c.err, c.text, c.sentinel)
		}
	}
}

// TestQueueDeadlinesReportedAsDeadlines (issue 10 point 4, queue half):
// every queue wait whose deadline passes reports context.DeadlineExceeded
// (never ErrEmpty, ErrFull, ErrNoLease or nil), however short the deadline:
// Get on an empty Queue, Put on a full one, and, with the only lease held
// by a live process, a JoinableQueue's Get (waiting for a lease) and Join.
func TestQueueDeadlinesReportedAsDeadlines(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	o := &ring.QueueOptions{MaxSize: 2, MaxMessage: 16, Leases: 1}
	empty, err1 := ring.NewQueue(seg, "empty", o)
	full, err2 := ring.NewQueue(seg, "full", o)
	jq, err3 := ring.NewJoinableQueue(seg, "jq", o)
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Fatal(err)
	}
	putTasks(t, full.TryPut, 2)
	putTasks(t, jq.TryPut, 2)
	cs, _ := holders(t, name, "jq", "joinable", 1)
	defer killAll(cs)
	ops := map[string]func(context.Context) error{
		"Queue.Get":          func(ctx context.Context) error { _, err := empty.Get(ctx); return err },
		"Queue.Put":          func(ctx context.Context) error { return full.Put(ctx, []byte("x")) },
		"JoinableQueue.Get":  func(ctx context.Context) error { _, err := jq.Get(ctx); return err },
		"JoinableQueue.Join": jq.Join,
	}
	deadlines := []time.Duration{-time.Millisecond, 0, time.Microsecond, 100 * time.Microsecond, time.Millisecond, 3 * time.Millisecond}
	for name, op := range ops {
		for i := 0; i < 60; i++ {
			ctx, cancel := context.WithTimeout(context.Background(), deadlines[i%len(deadlines)])
			err := op(ctx)
			cancel()
			if err != context.DeadlineExceeded {
				t.Fatalf("%s with a %v deadline: got %v; want context.DeadlineExceeded", name, deadlines[i%len(deadlines)], err)
			}
		}
	}
}
