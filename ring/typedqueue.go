package ring

import (
	"context"
	"sync"
)

// typed is what every typed view shares: the codec and a scratch buffer
// pool for encoding.
type typed[T any] struct {
	codec Codec[T]
}

func newTyped[T any](c Codec[T]) typed[T] {
	if c == nil {
		c = DefaultCodec[T]()
	}
	return typed[T]{codec: c}
}

var scratch = sync.Pool{New: func() any { return new([]byte) }}

// encode encodes *v into a pooled buffer and hands it to fn.
func (t typed[T]) encode(v *T, fn func([]byte) error) error {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	b, err := t.codec.Append((*bp)[:0], v)
	if err != nil {
		return err
	}
	*bp = b
	return fn(b)
}

// decode decodes a message got with error err.
func (t typed[T]) decode(b []byte, err error) (T, error) {
	var v T
	if err != nil {
		return v, err
	}
	return v, t.codec.Decode(b, &v)
}

// TypedQueue carries values of T through a Queue with a Codec. The zero
// value is not usable.
type TypedQueue[T any] struct {
	typed[T]
	q *Queue
}

// NewTypedQueue wraps q; a nil codec means DefaultCodec[T]().
func NewTypedQueue[T any](q *Queue, c Codec[T]) *TypedQueue[T] {
	return &TypedQueue[T]{typed: newTyped(c), q: q}
}

// Queue returns the underlying queue.
func (t *TypedQueue[T]) Queue() *Queue { return t.q }

// Put encodes v and puts it (see Queue.Put).
func (t *TypedQueue[T]) Put(ctx context.Context, v T) error {
	return t.encode(&v, func(b []byte) error { return t.q.Put(ctx, b) })
}

// TryPut encodes v and puts it without blocking (see Queue.TryPut).
func (t *TypedQueue[T]) TryPut(v T) error {
	return t.encode(&v, func(b []byte) error { return t.q.TryPut(b) })
}

// Get gets and decodes a value (see Queue.Get).
func (t *TypedQueue[T]) Get(ctx context.Context) (T, error) {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	if cap(*bp) < t.q.MaxMessage() {
		*bp = make([]byte, t.q.MaxMessage())
	}
	n, err := t.q.GetInto(ctx, (*bp)[:cap(*bp)])
	return t.decode((*bp)[:n], err)
}

// TryGet gets and decodes a value without blocking (see Queue.TryGet).
func (t *TypedQueue[T]) TryGet() (T, error) { return t.decode(t.q.TryGet()) }

// GetLease gets and decodes a value under a lease (see Queue.GetLease).
func (t *TypedQueue[T]) GetLease(ctx context.Context) (T, *Lease, error) {
	return t.decodeLease(t.q.GetLease(ctx))
}

func (t typed[T]) decodeLease(l *Lease, err error) (T, *Lease, error) {
	if err != nil {
		var v T
		return v, nil, err
	}
	v, err := t.decode(l.Bytes(), nil)
	return v, l, err
}

// Len returns the number of messages in the queue (see Queue.Len).
func (t *TypedQueue[T]) Len() int { return t.q.Len() }

// Close closes the queue (see Queue.Close).
func (t *TypedQueue[T]) Close() error { return t.q.Close() }

// TypedSimpleQueue carries values of T through a SimpleQueue. The zero
// value is not usable.
type TypedSimpleQueue[T any] struct {
	typed[T]
	q *SimpleQueue
}

// NewTypedSimpleQueue wraps q; a nil codec means DefaultCodec[T]().
func NewTypedSimpleQueue[T any](q *SimpleQueue, c Codec[T]) *TypedSimpleQueue[T] {
	return &TypedSimpleQueue[T]{typed: newTyped(c), q: q}
}

// Put encodes v and puts it (see SimpleQueue.Put).
func (t *TypedSimpleQueue[T]) Put(ctx context.Context, v T) error {
	return t.encode(&v, func(b []byte) error { return t.q.Put(ctx, b) })
}

// Get gets and decodes a value (see SimpleQueue.Get).
func (t *TypedSimpleQueue[T]) Get(ctx context.Context) (T, error) { return t.decode(t.q.Get(ctx)) }

// Empty reports whether the queue is empty (see SimpleQueue.Empty).
func (t *TypedSimpleQueue[T]) Empty() bool { return t.q.Empty() }

// Close closes the queue (see SimpleQueue.Close).
func (t *TypedSimpleQueue[T]) Close() error { return t.q.Close() }

// TypedJoinableQueue carries values of T through a JoinableQueue, with its
// task accounting: every value put is a task until TaskDone. The zero value
// is not usable.
type TypedJoinableQueue[T any] struct {
	typed[T]
	q *JoinableQueue
}

// NewTypedJoinableQueue wraps q; a nil codec means DefaultCodec[T]().
func NewTypedJoinableQueue[T any](q *JoinableQueue, c Codec[T]) *TypedJoinableQueue[T] {
	return &TypedJoinableQueue[T]{typed: newTyped(c), q: q}
}

// Queue returns the underlying joinable queue.
func (t *TypedJoinableQueue[T]) Queue() *JoinableQueue { return t.q }

// Put encodes v and puts it as a task (see JoinableQueue.Put).
func (t *TypedJoinableQueue[T]) Put(ctx context.Context, v T) error {
	return t.encode(&v, func(b []byte) error { return t.q.Put(ctx, b) })
}

// TryPut encodes v and puts it as a task without blocking.
func (t *TypedJoinableQueue[T]) TryPut(v T) error {
	return t.encode(&v, func(b []byte) error { return t.q.TryPut(b) })
}

// Get takes a task under a lease and decodes it (see JoinableQueue.Get).
// A task that does not decode is still taken: call TaskDone for it.
func (t *TypedJoinableQueue[T]) Get(ctx context.Context) (T, error) { return t.decode(t.q.Get(ctx)) }

// TryGet is Get without waiting (see JoinableQueue.TryGet).
func (t *TypedJoinableQueue[T]) TryGet() (T, error) { return t.decode(t.q.TryGet()) }

// GetLease takes a task and returns its lease, whose Done is TaskDone for
// exactly this task.
func (t *TypedJoinableQueue[T]) GetLease(ctx context.Context) (T, *Lease, error) {
	return t.decodeLease(t.q.GetLease(ctx))
}

// TaskDone marks one task this process got as done (see
// JoinableQueue.TaskDone).
func (t *TypedJoinableQueue[T]) TaskDone() error { return t.q.TaskDone() }

// Join waits until every task is done or counted lost (see
// JoinableQueue.Join).
func (t *TypedJoinableQueue[T]) Join(ctx context.Context) error { return t.q.Join(ctx) }

// Unfinished returns the number of tasks put and not yet done (see
// JoinableQueue.Unfinished).
func (t *TypedJoinableQueue[T]) Unfinished() int { return t.q.Unfinished() }

// Close closes the queue (see JoinableQueue.Close).
func (t *TypedJoinableQueue[T]) Close() error { return t.q.Close() }
