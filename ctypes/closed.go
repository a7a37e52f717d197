package ctypes

import (
	"context"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Closed and truncated segments. Every accessor loads its segment's state
// word first (segcore.Core.State: non-zero when the segment was closed, or
// when its file can shrink under the mapping) and then takes its checked
// path, which runs the same access through checked.

// noState is the state word of an object not in a segment yet (a payload
// being initialised): never checked.
var noState uint32

// checked runs f, an access to o's elements, when o's segment is closed or
// guarded. After Segment.Close it panics with an error wrapping
// shm.ErrClosed. A fault because a peer truncated the named segment's file
// panics with an error wrapping shm.ErrSegmentTruncated: a plain Go panic
// that the caller may recover, instead of a fatal fault of the process.
func checked[R any](o *object, f func() R) R {
	if o.core.Closed() {
		panic(errtext.Errorf("ctypes: %q: %w", o.obj.Name(), shm.ErrClosed))
	}
	defer o.core.Raise("ctypes", o.obj.Name(), segcore.Arm())
	return f()
}

// guarded runs f, an operation with an error result on o, when o's segment
// is closed or guarded: ErrClosed and truncation come back as errors.
func guarded(o *object, f func() error) error {
	return o.core.Guard(func(err error) error { return errtext.Errorf("ctypes: %q: %w", o.obj.Name(), err) }, f)
}

// run runs f, an operation with an error result on o's elements: through
// guarded when o's segment is closed or guarded, directly otherwise. It
// suits the paths that allocate anyway (the typecode-driven API, locked
// updates of arrays); the scalar fast paths test the state word inline.
func (o *object) run(f func() error) error {
	if atomic.LoadUint32(o.state) != 0 {
		return guarded(o, f)
	}
	return f()
}

// updateSlow is Update past its fast path: on a closed or guarded
// segment through guarded, whose fault setting covers the load and the
// store (v.Load and v.Store would each arm it again); otherwise through
// guard.do, which waits for the lock and handles owner death.
func (v *Value[T]) updateSlow(ctx context.Context, fn func(T) T) (x T, err error) {
	err = v.obj.run(func() error {
		return v.g.do(ctx, func() error {
			x = fn(atomicLoad(&v.anchor, v.p))
			atomicStore(&v.anchor, v.p, x)
			return nil
		})
	})
	return x, err
}
