// Command condition: stage 2 waits on a Condition until stage 1 has run,
// whichever child the scheduler runs first.
//
//	go run ./examples/condition
package main

import (
	"context"
	"fmt"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// Args are what both stages share.
type Args struct {
	Cond  *futex.Condition
	Stage *ctypes.Value[int32]
}

var stage1 = proc.Func("stage1", func(ctx context.Context, a Args) error {
	if err := a.Cond.Acquire(ctx); err != nil {
		return err
	}
	defer a.Cond.Release()
	fmt.Println("stage 1 done")
	a.Stage.Store(1)
	return a.Cond.NotifyAll()
})

var stage2 = proc.Func("stage2", func(ctx context.Context, a Args) error {
	if err := a.Cond.Acquire(ctx); err != nil {
		return err
	}
	defer a.Cond.Release()
	if _, err := a.Cond.WaitFor(ctx, func() bool { return a.Stage.Load() >= 1 }); err != nil {
		return err
	}
	fmt.Println("stage 2 done")
	return nil
})

func main() {
	proc.Main()
	ctx := context.Background()
	a := Args{proc.Condition(nil, nil), proc.Value[int32](nil, 0)}
	s2, s1 := stage2.Start(ctx, a), stage1.Start(ctx, a)
	s1.Join(ctx)
	s2.Join(ctx)
}
