// Command pool: Pool(5) maps x*x over 0..9, runs 10 ApplyAsync tasks with a
// callback, and shows a Get whose timeout expires; then Close and Join.
//
//	go run ./examples/pool
package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/shmkit/shmkit/proc"
)

var square = proc.Task("square", func(ctx context.Context, x int) (int, error) { return x * x, nil })

var nap = proc.Task("nap", func(ctx context.Context, x int) (int, error) {
	time.Sleep(time.Second)
	return x, nil
})

func main() {
	proc.Main()
	ctx := context.Background()
	pool := proc.Must(proc.NewPool(5, nil))
	squares, err := square.Map(ctx, pool, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	fmt.Println(squares, err)
	var rs []*proc.AsyncResult[int]
	for i := range 10 {
		rs = append(rs, square.ApplyAsync(pool, i))
		rs[i].OnSuccess(func(v int) { fmt.Println("callback got", v) })
	}
	var got []int
	for _, r := range rs {
		v, _ := r.Get(ctx)
		got = append(got, v)
	}
	fmt.Println(slices.Sorted(slices.Values(got)))
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, err := nap.ApplyAsync(pool, 1).Get(tctx); errors.Is(err, context.DeadlineExceeded) {
		fmt.Println("get timed out")
	}
	pool.Close()
	pool.Join(ctx)
}
