package futex

import (
	"context"
	"testing"

	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// TestGatesFreed creates, waits on and closes 10,000 primitives of every
// kind (two handles each) in many segments: the per-process gate registry
// goes back to (at most) its size before, so a process that creates and
// closes objects does not accumulate gates.
func TestGatesFreed(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	testseg.GatesFreed(t, n, func(seg *shm.Segment) ([]any, int) {
		var keep []any
		for i := 0; i < 20; i++ {
			name := func(kind string) string { return kind + string(rune('a'+i)) }
			l, err := NewLock(seg, name("l"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := OpenLock(seg, name("l")); err != nil {
				t.Fatal(err)
			}
			s, err := NewSemaphore(seg, name("s"), 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Acquire(expired); err == nil {
				t.Fatal("Acquire of a zero semaphore with a cancelled context succeeded")
			}
			e, err := NewEvent(seg, name("e"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := OpenEvent(seg, name("e")); err != nil {
				t.Fatal(err)
			}
			c, err := NewCondition(seg, name("c"), l)
			if err != nil {
				t.Fatal(err)
			}
			b, err := NewBarrier(seg, name("b"), 2)
			if err != nil {
				t.Fatal(err)
			}
			keep = append(keep, s, e, c, b)
		}
		return keep, 100
	})
}
