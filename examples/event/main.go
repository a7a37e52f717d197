// Command event: one child waits for an Event without a timeout, another
// with a 100 ms timeout that expires; then the parent sets the event and
// the first waiter goes on.
//
//	go run ./examples/event
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

var blocking = proc.Func("blocking", func(ctx context.Context, e *futex.Event) error {
	_, err := e.Wait(ctx)
	fmt.Println("blocking waiter: the event is set")
	return err
})

var withTimeout = proc.Func("timeout", func(ctx context.Context, e *futex.Event) error {
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	set, _ := e.Wait(ctx)
	fmt.Println("timeout waiter: Wait(100ms) returned", set)
	return nil
})

func main() {
	proc.Main()
	ctx := context.Background()
	e := proc.Event(nil)
	b, t := blocking.Start(ctx, e), withTimeout.Start(ctx, e)
	t.Join(ctx)
	fmt.Println("main: setting the event")
	e.Set()
	b.Join(ctx)
}
