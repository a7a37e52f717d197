// Command barrier: 4 processes meet at a Barrier; no one passes it before
// all 4 are waiting.
//
//	go run ./examples/barrier
package main

import (
	"context"
	"fmt"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// Args are a worker's arguments.
type Args struct {
	B *futex.Barrier
	I int
}

var worker = proc.Func("worker", func(ctx context.Context, a Args) error {
	fmt.Printf("worker %d is waiting\n", a.I)
	if _, err := a.B.Wait(ctx); err != nil {
		return err
	}
	fmt.Printf("worker %d passed the barrier\n", a.I)
	return nil
})

func main() {
	proc.Main()
	ctx, b := context.Background(), proc.Barrier(nil, 4)
	var ps []*proc.Process
	for i := range 4 {
		ps = append(ps, worker.Start(ctx, Args{b, i}))
	}
	proc.JoinAll(ctx, ps...)
}
