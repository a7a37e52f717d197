package compat_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// values is _TestValue.codes_values: one Value per typecode.
type values struct {
	I *ctypes.Value[int32]   // 'i'
	D *ctypes.Value[float64] // 'd'
	H *ctypes.Value[int16]   // 'h'
	Q *ctypes.Value[int64]   // 'q'
	C *ctypes.RawValue[byte] // 'c', raw (lock=False)
}

var setValues = proc.Func("compat-set-values", func(ctx context.Context, v values) error {
	v.I.Store(24234)
	v.D.Store(-4.25)
	v.H.Store(234)
	v.Q.Store(1 << 34)
	v.C.Store('y')
	return nil
})

// TestValue ports _TestValue.test_value and test_rawvalue: Values of the
// typecodes i, d, h, q and a raw c hold their initial values, and a child
// process's stores are seen by the parent.
func TestValue(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	v := values{
		I: proc.Value[int32](m, 4342), D: proc.Value(m, 3.625), H: proc.Value[int16](m, -232),
		Q: proc.Value[int64](m, 1<<33), C: proc.Value[byte](m, 'x').RawValue,
	}
	codes := []ctypes.Typecode{v.I.Typecode(), v.D.Typecode(), v.H.Typecode(), v.Q.Typecode(), v.C.Typecode()}
	if string(codes[:4]) != "idhq" || !slices.Contains([]ctypes.Typecode{'B', 'c'}, codes[4]) {
		t.Fatalf("typecodes %q", codes)
	}
	if v.I.Load() != 4342 || v.D.Load() != 3.625 || v.H.Load() != -232 || v.Q.Load() != 1<<33 || v.C.Load() != 'x' {
		t.Fatalf("initial values %d %v %d %d %c", v.I.Load(), v.D.Load(), v.H.Load(), v.Q.Load(), v.C.Load())
	}
	if err := setValues.Start(ctx, v).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if v.I.Load() != 24234 || v.D.Load() != -4.25 || v.H.Load() != 234 || v.Q.Load() != 1<<34 || v.C.Load() != 'y' {
		t.Fatalf("values after the child %d %v %d %d %c", v.I.Load(), v.D.Load(), v.H.Load(), v.Q.Load(), v.C.Load())
	}
}

// TestTypecodes ports the typecode table of sharedctypes (typecode_to_type)
// that _TestValue and _TestArray rely on: sizes with Linux/amd64's C types
// (l and L are 8 bytes), and a bad typecode's ValueError.
func TestTypecodes(t *testing.T) {
	want := map[rune]int{'c': 1, 'b': 1, 'B': 1, 'h': 2, 'H': 2, 'i': 4, 'I': 4, 'l': 8, 'L': 8, 'q': 8, 'Q': 8, 'f': 4, 'd': 8, 'u': 4}
	for r, size := range want {
		c, err := ctypes.ParseTypecode(r)
		if err != nil || c.Size() != size {
			t.Errorf("%c: size %d, %v; want %d", r, c.Size(), err, size)
		}
	}
	if _, err := ctypes.ParseTypecode('x'); !errors.Is(err, ctypes.ErrTypecode) {
		t.Errorf("bad typecode: %v", err)
	}
}

// TestGetobjGetlock ports _TestValue.test_getobj_getlock: a Value has a
// lock (an RLock by default) and its raw object; lock=some_lock uses that
// lock; lock=False gives a raw value without one.
func TestGetobjGetlock(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	v := proc.Value[int32](m, 5)
	if _, ok := v.GetLock().(*futex.RLock); !ok {
		t.Errorf("default lock is %T; want *futex.RLock", v.GetLock())
	}
	if v.RawValue == nil || v.RawValue.Load() != 5 {
		t.Fatal("get_obj() does not reach the value")
	}
	l := proc.Lock(m)
	seg, _ := l.ShareDesc()
	w, err := ctypes.NewValue(seg, "compat-locked-by-l", int32(7), &ctypes.Options{Lock: l})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.GetLock().Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if !l.Locked() {
		t.Fatal("get_lock() is not the lock given")
	}
	w.GetLock().Release()
	raw, err := ctypes.NewRawValue(seg, "compat-raw", int32(9), nil)
	if err != nil || raw.Load() != 9 {
		t.Fatalf("RawValue: %v", err)
	}
	if _, err := ctypes.OpenValue[int32](seg, "compat-raw"); !errors.Is(err, ctypes.ErrNoLock) {
		t.Errorf("a locked handle on a raw value: %v; want ErrNoLock", err)
	}
}

// counterArgs is what each incrementing child gets.
type counterArgs struct {
	V *ctypes.Value[int64]
	A *ctypes.Array[int32]
	N int
}

var increment = proc.Func("compat-increment", func(ctx context.Context, a counterArgs) error {
	for range a.N {
		l := a.V.GetLock()
		if err := l.Acquire(ctx); err != nil {
			return err
		}
		a.V.Store(a.V.Load() + 1) // read-modify-write: exact only under the lock
		if err := l.Release(); err != nil {
			return err
		}
		if err := a.A.Update(ctx, func(r *ctypes.RawArray[int32]) error {
			for i := range r.Len() {
				r.Set(i, r.Get(i)+1)
			}
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
})

// TestValueGetLockCounter ports the get_lock() idiom the multiprocessing
// docs and _TestValue rely on ("with v.get_lock(): v.value += 1") across
// processes, and the same for an Array under its lock: the counts are
// exact.
func TestValueGetLockCounter(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	a := counterArgs{V: proc.Value[int64](m, 0), A: proc.Array[int32](m, 4), N: 200}
	var ps []*proc.Process
	for range 4 {
		ps = append(ps, increment.Start(ctx, a))
	}
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	if a.V.Load() != 800 {
		t.Errorf("value %d; want 800", a.V.Load())
	}
	got := make([]int32, 4)
	a.A.CopyTo(got)
	if !slices.Equal(got, []int32{800, 800, 800, 800}) {
		t.Errorf("array %v", got)
	}
}

var cumsum = proc.Func("compat-cumsum", func(ctx context.Context, a *ctypes.Array[int32]) error {
	for i := 1; i < a.Len(); i++ {
		a.Set(i, a.Get(i)+a.Get(i-1))
	}
	return nil
})

// TestArray ports _TestArray.test_array, test_array_from_size,
// test_rawarray and test_getobj_getlock_obj: Array('i', range(10)) is
// summed in place by a child (seq[i] += seq[i-1]); Array('i', size) is
// zeros; slices read the shared memory; an index out of range is an
// IndexError (ErrIndex).
func TestArray(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	seq := []int32{681, -45, 12, 0, 1, 2, 3, 4, 5, 6}
	arr := proc.ArrayFrom(m, seq)
	if arr.Len() != len(seq) || arr.Get(0) != 681 || arr.Get(9) != 6 || arr.Typecode() != 'i' {
		t.Fatalf("Array('i', seq): len %d code %q", arr.Len(), arr.Typecode())
	}
	if err := cumsum.Start(ctx, arr).Join(ctx); err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(seq)
	for i := 1; i < len(want); i++ {
		want[i] += want[i-1]
	}
	got := make([]int32, len(seq))
	arr.CopyTo(got)
	if !slices.Equal(got, want) {
		t.Fatalf("after the child: %v; want %v", got, want)
	}
	sl, err := arr.Slice(2, 5)
	if err != nil || sl.Len() != 3 || sl.Get(0) != want[2] {
		t.Fatalf("arr[2:5]: %v", err)
	}
	if _, err := arr.Slice(5, 11); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("arr[5:11]: %v; want ErrIndex", err)
	}
	zeros := proc.Array[float64](m, 5)
	for i := range zeros.Len() {
		if zeros.Get(i) != 0 {
			t.Fatalf("Array('d', 5)[%d] = %v", i, zeros.Get(i))
		}
	}
	if zeros.Len() != 5 || zeros.GetLock() == nil || zeros.RawArray == nil {
		t.Fatal("Array('d', 5): lock or raw object missing")
	}
	func() {
		defer func() {
			if r := recover(); r == nil {
				t.Error("arr[10] did not fail")
			} else if err, ok := r.(error); !ok || !errors.Is(err, ctypes.ErrIndex) {
				t.Errorf("arr[10]: %v; want ErrIndex", r)
			}
		}()
		arr.Get(10)
	}()
}
