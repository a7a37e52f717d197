package ctypes_test

// Benchmark names follow the key
//
//	Benchmark<Op>/impl=<implementation>
//
// where impl=ctypes is this package on an anonymous segment (a sealed
// memfd, the default: no truncation guard; cgo-free-tests' BenchmarkGuard
// measures a named one) and the other impl is the in-process baseline
// measured in the same run: sync/atomic on a Go variable for the atomic
// operations, sync.Mutex around a Go variable for locked updates. Compare
// with
//
//	go test -run=^$ -bench=. -count=10 ./ctypes | tee new.txt; benchstat new.txt

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testseg"
)

func BenchmarkAdd(b *testing.B) {
	b.Run("impl=ctypes", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		v, err := ctypes.NewRawValue[int64](seg, "v", 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			v.Add(1)
		}
		if v.Load() == 0 {
			b.Fatal("no Add landed")
		}
	})
	b.Run("impl=sync-atomic", func(b *testing.B) {
		var v atomic.Int64
		b.ReportAllocs()
		for b.Loop() {
			v.Add(1)
		}
		if v.Load() == 0 {
			b.Fatal("no Add landed")
		}
	})
}

func BenchmarkLoad(b *testing.B) {
	b.Run("impl=ctypes", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		v, err := ctypes.NewRawValue[uint64](seg, "v", 1, nil)
		if err != nil {
			b.Fatal(err)
		}
		var sum uint64
		b.ReportAllocs()
		for b.Loop() {
			sum += v.Load()
		}
		if sum == 0 {
			b.Fatal("nothing loaded")
		}
	})
	b.Run("impl=sync-atomic", func(b *testing.B) {
		var v atomic.Uint64
		v.Store(1)
		var sum uint64
		b.ReportAllocs()
		for b.Loop() {
			sum += v.Load()
		}
		if sum == 0 {
			b.Fatal("nothing loaded")
		}
	})
}

func BenchmarkAddParallel(b *testing.B) {
	b.Run("impl=ctypes", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		v, err := ctypes.NewRawValue[int64](seg, "v", 0, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v.Add(1)
			}
		})
	})
	b.Run("impl=sync-atomic", func(b *testing.B) {
		var v atomic.Int64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				v.Add(1)
			}
		})
	})
}

// BenchmarkUpdate is "with v.get_lock(): v.value += 1" (about 370 ns in
// CPython) on a float64, by one goroutine (uncontended):
//
//	impl=ctypes            Value.Update under the default RLock, on an
//	                       anonymous segment
//	impl=ctypes/lock=Lock  the same under a caller's futex.Lock
//	impl=ctypes-lock       GetLock held by hand around Load and Store
//	                       (Python's idiom): two interface calls
//	impl=sync-mutex        a Go variable under a sync.Mutex, written out in
//	                       the loop: the update inlines, no call at all
//	impl=sync-mutex-value  the same behind a method of Update's shape: fn
//	                       through a func value, the unlock deferred so
//	                       that a panicking fn unlocks (the same-shape
//	                       comparison for Update)
//	impl=robust-value      Update's fast path in plain Go (robustValue):
//	                       its signature and lock protocol, no segment
//
// From sync-mutex-value to robust-value is what Update's signature and the
// robust protocol's fast path cost (a compare-and-swap release costs what
// the mutex's atomic add does; the state and owner-slot loads, and the
// lock word and value behind pointers, cost the rest); from robust-value
// to ctypes is what ctypes' handles and generic code add. Each loop is
// written out, so that every Update is a direct call, as in user code (a
// shared helper would call through an interface or a generic dictionary).
func BenchmarkUpdate(b *testing.B) {
	b.Run("impl=ctypes", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		v, err := ctypes.NewValue(seg, "v", 0.0, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		inc := func(x float64) float64 { return x + 1 }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Update(ctx, inc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=ctypes/lock=Lock", func(b *testing.B) {
		// Update over a caller's futex.Lock instead of the default RLock.
		seg := testseg.Anon(b, 1<<20)
		l, err := futex.NewLock(seg, "l")
		if err != nil {
			b.Fatal(err)
		}
		v, err := ctypes.NewValue(seg, "v", 0.0, &ctypes.Options{Lock: l})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		inc := func(x float64) float64 { return x + 1 }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Update(ctx, inc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=ctypes-lock", func(b *testing.B) {
		// The lock held by hand around Load/Store: Python's idiom.
		seg := testseg.Anon(b, 1<<20)
		v, err := ctypes.NewValue(seg, "v", 0.0, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		l := v.GetLock()
		b.ReportAllocs()
		for b.Loop() {
			if err := l.Acquire(ctx); err != nil {
				b.Fatal(err)
			}
			v.Store(v.Load() + 1)
			if err := l.Release(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=sync-mutex", func(b *testing.B) {
		var mu sync.Mutex
		var v float64
		inc := func(x float64) float64 { return x + 1 }
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			v = inc(v)
			mu.Unlock()
		}
		if v == 0 {
			b.Fatal("no update")
		}
	})
	b.Run("impl=sync-mutex-value", func(b *testing.B) {
		// A Go value with Value.Update's shape: fn through a func value,
		// the unlock deferred so that a panicking fn leaves it unlocked.
		var v mutexValue
		inc := func(x float64) float64 { return x + 1 }
		b.ReportAllocs()
		for b.Loop() {
			v.Update(inc)
		}
		if v.v == 0 {
			b.Fatal("no update")
		}
	})
	b.Run("impl=robust-value", func(b *testing.B) {
		v := newRobustValue()
		ctx := context.Background()
		inc := func(x float64) float64 { return x + 1 }
		b.ReportAllocs()
		for b.Loop() {
			if _, err := v.Update(ctx, inc); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// robustValue is Value.Update's uncontended path in plain Go, for
// BenchmarkUpdate: Update's signature; the lock word and the value behind
// pointers (in shared memory they cannot be fields of the handle); the
// segment-state load before each compare-and-swap and the owner-slot load
// before the release; the acquiring compare-and-swap and the releasing one,
// deferred, that may set err. No segment, no handles to follow, no
// generics.
type robustValue struct {
	word, state *uint32
	slot        *uint64
	v           *float64
}

func newRobustValue() *robustValue {
	return &robustValue{word: new(uint32), state: new(uint32), slot: new(uint64), v: new(float64)}
}

// errContended stands for the lock's slow paths, which a benchmark with
// one goroutine never takes.
var errContended = errors.New("robustValue: contended")

func (r *robustValue) Update(ctx context.Context, fn func(float64) float64) (x float64, err error) {
	if atomic.LoadUint32(r.state) != 0 || !atomic.CompareAndSwapUint32(r.word, 0, 1) {
		return 0, errContended
	}
	defer func() {
		if atomic.LoadUint64(r.slot) != 0 || atomic.LoadUint32(r.state) != 0 || !atomic.CompareAndSwapUint32(r.word, 1, 0) {
			err = errContended
		}
	}()
	x = fn(*r.v)
	*r.v = x
	return x, nil
}

// mutexValue is the in-process counterpart of a locked Value, for
// BenchmarkUpdate.
type mutexValue struct {
	mu sync.Mutex
	v  float64
}

func (m *mutexValue) Update(fn func(float64) float64) float64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.v = fn(m.v)
	return m.v
}

func BenchmarkUpdateParallel(b *testing.B) {
	b.Run("impl=ctypes", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		v, err := ctypes.NewValue(seg, "v", 0.0, nil)
		if err != nil {
			b.Fatal(err)
		}
		inc := func(x float64) float64 { return x + 1 }
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := v.Update(context.Background(), inc); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("impl=sync-mutex", func(b *testing.B) {
		var mu sync.Mutex
		var v float64
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				mu.Lock()
				v++
				mu.Unlock()
			}
		})
	})
}
