package testseg

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

// Truncations runs fn as a subtest for each size a peer truncates a
// segment to in the truncation tests: 0, and 8 KiB (which keeps the
// segment's header and cuts off the objects after it). It skips t under
// the race detector, whose runtime performs the atomic operations in C,
// where the Go runtime cannot turn a fault into a panic.
func Truncations(t *testing.T, fn func(t *testing.T, size int64)) {
	if race.Enabled {
		t.Skip("the race detector's atomics fault outside Go code")
	}
	for _, size := range []int64{0, 8 << 10} {
		t.Run(fmt.Sprintf("to%d", size), func(t *testing.T) { fn(t, size) })
	}
}

// Truncate runs the helper process helper (registered with
// testproc.Register, its body calling Victims) on the named segment name,
// with one goroutine per operation of ops; once every operation runs, it
// waits settle, truncates the segment's file to size, and fails t unless
// each operation reports an error wrapping shm.ErrSegmentTruncated and the
// helper exits normally (a SIGBUS would kill it with "fatal error: fault").
func Truncate(t *testing.T, helper, name string, ops []string, size int64, settle time.Duration) {
	t.Helper()
	c := testproc.Start(t, helper, testproc.Options{Args: append([]string{name}, ops...)})
	for range ops {
		if got := c.Recv(time.Minute); !strings.HasSuffix(got, " running") {
			t.Fatalf("%q; want <op> running", got)
		}
	}
	time.Sleep(settle)
	if err := os.Truncate(filepath.Join(shm.Dir(), name), size); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for range ops {
		op, res, _ := strings.Cut(c.Recv(time.Minute), " ")
		got[op] = res
	}
	for _, op := range ops {
		t.Logf("%s: %s", op, got[op])
		if !strings.HasPrefix(got[op], "truncated ") {
			t.Errorf("%s: %q; want an error wrapping shm.ErrSegmentTruncated", op, got[op])
		}
	}
	if err := c.Wait(); err != nil {
		t.Errorf("victim: %v (output %q)", err, c.Output())
	}
}

// Victims is the helper side of Truncate: it attaches to the segment
// named by testproc.Arg(0), opens what it needs with open, and runs
// run(op, running) in a goroutine for each operation named by the
// remaining arguments. run calls running once the operation is under way
// (after a loop's first step, before a blocking call) and returns the
// error that ends it; Victims reports "<op> truncated <error>" if that
// error wraps shm.ErrSegmentTruncated and "<op> other <error>" otherwise,
// and returns when every run has.
func Victims(open func(seg *shm.Segment), run func(op string, running func()) error) {
	open(Open(testproc.Arg(0)))
	ops := testproc.Args()[1:]
	done := make(chan struct{})
	for _, op := range ops {
		go func() {
			defer func() { done <- struct{}{} }()
			err := run(op, func() { testproc.Send("%s running", op) })
			if errors.Is(err, shm.ErrSegmentTruncated) {
				testproc.Send("%s truncated %v", op, err)
			} else {
				testproc.Send("%s other %v", op, err)
			}
		}()
	}
	for range ops {
		<-done
	}
}

// Loop calls step(0), step(1), ... until one returns an error or panics,
// and returns that error; a panic value that is an error is returned as it
// is if mayPanic (an accessor with no error result), and any other panic
// as an error that wraps nothing (which Victims reports as "other").
func Loop(mayPanic bool, step func(n int) error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && mayPanic {
				err = e
			} else {
				err = fmt.Errorf("panicked: %v", r)
			}
		}
	}()
	for n := 0; ; n++ {
		if err := step(n); err != nil {
			return err
		}
	}
}
