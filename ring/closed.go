package ring

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Closed and truncated segments. Every operation of a Queue, Lease, Ring,
// Producer, Consumer, Conn and TypedConn that touches shared memory loads
// its segment's state word first (segcore.Core.State: non-zero when the
// Segment was closed, or when its file can shrink under the mapping) and
// then runs through its checked path, out of line: after Segment.Close it
// returns an error wrapping shm.ErrClosed without touching the mapping,
// and a fault because a peer truncated the named segment's file returns
// one wrapping shm.ErrSegmentTruncated instead of aborting the process. An
// open anonymous (sealed) segment pays the one load and a branch.

// guard is a handle's link to its segment's closed and truncated state,
// and how its errors name it ("queue", "pipe", "ring" and the name).
type guard struct {
	core  *segcore.Core
	state *uint32 // core.State()
	kind  string
	name  string
}

func guardOf(seg *shm.Segment, kind, name string) guard {
	c := segcore.Of(seg)
	return guard{core: c, state: c.State(), kind: kind, name: name}
}

// isChecked reports whether operations must take their checked path: one
// atomic load.
func (g *guard) isChecked() bool { return atomic.LoadUint32(g.state) != 0 }

// wrap names the object in an error of the checked path.
func (g *guard) wrap(err error) error { return errorf(err, "%s %q", g.kind, g.name) }

// usable is the check of a wait between slices: an error wrapping
// shm.ErrClosed once the Segment was closed, so that a blocked call ends.
func (g *guard) usable() error {
	if err := g.core.Usable(); err != nil {
		return g.wrap(err)
	}
	return nil
}

// run runs f, an operation on the object's shared memory, guarded:
// ErrClosed without running f after Segment.Close, ErrSegmentTruncated for
// a fault in the mapping, both naming the object; f's own errors as they
// are.
func (g *guard) run(f func() error) error { return g.core.Guard(g.wrap, f) }

// run1 is run for an operation with a result besides its error.
func run1[R any](g *guard, f func() (R, error)) (r R, err error) {
	err = g.run(func() error { r, err = f(); return err })
	return r, err
}

// must is run for an operation with no error result: the error becomes a
// panic (a plain Go panic, which the caller may recover) whose value wraps
// shm.ErrClosed or shm.ErrSegmentTruncated.
func (g *guard) must(f func()) {
	if err := g.run(func() error { f(); return nil }); err != nil {
		panic(err)
	}
}

// snapshot is run for a snapshot accessor with no error result (a count, a
// flag): after Segment.Close it panics with an error wrapping
// shm.ErrClosed (a use after Close, as for every accessor without an error
// result); after a peer's truncation it answers its zero value, as there
// is nothing left to count.
func snapshot[R any](g *guard, f func() R) (r R) {
	if err := g.usable(); err != nil {
		panic(err)
	}
	defer g.core.Ignore(segcore.Arm())
	return f()
}

// attach runs f, a constructor's reading of the object it attaches to in
// seg, through the checked path when seg is guarded or closed: a peer may
// truncate the file between the segment's own checks and f's.
func attach[H any](seg *shm.Segment, kind, name string, f func() (H, error)) (H, error) {
	g := guardOf(seg, kind, name)
	if g.isChecked() {
		return run1(&g, f)
	}
	return f()
}

// aliveErr is the error of a shm.Segment.Alive call on a token read from
// shared memory: the segment's own state (closed, truncated) as it is,
// anything else ErrCorrupt (the token names no participant).
func aliveErr(err error) error {
	if errors.Is(err, shm.ErrClosed) || errors.Is(err, shm.ErrSegmentTruncated) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCorrupt, err)
}
