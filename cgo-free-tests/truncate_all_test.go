package cgofreetests

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

var truncSeed = flag.Uint64("trunc.seed", 0, "seed of TestTruncateAllRandom (0: from the clock)")

func init() { testproc.Register("trunc-all-victim", truncAllVictim) }

// truncStep is one round of a victim's loop (n counts from 0); a blocked
// row's step blocks.
type truncStep func(ctx context.Context, n int) error

// truncRow is one victim: a type's main operations in a loop, or one call
// blocked in a waiting method. create makes its objects (named after the
// row) in the parent, open attaches to them in the victim.
type truncRow struct {
	name    string
	group   string // the package: each group shares one segment
	blocked bool
	create  func(seg *shm.Segment, name string) error
	open    func(seg *shm.Segment, name string) (truncStep, error)
}

// truncRows are the victims. Every row's objects lie past the middle of
// the file (see truncAllSegment), so that each truncation size cuts them
// all off.
var truncRows = []truncRow{
	// futex
	{name: "Lock.Acquire+Release", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewLock(seg, n)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			l, err := futex.OpenLock(seg, n)
			return func(ctx context.Context, _ int) error { return acquireRelease(ctx, l) }, err
		}},
	{name: "RLock.Acquire+Release", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewRLock(seg, n)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			l, err := futex.OpenRLock(seg, n)
			return func(ctx context.Context, _ int) error { return acquireRelease(ctx, l) }, err
		}},
	{name: "Semaphore.Acquire+Release", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewSemaphore(seg, n, 1)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			s, err := futex.OpenSemaphore(seg, n)
			return func(ctx context.Context, _ int) error { return acquireRelease(ctx, s) }, err
		}},
	{name: "BoundedSemaphore.Acquire+Release", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewBoundedSemaphore(seg, n, 1)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			s, err := futex.OpenBoundedSemaphore(seg, n)
			return func(ctx context.Context, _ int) error { return acquireRelease(ctx, s) }, err
		}},
	{name: "Event.Set+Clear+IsSet", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewEvent(seg, n)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			e, err := futex.OpenEvent(seg, n)
			return func(context.Context, int) error { e.IsSet(); return seq(e.Set, e.Clear) }, err
		}},
	{name: "Condition.Acquire+Notify+Release", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewCondition(seg, n, nil)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			c, err := futex.OpenCondition(seg, n)
			return func(ctx context.Context, _ int) error {
				return seq(
					func() error { return c.Acquire(ctx) },
					c.NotifyAll,
					c.Release,
				)
			}, err
		}},
	{name: "Barrier.Wait", group: "futex",
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewBarrier(seg, n, 1)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			b, err := futex.OpenBarrier(seg, n)
			return func(ctx context.Context, _ int) error { return errOf(b.Wait(ctx)) }, err
		}},
	{name: "Lock.Acquire-blocked", group: "futex", blocked: true,
		create: func(seg *shm.Segment, n string) error {
			l, err := futex.NewLock(seg, n)
			if err != nil {
				return err
			}
			return l.Acquire(context.Background()) // held by the parent for good
		},
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			l, err := futex.OpenLock(seg, n)
			return func(ctx context.Context, _ int) error { return l.Acquire(ctx) }, err
		}},
	{name: "Semaphore.Acquire-blocked", group: "futex", blocked: true,
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewSemaphore(seg, n, 0)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			s, err := futex.OpenSemaphore(seg, n)
			return func(ctx context.Context, _ int) error { return s.Acquire(ctx) }, err
		}},
	{name: "Event.Wait-blocked", group: "futex", blocked: true,
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewEvent(seg, n)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			e, err := futex.OpenEvent(seg, n)
			return func(ctx context.Context, _ int) error { return errOf(e.Wait(ctx)) }, err
		}},
	{name: "Condition.Wait-blocked", group: "futex", blocked: true,
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewCondition(seg, n, nil)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			c, err := futex.OpenCondition(seg, n)
			return func(ctx context.Context, _ int) error {
				return seq(
					func() error { return c.Acquire(ctx) },
					func() error { return c.Wait(ctx) },
				)
			}, err
		}},
	{name: "Barrier.Wait-blocked", group: "futex", blocked: true,
		create: func(seg *shm.Segment, n string) error { return errOf(futex.NewBarrier(seg, n, 2)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			b, err := futex.OpenBarrier(seg, n)
			return func(ctx context.Context, _ int) error { return errOf(b.Wait(ctx)) }, err
		}},

	// ctypes
	{name: "RawValue.Load+Store+Add", group: "ctypes",
		create: func(seg *shm.Segment, n string) error { return errOf(ctypes.NewRawValue[int64](seg, n, 0, nil)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			v, err := ctypes.OpenRawValue[int64](seg, n)
			return func(_ context.Context, i int) error { v.Store(v.Load() + v.Add(int64(i))); return nil }, err
		}},
	{name: "RawArray.Get+Set+CopyFrom", group: "ctypes",
		create: func(seg *shm.Segment, n string) error { return errOf(ctypes.NewRawArray[int32](seg, n, 8, nil)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			a, err := ctypes.OpenRawArray[int32](seg, n, 8)
			src := make([]int32, 8)
			return func(_ context.Context, i int) error { a.Set(i%8, a.Get(i%8)+1); a.CopyFrom(src); return nil }, err
		}},
	{name: "Value.Load", group: "ctypes", create: newTruncValue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			v, err := ctypes.OpenValue[int64](seg, n)
			return func(context.Context, int) error { v.Load(); return nil }, err
		}},
	{name: "Value.Store+Add+Swap+CompareAndSwap", group: "ctypes", create: newTruncValue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			v, err := ctypes.OpenValue[int64](seg, n)
			return func(_ context.Context, i int) error {
				v.Store(int64(i))
				v.Add(1)
				v.Swap(int64(i))
				v.CompareAndSwap(int64(i), 0)
				return nil
			}, err
		}},
	{name: "Value.Update", group: "ctypes", create: newTruncValue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			v, err := ctypes.OpenValue[int64](seg, n)
			return func(ctx context.Context, _ int) error {
				return errOf(v.Update(ctx, func(x int64) int64 { return x + 1 }))
			}, err
		}},
	{name: "Array.Get+Set+CopyTo+Update", group: "ctypes",
		create: func(seg *shm.Segment, n string) error { return errOf(ctypes.NewArray[int32](seg, n, 8, nil)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			a, err := ctypes.OpenArray[int32](seg, n, 8)
			buf := make([]int32, 8)
			return func(ctx context.Context, i int) error {
				a.Set(i%8, a.Get(i%8)+1)
				a.CopyTo(buf)
				return a.Update(ctx, func(r *ctypes.RawArray[int32]) error { r.Add(0, 1); return nil })
			}, err
		}},
	{name: "AnyValue.Get+Set+Update", group: "ctypes",
		create: func(seg *shm.Segment, n string) error { return errOf(ctypes.NewValueOf(seg, n, ctypes.Int64, 0, nil)) },
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			v, err := ctypes.OpenValueOf(seg, n, ctypes.Int64)
			return func(ctx context.Context, i int) error {
				v.Get()
				if err := v.Set(i); err != nil {
					return err
				}
				return errOf(v.Update(ctx, func(cur any) any { return cur }))
			}, err
		}},
	{name: "AnyArray.Get+Set+CopyTo+Update", group: "ctypes",
		create: func(seg *shm.Segment, n string) error {
			return errOf(ctypes.NewArrayOf(seg, n, ctypes.Float64, 8, nil))
		},
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			a, err := ctypes.OpenArrayOf(seg, n, ctypes.Float64, 8)
			buf := make([]any, 8)
			return func(ctx context.Context, i int) error {
				a.Get(i % 8)
				if err := a.Set(i%8, float64(i)); err != nil {
					return err
				}
				a.CopyTo(buf)
				return a.Update(ctx, func(*ctypes.AnyArray) error { return nil })
			}, err
		}},

	// ring
	{name: "Queue.Put+Get", group: "ring", create: newTruncQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenQueue(seg, n, nil)
			return func(ctx context.Context, _ int) error { return putGet(ctx, q, []byte("m")) }, err
		}},
	{name: "Queue.TryPut+TryGet+Len", group: "ring", create: newTruncQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenQueue(seg, n, nil)
			return func(context.Context, int) error {
				if err := q.TryPut([]byte("m")); err != nil {
					return err
				}
				q.Len()
				return errOf(q.TryGet())
			}, err
		}},
	{name: "Queue.GetLease+Lease.Done", group: "ring", create: newTruncQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenQueue(seg, n, nil)
			return func(ctx context.Context, _ int) error {
				if err := q.Put(ctx, []byte("m")); err != nil {
					return err
				}
				l, err := q.GetLease(ctx)
				if err != nil {
					return err
				}
				return l.Done()
			}, err
		}},
	{name: "SimpleQueue.Put+Get", group: "ring", create: newTruncSimpleQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenSimpleQueue(seg, n, nil)
			return func(ctx context.Context, _ int) error { return putGet(ctx, q, []byte("m")) }, err
		}},
	{name: "JoinableQueue.Put+Get+TaskDone", group: "ring", create: newTruncJoinableQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenJoinableQueue(seg, n, nil)
			return func(ctx context.Context, _ int) error { return putGet(ctx, q, []byte("m"), q.TaskDone) }, err
		}},
	{name: "TypedSimpleQueue.Put+Get", group: "ring", create: newTruncSimpleQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenSimpleQueue(seg, n, nil)
			tq := ring.NewTypedSimpleQueue[int64](q, nil)
			return func(ctx context.Context, i int) error { return putGet(ctx, tq, int64(i)) }, err
		}},
	{name: "TypedJoinableQueue.Put+Get+TaskDone", group: "ring", create: newTruncJoinableQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenJoinableQueue(seg, n, nil)
			tq := ring.NewTypedJoinableQueue[int64](q, nil)
			return func(ctx context.Context, i int) error { return putGet(ctx, tq, int64(i), tq.TaskDone) }, err
		}},
	{name: "TypedQueue.Put+Get", group: "ring", create: newTruncQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenQueue(seg, n, nil)
			tq := ring.NewTypedQueue[int64](q, nil)
			return func(ctx context.Context, i int) error { return putGet(ctx, tq, int64(i)) }, err
		}},
	{name: "Conn.SendBytes+RecvBytes", group: "ring", create: newTruncPipe,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			c0, c1, err := openTruncPipe(seg, n)
			return func(ctx context.Context, _ int) error {
				return seq(
					func() error { return c1.SendBytes(ctx, []byte("m")) },
					func() error { return errOf(c0.RecvBytes(ctx)) },
				)
			}, err
		}},
	{name: "TypedConn.Send+Recv", group: "ring", create: newTruncPipe,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			c0, c1, err := openTruncPipe(seg, n)
			t0, t1 := ring.NewTypedConn[int64](c0, nil), ring.NewTypedConn[int64](c1, nil)
			return func(ctx context.Context, i int) error {
				return seq(
					func() error { return t1.Send(ctx, int64(i)) },
					func() error { return errOf(t0.Recv(ctx)) },
				)
			}, err
		}},
	{name: "Ring.Len+Producer.Write+Consumer.ReadBytes", group: "ring", create: newTruncRing,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			r, p, c, err := openTruncRing(seg, n)
			return func(ctx context.Context, _ int) error {
				return seq(
					func() error { return p.Write(ctx, []byte("m")) },
					func() error { return errOf(r.Len()) },
					func() error { return errOf(c.ReadBytes(ctx)) },
				)
			}, err
		}},
	{name: "Producer.Reserve+Commit+Consumer.Peek+Release", group: "ring", create: newTruncRing,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			_, p, c, err := openTruncRing(seg, n)
			return func(ctx context.Context, _ int) error {
				b, err := p.Reserve(ctx, 8)
				if err != nil {
					return err
				}
				// The reserved slice aliases the segment: filling it is
				// the caller's access, which it guards itself.
				if err := seg.Guard(func() error { copy(b, "12345678"); return nil }); err != nil {
					return err
				}
				if err := p.Commit(8); err != nil {
					return err
				}
				if _, err := c.Peek(ctx); err != nil {
					return err
				}
				return c.Release()
			}, err
		}},
	{name: "Queue.Get-blocked", group: "ring", blocked: true, create: newTruncQueue,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenQueue(seg, n, nil)
			return func(ctx context.Context, _ int) error { return errOf(q.Get(ctx)) }, err
		}},
	{name: "Queue.Put-blocked", group: "ring", blocked: true,
		create: func(seg *shm.Segment, n string) error {
			q, err := ring.NewQueue(seg, n, &ring.QueueOptions{MaxSize: 1, MaxMessage: 8})
			if err != nil {
				return err
			}
			return q.TryPut([]byte("full"))
		},
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			q, err := ring.OpenQueue(seg, n, nil)
			return func(ctx context.Context, _ int) error { return q.Put(ctx, []byte("m")) }, err
		}},
	{name: "Conn.Recv-blocked", group: "ring", blocked: true, create: newTruncPipe,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			c0, _, err := openTruncPipe(seg, n) // c1 stays open: no EOF
			return func(ctx context.Context, _ int) error { return errOf(c0.RecvBytes(ctx)) }, err
		}},
	{name: "Consumer.Peek-blocked", group: "ring", blocked: true, create: newTruncRing,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			_, _, c, err := openTruncRing(seg, n) // the producer stays: no EOF
			return func(ctx context.Context, _ int) error { return errOf(c.Peek(ctx)) }, err
		}},

	// dict
	{name: "Map.Set+Get+Delete", group: "dict", create: newTruncMap,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			m, err := dict.OpenMap(seg, n)
			return func(ctx context.Context, _ int) error {
				return seq(
					func() error { return errOf(m.Set(ctx, "k", []byte("v"))) },
					func() error { return errOf(m.Get("k")) },
					func() error { return errOf(m.Delete(ctx, "k")) },
				)
			}, err
		}},
	{name: "TypedMap.Set+Get+Items", group: "dict", create: newTruncMap,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			m, err := dict.OpenMap(seg, n)
			tm := dict.NewTypedMap[int64](m, nil)
			return func(ctx context.Context, i int) error {
				return seq(
					func() error { return errOf(tm.Set(ctx, "k", int64(i))) },
					func() error { return errOf(tm.Get("k")) },
					func() error { return errOf(tm.Items()) },
				)
			}, err
		}},
	{name: "List.Append+Get+Pop", group: "dict", create: newTruncList,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			l, err := dict.OpenList(seg, n)
			return func(ctx context.Context, _ int) error {
				return seq(
					func() error { return errOf(l.Append(ctx, []byte("v"))) },
					func() error { return errOf(l.Get(0)) },
					func() error { return errOf(l.Pop(ctx)) },
				)
			}, err
		}},
	{name: "TypedList.Append+Copy+Pop", group: "dict", create: newTruncList,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			l, err := dict.OpenList(seg, n)
			tl := dict.NewTypedList[int64](l, nil)
			return func(ctx context.Context, i int) error {
				return seq(
					func() error { return errOf(tl.Append(ctx, int64(i))) },
					func() error { return errOf(tl.Copy()) },
					func() error { return errOf(tl.Pop(ctx)) },
				)
			}, err
		}},
	{name: "Namespace.Set+Get", group: "dict", create: newTruncNamespace,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			ns, err := dict.OpenNamespace(seg, n)
			return func(ctx context.Context, i int) error {
				return seq(
					func() error { return ns.Set(ctx, "X", i) },
					func() error { return errOf(ns.Get("X")) },
				)
			}, err
		}},
	{name: "Struct.Store+Load", group: "dict", create: newTruncNamespace,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			ns, err := dict.OpenNamespace(seg, n)
			if err != nil {
				return nil, err
			}
			s, err := dict.NewStruct[closedStruct](ns)
			return func(ctx context.Context, i int) error {
				return seq(
					func() error { return s.Store(ctx, closedStruct{X: int64(i)}) },
					func() error { return errOf(s.Load()) },
				)
			}, err
		}},
	{name: "Map.Watch-blocked", group: "dict", blocked: true, create: newTruncMap,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			m, err := dict.OpenMap(seg, n)
			return func(ctx context.Context, _ int) error { return errOf(m.Watch(ctx, m.Revision())) }, err
		}},
	{name: "List.Watch-blocked", group: "dict", blocked: true, create: newTruncList,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			l, err := dict.OpenList(seg, n)
			return func(ctx context.Context, _ int) error { return errOf(l.Watch(ctx, l.Revision())) }, err
		}},
	{name: "Namespace.Watch-blocked", group: "dict", blocked: true, create: newTruncNamespace,
		open: func(seg *shm.Segment, n string) (truncStep, error) {
			ns, err := dict.OpenNamespace(seg, n)
			return func(ctx context.Context, _ int) error { return errOf(ns.Watch(ctx, ns.Revision())) }, err
		}},
}

// seq runs steps in order until one fails, and returns its error.
func seq(steps ...func() error) error {
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// acquireRelease takes and gives back l.
func acquireRelease(ctx context.Context, l interface {
	Acquire(context.Context) error
	Release() error
}) error {
	if err := l.Acquire(ctx); err != nil {
		return err
	}
	return l.Release()
}

// putGet puts v to q, gets a message back, then runs then in order.
func putGet[T any](ctx context.Context, q interface {
	Put(context.Context, T) error
	Get(context.Context) (T, error)
}, v T, then ...func() error) error {
	if err := q.Put(ctx, v); err != nil {
		return err
	}
	if _, err := q.Get(ctx); err != nil {
		return err
	}
	return seq(then...)
}

var truncQueueOptions = &ring.QueueOptions{MaxSize: 16, MaxMessage: 16}

func newTruncValue(seg *shm.Segment, n string) error {
	return errOf(ctypes.NewValue[int64](seg, n, 0, nil))
}

func newTruncQueue(seg *shm.Segment, n string) error {
	return errOf(ring.NewQueue(seg, n, truncQueueOptions))
}

func newTruncSimpleQueue(seg *shm.Segment, n string) error {
	return errOf(ring.NewSimpleQueue(seg, n, truncQueueOptions))
}

func newTruncJoinableQueue(seg *shm.Segment, n string) error {
	return errOf(ring.NewJoinableQueue(seg, n, truncQueueOptions))
}

func newTruncPipe(seg *shm.Segment, n string) error {
	_, _, err := ring.NewPipe(seg, n, &ring.PipeOptions{Capacity: 4096})
	return err
}

// openTruncPipe opens both ends of pipe n.
func openTruncPipe(seg *shm.Segment, n string) (c0, c1 *ring.Conn, err error) {
	if c0, err = ring.OpenPipe(seg, n, 0, nil); err != nil {
		return nil, nil, err
	}
	c1, err = ring.OpenPipe(seg, n, 1, nil)
	return c0, c1, err
}

func newTruncRing(seg *shm.Segment, n string) error { return errOf(ring.NewRing(seg, n, 4096, nil)) }

// openTruncRing opens ring n and attaches as its producer and consumer.
func openTruncRing(seg *shm.Segment, n string) (*ring.Ring, *ring.Producer, *ring.Consumer, error) {
	r, err := ring.OpenRing(seg, n, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	p, err := r.Producer()
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := r.Consumer()
	return r, p, c, err
}

func newTruncMap(seg *shm.Segment, n string) error { return errOf(dict.NewMap(seg, n, nil)) }

func newTruncList(seg *shm.Segment, n string) error { return errOf(dict.NewList(seg, n, nil)) }

func newTruncNamespace(seg *shm.Segment, n string) error {
	return errOf(dict.NewNamespace(seg, n, nil))
}

// truncSizes are the sizes the file is cut to; -1 stands for half of it.
var truncSizes = []int64{0, 4096, 8 << 10, -1}

// TestTruncateAll: for every type of futex, ctypes, ring and dict, a
// victim process loops on its main operations, and for every blocking
// method one victim waits in it, on a named segment, while the parent
// truncates the file to 0 and to 8 KiB. Every victim reports an error (or a
// recovered panic) wrapping shm.ErrSegmentTruncated and exits with status
// 0: none dies of SIGBUS, none hangs. Every handle type of the
// use-after-Close table has a victim.
//
// Not under the race detector (testseg.Truncations).
func TestTruncateAll(t *testing.T) {
	for typ := range closedTypes {
		if !slices.ContainsFunc(truncRows, func(r truncRow) bool {
			return strings.HasPrefix(r.name, typ+".") || strings.Contains(r.name, "+"+typ+".")
		}) {
			t.Errorf("no truncation victim uses %s", typ)
		}
	}
	testseg.Truncations(t, func(t *testing.T, size int64) {
		for _, group := range truncGroups() {
			t.Run(group, func(t *testing.T) { truncRun(t, group, size, 0) })
		}
	})
}

// TestTruncateAllRandom is TestTruncateAll with the truncation at a random
// moment of the victims' loops (up to 200 ms after all of them run) and to
// a random size among 0, 4096, 8 KiB and half the file. The seed is
// logged; -trunc.seed replays it.
func TestTruncateAllRandom(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector's atomics fault outside Go code")
	}
	seed := *truncSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-trunc.seed=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed))
	for _, group := range truncGroups() {
		size := truncSizes[rng.IntN(len(truncSizes))]
		delay := time.Duration(rng.IntN(200)) * time.Millisecond
		t.Run(group, func(t *testing.T) {
			to := fmt.Sprint(size)
			if size < 0 {
				to = "half the file"
			}
			t.Logf("truncate to %s, %v after the victims run", to, delay)
			truncRun(t, group, size, delay)
		})
	}
}

// truncGroups returns the groups of truncRows in order.
func truncGroups() []string {
	var gs []string
	for _, r := range truncRows {
		if len(gs) == 0 || gs[len(gs)-1] != r.group {
			gs = append(gs, r.group)
		}
	}
	return gs
}

// truncAllSegment creates a named segment for t (closed and removed when
// t ends) whose first object fills its first half, so that the objects
// created next lie past the middle of the file.
func truncAllSegment(t *testing.T) (*shm.Segment, string) {
	seg, name := testseg.Named(t, 4<<20, nil)
	st, err := os.Stat(filepath.Join(shm.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.NewRawArray[int64](seg, "pad", int(st.Size()/2/8), nil); err != nil {
		t.Fatal(err)
	}
	return seg, name
}

// truncRun runs the victims of group on a new segment, truncates its
// file to size (-1: half) delay after they all run, and checks what each
// victim reports.
func truncRun(t *testing.T, group string, size int64, delay time.Duration) {
	seg, name := truncAllSegment(t)
	path := filepath.Join(shm.Dir(), name)
	var rows []truncRow
	for _, r := range truncRows {
		if r.group == group {
			if err := r.create(seg, r.name); err != nil {
				t.Fatalf("%s: create: %v", r.name, err)
			}
			rows = append(rows, r)
		}
	}
	victims := make([]*testproc.Child, len(rows))
	first := make([]string, len(rows))
	for i, r := range rows {
		victims[i] = testproc.Start(t, "trunc-all-victim", testproc.Options{
			Args: []string{name, r.name}, Timeout: 90 * time.Second,
		})
	}
	for i, v := range victims {
		first[i] = v.Recv(time.Minute)
	}
	// Let the blocked victims get into their waits (had one not yet, it
	// must see the truncation all the same), and the random variant run on.
	time.Sleep(100*time.Millisecond + delay)
	if size < 0 {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		// Page-aligned: a cut inside a page would zero its tail, which a
		// reader sees as data, not as a truncation.
		size = st.Size() / 2 &^ int64(os.Getpagesize()-1)
	}
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
	// Reap every victim at once: one reaped late could pass its deadline
	// while waiting for the others.
	waitErrs := make([]error, len(rows))
	var wg sync.WaitGroup
	for i, v := range victims {
		wg.Go(func() { waitErrs[i] = v.Wait() })
	}
	wg.Wait()
	for i, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			v, waitErr := victims[i], waitErrs[i]
			if first[i] != "looping" {
				t.Fatalf("before the truncation: %s", first[i])
			}
			var result string
			for line := range strings.Lines(v.Output()) {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), truncResult); ok {
					result = rest
				}
			}
			switch {
			case result == "" && waitErr != nil:
				t.Errorf("no result: %s", deathSummary(waitErr.Error()))
			case !strings.HasPrefix(result, "truncated "):
				t.Errorf("%s; want an error wrapping shm.ErrSegmentTruncated", result)
			case waitErr != nil:
				t.Errorf("reported %q, then: %s", result, deathSummary(waitErr.Error()))
			default:
				t.Log(result)
			}
		})
	}
}

// truncResult is the prefix of a victim's result line on stdout.
const truncResult = "trunc-result: "

// truncAllVictim: segment, row. It opens the row's objects, sends
// "looping" (or, if the first round already fails, its result), loops on
// the row's step until it fails, and prints the result on stdout:
// "truncated <error>" if the error (or panic value) wraps
// shm.ErrSegmentTruncated, "other <error>" otherwise.
func truncAllVictim() {
	name, rowName := testproc.Arg(0), testproc.Arg(1)
	var row *truncRow
	for i := range truncRows {
		if truncRows[i].name == rowName {
			row = &truncRows[i]
		}
	}
	if row == nil {
		testproc.Fatalf("no row %q", rowName)
	}
	seg, err := shm.Open(name)
	if err != nil {
		testproc.Fatalf("Open: %v", err)
	}
	step, err := row.open(seg, row.name)
	if err != nil {
		testproc.Fatalf("open %s: %v", row.name, err)
	}
	// The context is only a watchdog: the loop must end by the truncation.
	ctx, cancel := context.WithTimeout(context.Background(), 80*time.Second)
	defer cancel()
	sent := false
	err = testseg.Loop(true, func(n int) error {
		if n == 0 && row.blocked {
			return nil // a blocked row reports looping before its one call
		}
		if n == 1 {
			testproc.Send("looping")
			sent = true
		}
		if err := step(ctx, n); err != nil {
			return err
		}
		if row.blocked {
			return errors.New("a blocked call returned nil")
		}
		return nil
	})
	verdict := "other"
	if errors.Is(err, shm.ErrSegmentTruncated) {
		verdict = "truncated"
	}
	line := fmt.Sprintf("%s %v", verdict, oneLine(err))
	if !sent {
		testproc.Send("%s", line)
	}
	fmt.Printf("%s%s\n", truncResult, line)
}
