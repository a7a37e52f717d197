// Package segcore is the part of a shm.Segment that shm's sibling packages
// (futex, ctypes, ring, dict) need and users must not touch: the mapping's
// bounds and state for the truncation guard and the closed check, the race
// anchors, the participant protocol words and the token layout.
//
// Package shm embeds a Core in every Segment and registers the accessor
// (Register) in its init; a sibling package asks Of(seg) once, when it
// builds a handle, and keeps the *Core, which also keeps the Segment (and
// so its mapping) alive for as long as the handle is reachable.
//
// # The truncation guard
//
// A named segment cannot be sealed: a peer may ftruncate its file under a
// live mapping, and touching the pages past the new end raises SIGBUS,
// which the Go runtime turns into a fatal "unexpected fault address" for
// the whole process. An anonymous memfd sealed against shrinking cannot
// fault this way. A Core is Guarded when its file can shrink; every
// accessor of a guarded segment runs with debug.SetPanicOnFault(true)
// (goroutine-local, restored afterwards) and turns a fault inside the
// mapping into ErrSegmentTruncated. A fault anywhere else panics on.
//
// The pattern, for a method with an error result, is
//
//	if c.Checked() {
//		return h.methodChecked(...)
//	}
//	... fast path ...
//
//	func (h *H) methodChecked(...) error {
//		return c.Guard(h.wrap, func() error { ... the same body ... })
//	}
//
// so that an unguarded, open segment pays one load and a branch.
package segcore

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/race"
)

// The sentinels package shm re-exports as shm.ErrSegmentTruncated and
// shm.ErrClosed.
var (
	ErrSegmentTruncated = errors.New("shm: segment truncated")
	ErrClosed           = errors.New("shm: segment closed")
)

// Token layout: a participant token occupies the low TokenBits bits of a
// word whose high bits may hold flags (a futex lock word, a ring lease).
const (
	TokenSlotBits = 12
	TokenGenBits  = 17
	TokenBits     = TokenSlotBits + TokenGenBits
	TokenMask     = 1<<TokenBits - 1
)

// PendingWords is the number of protocol words in each participant slot:
// words a participant publishes before a multi-step claim (a ring
// producer's claimed position, say), so that whoever finds the claim stuck
// and its owner dead can undo or tombstone it.
const PendingWords = 4

// Core state bits.
const (
	guarded = 1 << iota
	closed
)

// Core is what sibling packages know of a Segment.
type Core struct {
	base, size uintptr
	state      uint32 // guarded | closed, accessed atomically
	dev, ino   uint64
	pending    func(token uint32) (*[PendingWords]uint64, error)
}

// Init describes the mapping data of the file (dev, ino); guard says
// whether the file can shrink under it. pending returns a participant's
// protocol words (see Pending).
func (c *Core) Init(data []byte, dev, ino uint64, guard bool, pending func(token uint32) (*[PendingWords]uint64, error)) {
	c.base = uintptr(unsafe.Pointer(unsafe.SliceData(data)))
	c.size = uintptr(len(data))
	c.dev, c.ino = dev, ino
	c.pending = pending
	if guard {
		atomic.StoreUint32(&c.state, guarded)
	}
}

// MarkClosed records that the Segment was closed: handles answer ErrClosed
// from then on, while the mapping stays until no handle can reach it.
func (c *Core) MarkClosed() { atomic.OrUint32(&c.state, closed) }

// Checked reports whether accessors must take their checked path: the
// segment is closed or guarded. It is one atomic load.
func (c *Core) Checked() bool { return atomic.LoadUint32(&c.state) != 0 }

// State returns the word Checked loads (non-zero: closed or guarded), for
// fast paths that must stay within the inliner's budget; load it with
// atomic.LoadUint32.
func (c *Core) State() *uint32 { return &c.state }

// Closed reports whether the Segment was closed.
func (c *Core) Closed() bool { return atomic.LoadUint32(&c.state)&closed != 0 }

// Guarded reports whether accesses must be guarded against truncation.
func (c *Core) Guarded() bool { return atomic.LoadUint32(&c.state)&guarded != 0 }

// Usable returns ErrClosed if the Segment was closed, nil otherwise.
func (c *Core) Usable() error {
	if c.Closed() {
		return ErrClosed
	}
	return nil
}

// MustUsable panics with an error wrapping ErrClosed if the Segment was
// closed: the check of accessors that have no error result.
func (c *Core) MustUsable(what string) {
	if c.Closed() {
		panic(fmt.Errorf("%s: %w", what, ErrClosed))
	}
}

// Contains reports whether address a lies in the mapping.
func (c *Core) Contains(a uintptr) bool { return a >= c.base && a-c.base < c.size }

// Arm turns faults into panics for the calling goroutine and returns the
// previous setting, for Catch or Raise to restore.
func Arm() bool { return debug.SetPanicOnFault(true) }

// Catch is deferred, as defer c.Catch(&err, Arm()), by methods with an
// error result: it restores the fault setting and turns a fault inside the
// mapping, or a truncation panic raised by a nested Raise, into an error
// wrapping ErrSegmentTruncated. Any other panic goes on.
func (c *Core) Catch(err *error, old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	if e := c.truncation(r); e != nil {
		*err = e
		return
	}
	panic(r)
}

// Raise is deferred, as defer c.Raise("ctypes", name, Arm()), by
// accessors with no error result: it restores the fault setting and turns
// a fault inside the mapping into a panic whose value is an error wrapping
// ErrSegmentTruncated and naming the object (pkg: "name": ...), which the
// caller may recover (a plain Go panic, not a fatal fault). Any other panic
// goes on.
func (c *Core) Raise(pkg, name string, old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	if e := c.truncation(r); e != nil {
		panic(errtext.Errorf("%s: %q: %w", pkg, name, e))
	}
	panic(r)
}

// Ignore is Raise for accessors whose zero result is an acceptable answer
// on a truncated segment (a length, a flag for tools): a fault inside the
// mapping is swallowed.
func (c *Core) Ignore(old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	if c.truncation(r) != nil {
		return
	}
	panic(r)
}

// Truncation returns the error a recovered value r stands for, if it is a
// fault inside the mapping or an error already wrapping
// ErrSegmentTruncated, and nil otherwise: for a deferred catcher of one's
// own (which must restore the fault setting first, as Catch does).
func (c *Core) Truncation(r any) error { return c.truncation(r) }

func (c *Core) truncation(r any) error {
	if f, ok := r.(interface{ Addr() uintptr }); ok && c.Contains(f.Addr()) {
		return fmt.Errorf("%w (fault at offset %d of the mapping)", ErrSegmentTruncated, f.Addr()-c.base)
	}
	if e, ok := r.(error); ok && errors.Is(e, ErrSegmentTruncated) {
		return e
	}
	return nil
}

// Guard runs fn, which accesses the mapping, so that a fault on it returns
// an error wrapping ErrSegmentTruncated instead of aborting the process
// (see Catch), and a closed segment an error wrapping ErrClosed without
// running fn. wrap (nil: none) names the object in those two errors; fn's
// own errors come back as they are. It suits checked paths and batches of
// accesses.
func (c *Core) Guard(wrap func(error) error, fn func() error) (err error) {
	if wrap == nil {
		wrap = func(e error) error { return e }
	}
	if c.Closed() {
		return wrap(ErrClosed)
	}
	defer func(old bool) {
		debug.SetPanicOnFault(old)
		if r := recover(); r != nil {
			e := c.truncation(r)
			if e == nil {
				panic(r)
			}
			err = wrap(e)
		}
	}(Arm())
	return fn()
}

// Pending returns the protocol words of the participant slot token names
// (PendingWords), or an error wrapping shm.ErrCorrupt for a token naming
// no slot. Access them with sync/atomic.
func (c *Core) Pending(token uint32) (*[PendingWords]uint64, error) { return c.pending(token) }

// anchors maps (file identity, offset) to a Go-heap word, so that every
// handle to the same shared object in this process shares one race anchor.
var anchors struct {
	sync.Mutex
	m map[anchorKey]*uint64
}

type anchorKey struct {
	dev, ino uint64
	off      int
}

// Anchor returns the race-detector anchor for the object at off: a Go-heap
// address shared by every handle to that object in this process. Without
// -race it returns nil and costs nothing.
func (c *Core) Anchor(off int) unsafe.Pointer {
	if !race.Enabled {
		return nil
	}
	anchors.Lock()
	defer anchors.Unlock()
	if anchors.m == nil {
		anchors.m = make(map[anchorKey]*uint64)
	}
	k := anchorKey{c.dev, c.ino, off}
	a := anchors.m[k]
	if a == nil {
		a = new(uint64)
		anchors.m[k] = a
	}
	return unsafe.Pointer(a)
}

var of func(seg any) *Core

// Register is called by package shm's init with the function that returns
// a *shm.Segment's Core.
func Register(f func(seg any) *Core) { of = f }

// Of returns the Core of seg, a *shm.Segment.
func Of(seg any) *Core { return of(seg) }
