package dict

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// String formats the map's items as fmt formats a Go map, keys sorted
// (map[a:1 b:2]), the way printing a Manager().dict() proxy shows its
// contents; a map that cannot be read shows the error instead.
func (t *TypedMap[V]) String() string {
	items, err := t.Items()
	if err != nil {
		return fmt.Sprintf("dict.TypedMap(%v)", err)
	}
	return fmt.Sprint(items)
}

// String formats the list's elements as fmt formats a slice ([1 2 3]), the
// way printing a Manager().list() proxy shows its contents; a list that
// cannot be read shows the error instead.
func (t *TypedList[V]) String() string {
	vs, err := t.Copy()
	if err != nil {
		return fmt.Sprintf("dict.TypedList(%v)", err)
	}
	return fmt.Sprint(vs)
}

// String formats the namespace as CPython's repr of a Namespace does,
// attributes sorted by name: Namespace(a=10, b=x).
func (n *Namespace) String() string {
	attrs, err := n.Attrs()
	if err != nil {
		return fmt.Sprintf("Namespace(%v)", err)
	}
	var b strings.Builder
	b.WriteString("Namespace(")
	for i, k := range slices.Sorted(maps.Keys(attrs)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%v", k, attrs[k])
	}
	b.WriteString(")")
	return b.String()
}
