package futex

import (
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/race"
)

// FastPath is the uncontended acquire and release of a hold without an
// Owner, a Lock's or that of an RLock handle acting for no Owner: one
// compare-and-swap each, on a segment that is open and not guarded
// against truncation. It is for callers that write a lock's fast path into
// their own hot path: ctypes' Value.Update takes its lock this way, whether
// it is a Lock or an RLock, with no type switch and no call for the
// release (RLock.Release does not inline).
//
// TryAcquire succeeds exactly when the lock's Acquire would succeed on its
// fast path, TryRelease exactly when its Release would, and each then does
// what that fast path does, race-detector edges included. When one reports
// false, it has changed nothing in the lock (under -race, TryRelease has
// already recorded its release edge, as Release does before its CAS): call
// the lock's Acquire or Release, which
// handle every other case (waiting, owner death, flags in the lock word,
// closed and truncated segments, an Owner's hold, a release without a
// hold). The FastPath of an RLock view acting for an Owner never succeeds,
// so that its user always goes through the view's own methods.
//
// A FastPath is a small value, safe to copy and to use from any number of
// goroutines. After Segment.Close both methods report false (and the
// lock's methods return an error wrapping shm.ErrClosed).
type FastPath struct {
	word *uint32
	tok  uint32
	// state is the segment's state word (non-zero when closed or guarded
	// against truncation), ownedState for an Owner's view.
	state *uint32
	// slot is the owner slot that an RLock's Release checks (RLock.slot),
	// zeroSlot for a Lock.
	slot   *uint64
	anchor anchor
}

// zeroSlot is the owner slot of a Lock's FastPath: a Lock has no Owner.
// Only read.
var zeroSlot uint64

// FastPath returns the lock's uncontended path.
func (l *Lock) FastPath() FastPath {
	return FastPath{word: l.c.word, tok: l.c.tok, state: l.state, slot: &zeroSlot, anchor: l.c.anchor}
}

// FastPath returns the uncontended path of this handle's hold without an
// Owner; that of a view acting for an Owner never succeeds.
func (r *RLock) FastPath() FastPath {
	return FastPath{word: r.c.word, tok: r.c.tok, state: r.slowAcquire, slot: r.slot, anchor: r.c.anchor}
}

// TryAcquire takes the lock if it is free (no holder, no flags) and the
// segment is open and unguarded, and reports whether it did. A false
// result says nothing about the lock: call Acquire or TryAcquire.
func (f *FastPath) TryAcquire() bool {
	if atomic.LoadUint32(f.state) == 0 && atomic.CompareAndSwapUint32(f.word, 0, f.tok) {
		if race.Enabled {
			race.Acquire(f.anchor)
		}
		return true
	}
	return false
}

// TryRelease releases a hold without an Owner taken through this
// participant (the segment attachment), if the lock word holds nothing
// else and the segment is open and unguarded, and reports whether it did.
// A false result says nothing about the lock: call Release.
func (f *FastPath) TryRelease() bool {
	if atomic.LoadUint64(f.slot) != 0 || atomic.LoadUint32(f.state) != 0 {
		return false
	}
	if race.Enabled {
		race.Release(f.anchor)
	}
	return atomic.CompareAndSwapUint32(f.word, f.tok, 0)
}
