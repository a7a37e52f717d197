package futex

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
)

// TestManyWaitersThreads blocks thousands of goroutines on each primitive
// in turn and checks that the process's OS thread count stays bounded (at
// most one thread per primitive parks in the kernel; docs/robustness.md V7, F23), then
// that every one of them returns once released. TestXprocManyWaiters does
// the same for a Lock held by another process.
func TestManyWaitersThreads(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 2000
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tc := range []struct {
		name string
		// setup returns the blocking call each goroutine makes, a
		// condition that holds once they all block, and the release.
		setup func(t *testing.T) (wait func() error, blocked func() bool, release func())
	}{
		{"RLock", func(t *testing.T) (func() error, func() bool, func()) {
			seg, _ := newSegment(t)
			r, err := NewRLock(seg, "r")
			if err != nil {
				t.Fatal(err)
			}
			if err := r.Acquire(ctx); err != nil {
				t.Fatal(err)
			}
			var in atomic.Int64
			return func() error {
					v := r.As(NewOwner())
					in.Add(1)
					if err := v.Acquire(ctx); err != nil {
						return err
					}
					return v.Release()
				}, func() bool { return in.Load() == int64(n) && atomic.LoadUint32(r.c.word)&lockWaiters != 0 },
				func() {
					if err := r.Release(); err != nil {
						t.Error(err)
					}
				}
		}},
		{"Semaphore", func(t *testing.T) (func() error, func() bool, func()) {
			seg, _ := newSegment(t)
			s, err := NewSemaphore(seg, "s", 0)
			if err != nil {
				t.Fatal(err)
			}
			var in atomic.Int64
			return func() error { in.Add(1); return s.Acquire(ctx) },
				func() bool { return in.Load() == int64(n) && atomic.LoadUint32(&s.c.st.sleepers) != 0 },
				func() {
					if err := s.ReleaseN(n); err != nil {
						t.Error(err)
					}
				}
		}},
		{"Event", func(t *testing.T) (func() error, func() bool, func()) {
			seg, _ := newSegment(t)
			e, err := NewEvent(seg, "e")
			if err != nil {
				t.Fatal(err)
			}
			var in atomic.Int64
			return func() error {
					in.Add(1)
					ok, err := e.Wait(ctx)
					if err == nil && !ok {
						t.Error("Event.Wait returned false without an error")
					}
					return err
				}, func() bool { return in.Load() == int64(n) && atomic.LoadUint32(&e.st.sleepers) != 0 },
				func() {
					if err := e.Set(); err != nil {
						t.Error(err)
					}
				}
		}},
		{"Condition", func(t *testing.T) (func() error, func() bool, func()) {
			seg, _ := newSegment(t)
			c, err := NewCondition(seg, "c", nil)
			if err != nil {
				t.Fatal(err)
			}
			return func() error {
					v := c.As(NewOwner())
					if err := v.Acquire(ctx); err != nil {
						return err
					}
					err := v.Wait(ctx)
					if rerr := v.Release(); err == nil {
						err = rerr
					}
					return err
				}, func() bool { return atomic.LoadUint64(&c.st.state)>>32 == uint64(n) },
				func() {
					if err := c.Acquire(ctx); err != nil {
						t.Fatal(err)
					}
					if err := c.NotifyAll(); err != nil {
						t.Error(err)
					}
					if err := c.Release(); err != nil {
						t.Error(err)
					}
				}
		}},
		{"Barrier", func(t *testing.T) (func() error, func() bool, func()) {
			seg, _ := newSegment(t)
			b, err := NewBarrier(seg, "b", barrierMaxParties)
			if err != nil {
				t.Fatal(err)
			}
			return func() error { _, err := b.Wait(ctx); return err },
				func() bool { return b.NWaiting() == barrierMaxParties-1 },
				func() {
					if _, err := b.Wait(ctx); err != nil {
						t.Error(err)
					}
				}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wait, blocked, release := tc.setup(t)
			m := n
			if tc.name == "Barrier" {
				m = barrierMaxParties - 1
			}
			before := testproc.Threads(t)
			var wg sync.WaitGroup
			var returned atomic.Int64
			for i := 0; i < m; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if err := wait(); err != nil {
						t.Error(err)
						return
					}
					returned.Add(1)
				}()
			}
			waitFor(t, blocked)
			time.Sleep(50 * time.Millisecond) // let stragglers reach the kernel
			during := testproc.Threads(t)
			if returned.Load() != 0 {
				t.Fatalf("%d goroutines returned before the release", returned.Load())
			}
			release()
			wg.Wait()
			t.Logf("threads: %d before, %d with %d goroutines blocked", before, during, m)
			if during > before+50 {
				t.Errorf("threads with %d blocked goroutines = %d; want at most %d", m, during, before+50)
			}
			if got := returned.Load(); got != int64(m) {
				t.Errorf("%d of %d goroutines returned", got, m)
			}
		})
	}
}
