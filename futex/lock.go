package futex

import (
	"context"
	"runtime"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/park"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// KindLock and KindRLock tag Lock and RLock objects in a segment directory.
var (
	KindLock  = shm.MakeKind("LOCK")
	KindRLock = shm.MakeKind("RLCK")
)

// The lock word, bit by bit (docs/robustness.md D2):
//
//	bits 0-28  owner token (segcore.TokenMask), 0 when unlocked, written by the
//	           same CAS that acquires, so "locked" and "owner known" are one
//	           event and no crash can fall between them
//	bit 29     lockNotRecoverable: released in the owner-died state without
//	           Consistent; with token 0 the lock is dead for everyone
//	bit 30     lockOwnerDied: the holder took the lock over from a dead one
//	bit 31     lockWaiters: some thread may be parked in FUTEX_WAIT; a
//	           releaser calls FUTEX_WAKE only then
//
// A thread that parks sets lockWaiters and a woken thread acquires with
// lockWaiters set, since it cannot know whether others still sleep: that
// costs at most one spurious FUTEX_WAKE, never a lost one (Drepper,
// "Futexes are tricky", mutex 2).
const (
	lockNotRecoverable = 1 << 29
	lockOwnerDied      = 1 << 30
	lockWaiters        = 1 << 31
	lockTokenMask      = segcore.TokenMask
)

// lockCore is the state shared by Lock and RLock handles.
type lockCore struct {
	seg    *shm.Segment
	core   *segcore.Core // closed and truncation checks (closed.go)
	state  *uint32       // core.State(): non-zero takes the checked path
	name   string
	word   *uint32 // the lock word (lockState.word); the rest is reserved
	tok    uint32
	anchor anchor
	gate   *gate.Gate
}

func newCore(seg *shm.Segment, o shm.Object) lockCore {
	core := segcore.Of(seg)
	return lockCore{
		seg:    seg,
		core:   core,
		state:  core.State(),
		name:   o.Name(),
		word:   &lockAt(o.Bytes()).word,
		tok:    uint32(seg.Token()) & lockTokenMask,
		anchor: core.Anchor(o.Offset()),
		gate:   gateFor(seg, o.Offset()),
	}
}

func createLock(seg *shm.Segment, name string, kind shm.Kind) (shm.Object, error) {
	return seg.CreateObject(name, kind, lockVersion, lockSize, func([]byte) error { return nil })
}

func openLock(seg *shm.Segment, name string, kind shm.Kind) (shm.Object, error) {
	o, err := seg.OpenObject(name, kind, lockVersion)
	if err != nil {
		return o, err
	}
	if o.Size() < lockSize {
		return o, errtext.Errorf("futex: open %q: payload %d bytes, want %d: %w", name, o.Size(), lockSize, shm.ErrCorrupt)
	}
	return o, nil
}

// tryFast is the uncontended acquire: one CAS, no system call.
func (c *lockCore) tryFast() bool {
	return atomic.CompareAndSwapUint32(c.word, 0, c.tok)
}

// tryOnce makes one non-blocking attempt. It takes over the lock when the
// holder is dead (checkDead), returning ErrOwnerDead with the lock held.
func (c *lockCore) tryOnce(checkDead bool) (bool, error) {
	for {
		w := atomic.LoadUint32(c.word)
		if w&lockNotRecoverable != 0 {
			return false, c.errorf(ErrNotRecoverable)
		}
		if w&lockTokenMask == 0 {
			if atomic.CompareAndSwapUint32(c.word, w, c.tok|w&lockWaiters) {
				race.Acquire(c.anchor)
				return true, nil
			}
			continue
		}
		if !checkDead {
			return false, nil
		}
		ok, err := c.takeOverDead(w)
		if err != nil || ok {
			return ok, err
		}
		if atomic.LoadUint32(c.word) == w {
			return false, nil
		}
	}
}

// takeOverDead checks the holder recorded in w and, if it is dead, replaces
// it with this participant in one CAS that keeps the waiters bit. Exactly
// one contender wins that CAS; it returns (true, ErrOwnerDead).
func (c *lockCore) takeOverDead(w uint32) (bool, error) {
	alive, err := c.seg.Alive(shm.Token(w & lockTokenMask))
	if err != nil {
		return false, errtext.Errorf("futex: lock %q: holder: %w", c.name, err)
	}
	if alive {
		return false, nil
	}
	if !atomic.CompareAndSwapUint32(c.word, w, c.tok|lockOwnerDied|w&lockWaiters) {
		return false, nil
	}
	race.Acquire(c.anchor)
	return true, c.errorf(ErrOwnerDead)
}

func (c *lockCore) errorf(err error) error {
	return errtext.Errorf("futex: lock %q: %w", c.name, err)
}

// acquire blocks until the lock is held (nil or ErrOwnerDead), the lock is
// unrecoverable, or ctx is done. It is RLock's, whose caller already took
// the checked path if the segment needs it, so it checks nothing again.
func (c *lockCore) acquire(ctx context.Context) error {
	if c.tryFast() {
		race.Acquire(c.anchor)
		return nil
	}
	return c.acquireLoop(ctx)
}

func (c *lockCore) acquireSlow(ctx context.Context) error {
	if c.checked() {
		return c.core.Guard(c.errorf, func() error { return c.acquireLoop(ctx) })
	}
	return c.acquireLoop(ctx)
}

// checked reports whether the segment is closed or guarded.
func (c *lockCore) checked() bool { return atomic.LoadUint32(c.state) != 0 }

// locked and holder are the queries of Lock and RLock (see query).
func (c *lockCore) locked() bool {
	if c.checked() {
		return query(c.core, c.errorf, c.lockedNow)
	}
	return c.lockedNow()
}

func (c *lockCore) lockedNow() bool { return atomic.LoadUint32(c.word)&lockTokenMask != 0 }

func (c *lockCore) holder() shm.Token {
	if c.checked() {
		return query(c.core, c.errorf, c.holderNow)
	}
	return c.holderNow()
}

func (c *lockCore) holderNow() shm.Token { return shm.Token(atomic.LoadUint32(c.word) & lockTokenMask) }

func (c *lockCore) acquireLoop(ctx context.Context) error {
	for i := 0; i < spinRounds; i++ {
		if ok, err := c.tryOnce(false); ok || err != nil {
			return err
		}
		for j := 0; j < 32<<i; j++ {
			if atomic.LoadUint32(c.word)&lockTokenMask == 0 {
				break
			}
		}
		runtime.Gosched()
	}
	if err := c.gate.Enter(ctx); err != nil {
		return err
	}
	defer c.gate.Leave()
	var sl *park.Sleeper // allocated by the first sleep
	for {
		w := atomic.LoadUint32(c.word)
		if w&lockNotRecoverable != 0 {
			return c.errorf(ErrNotRecoverable)
		}
		if w&lockTokenMask == 0 {
			if atomic.CompareAndSwapUint32(c.word, w, c.tok|lockWaiters) {
				race.Acquire(c.anchor)
				return nil
			}
			continue
		}
		if w&lockWaiters == 0 {
			if !atomic.CompareAndSwapUint32(c.word, w, w|lockWaiters) {
				continue
			}
			w |= lockWaiters
		}
		if sl == nil {
			sl = new(park.Sleeper)
		}
		beat, err := sleep(ctx, sl, c.word, w, c.state)
		if err != nil {
			return err
		}
		if beat {
			// Only a sleep that lasted through a heartbeat leads to a
			// liveness check: death is never inferred from the beat
			// itself, only from Alive.
			if ok, err := c.takeOverDead(w); ok || err != nil {
				return err
			}
		}
	}
}

// release unlocks; a lock in the owner-died state becomes unrecoverable.
// It is RLock's, whose caller already took the checked path if the segment
// needs it, so it checks nothing again.
func (c *lockCore) release() error {
	race.Release(c.anchor)
	if atomic.CompareAndSwapUint32(c.word, c.tok, 0) {
		return nil
	}
	return c.releaseSlow()
}

// releaseChecked is Lock.Release past its fast path: release, checked
// (core.Guard) when the segment is closed or guarded.
func (c *lockCore) releaseChecked() error {
	if c.checked() {
		return c.core.Guard(c.errorf, c.release)
	}
	return c.releaseSlow()
}

// releaseSlow handles a word with flags, another holder, or none.
func (c *lockCore) releaseSlow() error {
	for {
		w := atomic.LoadUint32(c.word)
		switch {
		case w&lockNotRecoverable != 0:
			return c.errorf(ErrNotRecoverable)
		case w&lockTokenMask == 0:
			return c.errorf(ErrReleasedTooManyTimes)
		case w&lockOwnerDied != 0:
			if atomic.CompareAndSwapUint32(c.word, w, lockNotRecoverable) {
				// Every parked waiter must see the lock die, not one.
				if w&lockWaiters != 0 {
					Wake(c.word, 1<<31-1)
				}
				return nil
			}
		default:
			if atomic.CompareAndSwapUint32(c.word, w, 0) {
				if w&lockWaiters != 0 {
					Wake(c.word, 1)
				}
				return nil
			}
		}
	}
}

// consistent clears the owner-died state of a lock this participant holds.
func (c *lockCore) consistent() error {
	for {
		w := atomic.LoadUint32(c.word)
		if w&lockNotRecoverable != 0 {
			return c.errorf(ErrNotRecoverable)
		}
		if w&lockTokenMask != c.tok {
			return c.errorf(ErrNotOwner)
		}
		if w&lockOwnerDied == 0 || atomic.CompareAndSwapUint32(c.word, w, w&^lockOwnerDied) {
			return nil
		}
	}
}

func (c *lockCore) heldByParticipant() bool {
	return atomic.LoadUint32(c.word)&lockTokenMask == c.tok
}

// Lock is a non-recursive lock in shared memory, the counterpart of
// multiprocessing.Lock. Any goroutine of any process may release it, as in
// CPython (it is a semaphore of value 1 with an owner recorded for crash
// recovery). The zero value is not usable; create with NewLock, attach with
// OpenLock. A *Lock is safe for concurrent use by goroutines.
//
// Memory model: a Release happens before the Acquire (in any process) that
// obtains the lock next.
//
// Robustness: the lock word records the holder's participant token. When
// the holder dies, exactly one next acquirer obtains the lock together with
// ErrOwnerDead; see Consistent.
//
// Closed and truncated segments: after Segment.Close, Acquire, TryAcquire,
// Release and Consistent (of Lock and RLock) return an error wrapping
// shm.ErrClosed; on a named segment whose file a peer truncated, one
// wrapping shm.ErrSegmentTruncated, never a fatal fault of the process.
// Locked and Holder (and RLock's Depth), which have no error result, panic
// with that error instead (a Go panic the caller may recover).
type Lock struct {
	_ noCopy
	// c comes first and state is c.state: a field of c, at offset 0,
	// costs the inliner no node to select, and one selection nearer, state
	// keeps Acquire and Release within the inliner's budget
	// (TestInlining).
	c     lockCore
	state *uint32
}

func newLock(seg *shm.Segment, o shm.Object) *Lock {
	l := &Lock{c: newCore(seg, o)}
	l.state = l.c.state
	return l
}

type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// NewLock creates an unlocked Lock named name in seg.
func NewLock(seg *shm.Segment, name string) (*Lock, error) {
	o, err := createLock(seg, name, KindLock)
	if err != nil {
		return nil, errtext.Errorf("futex: new lock %q: %w", name, err)
	}
	return newLock(seg, o), nil
}

// OpenLock attaches to the Lock named name in seg. Another kind under that
// name gives shm.ErrTypeMismatch, another major layout version shm.ErrVersion.
func OpenLock(seg *shm.Segment, name string) (*Lock, error) {
	o, err := openLock(seg, name, KindLock)
	if err != nil {
		return nil, errtext.Errorf("futex: open lock %q: %w", name, err)
	}
	return newLock(seg, o), nil
}

// Name returns the lock's object name.
func (l *Lock) Name() string { return l.c.name }

// Acquire blocks until it holds the lock, and returns nil. If the previous
// holder died holding it, Acquire returns ErrOwnerDead and the caller holds
// the lock. It returns ErrNotRecoverable (not holding) for a lock released
// without Consistent after an owner death, and ctx.Err() (not holding) when
// ctx is done first. A Lock is not re-entrant: acquiring it twice blocks.
func (l *Lock) Acquire(ctx context.Context) error {
	// The fast path is written out here: one load of the segment's state
	// (non-zero when closed or guarded against truncation, see
	// closed.go) and one CAS.
	if atomic.LoadUint32(l.state) == 0 && atomic.CompareAndSwapUint32(l.c.word, 0, l.c.tok) {
		if race.Enabled { // costs the inliner nothing without -race
			race.Acquire(l.c.anchor)
		}
		return nil
	}
	return l.c.acquireSlow(ctx)
}

// TryAcquire acquires the lock if that needs no waiting and reports whether
// it did. A lock whose holder is dead is taken over: (true, ErrOwnerDead).
// Checking the holder's liveness costs one system call when the lock is held
// by another process.
func (l *Lock) TryAcquire() (ok bool, err error) {
	if l.c.checked() {
		err = l.c.core.Guard(l.c.errorf, func() error { ok, err = l.c.tryAcquire(); return err })
		return ok, err
	}
	return l.c.tryAcquire()
}

func (c *lockCore) tryAcquire() (bool, error) {
	if c.tryFast() {
		race.Acquire(c.anchor)
		return true, nil
	}
	return c.tryOnce(true)
}

// Release unlocks the lock; any process may release it. Releasing an
// unlocked Lock returns ErrReleasedTooManyTimes. Releasing in the owner-died
// state without Consistent succeeds and makes the lock unrecoverable: every
// later Acquire, in every process, returns ErrNotRecoverable.
func (l *Lock) Release() error {
	if race.Enabled { // costs the inliner nothing without -race
		race.Release(l.c.anchor)
	}
	if atomic.LoadUint32(l.state) == 0 && atomic.CompareAndSwapUint32(l.c.word, l.c.tok, 0) {
		return nil
	}
	return l.c.releaseChecked()
}

// Consistent marks a lock obtained with ErrOwnerDead as consistent again, so
// that Release returns it to normal use. It returns ErrNotOwner unless this
// participant (the process's attachment to the segment) holds the lock, and
// nil for a lock that needs no recovery.
func (l *Lock) Consistent() error {
	if l.c.checked() {
		return l.c.core.Guard(l.c.errorf, l.c.consistent)
	}
	return l.c.consistent()
}

// Locked reports whether the lock is held by anyone, at the moment of the
// call. After Segment.Close it panics with an error wrapping shm.ErrClosed,
// on a truncated segment with one wrapping shm.ErrSegmentTruncated (a Go
// panic the caller may recover, never a fatal fault).
func (l *Lock) Locked() bool { return l.c.locked() }

// Holder returns the participant token of the lock's holder (0 when free),
// for tools such as shmkit inspect; seg.Alive tells whether it lives. It
// panics as Locked does on a closed or truncated segment.
func (l *Lock) Holder() shm.Token { return l.c.holder() }
