package dict_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/shmkit/shmkit/dict"
)

// TestString prints a typed map, a typed list and a namespace as their
// CPython proxies print: the contents.
func TestString(t *testing.T) {
	ctx := context.Background()
	seg, _ := newSegment(t, 1<<20)
	m, err := dict.NewMap(seg, "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	tm := dict.NewTypedMap[int](m, nil)
	for _, k := range []string{"b", "a", "c"} {
		if _, err := tm.Set(ctx, k, len(k)+int(k[0]-'a')); err != nil {
			t.Fatal(err)
		}
	}
	l, err := dict.NewList(seg, "l", nil)
	if err != nil {
		t.Fatal(err)
	}
	tl := dict.NewTypedList[string](l, nil)
	for _, s := range []string{"x", "y"} {
		if _, err := tl.Append(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	ns, err := dict.NewNamespace(seg, "ns", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ns.Set(ctx, "b", "two"); err != nil {
		t.Fatal(err)
	}
	if err := ns.Set(ctx, "a", 10); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		v    fmt.Stringer
		want string
	}{
		{tm, "map[a:1 b:2 c:3]"},
		{tl, "[x y]"},
		{ns, "Namespace(a=10, b=two)"},
	} {
		if got := fmt.Sprint(c.v); got != c.want {
			t.Errorf("fmt.Sprint(%T) = %q; want %q", c.v, got, c.want)
		}
	}
}
