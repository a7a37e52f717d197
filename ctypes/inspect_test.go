package ctypes_test

import (
	"errors"
	"fmt"
	"log"
	"math"
	"reflect"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/shm"
)

// lookup is seg.Lookup for tests: a missing name gives the zero entry,
// which Inspect refuses.
func lookup(seg *shm.Segment, name string) shm.ObjectInfo { o, _ := seg.Lookup(name); return o }

func TestInspect(t *testing.T) {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	ctypes.NewRawArrayFrom(seg, "floats", []float64{1.5, math.NaN(), math.Inf(-1), 4}, nil)
	ctypes.NewRawArrayOf(seg, "chars", ctypes.Char, []byte("hello"))
	ctypes.NewValue(seg, "count", int32(-7), nil)
	for _, tc := range []struct {
		name string
		max  int
		want ctypes.State
	}{
		{"floats", -1, ctypes.State{Typecode: 'd', Code: "d", Shape: "array", Len: 4, Values: []any{1.5, "NaN", "-Inf", 4.0}}},
		{"floats", 2, ctypes.State{Typecode: 'd', Code: "d", Shape: "array", Len: 4, Values: []any{1.5, "NaN"}}},
		{"chars", 3, ctypes.State{Typecode: 'c', Code: "c", Shape: "array", Len: 5, Values: []any{uint8('h'), uint8('e'), uint8('l')}, Text: "hel"}},
		{"count", -1, ctypes.State{Typecode: 'i', Code: "i", Shape: "value", Len: 1, Lock: "count.lock", Values: []any{int32(-7)}}},
	} {
		got, err := ctypes.Inspect(seg, lookup(seg, tc.name), tc.max)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Inspect(%s, %d) = %+v, %v; want %+v", tc.name, tc.max, got, err, tc.want)
		}
	}

	// A header no Open would accept is ErrCorrupt.
	o := lookup(seg, "floats")
	obj, err := seg.OpenObject("floats", o.Kind, o.Version)
	if err != nil {
		t.Fatal(err)
	}
	obj.Bytes()[0] = 'Z' // typecode
	if _, err := ctypes.Inspect(seg, o, -1); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("scribbled typecode: %v; want ErrCorrupt", err)
	}
	obj.Bytes()[0] = 'd'
	obj.Bytes()[8] = 200 // length beyond the payload
	if _, err := ctypes.Inspect(seg, o, -1); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("scribbled length: %v; want ErrCorrupt", err)
	}
	seg.CreateObject("other", shm.MakeKind("OTHR"), 1<<16, 64, nil)
	if _, err := ctypes.Inspect(seg, lookup(seg, "other"), -1); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Errorf("another kind: %v; want ErrTypeMismatch", err)
	}
}

func ExampleInspect() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	if _, err := ctypes.NewArrayFrom(seg, "samples", []float64{0.5, 1.5, 2.5, 3.5}, nil); err != nil {
		log.Fatal(err)
	}
	for _, o := range seg.Objects() {
		if o.Kind != ctypes.Kind {
			continue // its lock, an RLock
		}
		st, err := ctypes.Inspect(seg, o, 2)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s %s of %d, lock %q, first %v\n", o.Name, st.Code, st.Shape, st.Len, st.Lock, st.Values)
	}
	// Output:
	// samples: d array of 4, lock "samples.lock", first [0.5 1.5]
}
