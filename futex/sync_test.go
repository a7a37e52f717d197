package futex

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/shm"
)

func shortCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func TestSemaphoreSemantics(t *testing.T) {
	seg, _ := newSegment(t)
	if _, err := NewSemaphore(seg, "neg", -1); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewSemaphore(-1): got %v; want ErrInvalidArgument", err)
	}
	s, err := NewSemaphore(seg, "s", 2)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Value(); got != 2 {
		t.Errorf("Value = %d; want 2", got)
	}
	for i := 0; i < 2; i++ {
		if ok, err := s.TryAcquire(); !ok || err != nil {
			t.Fatalf("TryAcquire %d: (%v, %v)", i, ok, err)
		}
	}
	if ok, _ := s.TryAcquire(); ok {
		t.Errorf("TryAcquire at 0 succeeded")
	}
	if !s.Locked() {
		t.Errorf("Locked() = false at value 0")
	}
	if err := s.Acquire(shortCtx(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire at 0: got %v; want DeadlineExceeded", err)
	}
	if got := s.Value(); got != 0 {
		t.Errorf("Value after timed-out Acquire = %d; want 0", got)
	}
	// A Semaphore may be released above its initial value.
	if err := s.ReleaseN(5); err != nil {
		t.Fatal(err)
	}
	if got := s.Value(); got != 5 {
		t.Errorf("Value = %d; want 5", got)
	}
	s2, err := OpenSemaphore(seg, "s")
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Value(); got != 5 {
		t.Errorf("Value through OpenSemaphore = %d; want 5", got)
	}
	if _, err := OpenBoundedSemaphore(seg, "s"); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Errorf("OpenBoundedSemaphore on a Semaphore: got %v; want ErrTypeMismatch", err)
	}

	b, err := NewBoundedSemaphore(seg, "b", 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Release(); !errors.Is(err, ErrReleasedTooManyTimes) {
		t.Errorf("BoundedSemaphore Release at max: got %v; want ErrReleasedTooManyTimes", err)
	}
	if err := b.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(); err != nil {
		t.Errorf("Release below max: %v", err)
	}
	if got, want := b.Value(), 2; got != want {
		t.Errorf("Value = %d; want %d", got, want)
	}
	if got := b.Max(); got != 2 {
		t.Errorf("Max = %d; want 2", got)
	}
}

func TestSemaphoreBlocking(t *testing.T) {
	seg, _ := newSegment(t)
	s, err := NewSemaphore(seg, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	const n = 50
	var wg sync.WaitGroup
	var got atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Acquire(shortCtx(t, time.Minute)); err != nil {
				t.Error(err)
				return
			}
			got.Add(1)
		}()
	}
	time.Sleep(10 * time.Millisecond)
	for i := 0; i < n; i++ {
		if err := s.Release(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if got.Load() != n || s.Value() != 0 {
		t.Errorf("acquired %d, value %d; want %d, 0", got.Load(), s.Value(), n)
	}
}

func TestEventSemantics(t *testing.T) {
	seg, _ := newSegment(t)
	e, err := NewEvent(seg, "e")
	if err != nil {
		t.Fatal(err)
	}
	if e.IsSet() {
		t.Errorf("new Event is set")
	}
	if ok, err := e.Wait(shortCtx(t, 20*time.Millisecond)); ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait on clear Event: got (%v, %v); want (false, DeadlineExceeded)", ok, err)
	}
	const n = 20
	var wg sync.WaitGroup
	var woke atomic.Int32
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := e.Wait(shortCtx(t, time.Minute))
			if !ok || err != nil {
				t.Errorf("Wait: got (%v, %v); want (true, nil)", ok, err)
			}
			woke.Add(1)
		}()
	}
	time.Sleep(10 * time.Millisecond)
	e2, err := OpenEvent(seg, "e")
	if err != nil {
		t.Fatal(err)
	}
	e2.Set()
	wg.Wait()
	if woke.Load() != n {
		t.Errorf("%d of %d waiters woke", woke.Load(), n)
	}
	if !e.IsSet() {
		t.Errorf("IsSet = false after Set")
	}
	if ok, err := e.Wait(context.Background()); !ok || err != nil {
		t.Errorf("Wait on set Event: got (%v, %v); want (true, nil)", ok, err)
	}
	e.Clear()
	if e.IsSet() {
		t.Errorf("IsSet = true after Clear")
	}
	// A waiter that sleeps through Set+Clear still wakes (it reports the
	// flag as it finds it, usually false, as CPython's wait does); without
	// the Set count in the word it would sleep until its deadline.
	res := make(chan error, 1)
	go func() {
		_, err := e.Wait(shortCtx(t, time.Minute))
		res <- err
	}()
	waitFor(t, func() bool { return atomic.LoadUint32(&e.st.sleepers) == 1 })
	e.Set()
	e.Clear()
	if err := <-res; err != nil {
		t.Errorf("Wait across Set+Clear: %v; want it to wake", err)
	}
}

func TestConditionSemantics(t *testing.T) {
	seg, _ := newSegment(t)
	c, err := NewCondition(seg, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Locker().(*RLock); !ok {
		t.Errorf("default lock is %T; want *RLock", c.Locker())
	}
	if err := c.Wait(context.Background()); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Wait without lock: got %v; want ErrNotHeld", err)
	}
	if err := c.Notify(1); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Notify without lock: got %v; want ErrNotHeld", err)
	}
	// An Owner's view may hold the RLock 3 deep: Wait releases all levels
	// and restores them.
	w := c.As(NewOwner())
	for i := 0; i < 3; i++ {
		if err := w.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	// c acts for no Owner: the Owner's hold is not its hold.
	if err := c.Notify(1); !errors.Is(err, ErrNotHeld) {
		t.Errorf("Notify through the handle while an Owner holds: got %v; want ErrNotHeld", err)
	}
	if err := w.Wait(shortCtx(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait without notify: got %v; want DeadlineExceeded", err)
	}
	r := w.Locker().(*RLock)
	if got := r.Depth(); got != 3 {
		t.Errorf("Depth after Wait = %d; want 3", got)
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		// The handle (no Owner) takes the lock while the Owner waits.
		<-ready
		if err := c.Acquire(context.Background()); err != nil {
			done <- err
			return
		}
		err := c.Notify(1)
		c.Release()
		done <- err
	}()
	close(ready)
	if err := w.Wait(shortCtx(t, time.Minute)); err != nil {
		t.Errorf("Wait with notify: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("notifier: %v", err)
	}
	if got := r.Depth(); got != 3 {
		t.Errorf("Depth after Wait = %d; want 3", got)
	}
	for i := 0; i < 3; i++ {
		if err := w.Release(); err != nil {
			t.Fatal(err)
		}
	}
	if r.Locked() {
		t.Errorf("lock held after releasing all levels")
	}
	// The handle's own hold never re-enters: a second Acquire waits.
	if err := c.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := c.Acquire(shortCtx(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Acquire through the handle: got %v; want DeadlineExceeded", err)
	}
	if err := c.Wait(shortCtx(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait through the handle without notify: got %v; want DeadlineExceeded", err)
	}
	if err := c.Release(); err != nil {
		t.Fatalf("Release after Wait: %v", err)
	}
	if r.Locked() {
		t.Errorf("lock held after the handle's Wait and Release")
	}
	c2, err := OpenCondition(seg, "c")
	if err != nil {
		t.Fatal(err)
	}
	if c2.Locker().Name() != "c.lock" {
		t.Errorf("reopened lock name %q; want c.lock", c2.Locker().Name())
	}
}

func TestConditionNotifyCounts(t *testing.T) {
	seg, _ := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCondition(seg, "c", l)
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	var woke atomic.Int32
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.Acquire(ctx); err != nil {
				t.Error(err)
				return
			}
			if err := c.Wait(ctx); err == nil {
				woke.Add(1)
			}
			c.Release()
		}()
	}
	waitFor(t, func() bool { return atomic.LoadUint64(&c.st.state)>>32 == n })
	notify := func(k int, all bool) {
		if err := c.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		if all {
			err = c.NotifyAll()
		} else {
			err = c.Notify(k)
		}
		if err != nil {
			t.Fatal(err)
		}
		c.Release()
	}
	notify(2, false)
	waitFor(t, func() bool { return woke.Load() == 2 })
	time.Sleep(20 * time.Millisecond)
	if got := woke.Load(); got != 2 {
		t.Errorf("after Notify(2): %d woke; want 2", got)
	}
	notify(0, true)
	wg.Wait()
	if got := woke.Load(); got != n {
		t.Errorf("after NotifyAll: %d woke; want %d", got, n)
	}
	// Nobody waits now: a Notify is not stored for later waiters.
	notify(1, false)
	if err := c.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(shortCtx(t, 20*time.Millisecond)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait after a Notify with no waiters: got %v; want DeadlineExceeded", err)
	}
	ok, err := c.WaitFor(shortCtx(t, time.Second), func() bool { return true })
	if !ok || err != nil {
		t.Errorf("WaitFor(true): got (%v, %v); want (true, nil)", ok, err)
	}
	ok, err = c.WaitFor(shortCtx(t, 20*time.Millisecond), func() bool { return false })
	if ok || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitFor(false): got (%v, %v); want (false, DeadlineExceeded)", ok, err)
	}
	c.Release()
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestBarrierSemantics(t *testing.T) {
	seg, _ := newSegment(t)
	if _, err := NewBarrier(seg, "zero", 0); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("NewBarrier(0): got %v; want ErrInvalidArgument", err)
	}
	b, err := NewBarrier(seg, "b", 4)
	if err != nil {
		t.Fatal(err)
	}
	if b.Parties() != 4 || b.NWaiting() != 0 || b.Broken() {
		t.Errorf("new barrier: parties %d waiting %d broken %v", b.Parties(), b.NWaiting(), b.Broken())
	}
	rounds := 200
	if testing.Short() {
		rounds = 50
	}
	var phase atomic.Int64
	for round := 0; round < rounds; round++ {
		var wg sync.WaitGroup
		idx := make([]int, 4)
		for p := 0; p < 4; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				i, err := b.Wait(shortCtx(t, time.Minute))
				if err != nil {
					t.Error(err)
				}
				idx[p] = i
				phase.Add(1)
			}()
		}
		wg.Wait()
		seen := map[int]bool{}
		for _, i := range idx {
			seen[i] = true
		}
		if len(seen) != 4 || !seen[0] || !seen[3] {
			t.Fatalf("round %d: indices %v; want a permutation of 0..3", round, idx)
		}
	}
	// Timeout breaks it for everyone.
	var wg sync.WaitGroup
	wg.Add(1)
	var otherErr error
	go func() {
		defer wg.Done()
		_, otherErr = b.Wait(shortCtx(t, time.Minute))
	}()
	waitFor(t, func() bool { return b.NWaiting() == 1 })
	if _, err := b.Wait(shortCtx(t, 20*time.Millisecond)); !errors.Is(err, ErrBrokenBarrier) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timed-out Wait: got %v; want ErrBrokenBarrier and DeadlineExceeded", err)
	}
	wg.Wait()
	if !errors.Is(otherErr, ErrBrokenBarrier) {
		t.Errorf("other party: got %v; want ErrBrokenBarrier", otherErr)
	}
	if !b.Broken() || b.NWaiting() != 0 {
		t.Errorf("after timeout: broken %v, waiting %d; want true, 0", b.Broken(), b.NWaiting())
	}
	if _, err := b.Wait(context.Background()); !errors.Is(err, ErrBrokenBarrier) {
		t.Errorf("Wait on broken: got %v; want ErrBrokenBarrier", err)
	}
	b.Reset()
	if b.Broken() {
		t.Errorf("broken after Reset")
	}
	// Reset releases current waiters with ErrBrokenBarrier.
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, otherErr = b.Wait(shortCtx(t, time.Minute))
	}()
	waitFor(t, func() bool { return b.NWaiting() == 1 })
	b.Reset()
	wg.Wait()
	if !errors.Is(otherErr, ErrBrokenBarrier) {
		t.Errorf("waiter across Reset: got %v; want ErrBrokenBarrier", otherErr)
	}
	if b.Broken() || b.NWaiting() != 0 {
		t.Errorf("after Reset: broken %v waiting %d", b.Broken(), b.NWaiting())
	}
	b.Abort()
	if !b.Broken() {
		t.Errorf("not broken after Abort")
	}
	b2, err := OpenBarrier(seg, "b")
	if err != nil {
		t.Fatal(err)
	}
	if b2.Parties() != 4 || !b2.Broken() {
		t.Errorf("OpenBarrier: parties %d broken %v", b2.Parties(), b2.Broken())
	}
}

// TestBarrierHistory drives the state word through generations that end by
// Reset or by their last arrival, near the generation counter's wrap: a
// waiter of any of the last 15 generations learns how its own ended.
func TestBarrierHistory(t *testing.T) {
	seg, _ := newSegment(t)
	b, err := NewBarrier(seg, "b", 3)
	if err != nil {
		t.Fatal(err)
	}
	start := uint64(1<<32-7) << 32
	atomic.StoreUint64(&b.st.state, start|barrierBroken|2)
	resets := []bool{true, false, false, true, true, false, true, false, false, false, true, false, true, true, false, false, true}
	for _, r := range resets {
		atomic.StoreUint64(&b.st.state, barrierNext(atomic.LoadUint64(&b.st.state), r))
	}
	if b.Broken() || b.NWaiting() != 0 {
		t.Fatalf("after transitions: broken %v waiting %d; want false 0", b.Broken(), b.NWaiting())
	}
	n := len(resets)
	for i, r := range resets {
		gen := uint64(uint32(start>>32) + uint32(i))
		done, err := b.outcome(gen)
		want := r && n-i <= barrierHistLen
		if !done || errors.Is(err, ErrBrokenBarrier) != want {
			t.Errorf("generation %d (ended by Reset: %v, %d ago): outcome (%v, %v); want done, broken %v", i, r, n-i, done, err, want)
		}
	}
	cur := uint64(uint32(start>>32) + uint32(n))
	if done, err := b.outcome(cur); done || err != nil {
		t.Errorf("current generation: outcome (%v, %v); want not done", done, err)
	}
}
