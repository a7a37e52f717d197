package proc

import (
	"errors"
	"fmt"
	"sync"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// SegmentSize is the arena size of each anonymous segment a Manager
// makes: room for two default queues (4 MiB each) or a default duplex
// pipe and more besides. An object too big for it gets a segment of its
// own, four times bigger per try.
const SegmentSize = 8 << 20

// maxSegment bounds how far a Manager grows a segment for one object.
const maxSegment = 1 << 32

// spareEntries is the part of a segment's directory (shm.DefaultObjects
// entries) a Manager keeps free for Conditions over the segment's locks,
// which must live beside their lock: it takes no other new object into a
// segment with fewer free entries.
const spareEntries = shm.DefaultObjects / 4

// Manager makes shared objects for processes, so that no code names a
// segment, sizes one, or opens an object: it allocates every object from
// anonymous (memfd) segments it owns and adds a segment when one is full.
// The objects travel to children as Process arguments. Unlike CPython's
// Manager there is no server process: every object is plain shared
// memory. The zero value is not usable; the factories accept a nil
// *Manager for the process-wide default one, as multiprocessing.Queue()
// needs none. A Manager is safe for concurrent use.
//
// Each factory comes twice: NewX returns the error, X panics on it (the
// only errors are running out of memory or descriptors, or invalid
// options), which keeps tutorial code short:
//
//	q, mu := proc.Queue[string](m), proc.Lock(m)
type Manager struct {
	mu   sync.Mutex
	segs []*shm.Segment // the last is the one being filled
	own  []*shm.Segment // one per Map, List and Namespace, which grow
	seq  int
}

// NewManager returns an empty Manager. It makes its first segment when
// the first object is asked for.
func NewManager() *Manager { return &Manager{} }

var defaultManager = NewManager()

func orDefault(m *Manager) *Manager {
	if m == nil {
		return defaultManager
	}
	return m
}

// Close closes the Manager's segments in this process. Children that
// hold them keep them; the memory is freed when the last holder is gone.
// Every object the Manager made is unusable in this process afterwards.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, s := range append(m.segs, m.own...) {
		errs = append(errs, s.Close())
	}
	m.segs, m.own = nil, nil
	return errors.Join(errs...)
}

// Segments returns how many segments the Manager has made.
func (m *Manager) Segments() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.segs) + len(m.own)
}

// full reports whether err says the segment has no room for the object.
func full(err error) bool {
	return errors.Is(err, shm.ErrNoSpace) || errors.Is(err, shm.ErrDirectoryFull)
}

// alloc creates an object with create in the current segment, or in a new
// one when that is full, under a fresh name built from what.
func alloc[H any](m *Manager, what string, create func(seg *shm.Segment, name string) (H, error)) (H, error) {
	m = orDefault(m)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	name := fmt.Sprintf("%s.%d", what, m.seq)
	if n := len(m.segs); n > 0 && len(m.segs[n-1].Objects()) < shm.DefaultObjects-spareEntries {
		h, err := create(m.segs[n-1], name)
		if !full(err) {
			return h, err
		}
	}
	for size := SegmentSize; ; size *= 4 {
		seg, err := shm.Anonymous(size)
		if err != nil {
			var zero H
			return zero, fmt.Errorf("proc: manager: %s: %w", what, err)
		}
		h, err := create(seg, name)
		if err == nil {
			m.segs = append(m.segs, seg)
			return h, nil
		}
		seg.Close()
		if !full(err) || size*4 > maxSegment {
			return h, err
		}
	}
}

// allocOwn creates an object that grows in place (a dict Map, List or
// Namespace) in a segment of its own, so that its growth takes room from
// nothing else and nothing else from it.
func allocOwn[H any](m *Manager, what string, create func(seg *shm.Segment, name string) (H, error)) (H, error) {
	m = orDefault(m)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	var zero H
	seg, err := shm.Anonymous(SegmentSize)
	if err != nil {
		return zero, fmt.Errorf("proc: manager: %s: %w", what, err)
	}
	h, err := create(seg, fmt.Sprintf("%s.%d", what, m.seq))
	if err != nil {
		seg.Close()
		return zero, err
	}
	m.own = append(m.own, seg)
	return h, nil
}

// must is the panicking form of every factory.
func must[H any](h H, err error) H {
	if err != nil {
		panic(err)
	}
	return h
}

// NewQueue makes a queue of values of T (multiprocessing.Queue); o may be
// nil (maxsize ring.DefaultQueueSize, messages up to
// ring.DefaultMaxMessage bytes encoded).
func NewQueue[T any](m *Manager, o *ring.QueueOptions) (*ring.TypedQueue[T], error) {
	return alloc(m, "queue", func(seg *shm.Segment, name string) (*ring.TypedQueue[T], error) {
		q, err := ring.NewQueue(seg, name, o)
		if err != nil {
			return nil, err
		}
		return ring.NewTypedQueue(q, ring.DefaultCodec[T]()), nil
	})
}

// Queue is NewQueue with default options that panics on failure.
func Queue[T any](m *Manager) *ring.TypedQueue[T] { return must(NewQueue[T](m, nil)) }

// NewSimpleQueue makes a multiprocessing.SimpleQueue of values of T; o
// may be nil.
func NewSimpleQueue[T any](m *Manager, o *ring.QueueOptions) (*ring.TypedSimpleQueue[T], error) {
	return alloc(m, "simplequeue", func(seg *shm.Segment, name string) (*ring.TypedSimpleQueue[T], error) {
		q, err := ring.NewSimpleQueue(seg, name, o)
		if err != nil {
			return nil, err
		}
		return ring.NewTypedSimpleQueue(q, ring.DefaultCodec[T]()), nil
	})
}

// SimpleQueue is NewSimpleQueue with default options that panics on
// failure.
func SimpleQueue[T any](m *Manager) *ring.TypedSimpleQueue[T] { return must(NewSimpleQueue[T](m, nil)) }

// NewJoinableQueue makes a multiprocessing.JoinableQueue of values of T;
// o may be nil.
func NewJoinableQueue[T any](m *Manager, o *ring.QueueOptions) (*ring.TypedJoinableQueue[T], error) {
	return alloc(m, "joinablequeue", func(seg *shm.Segment, name string) (*ring.TypedJoinableQueue[T], error) {
		q, err := ring.NewJoinableQueue(seg, name, o)
		if err != nil {
			return nil, err
		}
		return ring.NewTypedJoinableQueue(q, ring.DefaultCodec[T]()), nil
	})
}

// JoinableQueue is NewJoinableQueue with default options that panics on
// failure.
func JoinableQueue[T any](m *Manager) *ring.TypedJoinableQueue[T] {
	return must(NewJoinableQueue[T](m, nil))
}

// pipeEnds carries both ends of a pipe through alloc.
type pipeEnds struct{ c0, c1 *ring.Conn }

// NewPipe makes a pipe (multiprocessing.Pipe): duplex, each end sends and
// receives; otherwise c0 only receives and c1 only sends.
func NewPipe(m *Manager, duplex bool) (c0, c1 *ring.Conn, err error) {
	p, err := alloc(m, "pipe", func(seg *shm.Segment, name string) (pipeEnds, error) {
		c0, c1, err := ring.NewPipe(seg, name, &ring.PipeOptions{OneWay: !duplex})
		return pipeEnds{c0, c1}, err
	})
	return p.c0, p.c1, err
}

// Pipe is NewPipe that panics on failure.
func Pipe(m *Manager, duplex bool) (c0, c1 *ring.Conn) {
	c0, c1, err := NewPipe(m, duplex)
	if err != nil {
		panic(err)
	}
	return c0, c1
}

// NewLock makes a multiprocessing.Lock.
func NewLock(m *Manager) (*futex.Lock, error) { return alloc(m, "lock", futex.NewLock) }

// Lock is NewLock that panics on failure.
func Lock(m *Manager) *futex.Lock { return must(NewLock(m)) }

// NewRLock makes a multiprocessing.RLock.
func NewRLock(m *Manager) (*futex.RLock, error) { return alloc(m, "rlock", futex.NewRLock) }

// RLock is NewRLock that panics on failure.
func RLock(m *Manager) *futex.RLock { return must(NewRLock(m)) }

// NewSemaphore makes a multiprocessing.Semaphore holding value permits.
func NewSemaphore(m *Manager, value int) (*futex.Semaphore, error) {
	return alloc(m, "semaphore", func(seg *shm.Segment, name string) (*futex.Semaphore, error) {
		return futex.NewSemaphore(seg, name, value)
	})
}

// Semaphore is NewSemaphore that panics on failure.
func Semaphore(m *Manager, value int) *futex.Semaphore { return must(NewSemaphore(m, value)) }

// NewBoundedSemaphore makes a multiprocessing.BoundedSemaphore of value
// permits at most.
func NewBoundedSemaphore(m *Manager, value int) (*futex.BoundedSemaphore, error) {
	return alloc(m, "boundedsemaphore", func(seg *shm.Segment, name string) (*futex.BoundedSemaphore, error) {
		return futex.NewBoundedSemaphore(seg, name, value)
	})
}

// BoundedSemaphore is NewBoundedSemaphore that panics on failure.
func BoundedSemaphore(m *Manager, value int) *futex.BoundedSemaphore {
	return must(NewBoundedSemaphore(m, value))
}

// NewEvent makes a multiprocessing.Event, clear.
func NewEvent(m *Manager) (*futex.Event, error) { return alloc(m, "event", futex.NewEvent) }

// Event is NewEvent that panics on failure.
func Event(m *Manager) *futex.Event { return must(NewEvent(m)) }

// NewCondition makes a multiprocessing.Condition over lock, a *futex.Lock
// or *futex.RLock made by the same Manager, or over a new RLock when lock
// is nil (CPython's default). A Condition lives in its lock's segment,
// where the Manager keeps room for Conditions (ErrDirectoryFull from shm
// only after a quarter of a segment's directory went to them).
func NewCondition(m *Manager, lock futex.Locker) (*futex.Condition, error) {
	if lock == nil {
		return alloc(m, "condition", func(seg *shm.Segment, name string) (*futex.Condition, error) {
			return futex.NewCondition(seg, name, nil)
		})
	}
	// The condition must live in its lock's segment.
	seg, _ := lock.(shm.Sharer).ShareDesc()
	m = orDefault(m)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	return futex.NewCondition(seg, fmt.Sprintf("condition.%d", m.seq), lock)
}

// Condition is NewCondition that panics on failure.
func Condition(m *Manager, lock futex.Locker) *futex.Condition { return must(NewCondition(m, lock)) }

// NewBarrier makes a threading.Barrier shared by parties processes.
func NewBarrier(m *Manager, parties int) (*futex.Barrier, error) {
	return alloc(m, "barrier", func(seg *shm.Segment, name string) (*futex.Barrier, error) {
		return futex.NewBarrier(seg, name, parties)
	})
}

// Barrier is NewBarrier that panics on failure.
func Barrier(m *Manager, parties int) *futex.Barrier { return must(NewBarrier(m, parties)) }

// NewValue makes a multiprocessing.Value holding init, with its own RLock.
func NewValue[T ctypes.Scalar](m *Manager, init T) (*ctypes.Value[T], error) {
	return alloc(m, "value", func(seg *shm.Segment, name string) (*ctypes.Value[T], error) {
		return ctypes.NewValue(seg, name, init, nil)
	})
}

// Value is NewValue that panics on failure.
func Value[T ctypes.Scalar](m *Manager, init T) *ctypes.Value[T] { return must(NewValue(m, init)) }

// NewArray makes a multiprocessing.Array of n zeros, with its own RLock.
func NewArray[T ctypes.Scalar](m *Manager, n int) (*ctypes.Array[T], error) {
	return alloc(m, "array", func(seg *shm.Segment, name string) (*ctypes.Array[T], error) {
		return ctypes.NewArray[T](seg, name, n, nil)
	})
}

// Array is NewArray that panics on failure.
func Array[T ctypes.Scalar](m *Manager, n int) *ctypes.Array[T] { return must(NewArray[T](m, n)) }

// NewArrayFrom makes a multiprocessing.Array holding a copy of xs
// (Array('i', range(10))), with its own RLock.
func NewArrayFrom[T ctypes.Scalar](m *Manager, xs []T) (*ctypes.Array[T], error) {
	return alloc(m, "array", func(seg *shm.Segment, name string) (*ctypes.Array[T], error) {
		return ctypes.NewArrayFrom(seg, name, xs, nil)
	})
}

// ArrayFrom is NewArrayFrom that panics on failure.
func ArrayFrom[T ctypes.Scalar](m *Manager, xs []T) *ctypes.Array[T] {
	return must(NewArrayFrom(m, xs))
}

// NewDict makes a shared dict of string keys and values of V, the
// counterpart of multiprocessing.Manager().dict() with no server process
// (package dict). It has a segment of its own, of SegmentSize bytes, to
// grow in; o may be nil.
func NewDict[V any](m *Manager, o *dict.Options) (*dict.TypedMap[V], error) {
	return allocOwn(m, "dict", func(seg *shm.Segment, name string) (*dict.TypedMap[V], error) {
		d, err := dict.NewMap(seg, name, o)
		if err != nil {
			return nil, err
		}
		return dict.NewTypedMap[V](d, nil), nil
	})
}

// Dict is NewDict with default options that panics on failure.
func Dict[V any](m *Manager) *dict.TypedMap[V] { return must(NewDict[V](m, nil)) }

// NewList makes a shared list of values of V, Manager().list(), in a
// segment of its own; o may be nil.
func NewList[V any](m *Manager, o *dict.Options) (*dict.TypedList[V], error) {
	return allocOwn(m, "list", func(seg *shm.Segment, name string) (*dict.TypedList[V], error) {
		l, err := dict.NewList(seg, name, o)
		if err != nil {
			return nil, err
		}
		return dict.NewTypedList[V](l, nil), nil
	})
}

// List is NewList with default options that panics on failure.
func List[V any](m *Manager) *dict.TypedList[V] { return must(NewList[V](m, nil)) }

// NewNamespace makes a shared namespace, Manager().Namespace(), in a
// segment of its own; o may be nil.
func NewNamespace(m *Manager, o *dict.Options) (*dict.Namespace, error) {
	return allocOwn(m, "namespace", func(seg *shm.Segment, name string) (*dict.Namespace, error) {
		return dict.NewNamespace(seg, name, o)
	})
}

// Namespace is NewNamespace with default options that panics on failure.
func Namespace(m *Manager) *dict.Namespace { return must(NewNamespace(m, nil)) }
