package futex

import (
	"context"
	"github.com/shmkit/shmkit/internal/segcore"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/race"
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
type Event struct {
	_      noCopy
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
	return &Event{name: o.Name(), st: eventAt(o.Bytes()), anchor: segcore.Of(seg).Anchor(o.Offset()), relay: gateFor(seg, o.Offset())}
}

// Name returns the event's object name.
func (e *Event) Name() string { return e.name }

// IsSet reports whether the flag is set.
func (e *Event) IsSet() bool {
	if atomic.LoadUint32(&e.st.word)&eventSet != 0 {
		race.Acquire(e.anchor)
		return true
	}
	return false
}

// Set sets the flag and wakes every waiter in every process.
func (e *Event) Set() {
	race.ReleaseMerge(e.anchor)
	for {
		w := atomic.LoadUint32(&e.st.word)
		if w&eventSet != 0 {
			return
		}
		if atomic.CompareAndSwapUint32(&e.st.word, w, (w+2)|eventSet) {
			break
		}
	}
	if atomic.LoadUint32(&e.st.sleepers) != 0 {
		Wake(&e.st.word, 1<<31-1)
	}
}

// Clear clears the flag.
func (e *Event) Clear() {
	for {
		w := atomic.LoadUint32(&e.st.word)
		if w&eventSet == 0 || atomic.CompareAndSwapUint32(&e.st.word, w, w&^eventSet) {
			return
		}
	}
}

// Wait blocks until the flag is set, or a Set happened since the call, or
// ctx is done. It returns the flag as it finds it when it returns, with
// ctx.Err() if ctx ended the wait (CPython's wait returns False then).
func (e *Event) Wait(ctx context.Context) (bool, error) {
	w0 := atomic.LoadUint32(&e.st.word)
	if w0&eventSet != 0 {
		race.Acquire(e.anchor)
		return true, nil
	}
	// A relay, not a gate: waiters that started before and after a
	// Set+Clear wait for different words.
	slice := minSlice
	for {
		if w := atomic.LoadUint32(&e.st.word); w != w0 {
			return e.IsSet(), nil
		}
		timedOut, err := relayWait(ctx, e.relay, &e.st.word, w0, slice, &e.st.sleepers)
		if err != nil {
			return e.IsSet(), err
		}
		if timedOut {
			slice = nextSlice(slice)
		}
	}
}
