package ctypes_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// checkValueOps exercises every atomic operation of a RawValue[T] and of a
// second handle to it.
func checkValueOps[T ctypes.Scalar](t *testing.T, seg *shm.Segment, a, b, c T) {
	t.Helper()
	name := fmt.Sprintf("v-%T", a)
	v, err := ctypes.NewRawValue(seg, name, a, nil)
	if err != nil {
		t.Fatalf("NewRawValue(%v): %v", a, err)
	}
	w, err := ctypes.OpenRawValue[T](seg, name)
	if err != nil {
		t.Fatalf("OpenRawValue: %v", err)
	}
	if got := w.Load(); got != a {
		t.Errorf("%T: Load = %v; want %v", a, got, a)
	}
	v.Store(b)
	if got := w.Load(); got != b {
		t.Errorf("%T: Load after Store = %v; want %v", a, got, b)
	}
	if got := w.Swap(c); got != b {
		t.Errorf("%T: Swap = %v; want %v", a, got, b)
	}
	if v.CompareAndSwap(b, a) {
		t.Errorf("%T: CompareAndSwap(%v, %v) succeeded on %v", a, b, a, c)
	}
	if !v.CompareAndSwap(c, a) || w.Load() != a {
		t.Errorf("%T: CompareAndSwap(%v, %v) failed or did not store; value %v", a, c, a, w.Load())
	}
	if got, want := v.Add(b), a+b; got != want || w.Load() != want {
		t.Errorf("%T: Add(%v) = %v, Load %v; want %v", a, b, got, w.Load(), want)
	}
	if v.Typecode() != ctypes.TypecodeFor[T]() || v.Name() != name || v.Offset() != w.Offset() || v.Offset()%64 != 0 {
		t.Errorf("%T: Typecode %v Name %q Offset %d/%d", a, v.Typecode(), v.Name(), v.Offset(), w.Offset())
	}
}

// bothSegments returns a named segment (guarded: every access takes the
// checked path) and an anonymous one (the inlined fast paths), for tests
// that must cover both.
func bothSegments(t *testing.T) []*shm.Segment {
	named, _ := newSegment(t, 1<<20)
	return []*shm.Segment{named, testseg.Anon(t, 1<<20)}
}

func TestRawValueOps(t *testing.T) {
	for _, seg := range bothSegments(t) {
		checkValueOps[int8](t, seg, -5, 7, 100)
		checkValueOps[uint8](t, seg, 200, 50, 1)
		checkValueOps[int16](t, seg, -300, 1000, 7)
		checkValueOps[uint16](t, seg, 60000, 5000, 3)
		checkValueOps[int32](t, seg, -1<<30, 12345, 9)
		checkValueOps[uint32](t, seg, 1<<31, 77, 4)
		checkValueOps[int64](t, seg, -1<<62, 1<<40, 5)
		checkValueOps[uint64](t, seg, 1<<63, 1<<40, 6)
		checkValueOps[float32](t, seg, 1.5, -2.25, 8)
		checkValueOps[float64](t, seg, 3.14, 2.5, -1e300)
	}
}

func TestRawValueWraps(t *testing.T) {
	for _, seg := range bothSegments(t) {
		checkWraps(t, seg)
	}
}

func checkWraps(t *testing.T, seg *shm.Segment) {
	i8, _ := ctypes.NewRawValue[int8](seg, "i8", 127, nil)
	if got := i8.Add(1); got != -128 {
		t.Errorf("int8 127+1 = %d; want -128", got)
	}
	u16, _ := ctypes.NewRawValue[uint16](seg, "u16", 0, nil)
	if got := u16.Add(math.MaxUint16); got != math.MaxUint16 {
		t.Errorf("uint16 0+max = %d; want %d", got, math.MaxUint16)
	}
	if got := u16.Add(2); got != 1 {
		t.Errorf("uint16 max+2 = %d; want 1", got)
	}
	i64, _ := ctypes.NewRawValue[int64](seg, "i64", 10, nil)
	if got := i64.Add(-25); got != -15 {
		t.Errorf("int64 10-25 = %d; want -15", got)
	}
	u64, _ := ctypes.NewRawValue[uint64](seg, "u64", math.MaxUint64, nil)
	if got := u64.Add(2); got != 1 {
		t.Errorf("uint64 max+2 = %d; want 1", got)
	}
}

func TestRawValueFloatBits(t *testing.T) {
	for _, seg := range bothSegments(t) {
		checkFloatBits(t, seg)
	}
}

func checkFloatBits(t *testing.T, seg *shm.Segment) {
	v, err := ctypes.NewRawValue(seg, "f", math.Copysign(0, -1), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v.CompareAndSwap(0, 1) {
		t.Error("CompareAndSwap(+0, 1) matched -0; floats compare by bit pattern")
	}
	if !v.CompareAndSwap(math.Copysign(0, -1), math.NaN()) {
		t.Error("CompareAndSwap(-0, NaN) failed")
	}
	if !v.CompareAndSwap(math.NaN(), 2) || v.Load() != 2 {
		t.Errorf("CompareAndSwap(NaN, 2) failed on the same NaN bits; value %v", v.Load())
	}
	if got := v.Add(0.5); got != 2.5 {
		t.Errorf("Add(0.5) = %v; want 2.5", got)
	}
}

// TestSmallElementsNeighbours checks that operations on 1- and 2-byte
// elements, done through their 8-byte word, leave the neighbours alone.
func TestSmallElementsNeighbours(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ctypes.NewRawArrayFrom(seg, "b", []int8{1, 2, 3, 4, 5, 6, 7}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a.Len() {
		a.Add(i, 10)
		if old := a.Swap(i, int8(-i)); old != int8(i+1+10) {
			t.Fatalf("Swap(%d) = %d; want %d", i, old, i+1+10)
		}
		if !a.CompareAndSwap(i, int8(-i), int8(i*3)) {
			t.Fatalf("CompareAndSwap(%d) failed", i)
		}
	}
	want := []int8{0, 3, 6, 9, 12, 15, 18}
	got := make([]int8, a.Len())
	a.CopyTo(got)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("int8 elements = %v; want %v", got, want)
	}
	h, err := ctypes.NewRawArrayFrom(seg, "H", []uint16{0xffff, 0, 0xffff}, nil)
	if err != nil {
		t.Fatal(err)
	}
	h.Set(1, 0x1234)
	gotH := make([]uint16, 3)
	h.CopyTo(gotH)
	if gotH[0] != 0xffff || gotH[1] != 0x1234 || gotH[2] != 0xffff {
		t.Errorf("uint16 elements = %#x; want [0xffff 0x1234 0xffff]", gotH)
	}
}

func TestRawArray(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ctypes.NewRawArray[float64](seg, "arr", 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 10 || a.Offset()%64 != 0 {
		t.Fatalf("Len %d Offset %d; want 10 and 64-aligned", a.Len(), a.Offset())
	}
	for i := range 10 {
		if x := a.Get(i); x != 0 {
			t.Fatalf("Get(%d) of a new array = %v; want 0", i, x)
		}
	}
	if n := a.CopyFrom([]float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}); n != 10 {
		t.Errorf("CopyFrom 12 into 10 = %d; want 10", n)
	}
	for _, i := range []int{-1, 10, math.MaxInt, math.MinInt} {
		for name, f := range map[string]func(){
			"Get":            func() { a.Get(i) },
			"Set":            func() { a.Set(i, 1) },
			"Add":            func() { a.Add(i, 1) },
			"Swap":           func() { a.Swap(i, 1) },
			"CompareAndSwap": func() { a.CompareAndSwap(i, 1, 2) },
		} {
			if err := indexPanic(f); !errors.Is(err, ctypes.ErrIndex) {
				t.Errorf("%s(%d) panicked with %v; want ErrIndex", name, i, err)
			}
		}
	}
	s, err := a.Slice(3, 6)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float64, 5)
	if n := s.CopyTo(got); n != 3 || got[0] != 3 || got[2] != 5 {
		t.Errorf("Slice(3,6).CopyTo = %d %v; want 3 [3 4 5 ...]", n, got)
	}
	s.Set(0, -3)
	if x := a.Get(3); x != -3 {
		t.Errorf("after Slice(3,6).Set(0,-3), Get(3) = %v; want -3 (shared memory)", x)
	}
	if err := indexPanic(func() { s.Get(3) }); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("Slice(3,6).Get(3) panicked with %v; want ErrIndex", err)
	}
	for _, b := range [][2]int{{-1, 2}, {5, 4}, {0, 11}} {
		if _, err := a.Slice(b[0], b[1]); !errors.Is(err, ctypes.ErrIndex) {
			t.Errorf("Slice(%d, %d) = %v; want ErrIndex", b[0], b[1], err)
		}
	}
	if e, err := a.Slice(10, 10); err != nil || e.Len() != 0 {
		t.Errorf("Slice(10, 10) = %v, %v; want an empty array", e, err)
	}
	view := a.View()
	view[9] = 99
	if x := a.Get(9); x != 99 || len(view) != 10 {
		t.Errorf("View: len %d, Get(9) after view[9]=99 = %v", len(view), x)
	}
	b, err := ctypes.OpenRawArray[float64](seg, "arr", 10)
	if err != nil {
		t.Fatal(err)
	}
	if x := b.Get(9); x != 99 {
		t.Errorf("second handle Get(9) = %v; want 99", x)
	}
	empty, err := ctypes.NewRawArray[int32](seg, "empty", 0, nil)
	if err != nil || empty.Len() != 0 {
		t.Fatalf("NewRawArray(0) = %v, %v", empty, err)
	}
	if err := indexPanic(func() { empty.Get(0) }); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("empty.Get(0) panicked with %v; want ErrIndex", err)
	}
}

func TestOpenMismatch(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	if _, err := ctypes.NewRawValue(seg, "num", 1.5, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.NewRawArray[int32](seg, "arr", 4, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.NewRawValue[int64](seg, "long", 1, &ctypes.RawOptions{Typecode: 'l'}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		open func() error
		want error
	}{
		{"value as int64", func() error { _, err := ctypes.OpenRawValue[int64](seg, "num"); return err }, ctypes.ErrTypeMismatch},
		{"value as float32", func() error { _, err := ctypes.OpenRawValue[float32](seg, "num"); return err }, shm.ErrTypeMismatch},
		{"value as array", func() error { _, err := ctypes.OpenRawArray[float64](seg, "num", 1); return err }, ctypes.ErrTypeMismatch},
		{"array as value", func() error { _, err := ctypes.OpenRawValue[int32](seg, "arr"); return err }, ctypes.ErrTypeMismatch},
		{"array wrong length", func() error { _, err := ctypes.OpenRawArray[int32](seg, "arr", 5); return err }, ctypes.ErrTypeMismatch},
		{"array wrong type", func() error { _, err := ctypes.OpenRawArray[uint32](seg, "arr", 4); return err }, ctypes.ErrTypeMismatch},
		{"any wrong code", func() error { _, err := ctypes.OpenArrayOf(seg, "arr", 'I', 4); return err }, ctypes.ErrTypeMismatch},
		{"any wrong length", func() error { _, err := ctypes.OpenArrayOf(seg, "arr", 'i', 3); return err }, ctypes.ErrTypeMismatch},
		{"any l as q", func() error { _, err := ctypes.OpenValueOf(seg, "long", 'q'); return err }, ctypes.ErrTypeMismatch},
		{"missing", func() error { _, err := ctypes.OpenRawValue[int32](seg, "nope"); return err }, shm.ErrNotExist},
		{"bad option code", func() error {
			_, err := ctypes.NewRawValue[int32](seg, "x", 1, &ctypes.RawOptions{Typecode: 'd'})
			return err
		}, ctypes.ErrTypeMismatch},
		{"invalid option code", func() error {
			_, err := ctypes.NewRawValue[int32](seg, "x", 1, &ctypes.RawOptions{Typecode: 'z'})
			return err
		}, ctypes.ErrTypecode},
		{"duplicate", func() error { _, err := ctypes.NewRawValue(seg, "num", 1.5, nil); return err }, shm.ErrExist},
	}
	for _, tt := range tests {
		if err := tt.open(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v; want %v", tt.name, err, tt.want)
		}
	}
	// Matching opens work, including int64 on an 'l' object and any length.
	if v, err := ctypes.OpenRawValue[int64](seg, "long"); err != nil || v.Typecode() != 'l' || v.Load() != 1 {
		t.Errorf("OpenRawValue[int64] on 'l': %v, %v", v, err)
	}
	if a, err := ctypes.OpenRawArray[int32](seg, "arr", ctypes.AnyLen); err != nil || a.Len() != 4 {
		t.Errorf("OpenRawArray(AnyLen): %v, %v", a, err)
	}
	if a, err := ctypes.OpenArrayOf(seg, "arr", 0, ctypes.AnyLen); err != nil || a.Typecode() != 'i' || a.Len() != 4 {
		t.Errorf("OpenArrayOf(0, AnyLen): %v, %v", a, err)
	}
}

// TestCorruptHeader scribbles over each header field as a hostile peer
// could and checks that opening reports ErrCorrupt.
func TestCorruptHeader(t *testing.T) {
	tests := []struct {
		name  string
		off   int
		write func(b []byte)
	}{
		{"typecode", 0, func(b []byte) { b[0] = 'z' }},
		{"element size", 1, func(b []byte) { b[0] = 4 }},
		{"shape", 2, func(b []byte) { b[0] = 'X' }},
		{"flags", 3, func(b []byte) { b[0] = 0x80 }},
		{"lock flag without name", 3, func(b []byte) { b[0] = 1 }},
		{"data offset", 4, func(b []byte) { binary.LittleEndian.PutUint32(b, 64) }},
		{"length", 8, func(b []byte) { binary.LittleEndian.PutUint64(b, 1<<40) }},
		{"length overflow", 8, func(b []byte) { binary.LittleEndian.PutUint64(b, math.MaxUint64) }},
		{"lock name length", 16, func(b []byte) { binary.LittleEndian.PutUint32(b, 81) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seg, _ := newSegment(t, 1<<20)
			if _, err := ctypes.NewRawArray[float64](seg, "arr", 8, nil); err != nil {
				t.Fatal(err)
			}
			o, err := seg.OpenObject("arr", ctypes.Kind, ctypes.Version)
			if err != nil {
				t.Fatal(err)
			}
			tt.write(o.Bytes()[tt.off:])
			if _, err := ctypes.OpenRawArray[float64](seg, "arr", ctypes.AnyLen); !errors.Is(err, shm.ErrCorrupt) {
				t.Errorf("OpenRawArray = %v; want ErrCorrupt", err)
			}
			if _, err := ctypes.OpenArrayOf(seg, "arr", 0, ctypes.AnyLen); !errors.Is(err, shm.ErrCorrupt) {
				t.Errorf("OpenArrayOf = %v; want ErrCorrupt", err)
			}
		})
	}
}

// TestShortPayload forges an object whose payload (from a hostile
// directory entry) holds the elements but not the 8-byte word around the
// last one, which the atomics touch: opening it is ErrCorrupt.
func TestShortPayload(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	_, err := seg.CreateObject("short", ctypes.Kind, ctypes.Version, 128+5, func(p []byte) error {
		p[0], p[1], p[2] = 'b', 1, 'A'
		binary.LittleEndian.PutUint32(p[4:], 128)
		binary.LittleEndian.PutUint64(p[8:], 5)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.OpenRawArray[int8](seg, "short", 5); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("OpenRawArray on a 5-byte data area = %v; want ErrCorrupt", err)
	}
	if _, err := ctypes.OpenArrayOf(seg, "short", 'b', ctypes.AnyLen); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("OpenArrayOf on a 5-byte data area = %v; want ErrCorrupt", err)
	}
}

// TestSmallElementsConcurrent has goroutines add to neighbouring 1-byte
// elements that share an 8-byte word, to 2-byte elements, and to float32
// neighbours (whose Add is a compare-and-swap of their shared word): no
// update may be lost or spill into a neighbour.
func TestSmallElementsConcurrent(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	bytes, err := ctypes.NewRawArray[uint8](seg, "bytes", 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	shorts, err := ctypes.NewRawArray[int16](seg, "shorts", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	floats, err := ctypes.NewRawArray[float32](seg, "floats", 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	const per = 2000
	done := make(chan struct{})
	for g := range 8 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range per {
				bytes.Add(g, 1)
				shorts.Add(g%2, -1)
				floats.Add(g%2, 0.5)
			}
		}()
	}
	for range 8 {
		<-done
	}
	for i := range 8 {
		if x := bytes.Get(i); x != per%256 {
			t.Errorf("bytes[%d] = %d; want %d", i, x, per%256)
		}
	}
	for i := range 2 {
		if x := shorts.Get(i); x != -4*per {
			t.Errorf("shorts[%d] = %d; want %d", i, x, -4*per)
		}
		if x := floats.Get(i); x != 4*per*0.5 {
			t.Errorf("floats[%d] = %v; want %v", i, x, 4*per*0.5)
		}
	}
}
