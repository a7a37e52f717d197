package cgofreetests

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("it-victim", itVictim)
	testproc.Register("it-adder", itAdder)
}

// itVictim takes the lock of Value "hits" in segment Arg(0) through
// GetLock, says so, and waits to be killed holding it.
func itVictim() {
	seg, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	hits, err := ctypes.OpenValue[int64](seg, "hits")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	if err := hits.GetLock().Acquire(context.Background()); err != nil {
		testproc.Fatalf("Acquire: %v", err)
	}
	testproc.Send("holding")
	time.Sleep(time.Hour)
}

// itAdder meets the others at Barrier "start", then adds every job it
// gets from Queue "jobs" to Value "hits" with Update, until the queue is
// closed. It sends "jobs ownerdead": how many jobs it did and how many of
// its Updates reported a dead previous holder.
func itAdder() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seg, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer seg.Close()
	hits, err := ctypes.OpenValue[int64](seg, "hits")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	q, err := ring.OpenQueue(seg, "jobs", nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	codec, err := ring.NewPlain[int64]()
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	jobs := ring.NewTypedQueue(q, codec)
	start, err := futex.OpenBarrier(seg, "start")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	if _, err := start.Wait(ctx); err != nil {
		testproc.Fatalf("Barrier: %v", err)
	}
	done, dead := 0, 0
	for {
		job, err := jobs.Get(ctx)
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		if err != nil {
			testproc.Fatalf("Get: %v", err)
		}
		_, err = hits.Update(ctx, func(v int64) int64 { return v + job })
		switch {
		case errors.Is(err, futex.ErrOwnerDead):
			dead++ // applied all the same
		case err != nil:
			testproc.Fatalf("Update: %v", err)
		}
		done++
	}
	testproc.Send("%d %d", done, dead)
}

// TestOwnerDeathAcrossPackages: a process is SIGKILLed (and left
// unreaped) while holding the lock of a ctypes Value; three worker
// processes, started together through a Barrier, then add jobs from a
// Queue to the Value with Update. Exactly one Update in all of them
// reports the dead holder, none hangs, and the total is exact.
func TestOwnerDeathAcrossPackages(t *testing.T) {
	name := testproc.Name(t)
	seg, err := shm.Create(name, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close(); shm.Unlink(name) })
	hits, err := ctypes.NewValue[int64](seg, "hits", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := ring.NewQueue(seg, "jobs", &ring.QueueOptions{MaxSize: 256, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	codec, err := ring.NewPlain[int64]()
	if err != nil {
		t.Fatal(err)
	}
	jobs := ring.NewTypedQueue(q, codec)
	const workers = 3
	start, err := futex.NewBarrier(seg, "start", workers+1)
	if err != nil {
		t.Fatal(err)
	}

	victim := testproc.Start(t, "it-victim", testproc.Options{Args: []string{name}})
	if got := victim.Recv(30 * time.Second); got != "holding" {
		t.Fatalf("victim said %q; want holding", got)
	}
	victim.Kill() // a zombie until reaped: still judged dead

	var adders []*testproc.Child
	for range workers {
		adders = append(adders, testproc.Start(t, "it-adder", testproc.Options{Args: []string{name}}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := start.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	n := int64(3000)
	if testing.Short() {
		n = 600
	}
	for i := int64(1); i <= n; i++ {
		if err := jobs.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	done, dead := 0, 0
	for _, c := range adders {
		f := strings.Fields(c.Recv(time.Minute))
		if len(f) != 2 {
			t.Fatalf("adder sent %q; want two numbers", f)
		}
		d, _ := strconv.Atoi(f[0])
		o, _ := strconv.Atoi(f[1])
		done += d
		dead += o
		c.MustWait()
	}
	if got := victim.ExitSignal(); got != 9 {
		t.Errorf("victim ended by signal %d; want SIGKILL", got)
	}
	t.Logf("done=%d dead=%d total=%d", done, dead, hits.Load())
	if done != int(n) {
		t.Errorf("adders did %d jobs; want %d", done, n)
	}
	if dead != 1 {
		t.Errorf("%d Updates reported the dead holder; want exactly 1", dead)
	}
	if got, want := hits.Load(), n*(n+1)/2; got != want {
		t.Errorf("total = %d; want %d", got, want)
	}
	if ok, err := hits.GetLock().TryAcquire(); !ok || err != nil {
		t.Errorf("TryAcquire after every worker finished: got (%v, %v); want (true, nil)", ok, err)
	} else if err := hits.GetLock().Release(); err != nil {
		t.Error(err)
	}
}
