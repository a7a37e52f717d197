package futex

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/view"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("futex-count", helperCount)
	testproc.Register("futex-hold", helperHold)
	testproc.Register("futex-waiter", helperWaiter)
	testproc.Register("futex-robust8", helperRobust8)
	testproc.Register("futex-hold-until", helperHoldUntil)
}

var kindWords = shm.MakeKind("TWRD")

// newWords creates a test object of n plain uint64 words.
func newWords(t testing.TB, seg *shm.Segment, name string, n int) []uint64 {
	t.Helper()
	o, err := seg.CreateObject(name, kindWords, 1<<16, 8*n, nil)
	if err != nil {
		t.Fatal(err)
	}
	return view.Slice[uint64](o.Bytes(), 0, n)
}

func openWords(seg *shm.Segment, name string, n int) []uint64 {
	o, err := seg.OpenObject(name, kindWords, 1<<16)
	if err != nil {
		testproc.Fatalf("open words %s: %v", name, err)
	}
	return view.Slice[uint64](o.Bytes(), 0, n)
}

func openLockerOrDie(seg *shm.Segment, name string) Locker {
	l, err := OpenLocker(seg, name)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	return l
}

// helperCount: segment, lock name, increments, acquisitions per increment,
// goroutines. Each goroutine increments the plain word "counter" under the
// lock: through the one shared handle when depth is 1, through a view for
// an Owner of its own (which re-enters) otherwise.
func helperCount() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	l := openLockerOrDie(seg, testproc.Arg(1))
	n, depth, goroutines := testproc.IntArg(2), testproc.IntArg(3), testproc.IntArg(4)
	w := openWords(seg, "counter", 1)
	gw := openWords(seg, "go", 1)
	testproc.Ready()
	for atomic.LoadUint64(&gw[0]) == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := l
			if depth > 1 {
				l = l.(*RLock).As(NewOwner())
			}
			for i := 0; i < n; i++ {
				for d := 0; d < depth; d++ {
					if err := l.Acquire(ctx); err != nil {
						testproc.Fatalf("Acquire: %v", err)
					}
				}
				w[0]++ // deliberately not atomic: the lock must serialise it
				for d := 0; d < depth; d++ {
					if err := l.Release(); err != nil {
						testproc.Fatalf("Release: %v", err)
					}
				}
			}
		}()
	}
	wg.Wait()
}

// TestXprocCounter: 4 processes with 4 goroutines each increment a plain
// word under one lock: a Lock, an RLock through each process's one shared
// handle (no Owner: it must exclude the goroutines sharing it), and an
// RLock re-entered 2 deep by an Owner per goroutine. The count is exact.
func TestXprocCounter(t *testing.T) {
	const goroutines = 4
	for _, tc := range []struct {
		name, kind string
		depth      int
	}{{"lock", "lock", 1}, {"rlock/shared-handle", "rlock", 1}, {"rlock/owners-reenter", "rlock", 2}} {
		t.Run(tc.name, func(t *testing.T) {
			seg, name := newSegment(t)
			var err error
			if tc.kind == "lock" {
				_, err = NewLock(seg, "l")
			} else {
				_, err = NewRLock(seg, "l")
			}
			if err != nil {
				t.Fatal(err)
			}
			w := newWords(t, seg, "counter", 1)
			gw := newWords(t, seg, "go", 1)
			procs, per := 4, 5000
			if testing.Short() {
				per = 1000
			}
			var cs []*testproc.Child
			for i := 0; i < procs; i++ {
				cs = append(cs, testproc.Start(t, "futex-count", testproc.Options{
					Args: []string{name, "l", strconv.Itoa(per), strconv.Itoa(tc.depth), strconv.Itoa(goroutines)}}))
			}
			for _, c := range cs {
				c.WaitReady()
			}
			atomic.StoreUint64(&gw[0], 1) // start all at once, so they contend
			for _, c := range cs {
				c.MustWait()
			}
			if got, want := w[0], uint64(procs*goroutines*per); got != want {
				t.Errorf("counter = %d; want %d", got, want)
			}
		})
	}
}

// helperHold: segment, lock name, depth. Acquires depth times, reports
// "held" and waits to be killed.
func helperHold() {
	seg := openSegment(testproc.Arg(0))
	l := openLockerOrDie(seg, testproc.Arg(1))
	if r, ok := l.(*RLock); ok && testproc.IntArg(2) > 1 {
		l = r.As(NewOwner()) // only an Owner re-enters
	}
	for d := 0; d < testproc.IntArg(2); d++ {
		if err := l.Acquire(context.Background()); err != nil {
			testproc.Fatalf("Acquire: %v", err)
		}
	}
	testproc.Send("held")
	time.Sleep(time.Hour)
}

func TestXprocOwnerKilled(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rlock  bool
		depth  int
		reaped bool
	}{
		{"lock/reaped", false, 1, true},
		{"lock/zombie", false, 1, false},
		{"rlock3/reaped", true, 3, true},
		{"rlock3/zombie", true, 3, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			seg, name := newSegment(t)
			var l Locker
			var err error
			if tc.rlock {
				l, err = NewRLock(seg, "l")
			} else {
				l, err = NewLock(seg, "l")
			}
			if err != nil {
				t.Fatal(err)
			}
			c := testproc.Start(t, "futex-hold", testproc.Options{Args: []string{name, "l", strconv.Itoa(tc.depth)}})
			if got := c.Recv(time.Minute); got != "held" {
				t.Fatalf("child: got %q; want held", got)
			}
			c.Kill()
			if tc.reaped {
				if sig := c.ExitSignal(); sig != syscall.SIGKILL {
					t.Fatalf("child exit signal %v; want SIGKILL", sig)
				}
			} else {
				// Wait until the child is a zombie, not reaped.
				for c.ProcState() != 'Z' {
					time.Sleep(time.Millisecond)
				}
			}
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := l.Acquire(ctx); !errors.Is(err, ErrOwnerDead) {
				t.Fatalf("Acquire after owner killed: got %v; want ErrOwnerDead", err)
			}
			t.Logf("owner death noticed after %v", time.Since(start))
			if tc.rlock {
				if got := l.(*RLock).Depth(); got != 1 {
					t.Errorf("Depth after take-over = %d; want 1", got)
				}
			}
			if ok, err := l.TryAcquire(); ok || err != nil { // never re-enters
				t.Errorf("TryAcquire while recovered lock is held: got (%v, %v); want (false, nil)", ok, err)
			}
			if err := l.Consistent(); err != nil {
				t.Fatal(err)
			}
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
			if err := l.Acquire(ctx); err != nil {
				t.Errorf("Acquire after recovery: %v", err)
			}
		})
	}
}

// helperWaiter: segment, lock name. Reports ready, acquires, reports the
// result, recovers if needed, bumps "counter", releases.
func helperWaiter() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	l := openLockerOrDie(seg, testproc.Arg(1))
	w := openWords(seg, "counter", 1)
	testproc.Ready()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := l.Acquire(ctx)
	switch {
	case err == nil:
		testproc.Send("nil")
	case errors.Is(err, ErrOwnerDead):
		testproc.Send("ownerdead")
		if err := l.Consistent(); err != nil {
			testproc.Fatalf("Consistent: %v", err)
		}
	default:
		testproc.Fatalf("Acquire: %v", err)
	}
	w[0]++
	if err := l.Release(); err != nil {
		testproc.Fatalf("Release: %v", err)
	}
}

// TestXprocOwnerKilledWithWaiters: 4 processes park on a Lock (an RLock
// held 3 deep) whose holder is then SIGKILLed; exactly one of them gets
// ErrOwnerDead, and all of them finish.
func TestXprocOwnerKilledWithWaiters(t *testing.T) {
	for _, tc := range []struct {
		name  string
		depth int
	}{{"lock", 1}, {"rlock3", 3}} {
		t.Run(tc.name, func(t *testing.T) {
			seg, name := newSegment(t)
			var l Locker
			var word *uint32
			if tc.depth == 1 {
				lk, err := NewLock(seg, "l")
				if err != nil {
					t.Fatal(err)
				}
				l, word = lk, lk.c.word
			} else {
				r, err := NewRLock(seg, "l")
				if err != nil {
					t.Fatal(err)
				}
				l, word = r, r.c.word
			}
			w := newWords(t, seg, "counter", 1)
			holder := testproc.Start(t, "futex-hold", testproc.Options{Args: []string{name, "l", strconv.Itoa(tc.depth)}})
			if got := holder.Recv(time.Minute); got != "held" {
				t.Fatalf("holder: got %q; want held", got)
			}
			const nw = 4
			var ws []*testproc.Child
			for i := 0; i < nw; i++ {
				c := testproc.Start(t, "futex-waiter", testproc.Options{Args: []string{name, "l"}})
				c.WaitReady()
				ws = append(ws, c)
			}
			// Let the waiters park: the waiters bit shows at least one has.
			for atomic.LoadUint32(word)&lockWaiters == 0 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
			holder.Kill()
			dead := 0
			for i, c := range ws {
				switch got := c.Recv(time.Minute); got {
				case "ownerdead":
					dead++
				case "nil":
				default:
					t.Errorf("waiter %d: got %q", i, got)
				}
				c.MustWait()
			}
			if dead != 1 {
				t.Errorf("%d waiters got ErrOwnerDead; want exactly 1", dead)
			}
			if w[0] != nw {
				t.Errorf("counter = %d; want %d", w[0], nw)
			}
			if err := l.Acquire(context.Background()); err != nil {
				t.Errorf("Acquire afterwards: %v", err)
			}
		})
	}
}

func TestXprocStoppedOwnerNotStolen(t *testing.T) {
	seg, name := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "futex-hold", testproc.Options{Args: []string{name, "l", "1"}})
	if got := c.Recv(time.Minute); got != "held" {
		t.Fatalf("child: got %q; want held", got)
	}
	c.Signal(syscall.SIGSTOP)
	for c.ProcState() != 'T' {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := l.Acquire(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire of a stopped holder's lock: got %v; want DeadlineExceeded", err)
	}
	if ok, err := l.TryAcquire(); ok || err != nil {
		t.Errorf("TryAcquire of a stopped holder's lock: got (%v, %v); want (false, nil)", ok, err)
	}
	c.Signal(syscall.SIGCONT)
	c.Kill()
	c.ExitSignal()
	if err := l.Acquire(context.Background()); !errors.Is(err, ErrOwnerDead) {
		t.Errorf("Acquire after the holder was killed: got %v; want ErrOwnerDead", err)
	}
}

// helperRobust8: segment, number of locks, seed. Goroutines do random
// Acquire/TryAcquire/Release over the locks until the process kills itself.
func helperRobust8() {
	seg := openSegment(testproc.Arg(0))
	n := testproc.IntArg(1)
	seed := uint64(testproc.IntArg(2))
	locks := make([]*Lock, n)
	for i := range locks {
		l, err := OpenLock(seg, fmt.Sprintf("l%d", i))
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		locks[i] = l
	}
	for g := 0; g < 9; g++ {
		go func() {
			r := rand.New(rand.NewPCG(seed, uint64(g)))
			for {
				l := locks[r.IntN(n)]
				var held bool
				var err error
				switch r.IntN(3) {
				case 0:
					err = l.Acquire(context.Background())
					held = err == nil || errors.Is(err, ErrOwnerDead)
				case 1:
					held, err = l.TryAcquire()
				case 2:
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(r.IntN(200))*time.Microsecond)
					err = l.Acquire(ctx)
					cancel()
					held = err == nil || errors.Is(err, ErrOwnerDead)
				}
				if err != nil && !errors.Is(err, ErrOwnerDead) && !errors.Is(err, context.DeadlineExceeded) {
					testproc.Fatalf("acquire: %v", err)
				}
				if held {
					if errors.Is(err, ErrOwnerDead) {
						if err := l.Consistent(); err != nil {
							testproc.Fatalf("Consistent: %v", err)
						}
					}
					if r.IntN(4) == 0 {
						time.Sleep(time.Duration(r.IntN(50)) * time.Microsecond)
					}
					if err := l.Release(); err != nil {
						testproc.Fatalf("Release: %v", err)
					}
				}
			}
		}()
	}
	testproc.Ready()
	time.Sleep(time.Duration(20+rand.N(100)) * time.Millisecond)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	time.Sleep(time.Hour)
}

// TestXprocRobust8 ports glibc's tst-robust8: a child hammers 50 locks from
// several goroutines and SIGKILLs itself; the parent then acquires all 50.
func TestXprocRobust8(t *testing.T) {
	const n = 50
	rounds := 5
	if testing.Short() {
		rounds = 2
	}
	for round := 0; round < rounds; round++ {
		seg, name := newSegment(t)
		locks := make([]*Lock, n)
		for i := range locks {
			l, err := NewLock(seg, fmt.Sprintf("l%d", i))
			if err != nil {
				t.Fatal(err)
			}
			locks[i] = l
		}
		c := testproc.Start(t, "futex-robust8", testproc.Options{Args: []string{name, strconv.Itoa(n), strconv.Itoa(round)}})
		c.WaitReady()
		if sig := c.ExitSignal(); sig != syscall.SIGKILL {
			t.Fatalf("round %d: child exit signal %v; want SIGKILL; output:\n%s", round, sig, c.Output())
		}
		dead := 0
		for i, l := range locks {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := l.Acquire(ctx)
			cancel()
			switch {
			case err == nil:
			case errors.Is(err, ErrOwnerDead):
				dead++
				if err := l.Consistent(); err != nil {
					t.Fatal(err)
				}
			default:
				t.Fatalf("round %d: Acquire lock %d: %v", round, i, err)
			}
			if err := l.Release(); err != nil {
				t.Fatalf("round %d: Release lock %d: %v", round, i, err)
			}
		}
		t.Logf("round %d: %d locks recovered from the dead child", round, dead)
	}
}

// helperHoldUntil: segment, lock name. Holds the lock until word "go" is
// non-zero.
func helperHoldUntil() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	l := openLockerOrDie(seg, testproc.Arg(1))
	w := openWords(seg, "go", 1)
	if err := l.Acquire(context.Background()); err != nil {
		testproc.Fatalf("Acquire: %v", err)
	}
	testproc.Send("held")
	for atomic.LoadUint64(&w[0]) == 0 {
		time.Sleep(time.Millisecond)
	}
	if err := l.Release(); err != nil {
		testproc.Fatalf("Release: %v", err)
	}
}

// TestXprocManyWaiters blocks 10,000 goroutines on a lock another process
// holds; the OS thread count stays bounded, and all of them acquire once it
// is released (docs/robustness.md V7, F23).
func TestXprocManyWaiters(t *testing.T) {
	seg, name := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	gw := newWords(t, seg, "go", 1)
	c := testproc.Start(t, "futex-hold-until", testproc.Options{Args: []string{name, "l"}})
	if got := c.Recv(time.Minute); got != "held" {
		t.Fatalf("child: got %q; want held", got)
	}
	n := 10000
	if testing.Short() {
		n = 2000
	}
	before := testproc.Threads(t)
	var acquired atomic.Int64
	var started, wg sync.WaitGroup
	counter := 0
	for i := 0; i < n; i++ {
		wg.Add(1)
		started.Add(1)
		go func() {
			defer wg.Done()
			started.Done()
			if err := l.Acquire(context.Background()); err != nil {
				t.Error(err)
				return
			}
			counter++
			acquired.Add(1)
			if err := l.Release(); err != nil {
				t.Error(err)
			}
		}()
	}
	started.Wait()
	time.Sleep(200 * time.Millisecond)
	during := testproc.Threads(t)
	atomic.StoreUint64(&gw[0], 1)
	wg.Wait()
	c.MustWait()
	t.Logf("threads: %d before, %d with %d goroutines blocked", before, during, n)
	if during > before+50 {
		t.Errorf("threads with %d blocked goroutines = %d; want at most %d", n, during, before+50)
	}
	if counter != n || acquired.Load() != int64(n) {
		t.Errorf("counter = %d, acquired = %d; want %d", counter, acquired.Load(), n)
	}
}

// TestXprocParkedWaiterNoticesDeath parks a waiter long enough for its wait
// slices to reach their maximum, then kills the holder: the waiter must
// return with ErrOwnerDead within the detection budget (200 ms; the bound
// asserted is looser so that a loaded 2-core VM does not flake).
func TestXprocParkedWaiterNoticesDeath(t *testing.T) {
	seg, name := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "futex-hold", testproc.Options{Args: []string{name, "l", "1"}})
	if got := c.Recv(time.Minute); got != "held" {
		t.Fatalf("child: got %q; want held", got)
	}
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := l.Acquire(ctx)
		done <- result{err, time.Now()}
	}()
	time.Sleep(400 * time.Millisecond)
	killed := time.Now()
	c.Kill()
	r := <-done
	if !errors.Is(r.err, ErrOwnerDead) {
		t.Fatalf("parked Acquire: got %v; want ErrOwnerDead", r.err)
	}
	d := r.at.Sub(killed)
	t.Logf("parked waiter noticed the death after %v", d)
	if d > 2*time.Second {
		t.Errorf("parked waiter took %v to notice the holder's death; want well under 1s (budget 200ms)", d)
	}
}
