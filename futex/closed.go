package futex

import "github.com/shmkit/shmkit/internal/segcore"

// Closed and truncated segments. Every handle keeps its segment's state
// word (segcore.Core.State: non-zero when the Segment was closed, or when
// its named file can shrink under the mapping). A method that touches
// shared memory loads it first: zero (an open anonymous segment, or one
// opened with shm.Options.Unguarded) takes the fast path, anything else
// the checked path, out of line, which runs the same body through
// segcore.Core.Guard. After Segment.Close that gives an error wrapping
// shm.ErrClosed, and a fault because a peer truncated the file an error
// wrapping shm.ErrSegmentTruncated, never a fatal fault of the process.
// Queries with no error result panic with that error instead (query): a
// plain Go panic, which the caller may recover.

// Each handle keeps the segment's Core (core) and its state word (state,
// core.State()) as fields of its own, not in a struct of their own: a
// field one selection deeper costs the inliner a node, and the fast paths
// of Lock and RLock are within one node of its budget.

// The checked path of a method with an error result is
// core.Guard(errorf, body): an error wrapping shm.ErrClosed (the body does
// not run) or shm.ErrSegmentTruncated, named by the object's errorf; the
// body's own errors come back as they are.

// query runs f, a query with no error result, checked: a closed or
// truncated segment panics with core.Guard's error.
func query[R any](core *segcore.Core, wrap func(error) error, f func() R) (r R) {
	if err := core.Guard(wrap, func() error { r = f(); return nil }); err != nil {
		panic(err)
	}
	return r
}
