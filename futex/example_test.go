package futex_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"sync"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

func ExampleLock() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	l, err := futex.NewLock(seg, "counter-lock")
	if err != nil {
		log.Fatal(err)
	}
	// Another process would call futex.OpenLock(seg, "counter-lock").
	ctx := context.Background()
	if err := l.Acquire(ctx); errors.Is(err, futex.ErrOwnerDead) {
		// The previous holder died: repair the protected data, then
		l.Consistent()
	} else if err != nil {
		log.Fatal(err)
	}
	fmt.Println("locked:", l.Locked())
	if err := l.Release(); err != nil {
		log.Fatal(err)
	}
	fmt.Println("second release:", l.Release())
	// Output:
	// locked: true
	// second release: futex: lock "counter-lock": semaphore or lock released too many times
}

func ExampleRLock() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	r, err := futex.NewRLock(seg, "r")
	if err != nil {
		log.Fatal(err)
	}
	// Goroutines sharing the handle exclude each other: it acts for no
	// Owner, so an Acquire never re-enters another goroutine's hold.
	ctx := context.Background()
	counter := 0
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				r.Acquire(ctx)
				counter++
				r.Release()
			}
		}()
	}
	wg.Wait()
	fmt.Println("counter:", counter)
	// Output:
	// counter: 4000
}

func ExampleRLock_As() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	r, err := futex.NewRLock(seg, "r")
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	r.Acquire(ctx)
	ok, _ := r.TryAcquire() // no Owner: never re-enters
	fmt.Println("handle re-enters:", ok)
	r.Release()

	me := r.As(futex.NewOwner()) // opt in to re-entrance
	me.Acquire(ctx)
	me.Acquire(ctx)
	fmt.Println("depth:", me.Depth())
	other := r.As(futex.NewOwner())
	ok, _ = other.TryAcquire()
	fmt.Println("other owner got it:", ok)
	fmt.Println("other owner releases:", errors.Is(other.Release(), futex.ErrNotOwner))
	me.Release()
	me.Release()
	ok, _ = other.TryAcquire()
	fmt.Println("other owner got it after release:", ok)
	// Output:
	// handle re-enters: false
	// depth: 2
	// other owner got it: false
	// other owner releases: true
	// other owner got it after release: true
}

func ExampleFastPath() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	l, err := futex.NewLock(seg, "l")
	if err != nil {
		log.Fatal(err)
	}
	f := l.FastPath() // once, next to the handle
	ctx := context.Background()
	counter := 0
	// The uncontended case is the FastPath's compare-and-swaps; every
	// other goes through the lock's methods.
	update := func() (err error) {
		if !f.TryAcquire() {
			if err := l.Acquire(ctx); errors.Is(err, futex.ErrOwnerDead) {
				l.Consistent() // held: repair the data first
			} else if err != nil {
				return err
			}
		}
		defer func() {
			if !f.TryRelease() {
				if rerr := l.Release(); err == nil {
					err = rerr
				}
			}
		}()
		counter++
		return nil
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				if err := update(); err != nil {
					log.Fatal(err)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Println("counter:", counter)
	// Output:
	// counter: 4000
}

func ExampleCondition() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	c, err := futex.NewCondition(seg, "ready", nil) // over a new RLock "ready.lock"
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	done := make(chan struct{})
	ready := false
	go func() {
		defer close(done)
		c.Acquire(ctx) // goroutines may share the handle: it excludes
		ok, err := c.WaitFor(ctx, func() bool { return ready })
		fmt.Println("waiter saw ready:", ok, err)
		c.Release()
	}()
	c.Acquire(ctx)
	ready = true
	c.NotifyAll()
	c.Release()
	<-done
	// Output:
	// waiter saw ready: true <nil>
}

func ExampleBarrier() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	b, err := futex.NewBarrier(seg, "b", 2)
	if err != nil {
		log.Fatal(err)
	}
	idx := make(chan int)
	go func() {
		i, _ := b.Wait(context.Background())
		idx <- i
	}()
	i, _ := b.Wait(context.Background())
	fmt.Println("indices:", i+<-idx == 1)
	b.Abort()
	_, err = b.Wait(context.Background())
	fmt.Println(errors.Is(err, futex.ErrBrokenBarrier))
	// Output:
	// indices: true
	// true
}

func ExampleEvent() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	e, err := futex.NewEvent(seg, "go")
	if err != nil {
		log.Fatal(err)
	}
	go e.Set()
	ok, err := e.Wait(context.Background())
	fmt.Println(ok, err)
	// Output:
	// true <nil>
}

func ExampleSemaphore() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	s, err := futex.NewSemaphore(seg, "slots", 2)
	if err != nil {
		log.Fatal(err)
	}
	s.Acquire(context.Background())
	fmt.Println("value:", s.Value())
	s.Release()
	fmt.Println("value:", s.Value())
	// Output:
	// value: 1
	// value: 2
}
