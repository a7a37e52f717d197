package shm

// A named segment cannot be sealed: a peer may ftruncate its file under a
// live mapping, and touching the pages past the new end raises SIGBUS, which
// Go turns into a fatal "unexpected fault address" for the whole process.
// Every shm method that reads or writes the mapping therefore runs with
// debug.SetPanicOnFault(true) (goroutine-local, restored afterwards) and
// turns a fault inside the mapping into ErrSegmentTruncated; the handles of
// futex, ctypes, ring and dict do the same on every segment whose file can
// shrink. A fault anywhere else is a bug in this process and panics on.

func (s *Segment) inMapping(a uintptr) bool { return s.core.Contains(a) }

// Guard runs fn, which accesses the segment's memory (an Object's Bytes,
// say), so that a fault on the mapping (a peer truncated the named
// segment's file) returns ErrSegmentTruncated instead of aborting the
// process; on a closed Segment it returns ErrClosed without running fn. It
// costs two runtime calls and a deferred function: use it around a batch
// of accesses. Anonymous segments are sealed and cannot fault this way.
func (s *Segment) Guard(fn func() error) error { return s.core.Guard(nil, fn) }
