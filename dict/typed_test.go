package dict_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/ring"
)

func TestTypedViews(t *testing.T) {
	seg, _ := newSegment(t, 8<<20)
	m, err := dict.NewMap(seg, "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	type point struct{ X, Y int32 }
	pts := dict.NewTypedMap[point](m, nil)
	if _, ok := pts.Codec.(*ring.Plain[point]); !ok {
		t.Errorf("default codec for a plain struct: %T; want *ring.Plain", pts.Codec)
	}
	rev, err := pts.Set(bg, "a", point{1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if _, stored, _ := pts.SetIfAbsent(bg, "a", point{9, 9}); stored {
		t.Errorf("SetIfAbsent stored over a present key")
	}
	if _, ok, _ := pts.CompareAndSwap(bg, "a", rev, point{3, 4}); !ok {
		t.Errorf("CompareAndSwap with the current revision failed")
	}
	if p, err := pts.Get("a"); err != nil || p != (point{3, 4}) {
		t.Errorf("Get = %v, %v; want {3 4}", p, err)
	}
	if _, err := pts.Get("missing"); !errors.Is(err, dict.ErrNotFound) {
		t.Errorf("Get(missing): %v; want ErrNotFound", err)
	}
	items, err := pts.Items()
	if err != nil || len(items) != 1 || items["a"] != (point{3, 4}) {
		t.Errorf("Items = %v, %v", items, err)
	}

	names := dict.NewTypedMap[[]string](m, nil) // not plain: gob
	if _, err := names.Set(bg, "n", []string{"x", "y"}); err != nil {
		t.Fatal(err)
	}
	if v, err := names.Get("n"); err != nil || fmt.Sprint(v) != "[x y]" {
		t.Errorf("gob Get = %v, %v", v, err)
	}

	l, err := dict.NewList(seg, "l", nil)
	if err != nil {
		t.Fatal(err)
	}
	tl := dict.NewTypedList[float64](l, nil)
	if err := tl.Extend(bg, []float64{0.5, 1.5, 2.5}); err != nil {
		t.Fatal(err)
	}
	if _, err := tl.Append(bg, 3.5); err != nil {
		t.Fatal(err)
	}
	if v, err := tl.Pop(bg); err != nil || v != 3.5 {
		t.Errorf("Pop = %v, %v; want 3.5", v, err)
	}
	if err := tl.Set(bg, -1, 9); err != nil {
		t.Fatal(err)
	}
	got, err := tl.Copy()
	if err != nil || fmt.Sprint(got) != "[0.5 1.5 9]" || tl.Len() != 3 {
		t.Errorf("Copy = %v, %v, Len %d; want [0.5 1.5 9], 3", got, err, tl.Len())
	}
	if v, err := tl.Get(0); err != nil || v != 0.5 {
		t.Errorf("Get(0) = %v, %v", v, err)
	}
}
