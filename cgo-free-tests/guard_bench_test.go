package cgofreetests

import (
	"context"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// BenchmarkGuard measures the truncation guard: the same hot operations on
// an anonymous segment (a sealed memfd: unguarded, one load of the
// segment's state and a branch) and on a named one (guarded: the state
// check, debug.SetPanicOnFault twice and a deferred recover), and on a
// named one opened with Options.Unguarded. The ratio named/anonymous of
// one run is the guard's cost.
func BenchmarkGuard(b *testing.B) {
	for _, kind := range []string{"anonymous", "named", "named-unguarded"} {
		b.Run(kind, func(b *testing.B) {
			var seg *shm.Segment
			var err error
			if kind != "anonymous" {
				name := testproc.Name(b)
				seg, err = shm.CreateWith(name, 1<<20, &shm.Options{Unguarded: kind == "named-unguarded"})
				b.Cleanup(func() { shm.Unlink(name) })
			} else {
				seg, err = shm.Anonymous(1 << 20)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { seg.Close() })
			ctx := context.Background()
			rv, err := ctypes.NewRawValue[int64](seg, "rv", 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			v, err := ctypes.NewValue[int64](seg, "v", 0, nil)
			if err != nil {
				b.Fatal(err)
			}
			l, err := futex.NewLock(seg, "l")
			if err != nil {
				b.Fatal(err)
			}
			q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 64, MaxMessage: 8})
			if err != nil {
				b.Fatal(err)
			}
			msg := []byte("12345678")
			b.Run("RawValue.Load", func(b *testing.B) {
				for b.Loop() {
					rv.Load()
				}
			})
			b.Run("RawValue.Add", func(b *testing.B) {
				for b.Loop() {
					rv.Add(1)
				}
			})
			b.Run("Value.Update", func(b *testing.B) {
				for b.Loop() {
					if _, err := v.Update(ctx, func(x int64) int64 { return x + 1 }); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Lock.AcquireRelease", func(b *testing.B) {
				for b.Loop() {
					if err := l.Acquire(ctx); err != nil {
						b.Fatal(err)
					}
					if err := l.Release(); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("Queue.TryPutTryGet", func(b *testing.B) {
				for b.Loop() {
					if err := q.TryPut(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := q.TryGet(); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
