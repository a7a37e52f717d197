// Command futures submits 5 tasks of random duration and prints them as
// they complete, then maps with the results in order. With -threads the
// same program runs on goroutines in this process (ThreadPoolExecutor):
// one option changes.
//
//	go run ./examples/futures [-threads]
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shmkit/shmkit/proc"
)

var work = proc.Task("work", func(ctx context.Context, n int) (int, error) {
	time.Sleep(rand.N(100 * time.Millisecond))
	return n * n, nil
})

func main() {
	proc.Main()
	threads := flag.Bool("threads", false, "run the tasks on goroutines")
	flag.Parse()
	ctx := context.Background()
	ex := proc.Must(proc.NewPool(5, &proc.PoolOptions{InProcess: *threads})) // the one option that changes
	defer ex.Terminate()
	var fs []*proc.Future[int]
	for n := range 5 {
		fs = append(fs, work.Submit(ex, n))
	}
	for f := range proc.AsCompleted(ctx, fs) {
		r, _ := f.Result(ctx)
		fmt.Println("completed", r)
	}
	rs, err := work.Map(ctx, ex, []int{0, 1, 2, 3, 4})
	fmt.Println(rs, err)
}
