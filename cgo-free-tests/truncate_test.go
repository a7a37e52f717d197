package cgofreetests

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/testproc"
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

// TestTruncatedSegmentAbortsNoPeer: processes looping on Value.Load,
// Value.Store, Value.Update, Lock.Acquire/Release, Queue.Put/Get and
// Map.Set/Get, and one blocked in Queue.Get, while a peer truncates the named segment's file
// to 0 and to 8 KiB (which cuts every object off): every victim reports
// shm.ErrSegmentTruncated and exits normally; none dies of SIGBUS.
//
// Not under the race detector: its runtime performs the atomic operations
// in C, on the system stack, where the Go runtime cannot turn a fault into
// a panic (see shm.Options.Unguarded).
func TestTruncatedSegmentAbortsNoPeer(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector's atomics fault outside Go code")
	}
	for _, size := range []int64{0, 8 << 10} {
		t.Run(fmt.Sprintf("to%d", size), func(t *testing.T) {
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
			victims := make([]*testproc.Child, len(truncOps))
			for i, op := range truncOps {
				victims[i] = testproc.Start(t, "trunc-victim", testproc.Options{Args: []string{name, op}})
			}
			for i, v := range victims {
				if got := v.Recv(time.Minute); got != "looping" {
					t.Fatalf("%s: %q; want looping", truncOps[i], got)
				}
			}
			if err := os.Truncate(filepath.Join(shm.Dir(), name), size); err != nil {
				t.Fatal(err)
			}
			for i, v := range victims {
				got := v.Recv(time.Minute)
				t.Logf("%s: %s", truncOps[i], got)
				if !strings.HasPrefix(got, "truncated ") {
					t.Errorf("%s: %q; want an error wrapping shm.ErrSegmentTruncated", truncOps[i], got)
				}
				if err := v.Wait(); err != nil {
					t.Errorf("%s: %v (output %q)", truncOps[i], err, v.Output())
				}
			}
		})
	}
}

// truncSegment creates a named segment for t (closed and removed when t
// ends) holding the Value "v".
func truncSegment(t *testing.T) (*shm.Segment, string) {
	name := testproc.Name(t)
	seg, err := shm.Create(name, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close(); shm.Unlink(name) })
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

// truncVictim opens segment Arg(0), loops on operation Arg(1) until it
// fails, and reports how: "truncated <error>" if the error (or panic
// value) wraps shm.ErrSegmentTruncated, "other <error>" otherwise.
func truncVictim() {
	name, op := testproc.Arg(0), testproc.Arg(1)
	seg, err := shm.Open(name)
	if err != nil {
		testproc.Fatalf("Open: %v", err)
	}
	v, err := ctypes.OpenValue[int64](seg, "v")
	if err != nil {
		testproc.Fatalf("OpenValue: %v", err)
	}
	l, err := futex.OpenLock(seg, "mu")
	if err != nil {
		testproc.Fatalf("OpenLock: %v", err)
	}
	q, err := ring.OpenQueue(seg, "q", nil)
	if err != nil {
		testproc.Fatalf("OpenQueue: %v", err)
	}
	empty, err := ring.OpenQueue(seg, "empty", nil)
	if err != nil {
		testproc.Fatalf("OpenQueue: %v", err)
	}
	m, err := dict.OpenMap(seg, "m")
	if err != nil {
		testproc.Fatalf("OpenMap: %v", err)
	}
	// The context is only a watchdog: the loop must end by the truncation.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	step := func(n int) error {
		switch op {
		case "value-load":
			_ = v.Load()
		case "value-store":
			v.Store(int64(n))
		case "value-update":
			_, err := v.Update(ctx, func(x int64) int64 { return x + 1 })
			return err
		case "lock":
			if err := l.Acquire(ctx); err != nil {
				return err
			}
			return l.Release()
		case "queue":
			if err := q.Put(ctx, []byte("m")); err != nil {
				return err
			}
			_, err := q.Get(ctx)
			return err
		case "map":
			if _, err := m.Set(ctx, "k", []byte("v")); err != nil {
				return err
			}
			_, err := m.Get("k")
			return err
		case "queue-get-blocked":
			if n == 0 {
				return nil // report looping before blocking
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
	}
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				e, ok := r.(error)
				if !ok {
					panic(r)
				}
				err = e
			}
		}()
		if err := step(0); err != nil {
			return err
		}
		testproc.Send("looping")
		for n := 1; ; n++ {
			if err := step(n); err != nil {
				return err
			}
		}
	}()
	if errors.Is(err, shm.ErrSegmentTruncated) {
		testproc.Send("truncated %v", err)
	} else {
		testproc.Send("other %v", err)
	}
}
