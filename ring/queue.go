package ring

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

// Queue defaults.
const (
	// DefaultQueueSize is the capacity in messages when QueueOptions.MaxSize
	// is zero or negative (CPython's "unbounded"; shared memory is not).
	DefaultQueueSize = 1024
	// DefaultMaxMessage is the largest message when QueueOptions.MaxMessage
	// is zero: slots are then 4 KiB.
	DefaultMaxMessage = 4096 - mpmcSlotHdrSize
)

// QueueOptions configures NewQueue. The zero value gives the defaults.
type QueueOptions struct {
	// MaxSize is the capacity in messages (multiprocessing.Queue's
	// maxsize); <= 0 means DefaultQueueSize. The ring has MaxSize rounded up
	// to a power of two slots; at most MaxSize messages are held at once.
	MaxSize int
	// MaxMessage is the largest message in bytes (0: DefaultMaxMessage).
	// Each slot holds one message in place, so the queue takes about
	// slots × (MaxMessage + 16) bytes, rounded up to 64 per slot.
	MaxMessage int
	// MaxBytes, when > 0, is the capacity in bytes: the messages held take
	// at most MaxBytes of shared memory, at one slot (MaxMessage + 16
	// bytes rounded up to 64) each, so the queue holds at most MaxBytes /
	// slot size messages. With MaxSize also set, the smaller bound holds;
	// with MaxSize <= 0, MaxBytes alone sets the capacity. A MaxBytes
	// smaller than one slot is ErrInvalid.
	MaxBytes int
	// Options are the wait options of this handle.
	Options
}

// Queue is a multi-producer multi-consumer queue of byte messages in shared
// memory with the semantics of multiprocessing.Queue: any number of
// processes Put and Get through their own handles. It is lock-free: a Vyukov
// ring of fixed-size slots, each with a sequence number; a Put claims a slot
// by CAS on the enqueue position, copies the message in and release-stores
// the slot's sequence, which is what makes the message visible (a Put
// happens before the Get that returns its message). Messages of one producer
// are got in the order it put them. A Queue handle is safe for concurrent
// use by goroutines. The zero value is not usable.
type Queue struct {
	_   noCopy
	q   *mpmc
	cfg waitCfg
}

func (o *QueueOptions) geometry() (slots, maxMsg, maxSize int, err error) {
	var oo QueueOptions
	if o != nil {
		oo = *o
	}
	maxMsg = oo.MaxMessage
	if maxMsg == 0 {
		maxMsg = DefaultMaxMessage
	}
	if maxMsg < 0 || maxMsg > mpmcMaxSlotPayload || oo.MaxBytes < 0 {
		return 0, 0, 0, fmt.Errorf("ring: queue of messages of up to %d bytes, max bytes %d: %w", maxMsg, oo.MaxBytes, ErrInvalid)
	}
	maxSize = oo.MaxSize
	if oo.MaxBytes > 0 {
		byBytes := oo.MaxBytes / mpmcSlotSize(maxMsg)
		if byBytes < 1 {
			return 0, 0, 0, fmt.Errorf("ring: queue of %d bytes cannot hold one %d-byte slot: %w", oo.MaxBytes, mpmcSlotSize(maxMsg), ErrInvalid)
		}
		if maxSize <= 0 || byBytes < maxSize {
			maxSize = byBytes
		}
	}
	if maxSize <= 0 {
		maxSize = DefaultQueueSize
	}
	if maxSize > 1<<30 {
		return 0, 0, 0, fmt.Errorf("ring: queue of %d messages: %w", maxSize, ErrInvalid)
	}
	slots = 1
	for slots < maxSize {
		slots <<= 1
	}
	return slots, maxMsg, maxSize, nil
}

// NewQueue creates the queue name in seg.
func NewQueue(seg *shm.Segment, name string, o *QueueOptions) (*Queue, error) {
	slots, maxMsg, maxSize, err := o.geometry()
	if err != nil {
		return nil, err
	}
	var wo *Options
	if o != nil {
		wo = &o.Options
	}
	cfg, err := wo.cfg()
	if err != nil {
		return nil, err
	}
	obj, err := seg.CreateObject(name, kindMPMC, mpmcVersion, mpmcHdrSize+slots*mpmcSlotSize(maxMsg), func(b []byte) error {
		initMPMC(b, slots, maxMsg, maxSize)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("ring: new queue %q: %w", name, err)
	}
	q, err := attachMPMC(seg, name, obj)
	if err != nil {
		return nil, err
	}
	return &Queue{q: q, cfg: cfg}, nil
}

// OpenQueue attaches to the queue name created by NewQueue (or by
// NewSimpleQueue or NewJoinableQueue).
func OpenQueue(seg *shm.Segment, name string, o *Options) (*Queue, error) {
	cfg, err := o.cfg()
	if err != nil {
		return nil, err
	}
	obj, err := seg.OpenObject(name, kindMPMC, mpmcVersion)
	if err != nil {
		return nil, fmt.Errorf("ring: open queue %q: %w", name, err)
	}
	q, err := attachMPMC(seg, name, obj)
	if err != nil {
		return nil, err
	}
	return &Queue{q: q, cfg: cfg}, nil
}

// TryPut puts msg without blocking (put_nowait): ErrFull when the queue
// holds MaxSize messages, ErrClosed after Close, ErrTooLarge for a message
// longer than MaxMessage (never truncated).
func (q *Queue) TryPut(msg []byte) error { return q.q.tryPut(msg) }

// Put puts msg, waiting for room: ctx.Err() if ctx ends first (nothing put),
// ErrClosed if the queue is closed. A consumer that died holding a slot is
// detected between wait slices and its slot freed.
func (q *Queue) Put(ctx context.Context, msg []byte) error {
	for {
		err := q.q.tryPut(msg)
		if err != ErrFull {
			return err
		}
		if err := q.q.waitPut(ctx, &q.cfg); err != nil {
			return err
		}
	}
}

// TryGet gets the oldest message without blocking (get_nowait): ErrEmpty
// when there is none, ErrClosed once the queue is closed and drained.
func (q *Queue) TryGet() ([]byte, error) {
	b, _, err := q.q.tryGet(nil, true)
	return b, err
}

// Get gets the oldest message, waiting for one: ctx.Err() if ctx ends
// first (nothing taken), ErrClosed once the queue is closed and drained. A
// producer that died between claiming a slot and publishing it is detected
// between wait slices and its slot skipped (Tombstoned counts it).
func (q *Queue) Get(ctx context.Context) ([]byte, error) {
	for {
		b, _, err := q.q.tryGet(nil, true)
		if err != ErrEmpty {
			return b, err
		}
		if err := q.q.waitGet(ctx, &q.cfg); err != nil {
			return nil, err
		}
	}
}

// GetInto is Get that copies the message into buf and returns its length.
// A message longer than buf gives its length and ErrBufferTooShort and stays
// in the queue.
func (q *Queue) GetInto(ctx context.Context, buf []byte) (int, error) {
	for {
		_, n, err := q.q.tryGet(buf, false)
		if err != ErrEmpty {
			return n, err
		}
		if err := q.q.waitGet(ctx, &q.cfg); err != nil {
			return 0, err
		}
	}
}

// Len returns the number of messages in the queue (qsize): a snapshot that
// counts messages being put or got.
func (q *Queue) Len() int { return q.q.length() }

// Empty reports whether Len is zero (a snapshot).
func (q *Queue) Empty() bool { return q.q.length() == 0 }

// Full reports whether Len has reached MaxSize (a snapshot).
func (q *Queue) Full() bool { return q.q.length() >= int(q.q.maxSize) }

// MaxSize returns the capacity in messages.
func (q *Queue) MaxSize() int { return int(q.q.maxSize) }

// MaxMessage returns the largest message in bytes.
func (q *Queue) MaxMessage() int { return q.q.maxMsg }

// Tombstoned returns how many claims of dead processes were undone: slots a
// producer died in before publishing (no message lost: none was published)
// plus slots a consumer died holding (that message is lost).
func (q *Queue) Tombstoned() uint64 { return atomic.LoadUint64(&q.q.h.tombstoned) }

// Close closes the queue for every process: later Puts get ErrClosed; Gets
// drain the messages left and then get ErrClosed. Parked waiters are woken.
// (CPython's close is per process; a shared close is what a queue in shared
// memory can offer, and what consumers need to stop.) A Put racing with
// Close may still land after a Get saw the queue closed and empty.
func (q *Queue) Close() error {
	atomic.StoreUint32(&q.q.h.closed, 1)
	futex.Wake(low32(&q.q.h.enq), 1<<30)
	futex.Wake(low32(&q.q.h.deq), 1<<30)
	futex.Wake(&q.q.h.unfinished, 1<<30)
	return nil
}

// SimpleQueue is multiprocessing.SimpleQueue: Put, Get, Empty, Close over
// the same lock-free ring as Queue. The zero value is not usable.
type SimpleQueue struct {
	q *Queue
}

// NewSimpleQueue creates the simple queue name in seg.
func NewSimpleQueue(seg *shm.Segment, name string, o *QueueOptions) (*SimpleQueue, error) {
	q, err := NewQueue(seg, name, o)
	if err != nil {
		return nil, err
	}
	return &SimpleQueue{q: q}, nil
}

// OpenSimpleQueue attaches to the simple queue name.
func OpenSimpleQueue(seg *shm.Segment, name string, o *Options) (*SimpleQueue, error) {
	q, err := OpenQueue(seg, name, o)
	if err != nil {
		return nil, err
	}
	return &SimpleQueue{q: q}, nil
}

// Put puts msg, waiting for room (see Queue.Put).
func (s *SimpleQueue) Put(ctx context.Context, msg []byte) error { return s.q.Put(ctx, msg) }

// Get gets the oldest message, waiting for one (see Queue.Get).
func (s *SimpleQueue) Get(ctx context.Context) ([]byte, error) { return s.q.Get(ctx) }

// Empty reports whether the queue is empty (a snapshot).
func (s *SimpleQueue) Empty() bool { return s.q.Empty() }

// Close closes the queue (see Queue.Close).
func (s *SimpleQueue) Close() error { return s.q.Close() }

// JoinableQueue is multiprocessing.JoinableQueue: a Queue whose every Put
// counts an unfinished task in shared memory, TaskDone uncounts one, and
// Join waits until none is left. Open it with OpenJoinableQueue in every
// process (a plain Queue handle's Put does not count). The zero value is not
// usable.
type JoinableQueue struct {
	*Queue
}

// NewJoinableQueue creates the joinable queue name in seg.
func NewJoinableQueue(seg *shm.Segment, name string, o *QueueOptions) (*JoinableQueue, error) {
	q, err := NewQueue(seg, name, o)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue{q}, nil
}

// OpenJoinableQueue attaches to the joinable queue name.
func OpenJoinableQueue(seg *shm.Segment, name string, o *Options) (*JoinableQueue, error) {
	q, err := OpenQueue(seg, name, o)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue{q}, nil
}

// TryPut counts a task and puts msg without blocking (see Queue.TryPut).
func (j *JoinableQueue) TryPut(msg []byte) error {
	atomic.AddUint32(&j.q.h.unfinished, 1)
	err := j.q.tryPut(msg)
	if err != nil {
		j.undo()
	}
	return err
}

// Put counts a task and puts msg (see Queue.Put). The count is raised
// before the message becomes visible, so a TaskDone for it never underflows.
func (j *JoinableQueue) Put(ctx context.Context, msg []byte) error {
	atomic.AddUint32(&j.q.h.unfinished, 1)
	err := j.Queue.Put(ctx, msg)
	if err != nil {
		j.undo()
	}
	return err
}

func (j *JoinableQueue) undo() {
	if atomic.AddUint32(&j.q.h.unfinished, ^uint32(0)) == 0 {
		wake(&j.q.h.unfinished, &j.q.h.joinWait)
	}
}

// TaskDone marks one task done; ErrTaskDone if none is unfinished.
func (j *JoinableQueue) TaskDone() error {
	for {
		n := atomic.LoadUint32(&j.q.h.unfinished)
		if n == 0 {
			return fmt.Errorf("ring: queue %q: %w", j.q.name, ErrTaskDone)
		}
		if atomic.CompareAndSwapUint32(&j.q.h.unfinished, n, n-1) {
			if n == 1 {
				wake(&j.q.h.unfinished, &j.q.h.joinWait)
			}
			return nil
		}
	}
}

// Unfinished returns the number of tasks put and not yet done.
func (j *JoinableQueue) Unfinished() int { return int(atomic.LoadUint32(&j.q.h.unfinished)) }

// Join waits until every task put has been marked done: ctx.Err() if ctx
// ends first. (CPython's join has no timeout; a worker that dies without
// TaskDone leaves the count up, which only a deadline can break.)
func (j *JoinableQueue) Join(ctx context.Context) error {
	return j.cfg.wait(ctx, &j.q.joinWS)
}
