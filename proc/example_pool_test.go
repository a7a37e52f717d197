package proc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/shmkit/shmkit/proc"
)

// Tasks are registered at package level, so that the worker processes (this
// binary, re-executed) know them too.
var (
	square = proc.Task("example.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	// quit ends its worker process with exit status 3 when x is 0.
	quit = proc.Task("example.quit", func(_ context.Context, x int) (int, error) {
		if x == 0 {
			os.Exit(3)
		}
		return x, nil
	})
)

// The port of multiprocessing's first example:
//
//	with Pool(5) as p:
//	    print(p.map(f, range(10)))
func Example_pool() {
	p, err := proc.NewPool(5, nil)
	if err != nil {
		panic(err)
	}
	defer p.Terminate()
	xs := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	fmt.Println(square.Map(context.Background(), p, xs))
	// Output: [0 1 4 9 16 25 36 49 64 81] <nil>
}

// The same pool on goroutines (multiprocessing.dummy, ThreadPoolExecutor):
// one option switches it.
func ExamplePoolOptions_inProcess() {
	p, err := proc.NewPool(4, &proc.PoolOptions{InProcess: true})
	if err != nil {
		panic(err)
	}
	defer p.Terminate()
	fmt.Println(square.Apply(context.Background(), p, 7))
	// Output: 49 <nil>
}

// Imap yields results in order while it is still feeding the workers.
func ExampleTaskFunc_Imap() {
	p, err := proc.NewPool(2, nil)
	if err != nil {
		panic(err)
	}
	defer p.Terminate()
	ctx := context.Background()
	for v, err := range square.Imap(ctx, p, slices.Values([]int{1, 2, 3})) {
		fmt.Println(v, err)
	}
	// Output:
	// 1 <nil>
	// 4 <nil>
	// 9 <nil>
}

// ApplyAsync returns at once; callbacks run when the result arrives.
func ExampleTaskFunc_ApplyAsync() {
	p, err := proc.NewPool(2, nil)
	if err != nil {
		panic(err)
	}
	defer p.Terminate()
	r := square.ApplyAsync(p, 12)
	done := make(chan int, 1)
	r.OnSuccess(func(v int) { done <- v })
	fmt.Println(<-done)
	// As in CPython, the callback runs before the result is ready: wait
	// for it before asking whether the call succeeded.
	if err := r.Wait(context.Background()); err != nil {
		panic(err)
	}
	fmt.Println(r.Successful())
	// Output:
	// 144
	// true <nil>
}

// The futures shape: Submit, then AsCompleted.
func ExampleAsCompleted() {
	p, err := proc.NewPool(2, nil)
	if err != nil {
		panic(err)
	}
	defer p.Terminate()
	ctx := context.Background()
	var fs []*proc.Future[int]
	for i := range 4 {
		fs = append(fs, square.Submit(p, i))
	}
	var got []int
	for f, err := range proc.AsCompleted(ctx, fs) {
		if err != nil {
			panic(err)
		}
		v, _ := f.Result(ctx)
		got = append(got, v)
	}
	slices.Sort(got)
	fmt.Println(got)
	// Output: [0 1 4 9]
}

// Wait returns when the first future fails.
func ExampleWait() {
	p, err := proc.NewPool(2, nil)
	if err != nil {
		panic(err)
	}
	defer p.Terminate()
	ctx := context.Background()
	fs := []*proc.Future[int]{quit.Submit(p, 0), square.Submit(p, 5)}
	done, _, err := proc.Wait(ctx, fs, proc.FirstException)
	fmt.Println(len(done) >= 1, err)
	// Output: true <nil>
}

// A worker that dies fails only the task it was running, with its exit
// status; the pool replaces it and goes on. Close and Join end the pool.
func ExampleWorkerError() {
	p, err := proc.NewPool(2, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	_, err = quit.Apply(ctx, p, 0)
	var we *proc.WorkerError
	fmt.Println(errors.Is(err, proc.ErrWorkerDied), errors.As(err, &we) && we.ExitCode == 3)
	fmt.Println(square.Map(ctx, p, []int{1, 2, 3}))
	p.Close()
	fmt.Println(p.Join(ctx))
	// Output:
	// true true
	// [1 4 9] <nil>
	// <nil>
}
