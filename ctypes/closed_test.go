package ctypes_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// TestHandlesAfterSegmentClose: after Segment.Close, the accessors with an
// error result answer shm.ErrClosed and those without one (RawValue.Load,
// Store, RawArray.Get...) panic with an error wrapping shm.ErrClosed, a
// recoverable panic; they used to die of SIGSEGV on the unmapped memory.
func TestHandlesAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		seg := closeFixture(t, named)
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

// closeFixture makes a named or an anonymous segment of 64 KiB.
func closeFixture(t *testing.T, named bool) *shm.Segment {
	if named {
		seg, _ := newSegment(t, 1<<16)
		return seg
	}
	return testseg.Anon(t, 1<<16)
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

// TestAnyHandlesAfterSegmentClose: after Segment.Close, AnyValue's and
// AnyArray's methods with an error result (Set, Add, CopyFrom, Update)
// return an error wrapping shm.ErrClosed, those without one (Get, Float64,
// Int64, CopyTo) panic with one, and those that read no shared memory
// (Name, Typecode, Offset, Len, Slice, GetLock) go on answering; for raw
// and locked handles, on anonymous and named segments.
func TestAnyHandlesAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		for _, locked := range []bool{false, true} {
			seg := closeFixture(t, named)
			var v *ctypes.AnyValue
			var a *ctypes.AnyArray
			var err error
			if locked {
				if v, err = ctypes.NewValueOf(seg, "v", 'd', 1.5, nil); err != nil {
					t.Fatal(err)
				}
				a, err = ctypes.NewArrayOf(seg, "a", 'i', []int{1, 2, 3, 4}, nil)
			} else {
				if v, err = ctypes.NewRawValueOf(seg, "v", 'd', 1.5); err != nil {
					t.Fatal(err)
				}
				a, err = ctypes.NewRawArrayOf(seg, "a", 'i', []int{1, 2, 3, 4})
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := seg.Close(); err != nil {
				t.Fatal(err)
			}
			where := fmt.Sprintf("named %v, locked %v", named, locked)
			for what, fn := range map[string]func(){
				"AnyValue.Get":     func() { v.Get() },
				"AnyValue.Float64": func() { v.Float64() },
				"AnyValue.Int64":   func() { v.Int64() },
				"AnyArray.Get":     func() { a.Get(1) },
				"AnyArray.Float64": func() { a.Float64(1) },
				"AnyArray.Int64":   func() { a.Int64(1) },
				"AnyArray.CopyTo":  func() { a.CopyTo(make([]any, 4)) },
			} {
				if err := panicOf(fn); !errors.Is(err, shm.ErrClosed) {
					t.Errorf("%s: %s after Close panicked with %v; want an error wrapping shm.ErrClosed", where, what, err)
				}
			}
			ctx := context.Background()
			_, vAdd := v.Add(1)
			_, vUpdate := v.Update(ctx, func(x any) any { return x })
			_, aAdd := a.Add(1, 1)
			_, aCopyFrom := a.CopyFrom([]int{5, 6})
			errs := map[string]error{
				"AnyValue.Set":      v.Set(2),
				"AnyValue.Add":      vAdd,
				"AnyArray.Set":      a.Set(1, 2),
				"AnyArray.Add":      aAdd,
				"AnyArray.CopyFrom": aCopyFrom,
			}
			if locked { // a raw handle's Update is ErrNoLock, closed or not
				errs["AnyValue.Update"] = vUpdate
				errs["AnyArray.Update"] = a.Update(ctx, func(*ctypes.AnyArray) error { return nil })
			}
			for what, err := range errs {
				if !errors.Is(err, shm.ErrClosed) {
					t.Errorf("%s: %s after Close = %v; want an error wrapping shm.ErrClosed", where, what, err)
				}
			}
			if err := panicOf(func() {
				_, _, _ = v.Name(), v.Typecode(), v.Offset()
				_, _, _, _ = a.Name(), a.Typecode(), a.Offset(), a.Len()
				_, _ = v.GetLock(), a.GetLock()
				if s, err := a.Slice(1, 3); err != nil || s.Len() != 2 {
					t.Errorf("%s: Slice(1, 3) after Close = %v, %v; want 2 elements", where, s, err)
				}
			}); err != nil || v.Name() != "v" || a.Len() != 4 {
				t.Errorf("%s: metadata after Close: panic %v, Name %q, Len %d; want no panic, \"v\", 4", where, err, v.Name(), a.Len())
			}
		}
	}
}
