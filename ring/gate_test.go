package ring

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// TestManyHandlesThreads blocks thousands of goroutines in Get on one queue
// through hundreds of handles in this process: the gate is per queue and
// process, not per handle, so at most one OS thread parks in the kernel
// (docs/robustness.md V7, F23). Then every message put is got exactly once.
func TestManyHandlesThreads(t *testing.T) {
	n, handles := 10000, 400
	if testing.Short() {
		n = 2000
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	seg, _ := testseg.Named(t, 8<<20, nil)
	o := &QueueOptions{MaxSize: n, MaxMessage: 8, Leases: -1, Options: Options{Wait: Futex}}
	q0, err := NewQueue(seg, "q", o)
	if err != nil {
		t.Fatal(err)
	}
	qs := []*Queue{q0}
	for len(qs) < handles {
		q, err := OpenQueue(seg, "q", o)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	before := testproc.Threads(t)
	var in, got, sum atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(q *Queue) {
			defer wg.Done()
			in.Add(1)
			msg, err := q.Get(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			sum.Add(int64(binary.LittleEndian.Uint64(msg)))
			got.Add(1)
		}(qs[i%handles])
	}
	deadline := time.Now().Add(time.Minute)
	for in.Load() != int64(n) || atomic.LoadUint32(&q0.q.h.getWait) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("goroutines not blocked within a minute")
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // let stragglers reach the kernel
	during := testproc.Threads(t)
	if got.Load() != 0 {
		t.Fatalf("%d goroutines returned before any Put", got.Load())
	}
	var b [8]byte
	for i := 1; i <= n; i++ {
		binary.LittleEndian.PutUint64(b[:], uint64(i))
		if err := qs[i%handles].Put(ctx, b[:]); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	t.Logf("threads: %d before, %d with %d goroutines blocked on %d handles", before, during, n, handles)
	if during > before+50 {
		t.Errorf("threads with %d blocked goroutines on %d handles = %d; want at most %d", n, handles, during, before+50)
	}
	if got.Load() != int64(n) || sum.Load() != int64(n)*int64(n+1)/2 {
		t.Errorf("got %d messages summing to %d; want %d summing to %d", got.Load(), sum.Load(), n, int64(n)*int64(n+1)/2)
	}
}

// TestGatesFreed creates, waits on and closes 10,000 queues, pipes and rings
// (two handles each) in many segments: the per-process gate registry goes
// back to (at most) its size before, so a process that creates and closes objects
// does not accumulate gates.
func TestGatesFreed(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	o := &QueueOptions{MaxSize: 2, MaxMessage: 8, Leases: -1}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	testseg.GatesFreed(t, n, func(seg *shm.Segment) ([]any, int) {
		var keep []any
		for i := 0; i < 25; i++ {
			name := string(rune('a' + i))
			q, err := NewQueue(seg, "q"+name, o)
			if err != nil {
				t.Fatal(err)
			}
			q2, err := OpenQueue(seg, "q"+name, o)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q2.Get(expired); err == nil {
				t.Fatal("Get on an empty queue with a cancelled context succeeded")
			}
			c0, c1, err := NewPipe(seg, "p"+name, &PipeOptions{Capacity: MinCapacity})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c1.RecvBytes(expired); err == nil {
				t.Fatal("Recv on an empty pipe with a cancelled context succeeded")
			}
			r, err := NewRing(seg, "r"+name, MinCapacity, nil)
			if err != nil {
				t.Fatal(err)
			}
			r2, err := OpenRing(seg, "r"+name, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := r2.Consumer()
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ReadBytes(expired); err == nil {
				t.Fatal("ReadBytes on an empty ring with a cancelled context succeeded")
			}
			keep = append(keep, q, c0, r, c)
		}
		return keep, 75
	})
}
