package futex

import (
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/shm"
)

// State is a snapshot of one futex object, for tools such as shmkit
// inspect: exactly one of its pointers is set, the one for Kind. Every
// field is read with one atomic load, so a snapshot of a busy object may
// mix moments; it is a picture, not a synchronisation point.
type State struct {
	Kind      shm.Kind        `json:"-"`
	Lock      *LockState      `json:"lock,omitempty"`      // KindLock, KindRLock
	Semaphore *SemaphoreState `json:"semaphore,omitempty"` // KindSemaphore, KindBoundedSemaphore
	Event     *EventState     `json:"event,omitempty"`     // KindEvent
	Condition *ConditionState `json:"condition,omitempty"` // KindCondition
	Barrier   *BarrierState   `json:"barrier,omitempty"`   // KindBarrier
}

// LockState is the state of a Lock or RLock word. An RLock's owner and
// depth are process-local and not shown.
type LockState struct {
	Locked bool `json:"locked"`
	// Holder is the holding participant (0 when unlocked); HolderPid its
	// process (0 if its slot no longer names it) and HolderAlive whether it
	// still lives (a dead holder's lock is taken over by the next acquirer).
	Holder      shm.Token `json:"holder"`
	HolderPid   int       `json:"holder_pid"`
	HolderAlive bool      `json:"holder_alive"`
	// OwnerDied: the holder took the lock over from a dead one and has not
	// called Consistent yet. NotRecoverable: released without Consistent;
	// every Acquire fails.
	OwnerDied      bool `json:"owner_died"`
	NotRecoverable bool `json:"not_recoverable"`
	// Waiters: some thread may be parked in FUTEX_WAIT on the word.
	Waiters bool `json:"waiters"`
}

// SemaphoreState is the state of a Semaphore or BoundedSemaphore.
type SemaphoreState struct {
	Value int `json:"value"`
	// Bound is a BoundedSemaphore's maximum value, 0 for a Semaphore.
	Bound    int `json:"bound"`
	Sleepers int `json:"sleepers"` // threads parked in the kernel, all processes
}

// EventState is the state of an Event.
type EventState struct {
	Set      bool   `json:"set"`
	Sets     uint32 `json:"sets"` // Set calls that raised the flag, modulo 2^31
	Sleepers int    `json:"sleepers"`
}

// ConditionState is the state of a Condition.
type ConditionState struct {
	Lock     string `json:"lock"`    // the name of its Lock or RLock
	Waiting  int    `json:"waiting"` // registered waiters (a dead waiter stays registered)
	Signals  int    `json:"signals"` // notifications not yet taken
	Sleepers int    `json:"sleepers"`
}

// BarrierState is the state of a Barrier.
type BarrierState struct {
	Parties    int    `json:"parties"`
	Waiting    int    `json:"waiting"`    // parties arrived in this generation
	Generation uint32 `json:"generation"` // generations completed or reset
	Broken     bool   `json:"broken"`
	Sleepers   int    `json:"sleepers"`
}

// kindVersions maps each futex kind to its layout version.
var kindVersions = map[shm.Kind]uint32{
	KindLock: lockVersion, KindRLock: lockVersion,
	KindSemaphore: semVersion, KindBoundedSemaphore: semVersion,
	KindEvent: eventVersion, KindCondition: conditionVersion, KindBarrier: barrierVersion,
}

// IsKind reports whether k is the kind of a futex object.
func IsKind(k shm.Kind) bool { _, ok := kindVersions[k]; return ok }

// Inspect reads the state of the futex object info describes (an entry of
// seg.Objects()). It never blocks and never writes: an object still being
// created gives shm.ErrNotInitialized, another package's kind
// shm.ErrTypeMismatch, another major layout version shm.ErrVersion, words
// that cannot hold together shm.ErrCorrupt, a truncated segment
// shm.ErrSegmentTruncated. Finding the holder of a lock costs a look at
// the participant table and one fcntl.
func Inspect(seg *shm.Segment, info shm.ObjectInfo) (State, error) {
	st := State{Kind: info.Kind}
	version, ok := kindVersions[info.Kind]
	if !ok {
		return st, errtext.Errorf("futex: inspect %q: kind %v: %w", info.Name, info.Kind, shm.ErrTypeMismatch)
	}
	o, err := seg.OpenInfo(info, version)
	if err != nil {
		return st, errtext.Errorf("futex: inspect: %w", err)
	}
	b := o.Bytes()
	err = seg.Guard(func() error {
		switch info.Kind {
		case KindLock, KindRLock:
			st.Lock, err = inspectLock(seg, b)
		case KindSemaphore, KindBoundedSemaphore:
			st.Semaphore, err = inspectSem(b, info.Kind == KindBoundedSemaphore)
		case KindEvent:
			st.Event, err = inspectEvent(b)
		case KindCondition:
			st.Condition, err = inspectCondition(b)
		case KindBarrier:
			st.Barrier, err = inspectBarrier(b)
		}
		return err
	})
	if err != nil {
		return State{Kind: info.Kind}, errtext.Errorf("futex: inspect %q: %w", info.Name, err)
	}
	return st, nil
}

func short(b []byte, size int) error {
	if len(b) < size {
		return errtext.Errorf("payload %d bytes, want %d: %w", len(b), size, shm.ErrCorrupt)
	}
	return nil
}

func inspectLock(seg *shm.Segment, b []byte) (*LockState, error) {
	if err := short(b, lockSize); err != nil {
		return nil, err
	}
	w := atomic.LoadUint32(&lockAt(b).word)
	tok := shm.Token(w & lockTokenMask)
	ls := &LockState{
		Locked:         tok != 0,
		Holder:         tok,
		OwnerDied:      w&lockOwnerDied != 0,
		NotRecoverable: w&lockNotRecoverable != 0,
		Waiters:        w&lockWaiters != 0,
	}
	if tok == 0 {
		return ls, nil
	}
	alive, err := seg.Alive(tok)
	if err != nil {
		return nil, errtext.Errorf("holder %v: %w", tok, err)
	}
	ls.HolderAlive = alive
	for _, p := range seg.Participants() {
		if p.Token == tok {
			ls.HolderPid = p.Pid
		}
	}
	return ls, nil
}

func inspectSem(b []byte, bounded bool) (*SemaphoreState, error) {
	if err := short(b, semSize); err != nil {
		return nil, err
	}
	s := semAt(b)
	ss := &SemaphoreState{Value: int(atomic.LoadUint32(&s.value)), Sleepers: int(atomic.LoadUint32(&s.sleepers))}
	if bounded {
		ss.Bound = int(atomic.LoadUint32(&s.max))
	}
	return ss, nil
}

func inspectEvent(b []byte) (*EventState, error) {
	if err := short(b, eventSize); err != nil {
		return nil, err
	}
	e := eventAt(b)
	w := atomic.LoadUint32(&e.word)
	return &EventState{Set: w&eventSet != 0, Sets: w >> 1, Sleepers: int(atomic.LoadUint32(&e.sleepers))}, nil
}

func inspectCondition(b []byte) (*ConditionState, error) {
	if err := short(b, condSize); err != nil {
		return nil, err
	}
	c := condAt(b)
	n := atomic.LoadUint32(&c.nameLen)
	if n > condNameMax {
		return nil, errtext.Errorf("lock name length %d: %w", n, shm.ErrCorrupt)
	}
	s := atomic.LoadUint64(&c.state)
	return &ConditionState{
		Lock:     string(c.name[:n]),
		Waiting:  int(s >> 32),
		Signals:  int(s & condSignals),
		Sleepers: int(atomic.LoadUint32(&c.sleepers)),
	}, nil
}

func inspectBarrier(b []byte) (*BarrierState, error) {
	if err := short(b, barrierHdrSize); err != nil {
		return nil, err
	}
	bs := barrierAt(b)
	p := int(atomic.LoadUint32(&bs.parties))
	if p < 1 || p > barrierMaxParties || len(b) < barrierHdrSize+barrierSlotSize*p {
		return nil, errtext.Errorf("%d parties in %d bytes: %w", p, len(b), shm.ErrCorrupt)
	}
	s := atomic.LoadUint64(&bs.state)
	return &BarrierState{
		Parties:    p,
		Waiting:    int(s & barrierCount),
		Generation: uint32(s >> 32),
		Broken:     s&barrierBroken != 0,
		Sleepers:   int(atomic.LoadUint32(&bs.sleepers)),
	}, nil
}
