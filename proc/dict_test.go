package proc_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/proc"
)

// Shelf is what TestDictListNamespace passes: Manager().dict(), list()
// and Namespace() of CPython.
type Shelf struct {
	D  *dict.TypedMap[int]
	L  *dict.TypedList[string]
	NS *dict.Namespace
	I  int
}

var fillShelf = proc.Func("fill-shelf", func(ctx context.Context, s Shelf) error {
	if _, err := s.D.Set(ctx, fmt.Sprint("k", s.I), s.I*s.I); err != nil {
		return err
	}
	if _, err := s.L.Append(ctx, fmt.Sprint("item", s.I)); err != nil {
		return err
	}
	return s.NS.Set(ctx, fmt.Sprint("attr", s.I), int64(s.I))
})

// TestDictListNamespace passes a shared dict, list and namespace to 5
// children; each one's writes are all there.
func TestDictListNamespace(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	s := Shelf{D: proc.Dict[int](m), L: proc.List[string](m), NS: proc.Namespace(m)}
	var ps []*proc.Process
	for i := range 5 {
		s.I = i
		ps = append(ps, fillShelf.Start(ctx, s))
	}
	for _, p := range ps {
		if err := p.Join(ctx); err != nil {
			t.Fatal(err)
		}
	}
	items, err := s.L.Copy()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(items)
	if want := []string{"item0", "item1", "item2", "item3", "item4"}; !slices.Equal(items, want) {
		t.Errorf("list: got %q; want %q", items, want)
	}
	for i := range 5 {
		if v, err := s.D.Get(fmt.Sprint("k", i)); err != nil || v != i*i {
			t.Errorf("dict[k%d]: got %d, %v; want %d", i, v, err, i*i)
		}
		if v, err := s.NS.Get(fmt.Sprint("attr", i)); err != nil || v != int64(i) {
			t.Errorf("namespace.attr%d: got %v, %v; want %d", i, v, err, i)
		}
	}
}
