package ring

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

// Queue defaults: a queue with nil options takes about 580 KiB, so that
// it fits a 1 MiB segment with room to spare.
const (
	// DefaultQueueSize is the capacity in messages when QueueOptions.MaxSize
	// is zero or negative (CPython's "unbounded"; shared memory is not).
	DefaultQueueSize = 128
	// DefaultMaxMessage is the largest message when QueueOptions.MaxMessage
	// is zero: slots are then 4 KiB.
	DefaultMaxMessage = 4096 - mpmcSlotHdrSize
	// DefaultLeases is the number of lease entries when QueueOptions.Leases
	// is zero: how many messages may be held under a lease at once.
	DefaultLeases = 16
	maxLeases     = 1 << 16
	mpmcFlagsMask = mpmcJoinable | 3<<1
)

// DeadHolder says what becomes of a leased message whose holder died
// before Done (see Queue.GetLease). It is chosen when the queue is created
// and stored with it, so that every process applies the same rule.
type DeadHolder int

const (
	// CountLost counts the message lost (Lost) and ends its lease, so that
	// Join returns. The default: a message that killed its consumer is not
	// handed to the next one.
	CountLost DeadHolder = iota
	// Redeliver returns the message to the queue (Redelivered): the next Get
	// takes it, ahead of the ring's messages.
	Redeliver
	// Supervised leaves dead holders' leases to ReclaimDead: only a
	// supervisor decides (a process pool failing exactly the dead worker's
	// task). Join waits until it has.
	Supervised
)

// String names the rule as QueueOptions' documentation does.
func (d DeadHolder) String() string {
	switch d {
	case CountLost:
		return "count-lost"
	case Redeliver:
		return "redeliver"
	case Supervised:
		return "supervised"
	}
	return fmt.Sprintf("DeadHolder(%d)", int(d))
}

// QueueOptions configures NewQueue, NewSimpleQueue and NewJoinableQueue,
// and their Open functions, which use only the wait Options (the rest is
// the creator's and stored in the queue). nil or the zero value gives the
// defaults.
type QueueOptions struct {
	// MaxSize is the capacity in messages (multiprocessing.Queue's
	// maxsize); <= 0 means DefaultQueueSize. The ring has MaxSize rounded up
	// to a power of two slots (at least 2); at most MaxSize messages are
	// held at once.
	MaxSize int
	// MaxMessage is the largest message in bytes (0: DefaultMaxMessage).
	// Each slot holds one message in place, so the queue takes about
	// (slots + Leases) × (MaxMessage + 16) bytes, rounded up to 64 per slot.
	MaxMessage int
	// MaxBytes, when > 0, is the capacity in bytes: the messages held take
	// at most MaxBytes of shared memory, at one slot (MaxMessage + 16
	// bytes rounded up to 64) each, so the queue holds at most MaxBytes /
	// slot size messages. With MaxSize also set, the smaller bound holds;
	// with MaxSize <= 0, MaxBytes alone sets the capacity. A MaxBytes
	// smaller than one slot is ErrInvalid.
	MaxBytes int
	// Leases is the number of lease entries: how many messages may be held
	// under a lease (GetLease, or a JoinableQueue's Get before TaskDone) at
	// once; 0 means DefaultLeases, negative none. Each takes one message's
	// room.
	Leases int
	// DeadHolder is the rule for leases whose holder died (default
	// CountLost).
	DeadHolder DeadHolder
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
//
// After Segment.Close, TryPut, Put, TryGet, Get and GetInto return an error
// wrapping shm.ErrClosed (ErrClosed is the queue's own Close); on a named
// segment whose file a peer truncated, one wrapping
// shm.ErrSegmentTruncated, never a fatal fault of the process.
type Queue struct {
	_   noCopy
	q   *mpmc
	cfg waitCfg
}

type geometry struct {
	slots, maxMsg, maxSize, leases int
	flags                          uint32
}

func (g geometry) size() int {
	return mpmcHdrSize + g.slots*mpmcSlotSize(g.maxMsg) + g.leases*leaseEntrySize(g.maxMsg)
}

func (o *QueueOptions) geometry() (geometry, error) {
	var oo QueueOptions
	if o != nil {
		oo = *o
	}
	g := geometry{maxMsg: oo.MaxMessage, leases: oo.Leases}
	if g.maxMsg == 0 {
		g.maxMsg = DefaultMaxMessage
	}
	if g.leases == 0 {
		g.leases = DefaultLeases
	}
	g.leases = max(g.leases, 0)
	if g.maxMsg < 0 || g.maxMsg > mpmcMaxSlotPayload || oo.MaxBytes < 0 || g.leases > maxLeases ||
		oo.DeadHolder < CountLost || oo.DeadHolder > Supervised {
		return g, errorf(ErrInvalid, "queue of messages of up to %d bytes, max bytes %d, %d leases, dead holder rule %d",
			g.maxMsg, oo.MaxBytes, g.leases, oo.DeadHolder)
	}
	g.flags = uint32(oo.DeadHolder) << 1
	g.maxSize = oo.MaxSize
	if oo.MaxBytes > 0 {
		byBytes := oo.MaxBytes / mpmcSlotSize(g.maxMsg)
		if byBytes < 1 {
			return g, errorf(ErrInvalid, "queue of %d bytes cannot hold one %d-byte slot", oo.MaxBytes, mpmcSlotSize(g.maxMsg))
		}
		if g.maxSize <= 0 || byBytes < g.maxSize {
			g.maxSize = byBytes
		}
	}
	if g.maxSize <= 0 {
		g.maxSize = DefaultQueueSize
	}
	if g.maxSize > 1<<30 {
		return g, errorf(ErrInvalid, "queue of %d messages", g.maxSize)
	}
	// Two slots at least: with one, a released slot's sequence would read
	// as that position still full.
	g.slots = 2
	for g.slots < g.maxSize {
		g.slots <<= 1
	}
	return g, nil
}

func (o *QueueOptions) waitCfg() (waitCfg, error) {
	if o == nil {
		return (*Options)(nil).cfg()
	}
	return o.Options.cfg()
}

// newQueue creates the ring of any queue kind.
func newQueue(seg *shm.Segment, name string, o *QueueOptions, flags uint32) (*Queue, error) {
	return attach(seg, "queue", name, func() (*Queue, error) { return newQueueIn(seg, name, o, flags) })
}

func newQueueIn(seg *shm.Segment, name string, o *QueueOptions, flags uint32) (*Queue, error) {
	g, err := o.geometry()
	if err != nil {
		return nil, err
	}
	g.flags |= flags
	cfg, err := o.waitCfg()
	if err != nil {
		return nil, err
	}
	obj, err := seg.CreateObject(name, kindMPMC, mpmcVersion, g.size(), func(b []byte) error {
		initMPMC(b, g)
		return nil
	})
	if errors.Is(err, shm.ErrNoSpace) {
		return nil, errorf(shm.ErrNoSpace, "new queue %q needs %d bytes (%d slots of %d bytes, %d leases of %d), %d free",
			name, g.size(), g.slots, mpmcSlotSize(g.maxMsg), g.leases, leaseEntrySize(g.maxMsg), seg.Free())
	}
	if err != nil {
		return nil, err // shm's error names the object
	}
	q, err := attachMPMC(seg, name, obj)
	if err != nil {
		return nil, err
	}
	return &Queue{q: q, cfg: cfg}, nil
}

// openQueue attaches to the ring of a queue kind: joinable or not.
func openQueue(seg *shm.Segment, name string, o *QueueOptions, joinable bool) (*Queue, error) {
	return attach(seg, "queue", name, func() (*Queue, error) { return openQueueIn(seg, name, o, joinable) })
}

func openQueueIn(seg *shm.Segment, name string, o *QueueOptions, joinable bool) (*Queue, error) {
	cfg, err := o.waitCfg()
	if err != nil {
		return nil, err
	}
	obj, err := seg.OpenObject(name, kindMPMC, mpmcVersion)
	if err != nil {
		return nil, err // shm's error names the object
	}
	q, err := attachMPMC(seg, name, obj)
	if err != nil {
		return nil, err
	}
	if isJ := atomic.LoadUint32(&q.h.flags)&mpmcJoinable != 0; isJ != joinable {
		kind := map[bool]string{false: "Queue or SimpleQueue", true: "JoinableQueue"}
		return nil, errorf(ErrTypeMismatch, "queue %q is a %s, not a %s", name, kind[isJ], kind[joinable])
	}
	return &Queue{q: q, cfg: cfg}, nil
}

// NewQueue creates the queue name in seg.
func NewQueue(seg *shm.Segment, name string, o *QueueOptions) (*Queue, error) {
	return newQueue(seg, name, o, 0)
}

// OpenQueue attaches to the queue name created by NewQueue or
// NewSimpleQueue (a JoinableQueue is ErrTypeMismatch: its Gets must take
// leases). Only o's wait Options are used.
func OpenQueue(seg *shm.Segment, name string, o *QueueOptions) (*Queue, error) {
	return openQueue(seg, name, o, false)
}

// TryPut puts msg without blocking (put_nowait): ErrFull when the queue
// holds MaxSize messages, ErrClosed after Close, ErrTooLarge for a message
// longer than MaxMessage (never truncated).
func (q *Queue) TryPut(msg []byte) error {
	if q.q.g.isChecked() {
		return q.q.g.run(func() error { return q.q.tryPut(msg) })
	}
	return q.q.tryPut(msg)
}

// Put puts msg, waiting for room: ctx.Err() if ctx ends first (nothing put),
// ErrClosed if the queue is closed. A consumer that died holding a slot is
// detected between wait slices and its slot freed.
func (q *Queue) Put(ctx context.Context, msg []byte) error {
	if q.q.g.isChecked() {
		return q.q.g.run(func() error { return q.put(ctx, msg) })
	}
	return q.put(ctx, msg)
}

func (q *Queue) put(ctx context.Context, msg []byte) error {
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
// when there is none, ErrClosed once the queue is closed and drained. A
// message redelivered from a dead lease holder comes first.
func (q *Queue) TryGet() (b []byte, err error) {
	if q.q.g.isChecked() {
		err = q.q.g.run(func() error { b, _, err = q.tryGet(nil, true); return err })
		return b, err
	}
	b, _, err = q.tryGet(nil, true)
	return b, err
}

// Get gets the oldest message, waiting for one: ctx.Err() if ctx ends
// first (nothing taken), ErrClosed once the queue is closed and drained. A
// producer that died between claiming a slot and publishing it is detected
// between wait slices and its slot skipped (Tombstoned counts it); so are
// dead lease holders (see GetLease).
func (q *Queue) Get(ctx context.Context) ([]byte, error) {
	b, _, err := q.get(ctx, nil, true)
	return b, err
}

// GetInto is Get that copies the message into buf and returns its length.
// A message longer than buf gives its length and ErrBufferTooShort and stays
// in the queue.
func (q *Queue) GetInto(ctx context.Context, buf []byte) (int, error) {
	_, n, err := q.get(ctx, buf, false)
	return n, err
}

func (q *Queue) get(ctx context.Context, buf []byte, alloc bool) (b []byte, n int, err error) {
	if q.q.g.isChecked() {
		err = q.q.g.run(func() error { b, n, err = q.getLoop(ctx, buf, alloc); return err })
		return b, n, err
	}
	return q.getLoop(ctx, buf, alloc)
}

func (q *Queue) getLoop(ctx context.Context, buf []byte, alloc bool) ([]byte, int, error) {
	for {
		b, n, err := q.tryGet(buf, alloc)
		if err != ErrEmpty {
			return b, n, err
		}
		if err := q.q.waitGet(ctx, &q.cfg); err != nil && err != errRetry {
			return nil, 0, err
		}
	}
}

// tryGet takes a redelivered message first, ending its lease at once. The
// orphan hint is checked here, inline, so that a Get on a queue with no
// orphans goes straight to the ring.
func (q *Queue) tryGet(buf []byte, alloc bool) ([]byte, int, error) {
	if !q.q.orphans() {
		return q.q.tryGet(buf, alloc, nil)
	}
	return q.tryGetOrphan(buf, alloc)
}

func (q *Queue) tryGetOrphan(buf []byte, alloc bool) ([]byte, int, error) {
	t, msg, ok, err := q.q.takeOrphan(false)
	if err != nil {
		return nil, 0, err
	}
	if !ok {
		return q.q.tryGet(buf, alloc, nil)
	}
	if !alloc && len(msg) > len(buf) {
		q.q.orphan(t)
		return nil, len(msg), q.q.errf(ErrBufferTooShort, "message of %d bytes, buffer %d", len(msg), len(buf))
	}
	q.q.free(t.e, t.gen)
	if !alloc {
		msg = buf[:copy(buf, msg)]
	}
	return msg, len(msg), nil
}

// Lease is a message taken with GetLease: the holder process is recorded in
// shared memory until Done, so that if it dies first the message is counted
// lost or redelivered (QueueOptions.DeadHolder, ReclaimDead) instead of
// vanishing. A Lease is used by one goroutine; the zero value is not usable.
type Lease struct {
	q   *mpmc
	t   take
	msg []byte
}

// Bytes returns the message (a private copy).
func (l *Lease) Bytes() []byte { return l.msg }

// Done ends the lease: the message is finished with. A second Done is
// ErrTaskDone. On a JoinableQueue it is TaskDone for this message. After
// the Segment's Close it is an error wrapping shm.ErrClosed, on a segment a
// peer truncated one wrapping shm.ErrSegmentTruncated (the lease ends with
// this process, as a dead holder's).
func (l *Lease) Done() error {
	if l.q.g.isChecked() {
		return l.q.g.run(func() error { return l.q.done(l.t.e, l.t.gen) })
	}
	return l.q.done(l.t.e, l.t.gen)
}

// GetLease gets the oldest message (a redelivered one first) under a lease,
// waiting for one: ctx.Err() if ctx ends first, ErrClosed once the queue
// is closed and drained. When every lease entry is in use it waits for one
// to end. Dead holders' leases are reclaimed between wait slices under the
// queue's DeadHolder rule.
func (q *Queue) GetLease(ctx context.Context) (*Lease, error) {
	t, msg, err := q.getLease(ctx)
	if err != nil {
		return nil, err
	}
	return &Lease{q: q.q, t: t, msg: msg}, nil
}

// getLease and tryGetLease are mpmc's, through the checked path when the
// segment is closed or guarded.
func (q *Queue) getLease(ctx context.Context) (t take, msg []byte, err error) {
	if q.q.g.isChecked() {
		err = q.q.g.run(func() error { t, msg, err = q.q.getLease(ctx, &q.cfg); return err })
		return t, msg, err
	}
	return q.q.getLease(ctx, &q.cfg)
}

func (q *Queue) tryGetLease() (t take, msg []byte, err error) {
	if q.q.g.isChecked() {
		err = q.q.g.run(func() error { t, msg, err = q.q.tryGetLease(); return err })
		return t, msg, err
	}
	return q.q.tryGetLease()
}

// TryGetLease is GetLease without waiting: ErrEmpty when there is no
// message, ErrNoLease when every lease entry is in use.
func (q *Queue) TryGetLease() (*Lease, error) {
	t, msg, err := q.tryGetLease()
	if err != nil {
		return nil, err
	}
	return &Lease{q: q.q, t: t, msg: msg}, nil
}

// ReclaimDead ends the leases of holders that are dead (by the segment's
// participant table, never by a timeout). fn is called once per such
// message, with a copy of it and the dead holder's token, and says whether
// to redeliver it (true) or count it lost (false); nil counts every one
// lost. It returns how many leases it ended. It is how a supervisor learns
// exactly which messages a dead process held, whatever the DeadHolder rule
// (under Supervised it is the only way they end). A holder that dies while
// fn runs is reclaimed by the next call.
func (q *Queue) ReclaimDead(fn func(msg []byte, holder shm.Token) (redeliver bool)) (int, error) {
	if fn == nil {
		fn = func([]byte, shm.Token) bool { return false }
	}
	if q.q.g.isChecked() {
		return run1(&q.q.g, func() (int, error) { return q.q.reclaim(fn, false) })
	}
	return q.q.reclaim(fn, false)
}

// Lost returns how many leased messages were counted lost because their
// holder died (0 on a truncated segment; after the Segment's Close, a
// panic wrapping shm.ErrClosed).
func (q *Queue) Lost() uint64 { return q.counter(&q.q.h.lost) }

// Redelivered returns how many leased messages were returned to the queue
// because their holder died (0 on a truncated segment; after the
// Segment's Close, a panic wrapping shm.ErrClosed).
func (q *Queue) Redelivered() uint64 { return q.counter(&q.q.h.redelivered) }

func (q *Queue) counter(p *uint64) uint64 {
	if q.q.g.isChecked() {
		return snapshot(&q.q.g, func() uint64 { return atomic.LoadUint64(p) })
	}
	return atomic.LoadUint64(p)
}

// Len returns the number of messages in the queue (qsize): a snapshot that
// counts messages being put or got (0 on a truncated segment; after the
// Segment's Close, a panic wrapping shm.ErrClosed).
func (q *Queue) Len() int {
	if q.q.g.isChecked() {
		return snapshot(&q.q.g, q.q.length)
	}
	return q.q.length()
}

// Empty reports whether Len is zero (a snapshot; true on a truncated
// segment; after the Segment's Close, a panic wrapping shm.ErrClosed).
func (q *Queue) Empty() bool { return q.Len() == 0 }

// Full reports whether Len has reached MaxSize (a snapshot; false on a
// truncated segment; after the Segment's Close, a panic wrapping
// shm.ErrClosed).
func (q *Queue) Full() bool { return q.Len() >= int(q.q.maxSize) }

// MaxSize returns the capacity in messages.
func (q *Queue) MaxSize() int { return int(q.q.maxSize) }

// MaxMessage returns the largest message in bytes.
func (q *Queue) MaxMessage() int { return q.q.maxMsg }

// Tombstoned returns how many claims of dead processes were undone: slots a
// producer died in before publishing (no message lost: none was published)
// plus slots a consumer died holding (that message is lost). 0 on a
// truncated segment; after the Segment's Close, a panic wrapping
// shm.ErrClosed.
func (q *Queue) Tombstoned() uint64 { return q.counter(&q.q.h.tombstoned) }

// Close closes the queue for every process: later Puts get ErrClosed; Gets
// drain the messages left and then get ErrClosed. Parked waiters are woken.
// (CPython's close is per process; a shared close is what a queue in shared
// memory can offer, and what consumers need to stop.) A Put racing with
// Close may still land after a Get saw the queue closed and empty. After
// the Segment's Close it is an error wrapping shm.ErrClosed.
func (q *Queue) Close() error {
	if q.q.g.isChecked() {
		return q.q.g.run(q.close)
	}
	return q.close()
}

func (q *Queue) close() error {
	atomic.StoreUint32(&q.q.h.closed, 1)
	futex.Wake(low32(&q.q.h.enq), 1<<30)
	futex.Wake(low32(&q.q.h.deq), 1<<30)
	futex.Wake(&q.q.h.ended, 1<<30)
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

// OpenSimpleQueue attaches to the simple queue name (or a Queue's). Only
// o's wait Options are used.
func OpenSimpleQueue(seg *shm.Segment, name string, o *QueueOptions) (*SimpleQueue, error) {
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

// Empty reports whether the queue is empty (a snapshot; true on a
// truncated segment; after the Segment's Close, a panic wrapping
// shm.ErrClosed).
func (s *SimpleQueue) Empty() bool { return s.q.Empty() }

// Close closes the queue (see Queue.Close).
func (s *SimpleQueue) Close() error { return s.q.Close() }

// JoinableQueue is multiprocessing.JoinableQueue: every message put is an
// unfinished task until a Get has taken it and TaskDone marked it done;
// Join waits until none is left. A Get takes its message under a lease
// recorded in shared memory (see Queue.GetLease), so a consumer that dies
// before TaskDone does not wedge Join: its task is counted lost or
// redelivered (QueueOptions.DeadHolder). Every process opens it with
// OpenJoinableQueue (OpenQueue refuses it, so no Get can skip the lease).
// The zero value is not usable.
type JoinableQueue struct {
	q *Queue
}

// NewJoinableQueue creates the joinable queue name in seg.
func NewJoinableQueue(seg *shm.Segment, name string, o *QueueOptions) (*JoinableQueue, error) {
	q, err := newQueue(seg, name, o, mpmcJoinable)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue{q}, nil
}

// OpenJoinableQueue attaches to the joinable queue name. Only o's wait
// Options are used.
func OpenJoinableQueue(seg *shm.Segment, name string, o *QueueOptions) (*JoinableQueue, error) {
	q, err := openQueue(seg, name, o, true)
	if err != nil {
		return nil, err
	}
	return &JoinableQueue{q}, nil
}

// TryPut puts a task without blocking (see Queue.TryPut).
func (j *JoinableQueue) TryPut(msg []byte) error { return j.q.TryPut(msg) }

// Put puts a task, waiting for room (see Queue.Put). A message in the queue
// is an unfinished task: no separate count can disagree with the queue.
func (j *JoinableQueue) Put(ctx context.Context, msg []byte) error { return j.q.Put(ctx, msg) }

// Get takes the next task under a lease of this process, waiting for one
// (see Queue.GetLease); TaskDone ends it.
func (j *JoinableQueue) Get(ctx context.Context) ([]byte, error) {
	_, msg, err := j.q.getLease(ctx)
	return msg, err
}

// TryGet is Get without waiting: ErrEmpty when there is no task,
// ErrNoLease when every lease entry is in use.
func (j *JoinableQueue) TryGet() ([]byte, error) {
	_, msg, err := j.q.tryGetLease()
	return msg, err
}

// GetLease is Get returning the lease, whose Done is TaskDone for exactly
// this task.
func (j *JoinableQueue) GetLease(ctx context.Context) (*Lease, error) { return j.q.GetLease(ctx) }

// TaskDone marks one task that this process got as done (ending one of its
// leases): ErrTaskDone if it holds none (CPython's "task_done() called too
// many times"; a task is done by the process that got it).
func (j *JoinableQueue) TaskDone() error {
	if j.q.q.g.isChecked() {
		return j.q.q.g.run(j.q.q.doneAny)
	}
	return j.q.q.doneAny()
}

// Unfinished returns the number of tasks put and not yet done (queued or
// held under a lease): a snapshot (0 on a truncated segment; after the
// Segment's Close, a panic wrapping shm.ErrClosed).
func (j *JoinableQueue) Unfinished() int {
	if j.q.q.g.isChecked() {
		return snapshot(&j.q.q.g, j.q.q.unfinished)
	}
	return j.q.q.unfinished()
}

// Join waits until every task put has been marked done, or counted lost
// because its holder died: ctx.Err() if ctx ends first (a passed deadline
// is context.DeadlineExceeded). Between wait slices it reclaims dead
// holders' leases under the queue's DeadHolder rule.
func (j *JoinableQueue) Join(ctx context.Context) error {
	if j.q.q.g.isChecked() {
		return j.q.q.g.run(func() error { return j.q.cfg.wait(ctx, &j.q.q.joinWS) })
	}
	return j.q.cfg.wait(ctx, &j.q.q.joinWS)
}

// ReclaimDead ends the leases of dead holders (see Queue.ReclaimDead).
func (j *JoinableQueue) ReclaimDead(fn func(msg []byte, holder shm.Token) (redeliver bool)) (int, error) {
	return j.q.ReclaimDead(fn)
}

// Lost returns how many tasks were counted lost because their holder died
// (0 on a truncated segment; after the Segment's Close, a panic wrapping
// shm.ErrClosed).
func (j *JoinableQueue) Lost() uint64 { return j.q.Lost() }

// Redelivered returns how many tasks were redelivered because their holder
// died (0 on a truncated segment; after the Segment's Close, a panic
// wrapping shm.ErrClosed).
func (j *JoinableQueue) Redelivered() uint64 { return j.q.Redelivered() }

// Len returns the number of messages in the queue (see Queue.Len).
func (j *JoinableQueue) Len() int { return j.q.Len() }

// Empty reports whether Len is zero (see Queue.Empty).
func (j *JoinableQueue) Empty() bool { return j.q.Empty() }

// Full reports whether Len has reached MaxSize (see Queue.Full).
func (j *JoinableQueue) Full() bool { return j.q.Full() }

// MaxSize returns the capacity in messages.
func (j *JoinableQueue) MaxSize() int { return j.q.MaxSize() }

// MaxMessage returns the largest message in bytes.
func (j *JoinableQueue) MaxMessage() int { return j.q.MaxMessage() }

// Tombstoned returns how many claims of dead processes were undone (see
// Queue.Tombstoned).
func (j *JoinableQueue) Tombstoned() uint64 { return j.q.Tombstoned() }

// Close closes the queue (see Queue.Close).
func (j *JoinableQueue) Close() error { return j.q.Close() }
