package dict_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// closeFixture makes a named or an anonymous segment holding the Map "m",
// the List "l" and the Namespace "n".
func closeFixture(t *testing.T, named bool) (*shm.Segment, *dict.Map, *dict.List, *dict.Namespace) {
	var seg *shm.Segment
	if named {
		seg, _ = testseg.Named(t, 1<<20, nil)
	} else {
		seg = testseg.Anon(t, 1<<20)
	}
	m, err := dict.NewMap(seg, "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	l, err := dict.NewList(seg, "l", nil)
	if err != nil {
		t.Fatal(err)
	}
	ns, err := dict.NewNamespace(seg, "n", nil)
	if err != nil {
		t.Fatal(err)
	}
	return seg, m, l, ns
}

// TestHandlesAfterSegmentClose: a Map, List or Namespace used after its
// Segment was closed answers shm.ErrClosed instead of touching memory that
// used to be unmapped at Close, on an anonymous segment and a named one.
func TestHandlesAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		seg, m, l, ns := closeFixture(t, named)
		ctx := context.Background()
		if _, err := m.Set(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		_, mapGet := m.Get("k")
		_, mapSet := m.Set(ctx, "k", []byte("w"))
		_, mapLen := m.Len()
		_, listAppend := l.Append(ctx, []byte("x"))
		_, nsGet := ns.Get("a")
		for what, err := range map[string]error{
			"Map.Get":       mapGet,
			"Map.Set":       mapSet,
			"Map.Len":       mapLen,
			"List.Append":   listAppend,
			"Namespace.Set": ns.Set(ctx, "a", 1),
			"Namespace.Get": nsGet,
		} {
			if !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: %s after Close = %v; want shm.ErrClosed", named, what, err)
			}
		}
	}
}

// TestWatchAfterSegmentClose: Watch of a Map, List or Namespace whose
// Segment was closed returns shm.ErrClosed at once, and a Watch parked
// when another goroutine closes the Segment returns it too, instead of
// waiting for its context (the watchdog here) or touching the mapping.
func TestWatchAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		seg, m, l, ns := closeFixture(t, named)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a watchdog
		defer cancel()
		type watcher func(context.Context, uint64) (uint64, error)
		watchers := map[string]watcher{"Map.Watch": m.Watch, "List.Watch": l.Watch, "Namespace.Watch": ns.Watch}
		revs := map[string]uint64{"Map.Watch": m.Revision(), "List.Watch": l.Revision(), "Namespace.Watch": ns.Revision()}
		parked := make(chan error, 2*len(watchers))
		for what, w := range watchers {
			for range 2 { // two callers share the handle's parker
				go func() {
					_, err := w(ctx, revs[what])
					parked <- fmt.Errorf("%s: %w", what, err)
				}()
			}
		}
		time.Sleep(100 * time.Millisecond) // let them park; the test holds without it
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 * len(watchers) {
			if err := <-parked; !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: parked %v; want shm.ErrClosed", named, err)
			}
		}
		for what, w := range watchers {
			if _, err := w(ctx, revs[what]); !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: %s after Close = %v; want shm.ErrClosed", named, what, err)
			}
		}
	}
}
