package dict_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("dict-trunc-victim", helperTruncVictim)
}

// truncOps are what the victim does, one goroutine each, while this
// process truncates the segment: three Watches parked on a map, a list and
// a namespace nobody writes, loops on Map.Stats and Map.Clear of another
// map, and on List.Get and List.Range of a list of one item (which must
// report the truncation, not an empty list).
var truncOps = []string{"Map.Watch", "List.Watch", "Namespace.Watch", "Map.Stats", "Map.Clear", "List.Get", "List.Range"}

// TestWatchOnTruncatedSegment: a process whose Watches are parked on a
// named segment, and which loops on Map.Stats, Map.Clear, List.Get and
// List.Range, gets an error
// wrapping shm.ErrSegmentTruncated from each when a peer truncates the
// segment's file to 0 or to 8 KiB, and exits normally: neither the parked
// thread nor a watcher dies of SIGBUS, and no Watch waits for its context.
//
// Not under the race detector (testseg.Truncations).
func TestWatchOnTruncatedSegment(t *testing.T) {
	testseg.Truncations(t, func(t *testing.T, size int64) {
		seg, name := newSegment(t, 4<<20)
		m, err := dict.NewMap(seg, "m", nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, create := range []func() error{
			func() error { _, err := dict.NewMap(seg, "w", nil); return err },
			func() error { _, err := dict.NewList(seg, "l", nil); return err },
			func() error { _, err := dict.NewNamespace(seg, "n", nil); return err },
			func() error { _, err := m.Set(bg, "k", []byte("v")); return err },
			func() error {
				il, err := dict.NewList(seg, "il", nil)
				if err == nil {
					_, err = il.Append(bg, []byte("item"))
				}
				return err
			},
		} {
			if err := create(); err != nil {
				t.Fatal(err)
			}
		}
		// The settling time lets the Watches park; the test holds
		// without it (a Watch that starts after the truncation fails
		// too).
		testseg.Truncate(t, "dict-trunc-victim", name, truncOps, size, 200*time.Millisecond)
	})
}

// helperTruncVictim: testseg.Victims on a segment holding the Maps "m"
// (cleared) and "w" (watched), the Lists "l" (watched) and "il" (one
// item) and the Namespace "n", running the operations of truncOps.
func helperTruncVictim() {
	var m, w *dict.Map
	var l, il *dict.List
	var ns *dict.Namespace
	open := func(seg *shm.Segment) {
		var err error
		if m, err = dict.OpenMap(seg, "m"); err == nil {
			if w, err = dict.OpenMap(seg, "w"); err == nil {
				if l, err = dict.OpenList(seg, "l"); err == nil {
					if il, err = dict.OpenList(seg, "il"); err == nil {
						ns, err = dict.OpenNamespace(seg, "n")
					}
				}
			}
		}
		if err != nil {
			testproc.Fatalf("%v", err)
		}
	}
	// The context is only a watchdog: the truncation must end every call.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	watch := func(running func(), watch func(context.Context, uint64) (uint64, error), since uint64) error {
		running()
		r, err := watch(ctx, since)
		if err == nil {
			err = fmt.Errorf("woke at revision %d; nobody writes", r)
		}
		return err
	}
	testseg.Victims(open, func(op string, running func()) error {
		switch op {
		case "Map.Watch":
			return watch(running, w.Watch, w.Revision())
		case "List.Watch":
			return watch(running, l.Watch, l.Revision())
		case "Namespace.Watch":
			return watch(running, ns.Watch, ns.Revision())
		}
		return testseg.Loop(false, func(n int) error {
			if n == 1 {
				running()
			}
			switch op {
			case "Map.Stats":
				_, err := m.Stats()
				return err
			case "List.Get":
				_, err := il.Get(0)
				return err
			case "List.Range":
				seen := 0
				err := il.Range(func(int, []byte) bool { seen++; return true })
				if err == nil && seen != 1 {
					err = fmt.Errorf("Range saw %d items of 1", seen)
				}
				return err
			}
			return m.Clear(ctx)
		})
	})
}
