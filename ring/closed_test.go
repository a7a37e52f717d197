package ring_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// forSegments runs f on an anonymous segment and on a named one.
func forSegments(t *testing.T, f func(t *testing.T, seg *shm.Segment)) {
	t.Run("anon", func(t *testing.T) { f(t, testseg.Anon(t, 1<<20)) })
	t.Run("named", func(t *testing.T) { s, _ := testseg.Named(t, 1<<20, nil); f(t, s) })
}

// call is one operation of a handle, reduced to its error.
type call struct {
	name string
	f    func() error
}

// wantClosed fails t for each call that does not return an error wrapping
// shm.ErrClosed (or, for one with no error result, panic with one).
func wantClosed(t *testing.T, calls []call) {
	t.Helper()
	for _, c := range calls {
		if err := panicked(c.f); !errors.Is(err, shm.ErrClosed) {
			t.Errorf("%s after the Segment's Close = %v; want shm.ErrClosed", c.name, err)
		}
	}
}

// panicked runs f and returns its error, or the error it panicked with.
func panicked(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(error)
			if !ok {
				panic(r)
			}
			err = e
		}
	}()
	return f()
}

// closeCtx bounds the calls that would wait if they were let through: a
// watchdog only (each must return ErrClosed at once).
func closeCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustNil(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestQueueAfterSegmentClose: every operation of a Queue, JoinableQueue
// and Lease used after its Segment was closed answers shm.ErrClosed
// (TryPut used to die of SIGSEGV on the unmapped ring; GetLease, Done,
// TaskDone went on using the memory), and the snapshots (Len, Lost ...),
// which have no error result, panic with it.
func TestQueueAfterSegmentClose(t *testing.T) {
	forSegments(t, func(t *testing.T, seg *shm.Segment) {
		q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 16, MaxMessage: 64, Leases: 4})
		mustNil(t, err)
		j, err := ring.NewJoinableQueue(seg, "j", &ring.QueueOptions{MaxSize: 16, MaxMessage: 64})
		mustNil(t, err)
		for range 4 {
			mustNil(t, q.TryPut([]byte("before")))
			mustNil(t, j.TryPut([]byte("before")))
		}
		l, err := q.TryGetLease()
		mustNil(t, err)
		jl, err := j.GetLease(context.Background())
		mustNil(t, err)
		mustNil(t, seg.Close())
		ctx := closeCtx(t)
		wantClosed(t, []call{
			{"TryPut", func() error { return q.TryPut([]byte("after")) }},
			{"Put", func() error { return q.Put(ctx, []byte("after")) }},
			{"Get", func() error { _, err := q.Get(ctx); return err }},
			{"TryGet", func() error { _, err := q.TryGet(); return err }},
			{"GetInto", func() error { _, err := q.GetInto(ctx, make([]byte, 16)); return err }},
			{"GetLease", func() error { _, err := q.GetLease(ctx); return err }},
			{"TryGetLease", func() error { _, err := q.TryGetLease(); return err }},
			{"ReclaimDead", func() error { _, err := q.ReclaimDead(nil); return err }},
			{"Lease.Done", l.Done},
			{"Close", q.Close},
			{"JoinableQueue.Get", func() error { _, err := j.Get(ctx); return err }},
			{"JoinableQueue.TryGet", func() error { _, err := j.TryGet(); return err }},
			{"JoinableQueue.TaskDone", j.TaskDone},
			{"JoinableQueue.Join", func() error { return j.Join(ctx) }},
			{"JoinableQueue Lease.Done", jl.Done},
			{"Len", func() error { q.Len(); return nil }},
			{"Empty", func() error { q.Empty(); return nil }},
			{"Full", func() error { q.Full(); return nil }},
			{"Lost", func() error { q.Lost(); return nil }},
			{"Redelivered", func() error { q.Redelivered(); return nil }},
			{"Tombstoned", func() error { q.Tombstoned(); return nil }},
			{"JoinableQueue.Unfinished", func() error { j.Unfinished(); return nil }},
			{"JoinableQueue.Len", func() error { j.Len(); return nil }},
		})
	})
}

// TestRingAfterSegmentClose: every operation of a Ring, its Producer and
// its Consumer used after the Segment was closed answers shm.ErrClosed
// (Flush, which has no error result, panics with it); they used to go on
// writing and reading the memory.
func TestRingAfterSegmentClose(t *testing.T) {
	forSegments(t, func(t *testing.T, seg *shm.Segment) {
		r, err := ring.NewRing(seg, "r", 4096, nil)
		mustNil(t, err)
		p, err := r.Producer()
		mustNil(t, err)
		c, err := r.Consumer()
		mustNil(t, err)
		for range 8 {
			mustNil(t, p.TryWrite([]byte("before")))
		}
		if _, err := c.TryPeek(); err != nil {
			t.Fatal(err)
		}
		mustNil(t, seg.Close())
		ctx := closeCtx(t)
		wantClosed(t, []call{
			{"Ring.Len", func() error { _, err := r.Len(); return err }},
			{"Ring.Producer", func() error { _, err := r.Producer(); return err }},
			{"Ring.Consumer", func() error { _, err := r.Consumer(); return err }},
			{"Consumer.Release", c.Release},
			{"Consumer.TryPeek", func() error { _, err := c.TryPeek(); return err }},
			{"Consumer.Peek", func() error { _, err := c.Peek(ctx); return err }},
			{"Consumer.ReadInto", func() error { _, err := c.ReadInto(ctx, make([]byte, 16)); return err }},
			{"Consumer.ReadBytes", func() error { _, err := c.ReadBytes(ctx); return err }},
			{"Consumer.Consume", func() error {
				_, err := c.Consume(ctx, 4, func([]byte) error { return nil })
				return err
			}},
			{"Producer.TryReserve", func() error { _, err := p.TryReserve(8); return err }},
			{"Producer.Reserve", func() error { _, err := p.Reserve(ctx, 8); return err }},
			{"Producer.Stage", func() error { return p.Stage(0) }},
			{"Producer.Commit", func() error { return p.Commit(0) }},
			{"Producer.Flush", func() error { p.Flush(); return nil }},
			{"Producer.TryWrite", func() error { return p.TryWrite([]byte("after")) }},
			{"Producer.Write", func() error { return p.Write(ctx, []byte("after")) }},
			{"Producer.WriteBatch", func() error { return p.WriteBatch(ctx, [][]byte{[]byte("after")}) }},
			{"Producer.Close", p.Close},
			{"Consumer.Close", c.Close},
		})
	})
}

// TestConnAfterSegmentClose: every operation of a Conn and a TypedConn
// used after the Segment was closed answers shm.ErrClosed; they used to go
// on sending and receiving through the memory.
func TestConnAfterSegmentClose(t *testing.T) {
	forSegments(t, func(t *testing.T, seg *shm.Segment) {
		c0, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
		mustNil(t, err)
		for range 4 {
			mustNil(t, c1.SendBytes(context.Background(), []byte("before")))
		}
		mustNil(t, c1.Send(context.Background(), 7))
		tc0, tc1 := ring.NewTypedConn[int64](c0, nil), ring.NewTypedConn[int64](c1, nil)
		mustNil(t, tc1.Send(context.Background(), 8))
		mustNil(t, seg.Close())
		ctx := closeCtx(t)
		var v int
		wantClosed(t, []call{
			{"SendBytes", func() error { return c0.SendBytes(ctx, []byte("after")) }},
			{"Send", func() error { return c0.Send(ctx, 1) }},
			{"Write", func() error { _, err := c0.Write([]byte("after")); return err }},
			{"RecvBytes", func() error { _, err := c0.RecvBytes(ctx); return err }},
			{"RecvBytesInto", func() error { _, err := c0.RecvBytesInto(ctx, make([]byte, 16)); return err }},
			{"Recv", func() error { return c0.Recv(ctx, &v) }},
			{"Read", func() error { _, err := c0.Read(make([]byte, 16)); return err }},
			{"Poll", func() error { _, err := c0.Poll(ctx); return err }},
			{"Reserve", func() error { _, err := c0.Reserve(); return err }},
			{"TypedConn.Send", func() error { return tc0.Send(ctx, 1) }},
			{"TypedConn.Recv", func() error { _, err := tc0.Recv(ctx); return err }},
			{"Close", c0.Close},
			{"OpenPipe", func() error { _, err := ring.OpenPipe(seg, "p", 0, nil); return err }},
		})
		if err := c0.Close(); err != nil {
			t.Errorf("second Close = %v; want nil", err)
		}
		if _, err := c0.RecvBytes(ctx); !errors.Is(err, ring.ErrClosed) && !errors.Is(err, shm.ErrClosed) {
			t.Errorf("RecvBytes after Close = %v; want ErrClosed", err)
		}
	})
}

// TestClosedErrorText: the checked path names the object once, as the
// queue's errors do.
func TestClosedErrorText(t *testing.T) {
	seg := testseg.Anon(t, 1<<20)
	c0, _, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	mustNil(t, err)
	r, err := ring.NewRing(seg, "r", 4096, nil)
	mustNil(t, err)
	q, err := ring.NewQueue(seg, "q", nil)
	mustNil(t, err)
	mustNil(t, seg.Close())
	_, rerr := r.Len()
	for _, tc := range []struct {
		err  error
		want string
	}{
		{c0.SendBytes(context.Background(), nil), `ring: pipe "p": segment closed`},
		{rerr, `ring: ring "r": segment closed`},
		{q.Close(), `ring: queue "q": segment closed`},
	} {
		if got := fmt.Sprint(tc.err); got != tc.want {
			t.Errorf("error %q; want %q", got, tc.want)
		}
	}
}

// TestBlockedSegmentClose: a pipe receive, an SPSC read and a Queue Get
// blocked on an empty ring, and a Put on a full Queue, when the Segment is
// closed come back with shm.ErrClosed (the check of the peer between wait
// slices sees the segment closed).
func TestBlockedSegmentClose(t *testing.T) {
	seg := testseg.Anon(t, 1<<20)
	c0, _, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	mustNil(t, err)
	r, err := ring.NewRing(seg, "r", 4096, nil)
	mustNil(t, err)
	c, err := r.Consumer()
	mustNil(t, err)
	empty, err := ring.NewQueue(seg, "empty", &ring.QueueOptions{MaxSize: 2, MaxMessage: 8})
	mustNil(t, err)
	full, err := ring.NewQueue(seg, "full", &ring.QueueOptions{MaxSize: 2, MaxMessage: 8})
	mustNil(t, err)
	for range 2 {
		mustNil(t, full.TryPut([]byte("x")))
	}
	ctx := closeCtx(t)
	errs := make(chan error, 4)
	go func() { _, err := c0.RecvBytes(ctx); errs <- err }()
	go func() { _, err := c.ReadBytes(ctx); errs <- err }()
	go func() { _, err := empty.Get(ctx); errs <- err }()
	go func() { errs <- full.Put(ctx, []byte("y")) }()
	time.Sleep(50 * time.Millisecond) // let them block; the assertions hold either way
	mustNil(t, seg.Close())
	for range 4 {
		if err := <-errs; !errors.Is(err, shm.ErrClosed) {
			t.Errorf("blocked call after the Segment's Close = %v; want shm.ErrClosed", err)
		}
	}
}
