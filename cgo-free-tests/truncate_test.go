package cgofreetests

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("trunc-victim", truncVictim)
	testproc.Register("trunc-unguarded", truncUnguarded)
}

// truncOps are the operations a victim loops on while a peer truncates the
// segment: each must end in an error (or, for Load and Store, which have no
// error result, a recoverable panic) wrapping shm.ErrSegmentTruncated.
var truncOps = []string{"value-load", "value-store", "value-update", "lock", "queue", "queue-get-blocked", "map"}

// TestTruncatedSegmentAbortsNoPeer: goroutines of a victim process looping
// on Value.Load, Value.Store, Value.Update, Lock.Acquire/Release,
// Queue.Put/Get and Map.Set/Get, and one blocked in Queue.Get, while a peer
// truncates the named segment's file to 0 and to 8 KiB (which cuts every
// object off): every operation reports shm.ErrSegmentTruncated and the
// victim exits normally; it does not die of SIGBUS.
//
// Not under the race detector (testseg.Truncations).
func TestTruncatedSegmentAbortsNoPeer(t *testing.T) {
	testseg.Truncations(t, func(t *testing.T, size int64) {
		seg, name := truncSegment(t)
		if _, err := futex.NewLock(seg, "mu"); err != nil {
			t.Fatal(err)
		}
		if _, err := dict.NewMap(seg, "m", nil); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"q", "empty"} {
			if _, err := ring.NewQueue(seg, q, &ring.QueueOptions{MaxSize: 16, MaxMessage: 8}); err != nil {
				t.Fatal(err)
			}
		}
		testseg.Truncate(t, "trunc-victim", name, truncOps, size, 0)
	})
}

// truncSegment creates a named segment for t (closed and removed when t
// ends) holding the Value "v".
func truncSegment(t *testing.T) (*shm.Segment, string) {
	seg, name := testseg.Named(t, 1<<20, nil)
	if _, err := ctypes.NewValue[int64](seg, "v", 0, nil); err != nil {
		t.Fatal(err)
	}
	return seg, name
}

// TestUnguardedTruncationIsFatal shows what Options.Unguarded gives up: a
// process looping on Value.Load of a segment it opened unguarded dies of
// the fault when a peer truncates the file.
func TestUnguardedTruncationIsFatal(t *testing.T) {
	_, name := truncSegment(t)
	v := testproc.Start(t, "trunc-unguarded", testproc.Options{Args: []string{name}})
	v.WaitReady()
	if err := os.Truncate(filepath.Join(shm.Dir(), name), 0); err != nil {
		t.Fatal(err)
	}
	if err := v.Wait(); err == nil || !strings.Contains(v.Output(), "fatal error: fault") {
		t.Errorf("unguarded victim: %v, output %q; want a fatal fault", err, v.Output())
	}
}

// truncUnguarded opens segment Arg(0) with Options.Unguarded and loads its
// value until it dies.
func truncUnguarded() {
	seg, err := shm.OpenWith(testproc.Arg(0), &shm.Options{Unguarded: true})
	if err != nil {
		testproc.Fatalf("Open: %v", err)
	}
	v, err := ctypes.OpenValue[int64](seg, "v")
	if err != nil {
		testproc.Fatalf("OpenValue: %v", err)
	}
	testproc.Ready()
	deadline := time.Now().Add(2 * time.Minute) // a watchdog only
	for time.Now().Before(deadline) {
		for range 1000 {
			v.Load()
		}
	}
	testproc.Send("survived")
}

// truncVictim: testseg.Victims on the objects of truncOps, each op looping
// until it fails. Only Value.Load and Value.Store, which have no error
// result, may end in a panic.
func truncVictim() {
	// The context is only a watchdog: the loop must end by the truncation.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		v        *ctypes.Value[int64]
		l        *futex.Lock
		q, empty *ring.Queue
		m        *dict.Map
	)
	testseg.Victims(func(seg *shm.Segment) {
		var err error
		must := func(what string) {
			if err != nil {
				testproc.Fatalf("%s: %v", what, err)
			}
		}
		v, err = ctypes.OpenValue[int64](seg, "v")
		must("OpenValue")
		l, err = futex.OpenLock(seg, "mu")
		must("OpenLock")
		q, err = ring.OpenQueue(seg, "q", nil)
		must("OpenQueue")
		empty, err = ring.OpenQueue(seg, "empty", nil)
		must("OpenQueue")
		m, err = dict.OpenMap(seg, "m")
		must("OpenMap")
	}, func(op string, running func()) error {
		return testseg.Loop(op == "value-load" || op == "value-store", func(n int) error {
			if n == 1 {
				running()
			}
			switch op {
			case "value-load":
				_ = v.Load()
			case "value-store":
				v.Store(int64(n))
			case "value-update":
				_, err := v.Update(ctx, func(x int64) int64 { return x + 1 })
				return err
			case "lock":
				return acquireRelease(ctx, l)
			case "queue":
				return putGet(ctx, q, []byte("m"))
			case "map":
				if _, err := m.Set(ctx, "k", []byte("v")); err != nil {
					return err
				}
				_, err := m.Get("k")
				return err
			case "queue-get-blocked":
				if n == 0 {
					return nil // report running before blocking
				}
				_, err := empty.Get(ctx)
				if err == nil {
					err = errors.New("a message in a queue nobody puts to")
				}
				return err
			default:
				testproc.Fatalf("unknown operation %q", op)
			}
			return nil
		})
	})
}
