// Command manager: 10 processes write into a shared dict and append to a
// shared list, and one sets a Namespace attribute; the parent prints them.
// It is the Manager().dict() program without a server process: the dict,
// list and namespace are plain shared memory.
//
//	go run ./examples/manager
package main

import (
	"context"
	"fmt"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/proc"
)

// Args are what every child gets.
type Args struct {
	I  int
	D  *dict.TypedMap[int]
	L  *dict.TypedList[int]
	NS *dict.Namespace
}

var f = proc.Func("f", func(ctx context.Context, a Args) error {
	if _, err := a.D.Set(ctx, fmt.Sprintf("k%d", a.I), a.I*a.I); err != nil {
		return err
	}
	if _, err := a.L.Append(ctx, a.I); err != nil {
		return err
	}
	if a.I == 0 {
		return a.NS.Set(ctx, "a", 10)
	}
	return nil
})

func main() {
	proc.Main()
	ctx := context.Background()
	d, l, ns := proc.Dict[int](nil), proc.List[int](nil), proc.Namespace(nil) // nil: the default Manager
	var ps []*proc.Process
	for i := range 10 {
		ps = append(ps, f.Start(ctx, Args{i, d, l, ns}))
	}
	proc.JoinAll(ctx, ps...)
	fmt.Println(d) // map[k0:0 k1:1 ...]
	fmt.Println(l) // in the order the children appended
	fmt.Println(ns)
}
