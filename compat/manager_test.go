package compat_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// containers is what the child of the _TestContainers ports gets.
type containers struct {
	L  *dict.TypedList[int]
	D  *dict.TypedMap[string]
	NS *dict.Namespace
}

var useContainers = proc.Func("compat-containers", func(ctx context.Context, c containers) error {
	if err := c.L.Extend(ctx, []int{10, 11}); err != nil {
		return err
	}
	for _, k := range []string{"A", "B", "C", "D", "E"} {
		if _, err := c.D.Set(ctx, k, k+k); err != nil {
			return err
		}
	}
	if err := c.NS.Set(ctx, "name", "Bob"); err != nil {
		return err
	}
	return c.NS.Set(ctx, "job", "Builder")
})

// TestManagerList ports _TestContainers.test_list: a list made from
// range(10), appended to and extended (by a child process too), indexed
// (negative indices), assigned, popped; IndexError out of range.
func TestManagerList(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	l := proc.List[int](m)
	if err := l.Extend(ctx, upto(10)); err != nil {
		t.Fatal(err)
	}
	if got, _ := l.Copy(); !slices.Equal(got, upto(10)) || l.Len() != 10 {
		t.Fatalf("list(range(10)): %v", got)
	}
	c := containers{L: l, D: proc.Dict[string](m), NS: proc.Namespace(m)}
	if err := useContainers.Start(ctx, c).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ctx, 12); err != nil {
		t.Fatal(err)
	}
	if v, err := l.Get(-1); v != 12 || err != nil {
		t.Fatalf("a[-1]: %d %v", v, err)
	}
	if err := l.Set(ctx, 0, 100); err != nil {
		t.Fatal(err)
	}
	want := append([]int{100}, upto(13)[1:]...)
	if got, _ := l.Copy(); !slices.Equal(got, want) {
		t.Fatalf("list: %v; want %v", got, want)
	}
	if v, err := l.Pop(ctx); v != 12 || err != nil || l.Len() != 12 {
		t.Fatalf("pop: %d %v len %d", v, err, l.Len())
	}
	if _, err := l.Get(12); !errors.Is(err, dict.ErrIndex) {
		t.Errorf("a[12]: %v; want ErrIndex", err)
	}
	empty := proc.List[int](m)
	if _, err := empty.Pop(ctx); !errors.Is(err, dict.ErrIndex) {
		t.Errorf("pop of an empty list: %v; want ErrIndex", err)
	}
}

// TestManagerDict ports _TestContainers.test_dict: items set by a child
// are all there (copy(), keys, values, len), a missing key is a KeyError
// (ErrNotFound), del removes; and test_dict_proxy_nested's lesson as shmkit
// documents it: a value read out is a copy, changed only through Set.
func TestManagerDict(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	d := proc.Dict[string](m)
	c := containers{L: proc.List[int](m), D: d, NS: proc.Namespace(m)}
	if err := useContainers.Start(ctx, c).Join(ctx); err != nil {
		t.Fatal(err)
	}
	items, err := d.Items()
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := d.Len(); n != 5 || len(items) != 5 {
		t.Fatalf("len %d, %d items", n, len(items))
	}
	for _, k := range []string{"A", "B", "C", "D", "E"} {
		if items[k] != k+k {
			t.Errorf("d[%q] = %q", k, items[k])
		}
	}
	if d.String() != "map[A:AA B:BB C:CC D:DD E:EE]" {
		t.Errorf("str(d) = %s", d)
	}
	if _, err := d.Get("Z"); !errors.Is(err, dict.ErrNotFound) {
		t.Errorf("d['Z']: %v; want ErrNotFound", err)
	}
	if ok, err := d.Delete(ctx, "A"); !ok || err != nil {
		t.Fatalf("del d['A']: %v %v", ok, err)
	}
	if _, err := d.Get("A"); !errors.Is(err, dict.ErrNotFound) {
		t.Errorf("d['A'] after del: %v", err)
	}
	nested := proc.Dict[[]int](m)
	nested.Set(ctx, "k", []int{1})
	v, _ := nested.Get("k")
	v[0] = 99 // a copy: the shared value does not change
	if w, _ := nested.Get("k"); !slices.Equal(w, []int{1}) {
		t.Errorf("mutating a value read out changed the dict: %v", w)
	}
}

// TestManagerNamespace ports _TestContainers.test_namespace: attributes set
// in a child are read in the parent, repr lists them sorted, and names
// starting with "_" are not shared (ErrInvalid here; CPython keeps them
// local to the proxy).
func TestManagerNamespace(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	ns := proc.Namespace(m)
	c := containers{L: proc.List[int](m), D: proc.Dict[string](m), NS: ns}
	if err := useContainers.Start(ctx, c).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if v, err := ns.Get("name"); v != "Bob" || err != nil {
		t.Fatalf("n.name: %v %v", v, err)
	}
	if s := ns.String(); s != "Namespace(job=Builder, name=Bob)" {
		t.Errorf("str(n) = %s", s)
	}
	if err := ns.Set(ctx, "_hidden", "hidden"); !errors.Is(err, dict.ErrInvalid) {
		t.Errorf("n._hidden = ...: %v; want ErrInvalid", err)
	}
	if _, err := ns.Get("missing"); !errors.Is(err, dict.ErrNotFound) {
		t.Errorf("n.missing: %v; want ErrNotFound (AttributeError)", err)
	}
	if ok, err := ns.Delete(ctx, "job"); !ok || err != nil {
		t.Fatalf("del n.job: %v %v", ok, err)
	}
	if attrs, _ := ns.Attrs(); len(attrs) != 1 || attrs["name"] != "Bob" {
		t.Errorf("attributes after del: %v", attrs)
	}
}

// dictCounter is what each TestManagerDictCounter child gets.
type dictCounter struct {
	D  *dict.TypedMap[int]
	Mu *futex.Lock
	N  int
}

var bumpDict = proc.Func("compat-bump-dict", func(ctx context.Context, a dictCounter) error {
	for range a.N {
		// The docs' idiom: d[k] += 1 is a get and a set; a Lock makes it exact.
		if err := a.Mu.Acquire(ctx); err != nil {
			return err
		}
		v, err := a.D.Get("locked")
		if err != nil && !errors.Is(err, dict.ErrNotFound) {
			return err
		}
		if _, err := a.D.Set(ctx, "locked", v+1); err != nil {
			return err
		}
		if err := a.Mu.Release(); err != nil {
			return err
		}
		// Without a lock: compare-and-swap on the entry's revision.
		for {
			v, rev, _, err := a.D.Lookup("cas")
			if err != nil {
				return err
			}
			_, ok, err := a.D.CompareAndSwap(ctx, "cas", rev, v+1)
			if err != nil {
				return err
			}
			if ok {
				break
			}
		}
	}
	return nil
})

// TestManagerDictCounter ports the Manager().dict() counter of the
// multiprocessing docs' examples (processes incrementing d[k] under a
// Lock), and its lock-free form with compare-and-swap: 4 processes × 100
// increments give exactly 400 both ways.
func TestManagerDictCounter(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	a := dictCounter{D: proc.Dict[int](m), Mu: proc.Lock(m), N: 100}
	var ps []*proc.Process
	for range 4 {
		ps = append(ps, bumpDict.Start(ctx, a))
	}
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"locked", "cas"} {
		if v, err := a.D.Get(k); v != 400 || err != nil {
			t.Errorf("d[%q] = %d, %v; want 400", k, v, err)
		}
	}
}
