package ctypes_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
)

// indexPanic runs f and returns the error it panicked with (nil if it
// returned normally).
func indexPanic(f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			var ok bool
			if err, ok = r.(error); !ok {
				err = fmt.Errorf("panic with a %T: %v", r, r)
			}
		}
	}()
	f()
	return nil
}

// TestIndexOutOfRangePanics: an element index outside the array is a
// programming error, as for a Go slice: every element accessor panics with
// an error wrapping ErrIndex that names the array, the index and the
// length, and returns no error for it.
func TestIndexOutOfRangePanics(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ctypes.NewArray[int64](seg, "arr", 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	any3, err := ctypes.NewRawArrayOf(seg, "any", 'i', 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"Get(3)", func() { a.Get(3) }},
		{"Get(-1)", func() { a.Get(-1) }},
		{"Set", func() { a.Set(3, 1) }},
		{"Add", func() { a.Add(3, 1) }},
		{"Swap", func() { a.Swap(-1, 1) }},
		{"CompareAndSwap", func() { a.CompareAndSwap(3, 0, 1) }},
		{"AnyArray.Get", func() { any3.Get(3) }},
		{"AnyArray.Set", func() { any3.Set(-1, 0) }},
		{"AnyArray.Add", func() { any3.Add(3, 1) }},
		{"AnyArray.Float64", func() { any3.Float64(3) }},
		{"AnyArray.Int64", func() { any3.Int64(-1) }},
	} {
		err := indexPanic(tc.f)
		if !errors.Is(err, ctypes.ErrIndex) {
			t.Errorf("%s: panic %v; want one wrapping ErrIndex", tc.name, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, `"`) || !strings.Contains(msg, "with length 3") || strings.Count(msg, "ctypes:") != 1 {
			t.Errorf("%s: panic text %q; want one ctypes: prefix, the array's name and length", tc.name, msg)
		}
	}
	// In range: no panic, values as stored.
	a.Set(2, 7)
	if got := a.Add(2, 1); got != 8 || a.Get(2) != 8 {
		t.Errorf("Add(2, 1) = %d, Get(2) = %d; want 8, 8", got, a.Get(2))
	}
}
