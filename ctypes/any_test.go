package ctypes_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/shm"
)

func TestAnyValue(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	d, err := ctypes.NewRawValueOf(seg, "num", 'd', 0.0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Set(3.14); err != nil {
		t.Fatal(err)
	}
	if got, ok := d.Get().(float64); !ok || got != 3.14 {
		t.Errorf("Get = %#v; want float64 3.14", d.Get())
	}
	if err := d.Set(2); err != nil || d.Float64() != 2 {
		t.Errorf("Set(2) on 'd' = %v, value %v; want nil, 2", err, d.Float64())
	}
	if got, err := d.Add(0.5); err != nil || got != 2.5 {
		t.Errorf("Add(0.5) = %#v, %v; want 2.5", got, err)
	}

	b, err := ctypes.NewRawValueOf(seg, "b", 'b', -3)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := b.Get().(int8); !ok || got != -3 || b.Int64() != -3 {
		t.Errorf("Get = %#v, Int64 %d; want int8(-3)", b.Get(), b.Int64())
	}
	tests := []struct {
		v    any
		want error
	}{
		{128, ctypes.ErrRange},
		{-129, ctypes.ErrRange},
		{uint64(200), ctypes.ErrRange},
		{1.5, ctypes.ErrValueType},
		{"1", ctypes.ErrValueType},
		{nil, ctypes.ErrValueType},
		{127, nil},
		{uint8(5), nil},
		{true, nil},
	}
	for _, tt := range tests {
		if err := b.Set(tt.v); !errors.Is(err, tt.want) {
			t.Errorf("'b'.Set(%#v) = %v; want %v", tt.v, err, tt.want)
		}
	}
	if b.Int64() != 1 {
		t.Errorf("after Set(true) value %d; want 1", b.Int64())
	}
	f, err := ctypes.NewRawValueOf(seg, "f", 'f', 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Set(1e300); !errors.Is(err, ctypes.ErrRange) {
		t.Errorf("'f'.Set(1e300) = %v; want ErrRange", err)
	}
	if err := f.Set(math.Inf(-1)); err != nil || !math.IsInf(f.Float64(), -1) {
		t.Errorf("'f'.Set(-Inf) = %v, value %v", err, f.Float64())
	}
	Q, err := ctypes.NewRawValueOf(seg, "Q", 'Q', uint64(math.MaxUint64))
	if err != nil || Q.Get() != uint64(math.MaxUint64) {
		t.Fatalf("'Q' max: %v, %v", Q.Get(), err)
	}
	if _, err := ctypes.NewRawValueOf(seg, "neg", 'Q', -1); !errors.Is(err, ctypes.ErrRange) {
		t.Errorf("NewRawValueOf('Q', -1) = %v; want ErrRange", err)
	}
	if _, err := ctypes.NewRawValueOf(seg, "bad", 'z', 1); !errors.Is(err, ctypes.ErrTypecode) {
		t.Errorf("NewRawValueOf('z') = %v; want ErrTypecode", err)
	}
	// A rejected initial value burns no name.
	if _, err := ctypes.NewRawValueOf(seg, "neg", 'q', -1); err != nil {
		t.Errorf("NewRawValueOf(\"neg\") after a rejected attempt: %v", err)
	}
	o, err := ctypes.OpenValueOf(seg, "num", 'd')
	if err != nil || o.Float64() != 2.5 || o.Typecode() != 'd' || o.Name() != "num" || o.Offset() != d.Offset() {
		t.Errorf("OpenValueOf: %v, %v", o, err)
	}
}

func TestAnyArray(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ctypes.NewRawArrayOf(seg, "range", 'i', []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	if err != nil {
		t.Fatal(err)
	}
	if a.Len() != 10 || a.Typecode() != 'i' {
		t.Fatalf("Len %d Typecode %v; want 10 i", a.Len(), a.Typecode())
	}
	for i := range 10 {
		if x := a.Get(i); x != int32(i) {
			t.Errorf("Get(%d) = %#v; want int32(%d)", i, x, i)
		}
	}
	if err := indexPanic(func() { a.Get(10) }); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("Get(10) panicked with %v; want ErrIndex", err)
	}
	if err := a.Set(3, int64(1)<<40); !errors.Is(err, ctypes.ErrRange) {
		t.Errorf("Set(3, 1<<40) = %v; want ErrRange", err)
	}
	if got, err := a.Add(3, 10); err != nil || got != int32(13) {
		t.Errorf("Add(3, 10) = %#v, %v; want int32(13)", got, err)
	}
	if f := a.Float64(3); f != 13 {
		t.Errorf("Float64(3) = %v", f)
	}
	if n := a.Int64(9); n != 9 {
		t.Errorf("Int64(9) = %v", n)
	}
	z, err := ctypes.NewRawArrayOf(seg, "zeros", 'd', 5)
	if err != nil || z.Len() != 5 {
		t.Fatalf("NewRawArrayOf('d', 5) = %v, %v", z, err)
	}
	if x := z.Get(4); x != 0.0 {
		t.Errorf("zero-filled Get(4) = %#v", x)
	}
	mixed, err := ctypes.NewRawArrayOf(seg, "mixed", 'd', []any{1, 2.5, uint8(3)})
	if err != nil {
		t.Fatal(err)
	}
	if x := mixed.Get(1); x != 2.5 {
		t.Errorf("mixed Get(1) = %#v; want 2.5", x)
	}
	bad := []struct {
		name string
		init any
		want error
	}{
		{"float into int", []float64{1.5}, ctypes.ErrValueType},
		{"overflow", []int{1, 1 << 40}, ctypes.ErrRange},
		{"negative length", -1, ctypes.ErrRange},
		{"string", "abc", ctypes.ErrValueType},
		{"nil", nil, ctypes.ErrValueType},
	}
	for _, tt := range bad {
		if _, err := ctypes.NewRawArrayOf(seg, "bad", 'i', tt.init); !errors.Is(err, tt.want) {
			t.Errorf("%s: NewRawArrayOf = %v; want %v", tt.name, err, tt.want)
		}
	}
	if _, err := seg.OpenObject("bad", ctypes.Kind, ctypes.Version); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("rejected initializers created the object: %v", err)
	}
	// Slicing and bulk copies, Python's arr[2:5] and arr[:].
	s, err := a.Slice(2, 5)
	if err != nil || s.Len() != 3 {
		t.Fatalf("Slice(2, 5) = %v, %v; want 3 elements", s, err)
	}
	if x := s.Get(1); x != int32(13) {
		t.Errorf("Slice(2, 5).Get(1) = %#v; want int32(13)", x)
	}
	if err := indexPanic(func() { s.Get(3) }); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("slice Get past its end panicked with %v; want ErrIndex", err)
	}
	if _, err := a.Slice(4, 11); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("Slice(4, 11) = %v; want ErrIndex", err)
	}
	if n, err := s.CopyFrom([]int64{-2, -3, -4, -5}); err != nil || n != 3 {
		t.Errorf("CopyFrom 4 into 3 = %d, %v; want 3", n, err)
	}
	if n, err := s.CopyFrom([]any{7, 1.5}); !errors.Is(err, ctypes.ErrValueType) || n != 0 {
		t.Errorf("CopyFrom with a float = %d, %v; want 0, ErrValueType", n, err)
	}
	if _, err := s.CopyFrom(7); !errors.Is(err, ctypes.ErrValueType) {
		t.Errorf("CopyFrom(7) = %v; want ErrValueType", err)
	}
	all := make([]any, a.Len())
	if n := a.CopyTo(all); n != 10 || fmt.Sprint(all) != "[0 1 -2 -3 -4 5 6 7 8 9]" {
		t.Errorf("CopyTo = %d, %v; want 10, [0 1 -2 -3 -4 5 6 7 8 9]", n, all)
	}
	if _, ok := all[0].(int32); !ok {
		t.Errorf("CopyTo element type %T; want int32", all[0])
	}
	if err := a.Set(3, 13); err != nil {
		t.Fatal(err)
	}
	// Typed and typecode-driven handles share the object.
	typed, err := ctypes.OpenRawArray[int32](seg, "range", 10)
	if err != nil {
		t.Fatal(err)
	}
	if x := typed.Get(3); x != 13 {
		t.Errorf("typed Get(3) = %d; want 13", x)
	}
}
