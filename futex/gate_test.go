package futex

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/gate"
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
	const perSeg = 100
	base := gate.Len()
	expired, cancel := context.WithCancel(context.Background())
	cancel()
	for made := 0; made < n; {
		seg, err := shm.AnonymousWith(1<<20, &shm.Options{Objects: perSeg + 8})
		if err != nil {
			t.Fatal(err)
		}
		var keep []any // the handles, alive until the count below
		for i := 0; i < perSeg/5; i++ {
			name := func(kind string) string { return kind + string(rune('a'+i%26)) + string(rune('a'+i/26)) }
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
			keep = append(keep, e, c, b)
			made += 5
		}
		if gate.Len() <= base {
			t.Fatalf("gate registry has %d entries with objects open; want more than %d", gate.Len(), base)
		}
		runtime.KeepAlive(keep)
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for gate.Len() > base {
		if time.Now().After(deadline) {
			t.Fatalf("gate registry has %d entries after the objects went; want at most %d, as before", gate.Len(), base)
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
