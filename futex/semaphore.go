package futex

import (
	"context"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/park"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// KindSemaphore and KindBoundedSemaphore tag semaphore objects.
var (
	KindSemaphore        = shm.MakeKind("SEMA")
	KindBoundedSemaphore = shm.MakeKind("BSEM")
)

// SemValueMax is the largest value a semaphore holds (SEM_VALUE_MAX).
const SemValueMax = 1<<31 - 1

// semCore is shared by Semaphore and BoundedSemaphore. The value word is
// the futex word; sleepers counts threads parked on it, so that Release
// calls FUTEX_WAKE only when someone sleeps. A parker increments sleepers
// before re-reading the value and a releaser adds to the value before
// reading sleepers (both sequentially consistent), so no wake is lost.
type semCore struct {
	core   *segcore.Core // closed and truncation checks (closed.go)
	state  *uint32       // core.State(): non-zero takes the checked path
	name   string
	st     *semState
	anchor anchor
	gate   *gate.Gate
}

func newSemCore(seg *shm.Segment, o shm.Object) semCore {
	core := segcore.Of(seg)
	return semCore{core: core, state: core.State(), name: o.Name(), st: semAt(o.Bytes()), anchor: core.Anchor(o.Offset()), gate: gateFor(seg, o.Offset())}
}

func (c *semCore) errorf(err error) error {
	return errtext.Errorf("futex: semaphore %q: %w", c.name, err)
}

// checked reports whether the segment is closed or guarded.
func (c *semCore) checked() bool { return atomic.LoadUint32(c.state) != 0 }

// acquire is Acquire: on an open, unguarded segment one load of the state
// and tryAcquire inline, the rest out of line.
func (c *semCore) acquire(ctx context.Context) error {
	if atomic.LoadUint32(c.state) == 0 && c.tryAcquire() {
		return nil
	}
	return c.acquireSlow(ctx)
}

func (c *semCore) acquireSlow(ctx context.Context) error {
	if c.checked() {
		return c.core.Guard(c.errorf, func() error { return c.acquireWait(ctx) })
	}
	return c.acquireWait(ctx)
}

// try is TryAcquire.
func (c *semCore) try() (bool, error) {
	if c.checked() {
		return c.tryChecked()
	}
	return c.tryAcquire(), nil
}

func (c *semCore) tryChecked() (ok bool, err error) {
	err = c.core.Guard(c.errorf, func() error { ok = c.tryAcquire(); return nil })
	return ok, err
}

func (c *semCore) tryAcquire() bool {
	for {
		v := atomic.LoadUint32(&c.st.value)
		if v == 0 || v > SemValueMax {
			return false
		}
		if atomic.CompareAndSwapUint32(&c.st.value, v, v-1) {
			race.Acquire(c.anchor)
			return true
		}
	}
}

func (c *semCore) acquireWait(ctx context.Context) error {
	if c.tryAcquire() {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := c.gate.Enter(ctx); err != nil {
		return err
	}
	defer c.gate.Leave()
	var sl *park.Sleeper // allocated by the first sleep
	for {
		if c.tryAcquire() {
			return nil
		}
		if v := atomic.LoadUint32(&c.st.value); v > SemValueMax {
			return c.errorf(errtext.Errorf("value %#x: %w", v, shm.ErrCorrupt))
		}
		if sl == nil {
			sl = new(park.Sleeper)
		}
		atomic.AddUint32(&c.st.sleepers, 1)
		_, err := sleep(ctx, sl, &c.st.value, 0, c.state)
		atomic.AddUint32(&c.st.sleepers, ^uint32(0))
		if err != nil {
			return err
		}
	}
}

// release adds n permits, up to SemValueMax or, bounded, the initial
// value.
func (c *semCore) release(n int, bounded bool) error {
	if n < 1 {
		return c.errorf(ErrInvalidArgument)
	}
	if c.checked() {
		return c.core.Guard(c.errorf, func() error { return c.add(n, bounded) })
	}
	return c.add(n, bounded)
}

func (c *semCore) add(n int, bounded bool) error {
	limit := uint32(SemValueMax)
	if bounded {
		limit = atomic.LoadUint32(&c.st.max)
	}
	race.ReleaseMerge(c.anchor)
	for {
		v := atomic.LoadUint32(&c.st.value)
		if v > limit || uint64(v)+uint64(n) > uint64(limit) {
			return c.errorf(ErrReleasedTooManyTimes)
		}
		if atomic.CompareAndSwapUint32(&c.st.value, v, v+uint32(n)) {
			break
		}
	}
	if atomic.LoadUint32(&c.st.sleepers) != 0 {
		Wake(&c.st.value, n)
	}
	return nil
}

// value is Value (see query).
func (c *semCore) value() int {
	if c.checked() {
		return query(c.core, c.errorf, c.load)
	}
	return c.load()
}

func (c *semCore) load() int {
	v := atomic.LoadUint32(&c.st.value)
	if v > SemValueMax {
		return 0
	}
	return int(v)
}

func newSem(seg *shm.Segment, name string, kind shm.Kind, value, max int) (semCore, error) {
	if value < 0 || value > SemValueMax {
		return semCore{}, errtext.Errorf("futex: new semaphore %q: value %d: %w", name, value, ErrInvalidArgument)
	}
	o, err := seg.CreateObject(name, kind, semVersion, semSize, func(b []byte) error {
		st := semAt(b)
		st.value = uint32(value)
		st.max = uint32(max)
		return nil
	})
	if err != nil {
		return semCore{}, errtext.Errorf("futex: new semaphore %q: %w", name, err)
	}
	return newSemCore(seg, o), nil
}

func openSem(seg *shm.Segment, name string, kind shm.Kind) (semCore, error) {
	o, err := seg.OpenObject(name, kind, semVersion)
	if err != nil {
		return semCore{}, errtext.Errorf("futex: open semaphore %q: %w", name, err)
	}
	if o.Size() < semSize {
		return semCore{}, errtext.Errorf("futex: open semaphore %q: payload %d bytes: %w", name, o.Size(), shm.ErrCorrupt)
	}
	c := newSemCore(seg, o)
	if m := atomic.LoadUint32(&c.st.max); m > SemValueMax {
		return semCore{}, errtext.Errorf("futex: open semaphore %q: max %#x: %w", name, m, shm.ErrCorrupt)
	}
	return c, nil
}

// Semaphore is a counting semaphore in shared memory, the counterpart of
// multiprocessing.Semaphore. It is ownerless, as in CPython: any process
// may release, and permits held by a process that dies are lost (nothing
// records who holds them). The zero value is not usable; create with
// NewSemaphore, attach with OpenSemaphore.
//
// Memory model: a Release happens before an Acquire that takes the permit
// it added.
//
// Closed and truncated segments: after Segment.Close every method that
// touches the semaphore returns an error wrapping shm.ErrClosed; on a named
// segment whose file a peer truncated, one wrapping
// shm.ErrSegmentTruncated, never a fatal fault of the process. Value and
// Locked, which have no error result, panic with that error instead (a Go
// panic the caller may recover).
type Semaphore struct {
	_ noCopy
	c semCore
}

// NewSemaphore creates a Semaphore named name with value permits
// (0 <= value <= SemValueMax).
func NewSemaphore(seg *shm.Segment, name string, value int) (*Semaphore, error) {
	c, err := newSem(seg, name, KindSemaphore, value, SemValueMax)
	if err != nil {
		return nil, err
	}
	return &Semaphore{c: c}, nil
}

// OpenSemaphore attaches to the Semaphore named name.
func OpenSemaphore(seg *shm.Segment, name string) (*Semaphore, error) {
	c, err := openSem(seg, name, KindSemaphore)
	if err != nil {
		return nil, err
	}
	return &Semaphore{c: c}, nil
}

// Name returns the semaphore's object name.
func (s *Semaphore) Name() string { return s.c.name }

// Acquire takes one permit, waiting until one is available or ctx is done
// (ctx.Err(), nothing taken).
func (s *Semaphore) Acquire(ctx context.Context) error { return s.c.acquire(ctx) }

// TryAcquire takes a permit if one is available now. Its error reports a
// closed or truncated segment (see Semaphore).
func (s *Semaphore) TryAcquire() (bool, error) { return s.c.try() }

// Release adds one permit. Beyond SemValueMax it returns
// ErrReleasedTooManyTimes.
func (s *Semaphore) Release() error { return s.c.release(1, false) }

// ReleaseN adds n permits at once.
func (s *Semaphore) ReleaseN(n int) error { return s.c.release(n, false) }

// Value returns the number of available permits at the moment of the call
// (CPython's get_value). It panics with an error wrapping shm.ErrClosed or
// shm.ErrSegmentTruncated on a closed or truncated segment.
func (s *Semaphore) Value() int { return s.c.value() }

// Locked reports whether no permit is available (CPython's locked). It
// panics as Value does.
func (s *Semaphore) Locked() bool { return s.c.value() == 0 }

// BoundedSemaphore is a Semaphore whose Release fails with
// ErrReleasedTooManyTimes when it would raise the value above the initial
// value, as multiprocessing.BoundedSemaphore. Permits of a process that
// dies holding them are lost, as for Semaphore: the bound then stays
// unreachable. Closed and truncated segments are handled as for
// Semaphore; Max panics as Value does. The zero value is not usable.
type BoundedSemaphore struct {
	_ noCopy
	c semCore
}

// NewBoundedSemaphore creates a BoundedSemaphore named name whose value and
// maximum are value.
func NewBoundedSemaphore(seg *shm.Segment, name string, value int) (*BoundedSemaphore, error) {
	c, err := newSem(seg, name, KindBoundedSemaphore, value, value)
	if err != nil {
		return nil, err
	}
	return &BoundedSemaphore{c: c}, nil
}

// OpenBoundedSemaphore attaches to the BoundedSemaphore named name.
func OpenBoundedSemaphore(seg *shm.Segment, name string) (*BoundedSemaphore, error) {
	c, err := openSem(seg, name, KindBoundedSemaphore)
	if err != nil {
		return nil, err
	}
	return &BoundedSemaphore{c: c}, nil
}

// Name returns the semaphore's object name.
func (s *BoundedSemaphore) Name() string { return s.c.name }

// Acquire takes one permit, waiting until one is available or ctx is done.
func (s *BoundedSemaphore) Acquire(ctx context.Context) error { return s.c.acquire(ctx) }

// TryAcquire takes a permit if one is available now. Its error reports a
// closed or truncated segment (see Semaphore).
func (s *BoundedSemaphore) TryAcquire() (bool, error) { return s.c.try() }

// Release returns one permit; above the initial value it returns
// ErrReleasedTooManyTimes and changes nothing.
func (s *BoundedSemaphore) Release() error { return s.c.release(1, true) }

// Value returns the number of available permits. It panics with an error
// wrapping shm.ErrClosed or shm.ErrSegmentTruncated on a closed or
// truncated segment.
func (s *BoundedSemaphore) Value() int { return s.c.value() }

// Max returns the bound: the initial value. It panics as Value does.
func (s *BoundedSemaphore) Max() int {
	if s.c.checked() {
		return query(s.c.core, s.c.errorf, s.c.max)
	}
	return s.c.max()
}

func (c *semCore) max() int { return int(atomic.LoadUint32(&c.st.max)) }

// Locked reports whether no permit is available. It panics as Value does.
func (s *BoundedSemaphore) Locked() bool { return s.c.value() == 0 }
