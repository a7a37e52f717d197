package cgofreetests

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/view"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("sync-worker", syncWorker)
	testproc.Register("sync-holder", syncHolder)
}

var kindSyncWords = shm.MakeKind("SYNW")

// The words of the sync test, in one shared object.
const (
	swLocked   = iota // plain counter under Lock "mu"
	swRLocked         // plain counter under RLock "rmu", taken twice
	swInside          // processes inside Semaphore "sem" (atomic)
	swMaxIn           // the most seen inside at once (atomic)
	swFinished        // workers done, under Condition "done"
	swWords
)

const (
	syncWorkers = 4
	syncPermits = 2
)

func syncWordsOf(o shm.Object) []uint64 { return view.Slice[uint64](o.Bytes(), 0, swWords) }

// syncWorker: segment, rounds. Waits for Event "go", then per round bumps
// one counter under the Lock and one under the RLock held twice, passes
// Semaphore "sem" recording how many are inside, and meets the others at
// Barrier "bar", after which every worker's bump of this round must show.
// At the end it counts itself finished under Condition "done".
func syncWorker() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seg, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer seg.Close()
	rounds := testproc.IntArg(1)
	fail := func(what string, err error) {
		if err != nil {
			testproc.Fatalf("%s: %v", what, err)
		}
	}
	mu, err := futex.OpenLock(seg, "mu")
	fail("OpenLock", err)
	rmu, err := futex.OpenRLock(seg, "rmu")
	fail("OpenRLock", err)
	rmu = rmu.As(futex.NewOwner()) // taken twice: only an Owner re-enters
	sem, err := futex.OpenSemaphore(seg, "sem")
	fail("OpenSemaphore", err)
	bar, err := futex.OpenBarrier(seg, "bar")
	fail("OpenBarrier", err)
	start, err := futex.OpenEvent(seg, "go")
	fail("OpenEvent", err)
	done, err := futex.OpenCondition(seg, "done")
	fail("OpenCondition", err)
	o, err := seg.OpenObject("words", kindSyncWords, 1<<16)
	fail("open words", err)
	w := syncWordsOf(o)
	testproc.Ready()
	if ok, err := start.Wait(ctx); !ok {
		testproc.Fatalf("Event.Wait: (%v, %v)", ok, err)
	}
	for r := 0; r < rounds; r++ {
		fail("Lock.Acquire", mu.Acquire(ctx))
		w[swLocked]++ // deliberately not atomic: only the lock serialises it
		fail("Lock.Release", mu.Release())

		fail("RLock.Acquire", rmu.Acquire(ctx))
		fail("RLock.Acquire again", rmu.Acquire(ctx))
		w[swRLocked]++
		fail("RLock.Release", rmu.Release())
		fail("RLock.Release last", rmu.Release())

		fail("Semaphore.Acquire", sem.Acquire(ctx))
		in := atomic.AddUint64(&w[swInside], 1)
		for {
			m := atomic.LoadUint64(&w[swMaxIn])
			if in <= m || atomic.CompareAndSwapUint64(&w[swMaxIn], m, in) {
				break
			}
		}
		atomic.AddUint64(&w[swInside], ^uint64(0))
		fail("Semaphore.Release", sem.Release())

		_, err := bar.Wait(ctx)
		fail("Barrier.Wait", err)
		fail("Lock.Acquire", mu.Acquire(ctx))
		got := w[swLocked]
		fail("Lock.Release", mu.Release())
		if want := uint64(syncWorkers * (r + 1)); got < want {
			testproc.Fatalf("round %d: %d locked bumps after the barrier; want at least %d", r, got, want)
		}
	}
	fail("Condition.Acquire", done.Acquire(ctx))
	w[swFinished]++
	fail("Condition.NotifyAll", done.NotifyAll())
	fail("Condition.Release", done.Release())
}

// syncHolder: segment, lock name. Holds the RLock 3 deep until killed.
func syncHolder() {
	seg, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	l, err := futex.OpenLocker(seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	if r, ok := l.(*futex.RLock); ok {
		l = r.As(futex.NewOwner()) // 3 deep: only an Owner re-enters
	}
	for i := 0; i < 3; i++ {
		if err := l.Acquire(context.Background()); err != nil {
			testproc.Fatalf("Acquire: %v", err)
		}
	}
	testproc.Send("held")
	time.Sleep(time.Hour)
}

// TestSyncPrimitivesAcrossProcesses: 4 worker processes use a Lock, an
// RLock, a Semaphore, a Barrier, an Event and a Condition together; the
// counts are exact, the semaphore's bound holds, the barrier keeps them in
// step; then a process killed holding the RLock 3 deep leaves it to the
// parent with ErrOwnerDead, before and after it is reaped.
func TestSyncPrimitivesAcrossProcesses(t *testing.T) {
	rounds := 2000
	if testing.Short() {
		rounds = 300
	}
	name := testproc.Name(t)
	seg, err := shm.Create(name, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close(); shm.Unlink(name) })
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = futex.NewLock(seg, "mu")
	check(err)
	rmu, err := futex.NewRLock(seg, "rmu")
	check(err)
	sem, err := futex.NewSemaphore(seg, "sem", syncPermits)
	check(err)
	_, err = futex.NewBarrier(seg, "bar", syncWorkers)
	check(err)
	start, err := futex.NewEvent(seg, "go")
	check(err)
	done, err := futex.NewCondition(seg, "done", nil)
	check(err)
	o, err := seg.CreateObject("words", kindSyncWords, 1<<16, 8*swWords, nil)
	check(err)
	w := syncWordsOf(o)

	var workers []*testproc.Child
	for i := 0; i < syncWorkers; i++ {
		workers = append(workers, testproc.Start(t, "sync-worker", testproc.Options{Args: []string{name, strconv.Itoa(rounds)}}))
	}
	for _, c := range workers {
		c.WaitReady()
	}
	start.Set()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	check(done.Acquire(ctx))
	ok, err := done.WaitFor(ctx, func() bool { return w[swFinished] == syncWorkers })
	check(done.Release())
	if !ok {
		t.Fatalf("workers finished: %d of %d (%v)", w[swFinished], syncWorkers, err)
	}
	for _, c := range workers {
		c.MustWait()
	}
	if got, want := w[swLocked], uint64(syncWorkers*rounds); got != want {
		t.Errorf("Lock counter = %d; want %d", got, want)
	}
	if got, want := w[swRLocked], uint64(syncWorkers*rounds); got != want {
		t.Errorf("RLock counter = %d; want %d", got, want)
	}
	if m := w[swMaxIn]; m < 1 || m > syncPermits {
		t.Errorf("most inside the semaphore at once = %d; want 1..%d", m, syncPermits)
	}
	if got := sem.Value(); got != syncPermits {
		t.Errorf("Semaphore value at the end = %d; want %d", got, syncPermits)
	}

	for _, reaped := range []bool{false, true} {
		c := testproc.Start(t, "sync-holder", testproc.Options{Args: []string{name, "rmu"}})
		if got := c.Recv(time.Minute); got != "held" {
			t.Fatalf("holder: got %q; want held", got)
		}
		c.Kill()
		if reaped {
			if sig := c.ExitSignal(); sig != syscall.SIGKILL {
				t.Fatalf("holder exit signal %v; want SIGKILL", sig)
			}
		} else {
			for c.ProcState() != 'Z' {
				time.Sleep(time.Millisecond)
			}
		}
		if err := rmu.Acquire(ctx); !errors.Is(err, futex.ErrOwnerDead) {
			t.Fatalf("Acquire after the holder was killed (reaped %v): got %v; want ErrOwnerDead", reaped, err)
		}
		check(rmu.Consistent())
		check(rmu.Release())
		if rmu.Locked() {
			t.Fatalf("RLock still held after recovery (reaped %v)", reaped)
		}
	}
}
