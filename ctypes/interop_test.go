package ctypes_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os/exec"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/shm"
)

// interopEntry tells testdata/interop.py what to expect of one object:
// the script finds it by name through shm's directory, and checks that
// element 0 is where Off (the Go side's Offset) says.
type interopEntry struct {
	Name   string `json:"name"`
	Code   string `json:"code"`
	Shape  string `json:"shape"` // "A" array, "V" value
	Lock   string `json:"lock"`  // the lock's name, "" for a raw object
	Off    int    `json:"off"`
	Values []any  `json:"values"`
}

// interopArray creates an array of T from vals (with its default lock if
// locked) and describes it for the script, with the values as Python will
// read them.
func interopArray[T ctypes.Scalar](t *testing.T, seg *shm.Segment, code ctypes.Typecode, locked bool, vals []T) (interopEntry, func() error) {
	t.Helper()
	name := "arr-" + code.String()
	var a *ctypes.RawArray[T]
	e := interopEntry{Name: name, Code: code.String(), Shape: "A"}
	if locked {
		la, err := ctypes.NewArrayFrom(seg, name, vals, &ctypes.Options{Typecode: code})
		if err != nil {
			t.Fatal(err)
		}
		a, e.Lock = la.RawArray, la.GetLock().Name()
	} else {
		ra, err := ctypes.NewRawArrayFrom(seg, name, vals, &ctypes.RawOptions{Typecode: code})
		if err != nil {
			t.Fatal(err)
		}
		a = ra
	}
	e.Off = a.Offset()
	for _, v := range vals {
		if f, ok := any(v).(float32); ok {
			e.Values = append(e.Values, float64(f)) // as Python reads it
		} else {
			e.Values = append(e.Values, v)
		}
	}
	check := func() error {
		for i, v := range vals {
			var want T
			switch any(v).(type) {
			case float32, float64:
				want = -v
			default:
				want = fromBits[T](toBits(v) ^ 1)
			}
			if got := a.Get(i); got != want {
				return fmt.Errorf("%v[%d] = %v; want %v", code, i, got, want)
			}
		}
		return nil
	}
	return e, check
}

func toBits[T ctypes.Scalar](v T) uint64 { return uint64(v) }

func fromBits[T ctypes.Scalar](b uint64) T { return T(b) }

// TestPythonInterop has CPython follow the recipe of doc.go ("Reading from
// Python"), with the segment in /dev/shm (attached through
// multiprocessing.shared_memory) and in a SHMKIT_DIR (mapped with mmap):
// check the segment header, find an array of every typecode (raw and
// locked) and a locked value by name in the directory, past a failed entry
// of the same name, at the offsets the docs give, check their headers, lock
// words and values, and write new values that Go then checks.
func TestPythonInterop(t *testing.T) {
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not found in PATH; the Python interoperability test needs it")
	}
	t.Run("dir=/dev/shm", func(t *testing.T) { pythonInterop(t, py) })
	t.Run("dir=SHMKIT_DIR", func(t *testing.T) {
		t.Setenv("SHMKIT_DIR", t.TempDir())
		pythonInterop(t, py)
	})
}

func pythonInterop(t *testing.T, py string) {
	seg, name := newSegment(t, 1<<20)
	// A creation of "num" that failed leaves a failed directory entry with
	// that name before the real one: a reader must skip it by its state.
	if _, err := seg.CreateObject("num", shm.MakeKind("CTYP"), 1<<16, 64, func([]byte) error { return errors.New("init fails") }); err == nil {
		t.Fatal("CreateObject with a failing init succeeded")
	}
	var spec []interopEntry
	var checks []func() error
	add := func(e interopEntry, c func() error) {
		spec = append(spec, e)
		checks = append(checks, c)
	}
	add(interopArray(t, seg, 'b', false, []int8{math.MinInt8, -1, 0, 1, math.MaxInt8}))
	add(interopArray(t, seg, 'B', false, []uint8{0, 1, 0x80, math.MaxUint8}))
	add(interopArray(t, seg, 'c', false, []uint8{'a', 'z', 0, 0xff}))
	add(interopArray(t, seg, 'h', false, []int16{math.MinInt16, -2, 3, math.MaxInt16}))
	add(interopArray(t, seg, 'H', true, []uint16{0, 7, math.MaxUint16}))
	add(interopArray(t, seg, 'i', true, []int32{math.MinInt32, -5, 6, math.MaxInt32}))
	add(interopArray(t, seg, 'I', false, []uint32{0, 9, math.MaxUint32}))
	add(interopArray(t, seg, 'u', false, []int32{'A', 'é', '€', 0x1F600}))
	add(interopArray(t, seg, 'l', false, []int64{math.MinInt64, -7, 8, math.MaxInt64}))
	add(interopArray(t, seg, 'L', false, []uint64{0, 11, math.MaxUint64}))
	add(interopArray(t, seg, 'q', false, []int64{math.MinInt64, -12, 13, math.MaxInt64}))
	add(interopArray(t, seg, 'Q', false, []uint64{0, 1 << 63, math.MaxUint64}))
	add(interopArray(t, seg, 'f', false, []float32{0.5, -1.25, math.MaxFloat32, math.SmallestNonzeroFloat32}))
	add(interopArray(t, seg, 'd', true, []float64{math.Pi, -2.5, math.MaxFloat64, math.SmallestNonzeroFloat64}))
	v, err := ctypes.NewValue(seg, "num", 3.14, nil)
	if err != nil {
		t.Fatal(err)
	}
	spec = append(spec, interopEntry{Name: "num", Code: "d", Shape: "V", Lock: "num.lock", Off: v.Offset(), Values: []any{3.14}})
	checks = append(checks, func() error {
		if got := v.Load(); got != -3.14 {
			return fmt.Errorf("value = %v; want -3.14", got)
		}
		return nil
	})

	js, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(py, "testdata/interop.py", name, string(js)).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 testdata/interop.py: %v\n%s", err, out)
	}
	if got, want := strings.TrimSpace(string(out)), fmt.Sprintf("ok %d", len(spec)); got != want {
		t.Fatalf("python output %q; want %q", got, want)
	}
	for _, c := range checks {
		if err := c(); err != nil {
			t.Error(err)
		}
	}
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatalf("segment unusable after Python detached: %v", err)
	}
	s2.Close()
}
