package futex

import (
	"context"
	"testing"
	"time"
)

// TestRaceEdges hands a plain variable from one goroutine to another with
// nothing but a primitive between the write and the read. The race
// detector cannot see atomics on mmap'd memory, so under -race each case
// reports a data race unless the primitive's annotations (package
// internal/race) give it the happens-before edge (the detector reports a
// race between the same two lines once per process, so one run shows the
// first missing edge; each case fails alone with -run TestRaceEdges/Name).
// Without -race it still checks the value handed over.
func TestRaceEdges(t *testing.T) {
	seg, _ := newSegment(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lock, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	rlock, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	rowner := rlock.As(NewOwner())
	sem, err := NewSemaphore(seg, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvent(seg, "e")
	if err != nil {
		t.Fatal(err)
	}
	bar, err := NewBarrier(seg, "b", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		// before runs in the test goroutine before the reader starts.
		before func() error
		// hand publishes (after the write); take waits for it (before the
		// read).
		hand, take func() error
	}{
		{"Lock", func() error { return lock.Acquire(ctx) }, lock.Release,
			func() error {
				if err := lock.Acquire(ctx); err != nil {
					return err
				}
				return lock.Release()
			}},
		{"RLock", func() error { return rlock.Acquire(ctx) }, rlock.Release,
			func() error {
				if err := rlock.Acquire(ctx); err != nil {
					return err
				}
				return rlock.Release()
			}},
		{"RLock.Owner", func() error { return rowner.Acquire(ctx) }, rowner.Release,
			func() error {
				v := rlock.As(NewOwner())
				if err := v.Acquire(ctx); err != nil {
					return err
				}
				return v.Release()
			}},
		{"Semaphore", nil, sem.Release, func() error { return sem.Acquire(ctx) }},
		{"Event", nil, func() error { ev.Set(); return nil },
			func() error { _, err := ev.Wait(ctx); return err }},
		{"Barrier", nil, func() error { _, err := bar.Wait(ctx); return err },
			func() error { _, err := bar.Wait(ctx); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				if err := tc.before(); err != nil {
					t.Fatal(err)
				}
			}
			var x int
			got := make(chan int, 1)
			errc := make(chan error, 1)
			go func() {
				if err := tc.take(); err != nil {
					errc <- err
					return
				}
				got <- x
			}()
			time.Sleep(time.Millisecond) // let the reader block, usually
			x = 42
			if err := tc.hand(); err != nil {
				t.Fatal(err)
			}
			select {
			case v := <-got:
				if v != 42 {
					t.Errorf("read %d after the hand-over; want 42", v)
				}
			case err := <-errc:
				t.Fatal(err)
			}
		})
	}
}
