// Command producer-consumer: two producers and two daemon consumers share a
// JoinableQueue; the parent joins the producers, then the queue (every item
// marked done), and exits; the consumers die with it.
//
//	go run ./examples/producer-consumer
package main

import (
	"context"
	"fmt"

	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// Args are a producer's or consumer's arguments.
type Args struct {
	Q    *ring.TypedJoinableQueue[string]
	Name string
}

var producer = proc.Func("producer", func(ctx context.Context, a Args) error {
	for i := range 5 {
		if err := a.Q.Put(ctx, fmt.Sprintf("%s-%d", a.Name, i)); err != nil {
			return err
		}
	}
	return nil
})

var consumer = proc.Func("consumer", func(ctx context.Context, a Args) error {
	for {
		item, err := a.Q.Get(ctx)
		if err != nil {
			return err
		}
		fmt.Printf("%s consumed %s\n", a.Name, item)
		a.Q.TaskDone()
	}
})

func main() {
	proc.Main()
	ctx := context.Background()
	q := proc.JoinableQueue[string](nil)
	for _, c := range []string{"c1", "c2"} {
		consumer.New(Args{q, c}, &proc.Options{Daemon: true}).Start()
	}
	var ps []*proc.Process
	for _, p := range []string{"p1", "p2"} {
		ps = append(ps, producer.Start(ctx, Args{q, p}))
	}
	proc.JoinAll(ctx, ps...)
	q.Join(ctx)
	fmt.Println("all 10 items done; the daemon consumers die with the parent")
}
