package dict

import (
	"runtime/debug"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/segcore"
)

// Closed and truncated segments. table() answers shm.ErrClosed once the
// Segment was closed, so every operation does (the mapping itself stays
// until no handle reaches it). On a segment whose file can shrink (a named
// one), the core's entry points (get, set, del, len, rangeEntries) run with
// debug.SetPanicOnFault and catch, so that a peer truncating the file makes
// them fail with shm.ErrSegmentTruncated instead of aborting the process.
// Watch's steps go through guard; the figures with no error result
// (Revision, RecoveredWriters, List.Len) read 0 from a truncated segment.

// catch is deferred, as defer c.catch(&err, segcore.Arm()), on the checked
// path: a fault on the mapping becomes an error naming the object.
func (c *core) catch(err *error, old bool) {
	debug.SetPanicOnFault(old)
	r := recover()
	if r == nil {
		return
	}
	e := c.sc.Truncation(r)
	if e == nil {
		panic(r)
	}
	*err = errtext.Errorf("dict: %s %q: %w", c.what, c.name, e)
}

// guard runs f, which accesses the mapping, for a method with an error
// result: directly on an open segment that cannot shrink, otherwise through
// the segment's Guard (an error naming the object, wrapping shm.ErrClosed
// without running f once the segment was closed, or
// shm.ErrSegmentTruncated if f faults on the mapping).
func (c *core) guard(f func() error) error {
	if atomic.LoadUint32(c.state) == 0 {
		return f()
	}
	return c.sc.Guard(c.wrap, f)
}

// revisionErr is revision through guard, for Watch.
func (c *core) revisionErr() (r uint64, err error) {
	err = c.guard(func() error {
		r = c.revision()
		return nil
	})
	return r, err
}

// figure runs f, a figure with no error result (Revision,
// RecoveredWriters, List.Len): after Segment.Close it panics with an error
// naming the object and wrapping shm.ErrClosed (a use after Close, as for
// every accessor without an error result); on a segment a peer truncated
// it answers 0.
func figure[R any](c *core, f func() R) R {
	if atomic.LoadUint32(c.state) != 0 {
		if err := c.sc.Usable(); err != nil {
			panic(c.wrap(err))
		}
		defer c.sc.Ignore(segcore.Arm())
	}
	return f()
}

// revisionOr0 is revision for the public Revision methods (see figure).
func (c *core) revisionOr0() uint64 { return figure(c, c.revision) }

// recoveredOr0 is the RecoveredWriters counter (see figure).
func (c *core) recoveredOr0() uint64 {
	return figure(c, func() uint64 { return atomic.LoadUint64(&c.root.recovered) })
}
