package ring

import (
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/segcore"
)

// Closed and truncated segments. A Queue's operations load the segment's
// state word first (segcore.Core.State: non-zero when the Segment was
// closed, or when its file can shrink under the mapping) and then run
// through checked: after Segment.Close they return an error wrapping
// shm.ErrClosed, and a fault because a peer truncated the named segment's
// file returns one wrapping shm.ErrSegmentTruncated instead of aborting the
// process.

// isChecked reports whether q's operations must take their checked path.
func (q *mpmc) isChecked() bool { return atomic.LoadUint32(q.state) != 0 }

// checked runs f, an operation on q's shared memory, guarded.
func (q *mpmc) checked(f func() error) error {
	return q.core.Guard(func(err error) error { return errorf(err, "queue %q", q.name) }, f)
}

// newCore fills q's core and state from its segment.
func (q *mpmc) newCore() {
	q.core = segcore.Of(q.seg)
	q.state = q.core.State()
}
