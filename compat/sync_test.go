package compat_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// TestLock ports _TestLock.test_lock: acquire, a non-blocking acquire of a
// held lock fails, release, and releasing an unlocked Lock is the
// ValueError "semaphore or lock released too many times".
func TestLock(t *testing.T) {
	ctx := ctxT(t)
	l := proc.Lock(manager(t))
	if err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.TryAcquire(); ok || err != nil {
		t.Fatalf("acquire(False) of a held lock: %v %v", ok, err)
	}
	if err := l.Acquire(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire(timeout) of a held lock: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if err := l.Release(); !errors.Is(err, futex.ErrReleasedTooManyTimes) {
		t.Fatalf("release of an unlocked lock: %v", err)
	}
	if ok, err := l.TryAcquire(); !ok || err != nil {
		t.Fatalf("acquire(False) of a free lock: %v %v", ok, err)
	}
}

var releaseLock = proc.Func("compat-release-lock", func(ctx context.Context, l *futex.Lock) error {
	return l.Release()
})

// TestLockReleasedByOtherProcess ports the Lock half of _TestLock: a
// multiprocessing.Lock is a semaphore, so another process may release it.
func TestLockReleasedByOtherProcess(t *testing.T) {
	ctx := ctxT(t)
	l := proc.Lock(manager(t))
	if err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := releaseLock.Start(ctx, l).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := l.TryAcquire(); !ok || err != nil {
		t.Fatalf("lock not free after the child released it: %v %v", ok, err)
	}
}

// TestRLock ports _TestLock.test_rlock: the owner re-acquires, only the
// last release frees the lock, and one release too many fails. An Owner
// stands for CPython's thread (goroutines have no identity).
func TestRLock(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	base := proc.RLock(m)
	r := base.As(futex.NewOwner())
	for range 3 {
		if err := r.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if r.Depth() != 3 {
		t.Fatalf("depth %d; want 3", r.Depth())
	}
	other := base.As(futex.NewOwner())
	if ok, err := other.TryAcquire(); ok || err != nil {
		t.Fatalf("another owner acquired a held RLock: %v %v", ok, err)
	}
	// "attempt to release recursive lock not owned by thread".
	if err := other.Release(); !errors.Is(err, futex.ErrNotOwner) {
		t.Fatalf("release by a non-owner: %v", err)
	}
	for range 3 {
		if err := r.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if r.Locked() {
		t.Fatal("RLock still locked after the last release")
	}
	if err := r.Release(); !errors.Is(err, futex.ErrNotOwner) {
		t.Fatalf("release of a free RLock: %v", err)
	}
	if ok, err := other.TryAcquire(); !ok || err != nil {
		t.Fatalf("another owner cannot take the freed RLock: %v %v", ok, err)
	}
	other.Release()
}

var releaseRLock = proc.Func("compat-release-rlock", func(ctx context.Context, r *futex.RLock) error {
	if err := r.Release(); !errors.Is(err, futex.ErrNotOwner) {
		return fmt.Errorf("release of the parent's RLock: %v; want ErrNotOwner", err)
	}
	if ok, err := r.TryAcquire(); ok || err != nil {
		return fmt.Errorf("acquired the parent's RLock: %v %v", ok, err)
	}
	return nil
})

// TestRLockOtherProcess ports the cross-process half of _TestLock.test_rlock:
// another process can neither release nor take an RLock the parent holds.
func TestRLockOtherProcess(t *testing.T) {
	ctx := ctxT(t)
	r := proc.RLock(manager(t)).As(futex.NewOwner())
	if err := r.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := releaseRLock.Start(ctx, r).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.Locked() || r.Depth() != 1 {
		t.Fatalf("after the child's attempts: locked %v depth %d", r.Locked(), r.Depth())
	}
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestSemaphore ports _TestSemaphore.test_semaphore and test_timeout:
// get_value follows acquires and releases; a non-blocking acquire at zero
// fails and a timed one times out.
func TestSemaphore(t *testing.T) {
	ctx := ctxT(t)
	s := proc.Semaphore(manager(t), 2)
	steps := []struct {
		op   string
		want int
	}{{"acq", 1}, {"acq", 0}, {"rel", 1}, {"rel", 2}, {"rel", 3}}
	for _, st := range steps {
		var err error
		if st.op == "acq" {
			err = s.Acquire(ctx)
		} else {
			err = s.Release()
		}
		if err != nil || s.Value() != st.want {
			t.Fatalf("%s: %v, value %d; want %d", st.op, err, s.Value(), st.want)
		}
	}
	for range 3 {
		s.Acquire(ctx)
	}
	if !s.Locked() {
		t.Error("locked() false at value 0")
	}
	if ok, err := s.TryAcquire(); ok || err != nil {
		t.Fatalf("acquire(False) at 0: %v %v", ok, err)
	}
	if err := s.Acquire(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("acquire(timeout) at 0: %v", err)
	}
	if err := s.Acquire(nowait()); !errors.Is(err, context.Canceled) || s.Value() != 0 {
		t.Fatalf("acquire with a done ctx: %v value %d", err, s.Value())
	}
}

// TestBoundedSemaphore ports _TestSemaphore.test_bounded_semaphore and
// threading's over-release check: releasing above the initial value is the
// ValueError "semaphore or lock released too many times".
func TestBoundedSemaphore(t *testing.T) {
	ctx := ctxT(t)
	s := proc.BoundedSemaphore(manager(t), 2)
	if s.Max() != 2 || s.Value() != 2 {
		t.Fatalf("max %d value %d", s.Max(), s.Value())
	}
	if err := s.Release(); !errors.Is(err, futex.ErrReleasedTooManyTimes) || s.Value() != 2 {
		t.Fatalf("release at max: %v, value %d", err, s.Value())
	}
	s.Acquire(ctx)
	s.Acquire(ctx)
	if err := s.Release(); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(); err != nil || s.Value() != 2 {
		t.Fatalf("second release: %v value %d", err, s.Value())
	}
	if err := s.Release(); !errors.Is(err, futex.ErrReleasedTooManyTimes) {
		t.Fatalf("third release: %v", err)
	}
}

var setEvent = proc.Func("compat-set-event", func(ctx context.Context, a [2]*futex.Event) error {
	// a[0]: the parent is about to wait; a[1]: the event to set.
	if _, err := a[0].Wait(ctx); err != nil {
		return err
	}
	a[1].Set()
	return nil
})

// TestEvent ports _TestEvent.test_event: is_set, wait(timeout) returning
// False on timeout and True at once when set, clear, and a wait woken by
// a set in another process.
func TestEvent(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	ready, ev := proc.Event(m), proc.Event(m)
	if ev.IsSet() {
		t.Fatal("new event is set")
	}
	if ok, err := ev.Wait(ctxShort(t)); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait(timeout) on a clear event: %v %v", ok, err)
	}
	if ok, _ := ev.Wait(nowait()); ok {
		t.Fatal("wait(0) on a clear event returned True")
	}
	ev.Set()
	for range 2 { // set twice over: wait returns at once, every time
		if ok, err := ev.Wait(nowait()); !ok || err != nil {
			t.Fatalf("wait on a set event: %v %v", ok, err)
		}
	}
	ev.Clear()
	if ev.IsSet() {
		t.Fatal("is_set after clear")
	}
	p := setEvent.Start(ctx, [2]*futex.Event{ready, ev})
	ready.Set()
	if ok, err := ev.Wait(ctx); !ok || err != nil {
		t.Fatalf("wait for the child's set: %v %v", ok, err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

// condArgs is what each Condition waiter gets.
type condArgs struct {
	C        *futex.Condition
	Sleeping *futex.Semaphore
	Woken    *futex.Semaphore
}

var condWaiter = proc.Func("compat-cond-waiter", func(ctx context.Context, a condArgs) error {
	if err := a.C.Acquire(ctx); err != nil {
		return err
	}
	a.Sleeping.Release()
	if err := a.C.Wait(ctx); err != nil {
		return err
	}
	a.Woken.Release()
	return a.C.Release()
})

// TestConditionNotify ports _TestCondition.test_notify, test_notify_n and
// test_notify_all with processes: notify(1) wakes one sleeper, notify(2)
// two, notify_all the rest; each waiter re-holds the lock when it wakes.
// Unlike CPython's, the test counts wake-ups instead of sleeping DELTA.
func TestConditionNotify(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	a := condArgs{C: proc.Condition(m, nil), Sleeping: proc.Semaphore(m, 0), Woken: proc.Semaphore(m, 0)}
	const n = 5
	var ps []*proc.Process
	for range n {
		ps = append(ps, condWaiter.Start(ctx, a))
	}
	for range n {
		if err := a.Sleeping.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// Each sleeper released Sleeping while holding the lock, so once we hold
	// it every sleeper is inside Wait.
	notify := func(k int, all bool) {
		t.Helper()
		if err := a.C.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		var err error
		if all {
			err = a.C.NotifyAll()
		} else {
			err = a.C.Notify(k)
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := a.C.Release(); err != nil {
			t.Fatal(err)
		}
		for range k {
			if err := a.Woken.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	notify(1, false)
	notify(2, false)
	notify(n-3, true)
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	if a.Woken.Value() != 0 {
		t.Errorf("%d extra wake-ups", a.Woken.Value())
	}
	// notify with nobody waiting is not an error.
	a.C.Acquire(ctx)
	if err := a.C.Notify(3); err != nil {
		t.Error(err)
	}
	a.C.Release()
}

// TestConditionTimeout ports _TestCondition.test_timeout: wait(timeout)
// returns False (ctx.Err()) and the lock is held again afterwards; and the
// AssertionErrors of wait/notify without the lock ("must acquire()
// condition before using wait()", "lock is not owned").
func TestConditionTimeout(t *testing.T) {
	ctx := ctxT(t)
	c := proc.Condition(manager(t), nil)
	if err := c.Wait(ctx); !errors.Is(err, futex.ErrNotHeld) {
		t.Fatalf("wait without the lock: %v", err)
	}
	if err := c.Notify(1); !errors.Is(err, futex.ErrNotHeld) {
		t.Fatalf("notify without the lock: %v", err)
	}
	if err := c.NotifyAll(); !errors.Is(err, futex.ErrNotHeld) {
		t.Fatalf("notify_all without the lock: %v", err)
	}
	if err := c.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait(timeout): %v", err)
	}
	// notify(n) wakes current sleepers only: with none, a later wait is not
	// woken by it.
	if err := c.Notify(5); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("wait after a notify with no sleepers: %v", err)
	}
	if err := c.Release(); err != nil {
		t.Fatalf("release after a timed-out wait (lock not re-held?): %v", err)
	}
}

// stateArgs is what the wait_for child gets.
type stateArgs struct {
	C     *futex.Condition
	State *ctypes.Value[int32]
}

var bumpState = proc.Func("compat-bump-state", func(ctx context.Context, a stateArgs) error {
	for range 4 {
		if err := a.C.Acquire(ctx); err != nil {
			return err
		}
		a.State.Add(1)
		if err := a.C.NotifyAll(); err != nil {
			return err
		}
		if err := a.C.Release(); err != nil {
			return err
		}
	}
	return nil
})

// TestConditionWaitFor ports _TestCondition.test_waitfor: wait_for returns
// True once another process makes the predicate true, checked with the
// lock held.
func TestConditionWaitFor(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	a := stateArgs{C: proc.Condition(m, nil), State: proc.Value[int32](m, 0)}
	if err := a.C.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	p := bumpState.Start(ctx, a)
	ok, err := a.C.WaitFor(ctx, func() bool { return a.State.Load() == 4 })
	if !ok || err != nil || a.State.Load() != 4 {
		t.Fatalf("wait_for: %v %v state %d", ok, err, a.State.Load())
	}
	a.C.Release()
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestConditionWaitForTimeout ports _TestCondition.test_waitfor_timeout:
// a predicate that stays false makes wait_for return its last value,
// False, at the timeout; the predicate ran at least once, before waiting.
func TestConditionWaitForTimeout(t *testing.T) {
	ctx := ctxT(t)
	c := proc.Condition(manager(t), nil)
	c.Acquire(ctx)
	defer c.Release()
	calls := 0
	ok, err := c.WaitFor(ctxShort(t), func() bool { calls++; return false })
	if ok || !errors.Is(err, context.DeadlineExceeded) || calls < 1 {
		t.Fatalf("wait_for(False, timeout): %v %v after %d calls", ok, err, calls)
	}
	// A predicate already true returns at once, without waiting.
	if ok, err := c.WaitFor(nowait(), func() bool { return true }); !ok || err != nil {
		t.Fatalf("wait_for(True): %v %v", ok, err)
	}
}

// TestConditionRLockDepth ports the RLock case of Condition.wait in
// synchronize.py: wait releases every level of a recursively held RLock
// (another process can take it meanwhile) and restores them all.
func TestConditionRLockDepth(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	r := proc.RLock(m)
	o := r.As(futex.NewOwner())
	c := proc.Condition(m, r).As(o.Owner())
	for range 3 {
		if err := c.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	p := notifyOnce.Start(ctx, c)
	if err := c.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if o.Depth() != 3 {
		t.Fatalf("depth after wait: %d; want 3", o.Depth())
	}
	for range 3 {
		if err := c.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if r.Locked() {
		t.Fatal("still locked after three releases")
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

var notifyOnce = proc.Func("compat-notify-once", func(ctx context.Context, c *futex.Condition) error {
	// Acquire succeeds only once the parent's Wait released all three levels.
	if err := c.Acquire(ctx); err != nil {
		return err
	}
	if err := c.Notify(1); err != nil {
		return err
	}
	return c.Release()
})

// barrierArgs is what each Barrier party gets.
type barrierArgs struct {
	B      *futex.Barrier
	Out    *ring.TypedQueue[[2]int] // (pass, index) after each wait
	Passes int
}

var barrierParty = proc.Func("compat-barrier-party", func(ctx context.Context, a barrierArgs) error {
	for pass := range a.Passes {
		i, err := a.B.Wait(ctx)
		if err != nil {
			return err
		}
		if err := a.Out.Put(ctx, [2]int{pass, i}); err != nil {
			return err
		}
	}
	return nil
})

// TestBarrier ports _TestBarrier.test_barrier, test_wait_return and
// test_thousand (100 passes, to keep it short) with processes: each pass
// gives the parties the distinct indices 0..N-1 (so exactly one gets 0);
// every report of pass i comes before any of pass i+1, since no party can
// finish pass i+1 before every party reported i; the barrier is reusable
// and ends with n_waiting 0, not broken.
func TestBarrier(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	const n, passes = 3, 100
	a := barrierArgs{B: proc.Barrier(m, n), Out: proc.Queue[[2]int](m), Passes: passes}
	if a.B.Parties() != n || a.B.NWaiting() != 0 || a.B.Broken() {
		t.Fatalf("parties %d n_waiting %d broken %v", a.B.Parties(), a.B.NWaiting(), a.B.Broken())
	}
	var ps []*proc.Process
	for range n {
		ps = append(ps, barrierParty.Start(ctx, a))
	}
	for pass := range passes {
		var got []int
		for range n {
			r, err := a.Out.Get(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if r[0] != pass {
				t.Fatalf("pass %d: a report of pass %d", pass, r[0])
			}
			got = append(got, r[1])
		}
		slices.Sort(got)
		if !slices.Equal(got, []int{0, 1, 2}) {
			t.Fatalf("pass %d: indices %v", pass, got)
		}
	}
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	if a.B.NWaiting() != 0 || a.B.Broken() {
		t.Errorf("after the passes: n_waiting %d broken %v", a.B.NWaiting(), a.B.Broken())
	}
}

// TestBarrierAction ports _TestBarrier.test_action as shmkit documents it:
// a futex.Barrier has no action callback, so the party that gets index
// Parties()-1 (the last to arrive, where CPython runs the action) runs it;
// it runs exactly once per pass.
func TestBarrierAction(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	b := proc.Barrier(m, 2)
	actions := proc.Value[int64](m, 0)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			for range 3 {
				i, err := b.Wait(ctx)
				if err != nil {
					done <- err
					return
				}
				if i == b.Parties()-1 {
					actions.Add(1)
				}
			}
			done <- nil
		}()
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if actions.Load() != 3 {
		t.Fatalf("action ran %d times in 3 passes", actions.Load())
	}
}

var barrierWaitOnce = proc.Func("compat-barrier-wait-once", func(ctx context.Context, b *futex.Barrier) error {
	_, err := b.Wait(ctx)
	if !errors.Is(err, futex.ErrBrokenBarrier) {
		return fmt.Errorf("wait: %v; want ErrBrokenBarrier", err)
	}
	return nil
})

// waitNWaiting waits until n parties wait at b (n_waiting), or the
// watchdog ends.
func waitNWaiting(t *testing.T, ctx context.Context, b *futex.Barrier, n int) {
	t.Helper()
	for b.NWaiting() != n {
		select {
		case <-ctx.Done():
			t.Fatalf("n_waiting %d; want %d", b.NWaiting(), n)
		default:
		}
		time.Sleep(time.Millisecond) // polling, not a timing assertion
	}
}

// TestBarrierAbort ports _TestBarrier.test_abort and the reset half of
// test_abort_and_reset: abort() breaks the barrier, waiting parties
// (another process here) get BrokenBarrierError, and so does every later
// wait until reset(); then the barrier passes parties again.
func TestBarrierAbort(t *testing.T) {
	ctx := ctxT(t)
	b := proc.Barrier(manager(t), 3)
	p := barrierWaitOnce.Start(ctx, b)
	waitNWaiting(t, ctx, b, 1)
	b.Abort()
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if !b.Broken() {
		t.Fatal("broken false after abort")
	}
	if _, err := b.Wait(ctx); !errors.Is(err, futex.ErrBrokenBarrier) {
		t.Fatalf("wait on an aborted barrier: %v", err)
	}
	if b.NWaiting() != 0 {
		t.Errorf("n_waiting %d after abort", b.NWaiting())
	}
	b.Reset()
	if b.Broken() {
		t.Fatal("broken after reset")
	}
	// test_abort_and_reset: after reset the barrier works again.
	errc := make(chan error, 2)
	for range 2 {
		go func() { _, err := b.Wait(ctx); errc <- err }()
	}
	if _, err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
}

// TestBarrierReset ports _TestBarrier.test_reset: reset() makes the current
// waiters raise BrokenBarrierError and leaves the barrier usable.
func TestBarrierReset(t *testing.T) {
	ctx := ctxT(t)
	b := proc.Barrier(manager(t), 2)
	p := barrierWaitOnce.Start(ctx, b)
	waitNWaiting(t, ctx, b, 1)
	b.Reset()
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if b.Broken() || b.NWaiting() != 0 {
		t.Fatalf("after reset: broken %v n_waiting %d", b.Broken(), b.NWaiting())
	}
	// Usable again: two parties pass.
	errc := make(chan error, 1)
	go func() { _, err := b.Wait(ctx); errc <- err }()
	if _, err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// TestBarrierTimeout ports _TestBarrier.test_timeout: a wait that times out
// breaks the barrier for everyone.
func TestBarrierTimeout(t *testing.T) {
	ctx := ctxT(t)
	b := proc.Barrier(manager(t), 2)
	_, err := b.Wait(ctxShort(t))
	if !errors.Is(err, futex.ErrBrokenBarrier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timed-out wait: %v; want BrokenBarrier and DeadlineExceeded", err)
	}
	if !b.Broken() {
		t.Fatal("not broken after a timeout")
	}
	if _, err := b.Wait(ctx); !errors.Is(err, futex.ErrBrokenBarrier) {
		t.Fatalf("wait after the timeout: %v", err)
	}
}

// TestBarrierSingleThread ports _TestBarrier.test_single_thread: a barrier
// of one party never blocks and always returns index 0.
func TestBarrierSingleThread(t *testing.T) {
	ctx := ctxT(t)
	b := proc.Barrier(manager(t), 1)
	for range 3 {
		if i, err := b.Wait(ctx); i != 0 || err != nil {
			t.Fatalf("wait: %d %v", i, err)
		}
	}
	if _, err := proc.NewBarrier(manager(t), 0); !errors.Is(err, futex.ErrInvalidArgument) {
		t.Errorf("Barrier(0): %v", err)
	}
}

// semArgs is what each TestSemaphoreProcesses child gets.
type semArgs struct {
	S       *futex.Semaphore
	Inside  *ctypes.Value[int32]
	MaxSeen *ctypes.Value[int32]
	Total   *ctypes.Value[int32]
	N       int
}

var useSemaphore = proc.Func("compat-use-semaphore", func(ctx context.Context, a semArgs) error {
	for range a.N {
		if err := a.S.Acquire(ctx); err != nil {
			return err
		}
		in := a.Inside.Add(1)
		for {
			m := a.MaxSeen.Load()
			if in <= m || a.MaxSeen.CompareAndSwap(m, in) {
				break
			}
		}
		a.Total.Add(1)
		a.Inside.Add(-1)
		if err := a.S.Release(); err != nil {
			return err
		}
	}
	return nil
})

// TestSemaphoreProcesses ports _TestSemaphore's use of a Semaphore(2)
// across processes: 4 processes × 200 acquisitions never have more than
// two inside at once, every acquisition happens, and the value is back to
// 2 at the end.
func TestSemaphoreProcesses(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	a := semArgs{S: proc.Semaphore(m, 2), Inside: proc.Value[int32](m, 0), MaxSeen: proc.Value[int32](m, 0), Total: proc.Value[int32](m, 0), N: 200}
	var ps []*proc.Process
	for range 4 {
		ps = append(ps, useSemaphore.Start(ctx, a))
	}
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	if a.MaxSeen.Load() > 2 || a.Total.Load() != 800 || a.S.Value() != 2 {
		t.Fatalf("max inside %d, total %d, value %d", a.MaxSeen.Load(), a.Total.Load(), a.S.Value())
	}
}

// TestEventWakesAll ports the many-waiters half of _TestEvent.test_event
// (CPython starts processes that wait on the event, then sets it): one
// set() wakes every waiting process.
func TestEventWakesAll(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	ev := proc.Event(m)
	var ps []*proc.Process
	for range 4 {
		ps = append(ps, waitThenExit.Start(ctx, ev))
	}
	ev.Set()
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
}
