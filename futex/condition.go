package futex

import (
	"context"
	"math"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/park"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// KindCondition tags Condition objects.
var KindCondition = shm.MakeKind("COND")

// Condition state word: waiting<<32 | signals. waiting counts waiters that
// registered (under the lock) and have not left; signals counts
// notifications handed out and not yet taken. Notify (under the lock) adds
// signals for at most waiting-signals waiters and bumps seq. A waiter
// remembers seq when it registers and may take a signal only once seq has
// moved on, so a notification goes to the waiters that were waiting when it
// was issued, never to a later one (CPython: "wakes current sleepers");
// among those, any may take any signal. A waiter that dies leaves its
// registration and, once notified, its signal behind; they cancel out in
// waiting-signals, and since the signals are pooled among the eligible
// waiters, a live waiter is never starved by a dead one (no lost
// notification, docs/robustness.md F12).
const (
	condWaiterOne = 1 << 32
	condSignals   = 1<<32 - 1
)

// Condition is a condition variable in shared memory over a Lock or RLock,
// the counterpart of multiprocessing.Condition. The zero value is not
// usable; create with NewCondition, attach with OpenCondition.
//
// The Condition acts through its Locker, and "holds the lock" (for Wait
// and Notify) means held through it: for a handle without an Owner (the
// default RLock, OpenCondition, a Lock) a hold taken without an Owner by
// this process's attachment, which goroutines sharing the handle cannot
// tell apart, as with a Lock; for a view acting for an Owner
// (c.As(NewOwner())) that Owner's hold, at any depth. Goroutines may share
// one handle: its lock excludes each of them, a Wait releases it
// completely and waits for it like any other acquirer before it returns.
//
// Memory model: a Notify happens before the return of a Wait that takes the
// notification; the lock gives the rest.
//
// Closed and truncated segments: after Segment.Close, Wait, WaitFor,
// Notify and NotifyAll (and the lock's methods) return an error wrapping
// shm.ErrClosed; on a named segment whose file a peer truncated, one
// wrapping shm.ErrSegmentTruncated, never a fatal fault of the process. A
// Wait that fails so does not restore the lock: its word is gone too.
type Condition struct {
	_      noCopy
	core   *segcore.Core // closed and truncation checks (closed.go)
	state  *uint32       // core.State(): non-zero takes the checked path
	name   string
	st     *condState
	anchor anchor
	relay  *gate.Gate
	lock   Locker
}

// NewCondition creates a Condition named name over lock, which must be a
// *Lock or an *RLock in the same segment. A nil lock creates an RLock named
// name+".lock", as CPython's Condition defaults to an RLock.
func NewCondition(seg *shm.Segment, name string, lock Locker) (*Condition, error) {
	if lock == nil {
		r, err := NewRLock(seg, name+".lock")
		if err != nil {
			return nil, errtext.Errorf("futex: new condition %q: %w", name, err)
		}
		lock = r
	}
	switch lock.(type) {
	case *Lock, *RLock:
	default:
		return nil, errtext.Errorf("futex: new condition %q: lock %T: %w", name, lock, ErrInvalidArgument)
	}
	ln := lock.Name()
	if len(ln) > condNameMax {
		return nil, errtext.Errorf("futex: new condition %q: lock name too long: %w", name, ErrInvalidArgument)
	}
	o, err := seg.CreateObject(name, KindCondition, conditionVersion, condSize, func(b []byte) error {
		st := condAt(b)
		st.nameLen = uint32(len(ln))
		copy(st.name[:], ln)
		return nil
	})
	if err != nil {
		return nil, errtext.Errorf("futex: new condition %q: %w", name, err)
	}
	return newCondition(seg, o, lock), nil
}

// OpenCondition attaches to the Condition named name and to its lock.
func OpenCondition(seg *shm.Segment, name string) (*Condition, error) {
	o, err := seg.OpenObject(name, KindCondition, conditionVersion)
	if err != nil {
		return nil, errtext.Errorf("futex: open condition %q: %w", name, err)
	}
	if o.Size() < condSize {
		return nil, errtext.Errorf("futex: open condition %q: payload %d bytes: %w", name, o.Size(), shm.ErrCorrupt)
	}
	st := condAt(o.Bytes())
	n := atomic.LoadUint32(&st.nameLen)
	if n == 0 || n > condNameMax {
		return nil, errtext.Errorf("futex: open condition %q: lock name length %d: %w", name, n, shm.ErrCorrupt)
	}
	lock, err := OpenLocker(seg, string(st.name[:n]))
	if err != nil {
		return nil, errtext.Errorf("futex: open condition %q: %w", name, err)
	}
	return newCondition(seg, o, lock), nil
}

func newCondition(seg *shm.Segment, o shm.Object, lock Locker) *Condition {
	core := segcore.Of(seg)
	return &Condition{core: core, state: core.State(), name: o.Name(), st: condAt(o.Bytes()), anchor: core.Anchor(o.Offset()), relay: gateFor(seg, o.Offset()), lock: lock}
}

// As returns a view of the Condition whose lock acts for owner o (for an
// RLock, whose Owner may then re-enter it and Wait at any depth; As(nil):
// for no Owner; a Lock has no owners and the view is equivalent).
func (c *Condition) As(o *Owner) *Condition {
	v := &Condition{core: c.core, state: c.state, name: c.name, st: c.st, anchor: c.anchor, relay: c.relay, lock: c.lock}
	if r, ok := c.lock.(*RLock); ok {
		v.lock = r.As(o)
	}
	return v
}

// Name returns the condition's object name.
func (c *Condition) Name() string { return c.name }

// Locker returns the Condition's lock.
func (c *Condition) Locker() Locker { return c.lock }

// Acquire acquires the Condition's lock.
func (c *Condition) Acquire(ctx context.Context) error { return c.lock.Acquire(ctx) }

// TryAcquire acquires the Condition's lock without waiting.
func (c *Condition) TryAcquire() (bool, error) { return c.lock.TryAcquire() }

// Release releases the Condition's lock.
func (c *Condition) Release() error { return c.lock.Release() }

func (c *Condition) errorf(err error) error {
	return errtext.Errorf("futex: condition %q: %w", c.name, err)
}

// checked reports whether the segment is closed or guarded.
func (c *Condition) checked() bool { return atomic.LoadUint32(c.state) != 0 }

// held reports whether the caller holds the lock: for an RLock its Owner
// (or a hold without one by this participant), for a Lock this participant
// (a Lock has no finer owner).
func (c *Condition) held() bool {
	switch l := c.lock.(type) {
	case *RLock:
		return l.mine()
	case *Lock:
		return l.c.heldByParticipant()
	}
	return false
}

// releaseAll releases the lock completely and returns the depth to restore.
func (c *Condition) releaseAll() (uint32, error) {
	if r, ok := c.lock.(*RLock); ok {
		d := r.h.extra.Load() + 1
		r.h.extra.Store(0)
		return d, r.Release()
	}
	return 1, c.lock.Release()
}

// restore re-acquires the lock at the saved depth, whatever ctx says.
func (c *Condition) restore(ctx context.Context, depth uint32) error {
	err := c.lock.Acquire(context.WithoutCancel(ctx))
	if r, ok := c.lock.(*RLock); ok && (err == nil || isOwnerDead(err)) {
		r.h.extra.Store(max(depth, 1) - 1)
	}
	return err
}

// Wait releases the lock (all levels of an RLock), waits for a Notify or
// for ctx to be done, and re-acquires the lock at its previous depth before
// it returns, in every case. It returns nil when notified and ctx.Err()
// when ctx ended the wait; ErrNotHeld (without waiting) if the caller does
// not hold the lock; an error of the lock's Acquire (ErrOwnerDead, with the
// lock held) if re-acquiring reported one. Like CPython's, a Wait may
// return nil without the caller's predicate being true: use WaitFor.
func (c *Condition) Wait(ctx context.Context) error {
	if c.checked() {
		return c.core.Guard(c.errorf, func() error { return c.wait(ctx) })
	}
	return c.wait(ctx)
}

func (c *Condition) wait(ctx context.Context) error {
	if !c.held() {
		return c.errorf(ErrNotHeld)
	}
	g0 := atomic.LoadUint32(&c.st.seq)
	atomic.AddUint64(&c.st.state, condWaiterOne)
	depth, err := c.releaseAll()
	if err != nil {
		c.leave(g0)
		return err
	}
	werr := c.waitSignal(ctx, g0)
	if err := c.restore(ctx, depth); err != nil {
		return err
	}
	return werr
}

// take takes a signal if one is pending and was issued after the waiter
// registered at seq g0, unregistering the waiter.
func (c *Condition) take(g0 uint32) bool {
	if atomic.LoadUint32(&c.st.seq) == g0 {
		return false
	}
	for {
		s := atomic.LoadUint64(&c.st.state)
		if s&condSignals == 0 || s < condWaiterOne {
			return false
		}
		if atomic.CompareAndSwapUint64(&c.st.state, s, s-condWaiterOne-1) {
			race.Acquire(c.anchor)
			return true
		}
	}
}

// leave unregisters a waiter that gives up; it reports whether it took a
// signal after all (then the wait counts as notified and no notification
// is wasted).
func (c *Condition) leave(g0 uint32) bool {
	eligible := atomic.LoadUint32(&c.st.seq) != g0
	for {
		s := atomic.LoadUint64(&c.st.state)
		if s < condWaiterOne {
			return false // corrupt: nothing to unregister
		}
		n := s - condWaiterOne
		took := eligible && s&condSignals != 0
		if took {
			n--
		}
		if atomic.CompareAndSwapUint64(&c.st.state, s, n) {
			if took {
				race.Acquire(c.anchor)
			}
			return took
		}
	}
}

func (c *Condition) waitSignal(ctx context.Context, g0 uint32) error {
	var sl park.Sleeper
	for {
		seq := atomic.LoadUint32(&c.st.seq)
		if c.take(g0) {
			return nil
		}
		if _, err := relayWait(ctx, c.relay, &sl, &c.st.seq, seq, &c.st.sleepers, c.state); err != nil {
			if c.leave(g0) {
				return nil
			}
			return err
		}
	}
}

// WaitFor waits until pred returns true, calling it first with the lock
// held and again after every wake-up. It returns pred's last result, with
// ctx.Err() if ctx ended the wait (the lock is held again in every case).
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) (bool, error) {
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			return pred(), err
		}
	}
	return true, nil
}

// Notify wakes at most n of the current waiters, in any process. The caller
// must hold the lock (ErrNotHeld otherwise). Unlike CPython's, it does not
// wait for the woken waiters to run.
func (c *Condition) Notify(n int) error {
	if c.checked() {
		return c.core.Guard(c.errorf, func() error { return c.notify(n) })
	}
	return c.notify(n)
}

func (c *Condition) notify(n int) error {
	if !c.held() {
		return c.errorf(ErrNotHeld)
	}
	if n <= 0 {
		return nil
	}
	race.ReleaseMerge(c.anchor)
	for {
		s := atomic.LoadUint64(&c.st.state)
		waiting, signals := s>>32, s&condSignals
		if signals >= waiting {
			return nil
		}
		k := min(uint64(n), waiting-signals)
		if atomic.CompareAndSwapUint64(&c.st.state, s, s+k) {
			break
		}
	}
	atomic.AddUint32(&c.st.seq, 1)
	// Wake every parked thread: one per process, and the k eligible
	// waiters may sit in any of them.
	if atomic.LoadUint32(&c.st.sleepers) != 0 {
		Wake(&c.st.seq, math.MaxInt32)
	}
	return nil
}

// NotifyAll wakes every current waiter.
func (c *Condition) NotifyAll() error { return c.Notify(math.MaxInt32) }
