// Command queue-and-lock is the README's example: two processes share a
// queue of jobs, a lock and a total. The parent starts a worker and feeds
// it jobs; the worker adds each job to the total under the lock (a
// read-modify-write that only the lock keeps exact).
//
//	go run ./examples/queue-and-lock
package main

import (
	"context"
	"fmt"
	"log"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// Shared is what the worker gets, already open in its process.
type Shared struct {
	Jobs  *ring.TypedQueue[int]
	Lock  *futex.Lock
	Total *ctypes.Value[int64]
}

// worker runs in the child: registered by name, started by the parent.
var worker = proc.Func("worker", func(ctx context.Context, s Shared) error {
	for n := 0; ; n++ {
		job, err := s.Jobs.Get(ctx)
		if err != nil || job < 0 {
			fmt.Printf("worker: did %d jobs\n", n)
			return err
		}
		s.Lock.Acquire(ctx)
		s.Total.Store(s.Total.Load() + int64(job))
		s.Lock.Release()
	}
})

func main() {
	proc.Main() // in the child: runs worker and exits
	ctx, s := context.Background(), Shared{proc.Queue[int](nil), proc.Lock(nil), proc.Value[int64](nil, 0)}
	p := worker.Start(ctx, s)
	for job := 1; job <= 10; job++ {
		s.Jobs.Put(ctx, job)
	}
	s.Jobs.Put(ctx, -1) // no more jobs
	if err := p.Join(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("parent: total = %d\n", s.Total.Load())
}
