package shm

import (
	"runtime/debug"

	"github.com/shmkit/shmkit/internal/errtext"
)

// A named segment cannot be sealed: a peer may ftruncate its file under a
// live mapping, and touching the pages past the new end raises SIGBUS, which
// Go turns into a fatal "unexpected fault address" for the whole process
// (docs/robustness.md V5, F13). Every shm method that reads or writes the mapping
// therefore runs with debug.SetPanicOnFault(true) (goroutine-local, restored
// afterwards) and turns a fault inside the mapping into ErrSegmentTruncated.
// A fault anywhere else is a bug in this process and panics on.

// catchFault is deferred, with the old SetPanicOnFault setting evaluated at
// the defer statement, as
//
//	defer s.catchFault(&err, debug.SetPanicOnFault(true))
//
// so that the guard is armed before the body runs.
func (s *Segment) catchFault(err *error, old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	if f, ok := r.(interface{ Addr() uintptr }); ok && s.inMapping(f.Addr()) {
		*err = errtext.Errorf("shm: fault at offset %d of the mapping: %w", f.Addr()-s.base, ErrSegmentTruncated)
		return
	}
	panic(r)
}

// ignoreFault is catchFault for methods that report no error: a fault leaves
// their zero results, and Health says why.
func (s *Segment) ignoreFault(old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	if f, ok := r.(interface{ Addr() uintptr }); ok && s.inMapping(f.Addr()) {
		return
	}
	panic(r)
}

func (s *Segment) inMapping(a uintptr) bool { return a >= s.base && a-s.base < uintptr(s.mapped) }

// Guard runs fn, which accesses the segment's memory, so that a fault on the
// mapping (a peer truncated the named segment's file) returns
// ErrSegmentTruncated instead of aborting the process. It costs two runtime
// calls and a deferred function: use it on slow paths, or around a batch of
// accesses. Anonymous segments are sealed and cannot fault this way.
func (s *Segment) Guard(fn func() error) (err error) {
	defer s.catchFault(&err, debug.SetPanicOnFault(true))
	return fn()
}
