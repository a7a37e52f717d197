// Command queue: three children put a message each on a Queue and the
// parent gets them all; then a bounded Queue(3) refuses a fourth Put at its
// timeout, and a Get on the empty queue times out.
//
//	go run ./examples/queue
package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// Args are a child's arguments: the shared queue and its number.
type Args struct {
	Q *ring.TypedQueue[string]
	I int
}

var child = proc.Func("child", func(ctx context.Context, a Args) error {
	return a.Q.Put(ctx, fmt.Sprintf("message from child %d", a.I))
})

func main() {
	proc.Main()
	ctx := context.Background()
	q := proc.Queue[string](nil)
	for i := range 3 {
		child.Start(ctx, Args{q, i})
	}
	for range 3 {
		msg, _ := q.Get(ctx)
		fmt.Println(msg)
	}
	b, _ := proc.NewQueue[int](nil, &ring.QueueOptions{MaxSize: 3})
	for i := range 3 {
		b.Put(ctx, i)
	}
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := b.Put(tctx, 3); errors.Is(err, context.DeadlineExceeded) { // queue.Full
		fmt.Println("put timed out: the queue holds 3")
	}
	var got []int
	for range 3 {
		v, _ := b.Get(ctx)
		got = append(got, v)
	}
	fmt.Println(got)
	tctx, cancel = context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := b.Get(tctx); errors.Is(err, context.DeadlineExceeded) { // queue.Empty
		fmt.Println("get timed out: the queue is empty")
	}
}
