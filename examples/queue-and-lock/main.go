// Command queue-and-lock is the README's example: two processes share a
// queue and a lock in one shared-memory segment. The parent creates the
// segment, a Queue of jobs, a Lock and a total, starts a copy of itself as
// the worker, and feeds it jobs; the worker adds each job to the total
// under the lock (a read-modify-write that only the lock keeps exact).
//
//	go run ./examples/queue-and-lock
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func main() {
	var err error
	if len(os.Args) == 3 && os.Args[1] == "worker" {
		err = worker(os.Args[2])
	} else {
		err = parent()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func parent() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := fmt.Sprintf("queue-and-lock-%d", os.Getpid())
	seg, err := shm.Create(name, 1<<20) // a file under /dev/shm
	if err != nil {
		return err
	}
	defer shm.Unlink(name)
	defer seg.Close()

	q, err := ring.NewQueue(seg, "jobs", &ring.QueueOptions{MaxSize: 64, MaxMessage: 8})
	if err != nil {
		return err
	}
	mu, err := futex.NewLock(seg, "mu")
	if err != nil {
		return err
	}
	total, err := ctypes.NewRawValue[int64](seg, "total", 0, nil)
	if err != nil {
		return err
	}
	jobs, err := int64Queue(q)
	if err != nil {
		return err
	}

	// The worker is this program again; it finds everything by name.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, self, "worker", name)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	for i := int64(1); i <= 10; i++ {
		if err := jobs.Put(ctx, i); err != nil {
			return err
		}
	}
	// Close marks the queue closed for every process: the worker drains
	// what is left, then gets ErrClosed.
	if err := q.Close(); err != nil {
		return err
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("worker: %w", err)
	}

	if err := mu.Acquire(ctx); err != nil {
		return err
	}
	defer mu.Release()
	fmt.Println("parent: total =", total.Load())
	return nil
}

func worker(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seg, err := shm.Open(name)
	if err != nil {
		return err
	}
	defer seg.Close()
	q, err := ring.OpenQueue(seg, "jobs", nil)
	if err != nil {
		return err
	}
	mu, err := futex.OpenLock(seg, "mu")
	if err != nil {
		return err
	}
	total, err := ctypes.OpenRawValue[int64](seg, "total")
	if err != nil {
		return err
	}
	jobs, err := int64Queue(q)
	if err != nil {
		return err
	}

	done := 0
	for {
		job, err := jobs.Get(ctx)
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		if err != nil {
			return err
		}
		if err := mu.Acquire(ctx); err != nil {
			return err
		}
		total.Store(total.Load() + job) // exact only because of the lock
		if err := mu.Release(); err != nil {
			return err
		}
		done++
	}
	fmt.Println("worker: did", done, "jobs")
	return nil
}

// int64Queue carries int64 values through q with the zero-copy codec.
func int64Queue(q *ring.Queue) (*ring.TypedQueue[int64], error) {
	codec, err := ring.NewPlain[int64]()
	if err != nil {
		return nil, err
	}
	return ring.NewTypedQueue(q, codec), nil
}
