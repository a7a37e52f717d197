// Command queue-and-lock is the README's example: two processes share a
// queue and a lock in one shared-memory segment. The parent creates the
// segment, a Queue and a Lock, starts a copy of itself as the worker, and
// feeds it jobs; both print under the shared lock, and the worker adds each
// job to a total kept in the segment, also under the lock.
//
//	go run ./examples/queue-and-lock
package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"os/exec"
	"time"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

var kindTotal = shm.MakeKind("TOTL") // our own object: one little-endian int64

func main() {
	if len(os.Args) == 3 && os.Args[1] == "worker" {
		worker(os.Args[2])
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	name := fmt.Sprintf("queue-and-lock-%d", os.Getpid())
	seg, err := shm.Create(name, 1<<20)
	check(err)
	defer shm.Unlink(name)
	defer seg.Close()

	jobs, err := ring.NewQueue(seg, "jobs", &ring.QueueOptions{MaxSize: 64, MaxMessage: 64})
	check(err)
	mu, err := futex.NewLock(seg, "mu")
	check(err)
	total, err := seg.CreateObject("total", kindTotal, 1<<16, 8, nil)
	check(err)

	// The worker is this program again; it finds everything by name.
	self, err := os.Executable()
	check(err)
	cmd := exec.Command(self, "worker", name)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	check(cmd.Start())

	for i := 1; i <= 10; i++ {
		check(jobs.Put(ctx, binary.LittleEndian.AppendUint64(nil, uint64(i))))
	}
	check(jobs.Close()) // the worker drains the queue, then sees ErrClosed
	check(cmd.Wait())

	check(mu.Acquire(ctx))
	fmt.Println("parent: total =", int64(binary.LittleEndian.Uint64(total.Bytes())))
	check(mu.Release())
}

func worker(name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seg, err := shm.Open(name)
	check(err)
	defer seg.Close()
	jobs, err := ring.OpenQueue(seg, "jobs", nil)
	check(err)
	mu, err := futex.OpenLock(seg, "mu")
	check(err)
	total, err := seg.OpenObject("total", kindTotal, 1<<16)
	check(err)

	done := 0
	for {
		msg, err := jobs.Get(ctx)
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		check(err)
		check(mu.Acquire(ctx))
		t := total.Bytes()
		binary.LittleEndian.PutUint64(t, binary.LittleEndian.Uint64(t)+binary.LittleEndian.Uint64(msg))
		check(mu.Release())
		done++
	}
	fmt.Println("worker: did", done, "jobs")
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
