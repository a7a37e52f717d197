package futex

import (
	"context"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/weakreg"
	"github.com/shmkit/shmkit/shm"
)

// Owner is the opt-in to re-entrance: an RLock view acting for an Owner
// (RLock.As) may acquire the lock again while that Owner holds it.
// Goroutines have no identity, so an RLock cannot belong to "the current
// thread" as in CPython; an Owner stands for that thread. Use it from one
// goroutine at a time (handing it on with a happens-before edge, as with
// any unsynchronised value): goroutines acting for one Owner at the same
// time re-enter each other's hold and are not mutually exclusive.
//
// The holder of an RLock is the pair (participant token of the process,
// Owner id); the token is in the shared lock word, the Owner id and the
// depth are process-local (Owner ids mean nothing in another process).
type Owner struct{ id uint64 }

var ownerSeq atomic.Uint64

// NewOwner returns a new Owner, distinct from every other in this process.
func NewOwner() *Owner { return &Owner{id: ownerSeq.Add(1)} }

// unowned stands for "no Owner" (handles from NewRLock and OpenRLock, and
// As(nil)): id 0, which no NewOwner returns and which the process-local
// owner slot holds whenever no Owner does.
var unowned = &Owner{}

// RLock is a lock in shared memory that an Owner may re-enter, the
// counterpart of multiprocessing.RLock. The zero value is not usable;
// create with NewRLock, attach with OpenRLock.
//
// A handle from NewRLock or OpenRLock acts for no Owner, and then the lock
// excludes: an Acquire never re-enters a hold, whoever took it, so
// goroutines sharing the handle exclude each other as with a Lock (and as
// CPython's threads sharing an RLock do). Its Release releases a hold taken
// without an Owner through this attachment of the segment; it cannot tell
// which goroutine took it (release only what you acquired). Release with
// no such hold (the lock free, held by an Owner, or by another process)
// returns ErrNotOwner.
//
// A view acting for an Owner (As(NewOwner())) is CPython's RLock for one
// thread: the Owner may acquire the lock again, only the Release matching
// its first Acquire frees it, and Release by anyone else returns
// ErrNotOwner. Owner death is handled as for Lock; the depth of a lock
// taken over with ErrOwnerDead starts again at 1.
//
// Memory model: the last Release of a hold happens before the Acquire that
// obtains the lock next.
type RLock struct {
	_     noCopy
	c     *lockCore
	h     *rlockHold
	owner *Owner
	// slot is the owner slot Release reads first: without an Owner
	// &h.owner, which is 0 unless an Owner holds the lock through this
	// participant; for an Owner view ownedSlot, which is never 0. One load
	// thus both tells the two kinds of view apart and checks that no Owner
	// holds.
	slot *uint64
	// slowAcquire is the word Acquire loads first: without an Owner the
	// segment's state (non-zero when closed or guarded against
	// truncation), for an Owner view ownedState, which is never 0; so one
	// load sends both to acquireSlow and Acquire stays small enough to
	// inline.
	slowAcquire *uint32
}

// ownedState is the slowAcquire word of every Owner view. Only read.
var ownedState = new(uint32(1))

// ownedSlot is the slot of every Owner view (see RLock.slot). Only read.
var ownedSlot = ^uint64(0)

// view returns a view of r's lock acting for o (nil: for no Owner).
func (r *RLock) view(o *Owner) *RLock {
	v := &RLock{c: r.c, h: r.h, owner: o, slot: &ownedSlot, slowAcquire: ownedState}
	if o == nil || o == unowned {
		v.owner, v.slot, v.slowAcquire = unowned, &r.h.owner, r.c.state
	}
	return v
}

// rlockHold is the process-local half of an RLock's state: which Owner of
// this process holds the lock through one participant (attachment), and
// how many levels beyond the first. Owner ids mean nothing in another
// process, so they never go to shared memory.
//
// It is kept per participant, not per process: a process may attach to a
// segment more than once, and an attachment closed while it holds the lock
// leaves its record behind (its Release never runs; another participant
// takes the lock over). Keyed by the token as well, such a stale record
// belongs to a token no live handle carries, and the record of a live
// participant is non-zero only while that participant holds the lock.
//
// Every handle and view of the lock through one participant shares the
// record (holdFor), and the registry holds it weakly: it goes with the last
// handle that can reach it, and with it the hold it records, which no
// handle can release any more. A process that creates and drops many locks
// or attachments does not accumulate records.
type rlockHold struct {
	// owner is the id of the Owner holding the lock through this
	// participant, or 0 (free, held by another participant, or held
	// without an Owner). Accessed atomically; a plain uint64 so that an
	// RLock's slot can point at it.
	owner uint64
	// extra counts the holder's levels beyond the first.
	extra atomic.Uint32
}

type holdKey struct {
	gate.Key
	tok uint32
}

var holds weakreg.Registry[holdKey, rlockHold]

// holdFor returns the hold record of the RLock at off in seg for this
// participant: the one its live handles share, or a new one.
func holdFor(seg *shm.Segment, off int, tok uint32) *rlockHold {
	k := holdKey{gate.Key{ID: seg.CreationID(), Off: off}, tok}
	return holds.Get(k, func() *rlockHold { return new(rlockHold) })
}

func newRLock(seg *shm.Segment, o shm.Object) *RLock {
	c := newCore(seg, o)
	r := &RLock{c: &c, h: holdFor(seg, o.Offset(), c.tok)}
	return r.view(nil)
}

// NewRLock creates an unlocked RLock named name in seg and returns a
// handle acting for no Owner (see RLock; As gives an Owner's view).
func NewRLock(seg *shm.Segment, name string) (*RLock, error) {
	o, err := createLock(seg, name, KindRLock)
	if err != nil {
		return nil, errtext.Errorf("futex: new rlock %q: %w", name, err)
	}
	return newRLock(seg, o), nil
}

// OpenRLock attaches to the RLock named name in seg, with a handle acting
// for no Owner.
func OpenRLock(seg *shm.Segment, name string) (*RLock, error) {
	o, err := openLock(seg, name, KindRLock)
	if err != nil {
		return nil, errtext.Errorf("futex: open rlock %q: %w", name, err)
	}
	return newRLock(seg, o), nil
}

// As returns a view of the same lock whose calls act for owner o: o may
// re-enter its own hold. As(nil) returns a view acting for no Owner, which
// never re-enters (as NewRLock's handle). Views and the handle share the
// lock; only the owner differs. Make a view once and keep it: As
// allocates.
func (r *RLock) As(o *Owner) *RLock { return r.view(o) }

// Owner returns the Owner this handle acts for, or nil for none.
func (r *RLock) Owner() *Owner {
	if r.owner == unowned {
		return nil
	}
	return r.owner
}

// Name returns the lock's object name.
func (r *RLock) Name() string { return r.c.name }

// mine reports whether this handle's owner holds the lock: the word holds
// this participant's token and the participant's process-local owner slot
// (rlockHold) this owner's id (0 for a hold without an Owner).
//
// Why a goroutine never mistakes itself for the holder: the owner slot is
// non-zero only between a holder's acquiring CAS (followed by its store of
// its id) and its store of 0, which Release makes BEFORE its releasing CAS
// (all sequentially consistent). So when another goroutine of this
// participant wins the word next, the slot already reads 0 until that
// goroutine stores its own id: a goroutine whose Owner held the lock before
// sees its token in the word but not its id, in every interleaving. A
// holder in another process or through another attachment has a slot of
// its own; a dead holder's slot died with its process or attachment, so a
// takeover never inherits a stale id. The one case this cannot cover is
// misuse: goroutines sharing one Owner at the same time (see Owner), or a
// Release without an Owner of a hold another goroutine took.
func (r *RLock) mine() bool {
	return r.c.heldByParticipant() && atomic.LoadUint64(&r.h.owner) == r.owner.id
}

// Acquire acquires the lock or, for a view acting for an Owner that holds
// it, adds one level. Without an Owner it never re-enters: it waits for
// every hold, also one taken through this handle. The errors are those of
// Lock.Acquire.
func (r *RLock) Acquire(ctx context.Context) error {
	// Without an Owner the uncontended Acquire is a Lock's: one CAS,
	// written out so that Acquire inlines (TestInlining). It stores nothing
	// else: after a normal release the hold record is already owner 0,
	// depth 1.
	if atomic.LoadUint32(r.slowAcquire) == 0 && atomic.CompareAndSwapUint32(r.c.word, 0, r.c.tok) {
		if race.Enabled { // costs the inliner nothing without -race
			race.Acquire(r.c.anchor)
		}
		return nil
	}
	return r.acquireSlow(ctx)
}

// acquireSlow is Acquire for an Owner, and without an Owner when the lock
// word is not free of flags and holders.
func (r *RLock) acquireSlow(ctx context.Context) error {
	if r.c.checked() {
		return r.c.core.Guard(r.c.errorf, func() error { return r.acquireHeld(ctx) })
	}
	return r.acquireHeld(ctx)
}

// acquireHeld is acquireSlow's body.
func (r *RLock) acquireHeld(ctx context.Context) error {
	if r.owner.id != 0 && r.mine() {
		r.h.extra.Add(1)
		return nil
	}
	err := r.c.acquire(ctx)
	if err == nil && r.owner.id != 0 {
		// took(nil), written out: took does not inline.
		atomic.StoreUint64(&r.h.owner, r.owner.id)
		return nil
	}
	r.took(err)
	return err
}

// took records a new hold: depth 1 (no extra levels), then the owner's id.
// After a normal release extra and owner are already 0, so a hold without an
// Owner stores nothing; a takeover (a slow path) writes both, in case.
func (r *RLock) took(err error) {
	switch {
	case err == nil:
		if r.owner.id != 0 {
			atomic.StoreUint64(&r.h.owner, r.owner.id)
		}
	case isOwnerDead(err):
		r.h.extra.Store(0)
		atomic.StoreUint64(&r.h.owner, r.owner.id)
	}
}

// TryAcquire acquires the lock without waiting if it is free, held by this
// view's Owner, or held by a dead participant ((true, ErrOwnerDead)).
func (r *RLock) TryAcquire() (ok bool, err error) {
	if r.c.checked() {
		err = r.c.core.Guard(r.c.errorf, func() error { ok, err = r.tryAcquire(); return err })
		return ok, err
	}
	return r.tryAcquire()
}

func (r *RLock) tryAcquire() (bool, error) {
	if r.owner.id != 0 && r.mine() {
		r.h.extra.Add(1)
		return true, nil
	}
	if r.c.tryFast() {
		race.Acquire(r.c.anchor)
		r.took(nil)
		return true, nil
	}
	ok, err := r.c.tryOnce(true)
	if ok {
		r.took(err)
	}
	return ok, err
}

// Release removes one level of this view's Owner's hold and frees the lock
// when it was the last; without an Owner it frees a hold taken without an
// Owner through this attachment. It returns ErrNotOwner if there is no
// such hold.
func (r *RLock) Release() error {
	// The uncontended Release without an Owner, written out: its slot,
	// the hold record's owner, says no Owner holds through this participant (an Owner's hold gives
	// ErrNotOwner in releaseSlow; an Owner view's slot is never 0), then
	// one CAS of this participant's token to 0. A word with flags, or not
	// this participant's, goes to releaseSlow, which releases again.
	if atomic.LoadUint64(r.slot) == 0 {
		if race.Enabled { // costs the inliner nothing without -race
			race.Release(r.c.anchor)
		}
		if atomic.LoadUint32(r.c.state) == 0 && atomic.CompareAndSwapUint32(r.c.word, r.c.tok, 0) {
			return nil
		}
	}
	return r.releaseChecked()
}

// releaseChecked is releaseSlow, checked (lockCore.checked) when the
// segment is closed or guarded.
func (r *RLock) releaseChecked() error {
	if r.c.checked() {
		return r.c.core.Guard(r.c.errorf, r.releaseSlow)
	}
	return r.releaseSlow()
}

// releaseSlow is Release for an Owner, and without an Owner when the fast
// path failed: it gives ErrNotOwner, ErrNotRecoverable or
// ErrReleasedTooManyTimes, and wakes waiters.
func (r *RLock) releaseSlow() error {
	if !r.mine() {
		return r.c.errorf(ErrNotOwner)
	}
	h := r.h
	if h.extra.Load() != 0 {
		h.extra.Add(^uint32(0))
		return nil
	}
	// Clear the owner slot before the releasing CAS (see mine): once the
	// word is free, no goroutine of this process may still read this id.
	if r.owner.id != 0 {
		atomic.StoreUint64(&h.owner, 0)
	}
	return r.c.release()
}

// Consistent marks a lock obtained with ErrOwnerDead as consistent again.
// It returns ErrNotOwner unless this view's Owner (or, without an Owner, a
// hold without one through this attachment) holds the lock.
func (r *RLock) Consistent() error {
	if r.c.checked() {
		return r.c.core.Guard(r.c.errorf, r.consistent)
	}
	return r.consistent()
}

func (r *RLock) consistent() error {
	if !r.mine() {
		return r.c.errorf(ErrNotOwner)
	}
	return r.c.consistent()
}

// Depth returns how many times this view's Owner holds the lock (0 if it
// does not); without an Owner, 1 while a hold without an Owner is taken
// through this attachment, else 0. It panics as Locked does on a closed or
// truncated segment.
func (r *RLock) Depth() int {
	if r.c.checked() {
		return query(r.c.core, r.c.errorf, r.depth)
	}
	return r.depth()
}

func (r *RLock) depth() int {
	if !r.mine() {
		return 0
	}
	return int(r.h.extra.Load()) + 1
}

// Locked reports whether anyone holds the lock, at the moment of the call.
// After Segment.Close it panics with an error wrapping shm.ErrClosed, on a
// truncated segment with one wrapping shm.ErrSegmentTruncated (a Go panic
// the caller may recover, never a fatal fault).
func (r *RLock) Locked() bool { return r.c.locked() }

// Holder returns the participant token of the process holding the lock (0
// when free), for tools; seg.Alive tells whether it lives. It panics as
// Locked does on a closed or truncated segment.
func (r *RLock) Holder() shm.Token { return r.c.holder() }
