package dict_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/shmkit/shmkit/dict"
)

func TestGeometryMatchesDoc(t *testing.T) {
	b, s, w := dict.Geometry(64, 8, 64, 256)
	if b != fzBuckets || s != fzSlots || w != fzSlotWords {
		t.Fatalf("default geometry: buckets at word %d, slots at %d, %d words a slot; the fuzz seeds assume %d, %d, %d",
			b, s, w, fzBuckets, fzSlots, fzSlotWords)
	}
}

func TestWordCopies(t *testing.T) {
	if err := dict.CheckWordCopies(); err != nil {
		t.Fatal(err)
	}
}

func TestList(t *testing.T) {
	seg, _ := newSegment(t, 8<<20)
	l, err := dict.NewList(seg, "l", &dict.Options{Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Pop(bg); !errors.Is(err, dict.ErrIndex) {
		t.Fatalf("Pop of an empty list: %v; want ErrIndex", err)
	}
	var items [][]byte
	for i := 0; i < 300; i++ {
		items = append(items, []byte(fmt.Sprint(i)))
	}
	if err := l.Extend(bg, items); err != nil || l.Len() != 300 {
		t.Fatalf("Extend: Len %d, %v; want 300", l.Len(), err)
	}
	if i, err := l.Append(bg, []byte("last")); err != nil || i != 300 {
		t.Fatalf("Append = %d, %v; want 300", i, err)
	}
	tests := []struct {
		i    int
		want string
	}{{0, "0"}, {299, "299"}, {-1, "last"}, {-301, "0"}}
	for _, tt := range tests {
		if v, err := l.Get(tt.i); err != nil || string(v) != tt.want {
			t.Errorf("Get(%d) = %q, %v; want %q", tt.i, v, err, tt.want)
		}
	}
	for _, i := range []int{301, -302} {
		if _, err := l.Get(i); !errors.Is(err, dict.ErrIndex) {
			t.Errorf("Get(%d): %v; want ErrIndex", i, err)
		}
	}
	if err := l.Set(bg, 5, []byte("five")); err != nil {
		t.Fatal(err)
	}
	if v, err := l.Pop(bg); err != nil || string(v) != "last" || l.Len() != 300 {
		t.Fatalf("Pop = %q, %v, Len %d; want last, nil, 300", v, err, l.Len())
	}
	got, err := l.Copy()
	if err != nil || len(got) != 300 || string(got[5]) != "five" || string(got[299]) != "299" {
		t.Fatalf("Copy: %d items, [5]=%q, err %v", len(got), got[5], err)
	}
}

func TestNamespace(t *testing.T) {
	seg, _ := newSegment(t, 8<<20)
	n, err := dict.NewNamespace(seg, "n", nil)
	if err != nil {
		t.Fatal(err)
	}
	values := []any{10, int8(-3), uint16(7), 2.5, float32(1.5), true, "text", []byte("raw")}
	for i, v := range values {
		if err := n.Set(bg, fmt.Sprint("a", i), v); err != nil {
			t.Fatalf("Set(%T): %v", v, err)
		}
	}
	for i, v := range values {
		got, err := n.Get(fmt.Sprint("a", i))
		if err != nil || fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", v, v) {
			t.Errorf("Get(a%d) = %T %v, %v; want %T %v", i, got, got, err, v, v)
		}
	}
	for _, bad := range []string{"", "_private"} {
		if err := n.Set(bg, bad, 1); !errors.Is(err, dict.ErrInvalid) {
			t.Errorf("Set(%q): %v; want ErrInvalid", bad, err)
		}
	}
	if err := n.Set(bg, "m", map[string]int{}); !errors.Is(err, dict.ErrInvalid) {
		t.Errorf("Set of a map value: %v; want ErrInvalid", err)
	}
	if _, err := n.Get("missing"); !errors.Is(err, dict.ErrNotFound) {
		t.Errorf("Get(missing): %v; want ErrNotFound", err)
	}
	attrs, err := n.Attrs()
	if err != nil || len(attrs) != len(values) {
		t.Errorf("Attrs: %d, %v; want %d", len(attrs), err, len(values))
	}
	type rec struct {
		A0    int
		Name  string
		Ratio float64
		skip  int
	}
	s, err := dict.NewStruct[rec](n)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store(bg, rec{A0: 4, Name: "x", Ratio: 0.5, skip: 9}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Load(); err != nil || got != (rec{A0: 4, Name: "x", Ratio: 0.5}) {
		t.Errorf("Load = %+v, %v", got, err)
	}
	type wrong struct{ Name int }
	w, _ := dict.NewStruct[wrong](n)
	if _, err := w.Load(); !errors.Is(err, dict.ErrInvalid) {
		t.Errorf("Load of a string attribute into an int field: %v; want ErrInvalid", err)
	}
	if _, err := dict.NewStruct[struct{ C chan int }](n); !errors.Is(err, dict.ErrInvalid) {
		t.Errorf("NewStruct with a chan field: %v; want ErrInvalid", err)
	}
}
