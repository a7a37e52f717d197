package futex_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

// TestAfterSegmentClose: every method of every primitive that touches
// shared memory, used after its Segment was closed, answers an error
// wrapping shm.ErrClosed that names the object once (the queries without
// an error result panic with it: a Go panic, recovered here), on an
// anonymous segment and on a named one. They used to die of SIGSEGV on the
// unmapped words.
func TestAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		t.Run(fmt.Sprintf("named=%v", named), func(t *testing.T) {
			seg := closedTestSegment(t, named)
			ops := closedOps(t, seg)
			if err := seg.Close(); err != nil {
				t.Fatal(err)
			}
			for _, op := range ops {
				err := op.call()
				if !errors.Is(err, shm.ErrClosed) {
					t.Errorf("%s after Close = %v; want shm.ErrClosed", op.what, err)
					continue
				}
				checkNamedOnce(t, op.what, op.object, err)
			}
		})
	}
}

// checkNamedOnce fails t unless err names object exactly once and has no
// repeated package prefix.
func checkNamedOnce(t *testing.T, what, object string, err error) {
	t.Helper()
	msg := err.Error()
	if n := strings.Count(msg, fmt.Sprintf("%q", object)); n != 1 {
		t.Errorf("%s: %q names %q %d times; want once", what, msg, object, n)
	}
	if strings.Count(msg, "futex: ") != 1 {
		t.Errorf("%s: %q stutters", what, msg)
	}
}

// closedOp is one method call on a primitive: its error, or the error a
// query without an error result panicked with.
type closedOp struct {
	what, object string
	call         func() error
}

// closedOps creates one primitive of each type in seg and returns every
// method of each that touches shared memory.
func closedOps(t *testing.T, seg *shm.Segment) []closedOp {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	l, err := futex.NewLock(seg, "l")
	must(err)
	must(l.Acquire(ctx))
	r, err := futex.NewRLock(seg, "r")
	must(err)
	ro := r.As(futex.NewOwner())
	s, err := futex.NewSemaphore(seg, "s", 0)
	must(err)
	bs, err := futex.NewBoundedSemaphore(seg, "bs", 0)
	must(err)
	e, err := futex.NewEvent(seg, "e")
	must(err)
	c, err := futex.NewCondition(seg, "c", nil)
	must(err)
	co := c.As(futex.NewOwner())
	must(co.Acquire(ctx))
	cl, err := futex.NewCondition(seg, "cl", l)
	must(err)
	b, err := futex.NewBarrier(seg, "b", 2)
	must(err)
	pred := func() bool { return false }
	return []closedOp{
		{"Lock.Acquire", "l", func() error { return l.Acquire(ctx) }},
		{"Lock.TryAcquire", "l", func() error { return second(l.TryAcquire()) }},
		{"Lock.Release", "l", l.Release},
		{"Lock.Consistent", "l", l.Consistent},
		{"Lock.Locked", "l", panicked(l.Locked)},
		{"Lock.Holder", "l", panicked(l.Holder)},
		{"RLock.Acquire", "r", func() error { return r.Acquire(ctx) }},
		{"RLock.TryAcquire", "r", func() error { return second(r.TryAcquire()) }},
		{"RLock.Release", "r", r.Release},
		{"RLock.Consistent", "r", r.Consistent},
		{"RLock.Locked", "r", panicked(r.Locked)},
		{"RLock.Holder", "r", panicked(r.Holder)},
		{"RLock.Depth", "r", panicked(r.Depth)},
		{"RLock(Owner).Acquire", "r", func() error { return ro.Acquire(ctx) }},
		{"RLock(Owner).TryAcquire", "r", func() error { return second(ro.TryAcquire()) }},
		{"RLock(Owner).Release", "r", ro.Release},
		{"RLock(Owner).Depth", "r", panicked(ro.Depth)},
		{"Semaphore.Acquire", "s", func() error { return s.Acquire(ctx) }},
		{"Semaphore.TryAcquire", "s", func() error { return second(s.TryAcquire()) }},
		{"Semaphore.Release", "s", s.Release},
		{"Semaphore.ReleaseN", "s", func() error { return s.ReleaseN(2) }},
		{"Semaphore.Value", "s", panicked(s.Value)},
		{"Semaphore.Locked", "s", panicked(s.Locked)},
		{"BoundedSemaphore.Acquire", "bs", func() error { return bs.Acquire(ctx) }},
		{"BoundedSemaphore.TryAcquire", "bs", func() error { return second(bs.TryAcquire()) }},
		{"BoundedSemaphore.Release", "bs", bs.Release},
		{"BoundedSemaphore.Value", "bs", panicked(bs.Value)},
		{"BoundedSemaphore.Max", "bs", panicked(bs.Max)},
		{"BoundedSemaphore.Locked", "bs", panicked(bs.Locked)},
		{"Event.Set", "e", e.Set},
		{"Event.Clear", "e", e.Clear},
		{"Event.Wait", "e", func() error { return second(e.Wait(ctx)) }},
		{"Event.IsSet", "e", panicked(e.IsSet)},
		{"Condition.Acquire", "c.lock", func() error { return c.Acquire(ctx) }},
		{"Condition.TryAcquire", "c.lock", func() error { return second(c.TryAcquire()) }},
		{"Condition.Release", "c.lock", c.Release},
		{"Condition.Wait", "c", func() error { return co.Wait(ctx) }},
		{"Condition.WaitFor", "c", func() error { return second(co.WaitFor(ctx, pred)) }},
		{"Condition.Notify", "c", func() error { return co.Notify(1) }},
		{"Condition.NotifyAll", "c", co.NotifyAll},
		{"Condition(Lock).Wait", "cl", func() error { return cl.Wait(ctx) }},
		{"Condition(Lock).Notify", "cl", func() error { return cl.Notify(1) }},
		{"Barrier.Wait", "b", func() error { return second(b.Wait(ctx)) }},
		{"Barrier.Abort", "b", b.Abort},
		{"Barrier.Reset", "b", b.Reset},
		{"Barrier.NWaiting", "b", panicked(b.NWaiting)},
		{"Barrier.Broken", "b", panicked(b.Broken)},
	}
}

// panicked turns a query without an error result into a call returning
// the error it panics with (nil if it returns; a panic that is not an
// error goes on).
func panicked[R any](f func() R) func() error {
	return func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(error)
				if !ok {
					panic(r)
				}
				err = e
			}
		}()
		f()
		return nil
	}
}

func second[T any](_ T, err error) error { return err }

// closedTestSegment returns a fresh anonymous or named segment (unlinked
// when t ends).
func closedTestSegment(t *testing.T, named bool) *shm.Segment {
	t.Helper()
	if !named {
		seg, err := shm.Anonymous(1 << 16)
		if err != nil {
			t.Fatal(err)
		}
		return seg
	}
	name := fmt.Sprintf("shmkit-test.closed.%d", os.Getpid())
	seg, err := shm.Create(name, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Unlink(name) })
	return seg
}
