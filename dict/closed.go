package dict

import (
	"runtime/debug"

	"github.com/shmkit/shmkit/internal/errtext"
)

// Closed and truncated segments. table() answers shm.ErrClosed once the
// Segment was closed, so every operation does (the mapping itself stays
// until no handle reaches it). On a segment whose file can shrink (a named
// one), the core's entry points (get, set, del, len, rangeEntries) run with
// debug.SetPanicOnFault and catch, so that a peer truncating the file makes
// them fail with shm.ErrSegmentTruncated instead of aborting the process.

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
