package futex

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/shmkit/shmkit/shm"
)

// TestRLockHoldRecordsFreed: n RLocks, each held, re-entered and released
// by Owners that come and go through two handles, leave no hold record
// behind once their handles are gone, while the records of the locks still
// reachable stay and keep working (they used to live as long as the
// process: one record per lock per attachment).
func TestRLockHoldRecordsFreed(t *testing.T) {
	const n = 200
	ctx := context.Background()
	base := holdRecords()
	seg, err := shm.AnonymousWith(1<<20, &shm.Options{Objects: 2 * n})
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	var kept []*RLock
	// Every handle stays reachable until the first count: a collection
	// during the loop would free the records of the locks not kept.
	var all []*RLock
	for i := range n {
		name := fmt.Sprintf("r%d", i)
		r, err := NewRLock(seg, name)
		if err != nil {
			t.Fatal(err)
		}
		other, err := OpenRLock(seg, name)
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			o := NewOwner()
			for range 2 {
				if err := r.As(o).Acquire(ctx); err != nil {
					t.Fatal(err)
				}
			}
			// The handles share the record: the other one sees the depth.
			if d := other.As(o).Depth(); d != 2 {
				t.Fatalf("%s: Depth through the other handle = %d; want 2", name, d)
			}
			for range 2 {
				if err := other.As(o).Release(); err != nil {
					t.Fatal(err)
				}
			}
		}
		if i%2 == 0 {
			kept = append(kept, r)
		}
		all = append(all, r, other)
	}
	// Records of earlier tests may go meanwhile: base is an upper bound.
	if got := holdRecords(); got < n {
		t.Fatalf("%d hold records with %d locks open; want at least %d", got, n, n)
	}
	runtime.KeepAlive(all)
	if got := settleHolds(base + len(kept)); got > base+len(kept) {
		t.Fatalf("%d hold records after %d of %d locks' handles went; want at most %d", got, n-len(kept), n, base+len(kept))
	}
	for _, r := range kept {
		o := NewOwner()
		if err := r.As(o).Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		other, err := OpenRLock(seg, r.Name())
		if err != nil {
			t.Fatal(err)
		}
		if d := other.As(o).Depth(); d != 1 {
			t.Fatalf("%s: Depth through a new handle = %d; want 1 (the record kept)", r.Name(), d)
		}
		if err := other.As(o).Release(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.KeepAlive(kept)
	kept = nil
	if got := settleHolds(base); got > base {
		t.Fatalf("%d hold records after every handle went; want at most %d, as before", got, base)
	}
}

// settleHolds collects garbage until the hold registry has at most max
// entries, for at most 30 s (a watchdog), and returns its size.
func settleHolds(max int) int {
	deadline := time.Now().Add(30 * time.Second)
	for {
		n := holdRecords()
		if n <= max || time.Now().After(deadline) {
			return n
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
