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

// KindEvent tags Event objects.
var KindEvent = shm.MakeKind("EVNT")

// Event word: bit 0 is the flag; bits 1-31 count the Sets that changed it,
// so a waiter that slept through a Set followed by a Clear still wakes (and
// reports the flag as it finds it, false, as CPython's Event.wait does).
const eventSet = 1

// Event is a flag in shared memory that processes wait for, the counterpart
// of multiprocessing.Event. The zero value is not usable; create with
// NewEvent, attach with OpenEvent.
//
// Memory model: a Set happens before every Wait that returns true because
// of it.
//
// Closed and truncated segments: after Segment.Close, Set, Clear and Wait
// return an error wrapping shm.ErrClosed; on a named segment whose file a
// peer truncated, one wrapping shm.ErrSegmentTruncated, never a fatal
// fault of the process. IsSet, which has no error result, panics with that
// error instead (a Go panic the caller may recover).
type Event struct {
	_      noCopy
	core   *segcore.Core // closed and truncation checks (closed.go)
	state  *uint32       // core.State(): non-zero takes the checked path
	name   string
	st     *eventState
	anchor anchor
	relay  *gate.Gate
}

// NewEvent creates a clear Event named name.
func NewEvent(seg *shm.Segment, name string) (*Event, error) {
	o, err := seg.CreateObject(name, KindEvent, eventVersion, eventSize, nil)
	if err != nil {
		return nil, errtext.Errorf("futex: new event %q: %w", name, err)
	}
	return newEvent(seg, o), nil
}

// OpenEvent attaches to the Event named name.
func OpenEvent(seg *shm.Segment, name string) (*Event, error) {
	o, err := seg.OpenObject(name, KindEvent, eventVersion)
	if err != nil {
		return nil, errtext.Errorf("futex: open event %q: %w", name, err)
	}
	if o.Size() < eventSize {
		return nil, errtext.Errorf("futex: open event %q: payload %d bytes: %w", name, o.Size(), shm.ErrCorrupt)
	}
	return newEvent(seg, o), nil
}

func newEvent(seg *shm.Segment, o shm.Object) *Event {
	core := segcore.Of(seg)
	return &Event{core: core, state: core.State(), name: o.Name(), st: eventAt(o.Bytes()), anchor: core.Anchor(o.Offset()), relay: gateFor(seg, o.Offset())}
}

func (e *Event) errorf(err error) error {
	return errtext.Errorf("futex: event %q: %w", e.name, err)
}

// checked reports whether the segment is closed or guarded.
func (e *Event) checked() bool { return atomic.LoadUint32(e.state) != 0 }

// Name returns the event's object name.
func (e *Event) Name() string { return e.name }

// IsSet reports whether the flag is set. It panics with an error wrapping
// shm.ErrClosed or shm.ErrSegmentTruncated on a closed or truncated
// segment.
func (e *Event) IsSet() bool {
	if e.checked() {
		return query(e.core, e.errorf, e.isSet)
	}
	return e.isSet()
}

func (e *Event) isSet() bool {
	if atomic.LoadUint32(&e.st.word)&eventSet != 0 {
		race.Acquire(e.anchor)
		return true
	}
	return false
}

// Set sets the flag and wakes every waiter in every process. Its error
// reports a closed or truncated segment (see Event).
func (e *Event) Set() error {
	if e.checked() {
		return e.core.Guard(e.errorf, e.set)
	}
	return e.set()
}

func (e *Event) set() error {
	race.ReleaseMerge(e.anchor)
	for {
		w := atomic.LoadUint32(&e.st.word)
		if w&eventSet != 0 {
			return nil
		}
		if atomic.CompareAndSwapUint32(&e.st.word, w, (w+2)|eventSet) {
			break
		}
	}
	if atomic.LoadUint32(&e.st.sleepers) != 0 {
		Wake(&e.st.word, 1<<31-1)
	}
	return nil
}

// Clear clears the flag. Its error reports a closed or truncated segment
// (see Event).
func (e *Event) Clear() error {
	if e.checked() {
		return e.core.Guard(e.errorf, e.clear)
	}
	return e.clear()
}

func (e *Event) clear() error {
	for {
		w := atomic.LoadUint32(&e.st.word)
		if w&eventSet == 0 || atomic.CompareAndSwapUint32(&e.st.word, w, w&^eventSet) {
			return nil
		}
	}
}

// Wait blocks until the flag is set, or a Set happened since the call, or
// ctx is done. It returns the flag as it finds it when it returns, with
// ctx.Err() if ctx ended the wait (CPython's wait returns False then), and
// false with the error on a closed or truncated segment (see Event).
func (e *Event) Wait(ctx context.Context) (bool, error) {
	if e.checked() {
		return e.waitChecked(ctx)
	}
	return e.wait(ctx)
}

func (e *Event) waitChecked(ctx context.Context) (set bool, err error) {
	// A closed or truncated segment leaves set false: the assignment
	// never runs.
	err = e.core.Guard(e.errorf, func() error { set, err = e.wait(ctx); return err })
	return set, err
}

func (e *Event) wait(ctx context.Context) (bool, error) {
	w0 := atomic.LoadUint32(&e.st.word)
	if w0&eventSet != 0 {
		race.Acquire(e.anchor)
		return true, nil
	}
	// A relay, not a gate: waiters that started before and after a
	// Set+Clear wait for different words.
	var sl park.Sleeper
	for {
		if w := atomic.LoadUint32(&e.st.word); w != w0 {
			return e.isSet(), nil
		}
		if _, err := relayWait(ctx, e.relay, &sl, &e.st.word, w0, &e.st.sleepers, e.state); err != nil {
			return e.isSet(), err
		}
	}
}
