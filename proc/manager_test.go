package proc_test

import (
	"context"
	"slices"
	"testing"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// TestManagerGrows makes more objects than one segment's directory holds
// and an object bigger than a segment: the Manager adds segments, and
// every object works.
func TestManagerGrows(t *testing.T) {
	ctx := context.Background()
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	var locks []*futex.Lock
	for range 600 {
		locks = append(locks, proc.Lock(m))
	}
	if n := m.Segments(); n < 2 {
		t.Errorf("600 locks in %d segment(s); want a second one", n)
	}
	for i, l := range locks {
		if ok, err := l.TryAcquire(); !ok || err != nil {
			t.Fatalf("lock %d: TryAcquire = %v, %v", i, ok, err)
		}
	}
	before := m.Segments()
	big, err := proc.NewQueue[int](m, &ring.QueueOptions{MaxSize: 1 << 14}) // 64 MiB of slots
	if err != nil {
		t.Fatal(err)
	}
	if m.Segments() != before+1 {
		t.Errorf("a queue bigger than a segment: %d segments; want %d", m.Segments(), before+1)
	}
	if err := big.Put(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if got, err := big.Get(ctx); got != 42 || err != nil {
		t.Errorf("big queue: got %d, %v; want 42", got, err)
	}
	// A Condition over a Manager's lock lives in that lock's segment.
	c := proc.Condition(m, locks[0])
	if err := locks[0].Release(); err != nil {
		t.Fatal(err)
	}
	if err := c.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, _ := locks[0].TryAcquire(); ok {
		t.Error("the Condition's Acquire did not take its lock")
	}
	if err := c.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestArrayFrom makes an Array from a slice: same length, same elements,
// and its own lock.
func TestArrayFrom(t *testing.T) {
	m := proc.NewManager()
	defer m.Close()
	xs := []int32{3, -1, 4, 1, -5}
	a := proc.ArrayFrom(m, xs)
	if got := a.View(); !slices.Equal(got, xs) {
		t.Errorf("ArrayFrom(%v) holds %v", xs, got)
	}
	if a.GetLock() == nil {
		t.Error("ArrayFrom's Array has no lock")
	}
	if e, err := proc.NewArrayFrom[int32](m, nil); err != nil || e.Len() != 0 {
		t.Errorf("NewArrayFrom of no elements: %v; want an empty Array, as Array('i', [])", err)
	}
}
