// Command crash shows the two things Python's multiprocessing cannot do.
//
// A child is SIGKILLed half-way through a transfer between two accounts,
// holding the lock: the parent's Acquire gets the lock with ErrOwnerDead
// (CPython's waiters would hang for ever), repairs the books, marks the
// lock Consistent and carries on.
//
// A Pool worker is killed while running a task: that one task fails with
// ErrWorkerDied, the worker is replaced, and every other task completes
// (CPython's Pool hangs; ProcessPoolExecutor breaks the whole pool).
//
//	go run ./examples/crash
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"syscall"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// Bank holds two accounts whose sum is always 100 when the lock is free.
type Bank struct {
	Mu   *futex.Lock
	A, B *ctypes.Value[int64]
	Half *futex.Event // set once the transfer is half done
}

// transfer moves 30 from A to B under the lock, and dies half-way.
var transfer = proc.Func("transfer", func(ctx context.Context, b Bank) error {
	if err := b.Mu.Acquire(ctx); err != nil {
		return err
	}
	b.A.Add(-30)
	b.Half.Set()
	select {} // the parent kills us here: the lock is held, B not credited
})

// risky squares its argument, and kills its own worker process for 7.
var risky = proc.Task("risky", func(ctx context.Context, x int) (int, error) {
	if x == 7 {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	}
	return x * x, nil
})

func main() {
	proc.Main()
	ctx := context.Background()
	b := Bank{proc.Lock(nil), proc.Value[int64](nil, 100), proc.Value[int64](nil, 0), proc.Event(nil)}
	child := transfer.Start(ctx, b)
	b.Half.Wait(ctx)
	child.Kill()
	child.Join(ctx)
	err := b.Mu.Acquire(ctx)
	if errors.Is(err, futex.ErrOwnerDead) {
		fmt.Printf("the holder died mid-transfer: A=%d B=%d\n", b.A.Load(), b.B.Load())
		b.A.Store(100 - b.B.Load()) // roll the half transfer back
		b.Mu.Consistent()
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("repaired: A=%d B=%d\n", b.A.Load(), b.B.Load())
	b.Mu.Release()

	pool, err := proc.NewPool(2, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Terminate()
	for x := range 10 {
		r, err := risky.Apply(ctx, pool, x)
		if errors.Is(err, proc.ErrWorkerDied) {
			fmt.Printf("task %d: its worker died (%v); the pool goes on\n", x, err)
		} else {
			fmt.Printf("task %d: %d\n", x, r)
		}
	}
}
