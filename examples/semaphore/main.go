// Command semaphore: 5 users share 2 rooms guarded by a Semaphore(2); a
// shared counter records how many were inside at once (never more than 2).
//
//	go run ./examples/semaphore
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// Args are a user's arguments.
type Args struct {
	I            int
	Rooms        *futex.Semaphore
	Inside, Most *ctypes.Value[int32]
}

var user = proc.Func("user", func(ctx context.Context, a Args) error {
	if err := a.Rooms.Acquire(ctx); err != nil {
		return err
	}
	defer a.Rooms.Release()
	n := a.Inside.Add(1)
	a.Most.Update(ctx, func(m int32) int32 { return max(m, n) })
	fmt.Printf("user %d is in a room\n", a.I)
	time.Sleep(50 * time.Millisecond)
	a.Inside.Add(-1)
	return nil
})

func main() {
	proc.Main()
	ctx := context.Background()
	rooms, inside, most := proc.Semaphore(nil, 2), proc.Value[int32](nil, 0), proc.Value[int32](nil, 0)
	var ps []*proc.Process
	for i := range 5 {
		ps = append(ps, user.Start(ctx, Args{i, rooms, inside, most}))
	}
	proc.JoinAll(ctx, ps...)
	fmt.Printf("at most %d users were in the rooms at once\n", most.Load())
}
