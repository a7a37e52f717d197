package ctypes_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/shm"
)

// TestHandlesAfterSegmentClose: after Segment.Close, the accessors with an
// error result answer shm.ErrClosed and those without one (RawValue.Load,
// Store, RawArray.Get...) panic with an error wrapping shm.ErrClosed, a
// recoverable panic; they used to die of SIGSEGV on the unmapped memory.
func TestHandlesAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		var seg *shm.Segment
		if named {
			seg, _ = newSegment(t, 1<<16)
		} else {
			var err error
			if seg, err = shm.Anonymous(1 << 16); err != nil {
				t.Fatal(err)
			}
		}
		rv, err := ctypes.NewRawValue[int64](seg, "rv", 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		v, err := ctypes.NewValue[int64](seg, "v", 1, nil)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ctypes.NewArray[int32](seg, "a", 4, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		for what, fn := range map[string]func(){
			"RawValue.Load":           func() { rv.Load() },
			"RawValue.Store":          func() { rv.Store(2) },
			"RawValue.Add":            func() { rv.Add(2) },
			"RawValue.Swap":           func() { rv.Swap(2) },
			"RawValue.CompareAndSwap": func() { rv.CompareAndSwap(1, 2) },
			"Value.Load":              func() { v.Load() },
			"Array.Get":               func() { a.Get(0) },
			"Array.Set":               func() { a.Set(0, 1) },
			"Array.CopyTo":            func() { a.CopyTo(make([]int32, 4)) },
		} {
			if err := panicOf(fn); !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: %s after Close panicked with %v; want an error wrapping shm.ErrClosed", named, what, err)
			}
		}
		ctx := context.Background()
		if _, err := v.Update(ctx, func(x int64) int64 { return x + 1 }); !errors.Is(err, shm.ErrClosed) {
			t.Errorf("named %v: Value.Update after Close = %v; want shm.ErrClosed", named, err)
		}
		if err := a.Update(ctx, func(*ctypes.RawArray[int32]) error { return nil }); !errors.Is(err, shm.ErrClosed) {
			t.Errorf("named %v: Array.Update after Close = %v; want shm.ErrClosed", named, err)
		}
	}
}

// panicOf runs fn and returns the error it panicked with (nil if none).
func panicOf(fn func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err, _ = r.(error)
			if err == nil {
				err = errors.New("non-error panic")
			}
		}
	}()
	fn()
	return nil
}
