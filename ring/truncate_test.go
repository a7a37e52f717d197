package ring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() { testproc.Register("ring-trunc-victim", ringTruncVictim) }

// ringTruncOps are the operations a victim loops on while a peer truncates
// the segment; each object is used by one victim only.
var ringTruncOps = []string{"pipe", "pipe-recv-blocked", "pipe-send-blocked", "spsc", "spsc-blocked", "lease"}

// TestTruncatedSegmentRingVictims: processes looping on pipe SendBytes and
// RecvBytes, SPSC Producer.Write and Consumer.ReadInto, Queue.GetLease and
// Lease.Done, and processes blocked in a pipe's RecvBytes, a pipe's
// SendBytes (full) and a Consumer's ReadInto, while the parent truncates
// the named segment's file to 0 and to 8 KiB (which cuts every object
// off): every victim reports shm.ErrSegmentTruncated and exits normally;
// none dies of SIGBUS, as each did before the pipes, rings and leases were
// guarded.
//
// Not under the race detector: its runtime performs the atomic operations
// in C, on the system stack, where the Go runtime cannot turn a fault into
// a panic (see shm.Options.Unguarded).
func TestTruncatedSegmentRingVictims(t *testing.T) {
	if race.Enabled {
		t.Skip("the race detector's atomics fault outside Go code")
	}
	for _, size := range []int64{0, 8 << 10} {
		t.Run(fmt.Sprintf("to%d", size), func(t *testing.T) {
			seg, name := newSegment(t, 1<<20)
			small := &ring.PipeOptions{Capacity: 4096}
			for _, p := range []string{"pipe", "pipe-recv-blocked", "pipe-send-blocked"} {
				if _, _, err := ring.NewPipe(seg, p, small); err != nil {
					t.Fatal(err)
				}
			}
			for _, r := range []string{"spsc", "spsc-blocked"} {
				if _, err := ring.NewRing(seg, r, 4096, nil); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ring.NewQueue(seg, "lease", &ring.QueueOptions{MaxSize: 16, MaxMessage: 8, Leases: 4}); err != nil {
				t.Fatal(err)
			}
			for _, o := range seg.Objects() {
				if o.Offset < 8<<10 {
					t.Fatalf("object %q at offset %d: a truncation to 8 KiB would leave it", o.Name, o.Offset)
				}
			}
			victims := make([]*testproc.Child, len(ringTruncOps))
			for i, op := range ringTruncOps {
				victims[i] = testproc.Start(t, "ring-trunc-victim", testproc.Options{Args: []string{name, op}})
			}
			for i, v := range victims {
				if got := v.Recv(time.Minute); got != "looping" {
					t.Fatalf("%s: %q; want looping", ringTruncOps[i], got)
				}
			}
			// Give the blocked victims time to park in the kernel (they
			// wait with the Futex strategy), so that the truncation hits a
			// sleeping FUTEX_WAIT; the assertions hold either way.
			time.Sleep(100 * time.Millisecond)
			if err := os.Truncate(filepath.Join(shm.Dir(), name), size); err != nil {
				t.Fatal(err)
			}
			for i, v := range victims {
				got := v.Recv(time.Minute)
				t.Logf("%s: %s", ringTruncOps[i], got)
				if !strings.HasPrefix(got, "truncated ") {
					t.Errorf("%s: %q; want an error wrapping shm.ErrSegmentTruncated", ringTruncOps[i], got)
				}
				if err := v.Wait(); err != nil {
					t.Errorf("%s: %v (output %q)", ringTruncOps[i], err, v.Output())
				}
			}
		})
	}
}

// ringTruncVictim opens segment Arg(0), loops on operation Arg(1) (on the
// object of that name) until it fails, and reports how: "truncated
// <error>" if the error (or panic value) wraps shm.ErrSegmentTruncated,
// "other <error>" otherwise.
func ringTruncVictim() {
	op := testproc.Arg(1)
	seg := openSegment(testproc.Arg(0))
	// The context is only a watchdog: the loop must end by the truncation.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	step := ringTruncStep(ctx, seg, op)
	err := panicked(func() error {
		if err := step(true); err != nil {
			return err
		}
		testproc.Send("looping")
		for {
			if err := step(false); err != nil {
				return err
			}
		}
	})
	if errors.Is(err, shm.ErrSegmentTruncated) {
		testproc.Send("truncated %v", err)
	} else {
		testproc.Send("other %v", err)
	}
}

// ringTruncStep attaches to the object of op and returns one step of the
// victim's loop; first is true for the step before "looping" is reported
// (which must not block).
func ringTruncStep(ctx context.Context, seg *shm.Segment, op string) func(first bool) error {
	fail := func(err error) {
		if err != nil {
			testproc.Fatalf("%s: attach: %v", op, err)
		}
	}
	msg, buf := []byte("message"), make([]byte, 64)
	park := &ring.PipeOptions{Options: ring.Options{Wait: ring.Futex}}
	switch op {
	case "pipe":
		c0, err := ring.OpenPipe(seg, op, 0, nil)
		fail(err)
		c1, err := ring.OpenPipe(seg, op, 1, nil)
		fail(err)
		return func(bool) error {
			if err := c0.SendBytes(ctx, msg); err != nil {
				return err
			}
			_, err := c1.RecvBytesInto(ctx, buf)
			return err
		}
	case "pipe-recv-blocked":
		c0, err := ring.OpenPipe(seg, op, 0, park)
		fail(err)
		c1, err := ring.OpenPipe(seg, op, 1, nil) // held open: no EOF
		fail(err)
		_ = c1
		return func(first bool) error {
			if first {
				return nil
			}
			if _, err := c0.RecvBytes(ctx); err != nil {
				return err
			}
			return errors.New("a message in a pipe nobody sends to")
		}
	case "pipe-send-blocked":
		c0, err := ring.OpenPipe(seg, op, 0, park)
		fail(err)
		c1, err := ring.OpenPipe(seg, op, 1, nil) // held open: no ErrBrokenPipe
		fail(err)
		_ = c1
		return func(first bool) error {
			if first {
				return nil
			}
			for {
				if err := c0.SendBytes(ctx, msg); err != nil {
					return err
				}
			}
		}
	case "spsc", "spsc-blocked":
		r, err := ring.OpenRing(seg, op, &park.Options)
		fail(err)
		p, err := r.Producer()
		fail(err)
		c, err := r.Consumer()
		fail(err)
		if op == "spsc-blocked" {
			return func(first bool) error {
				if first {
					return nil
				}
				if _, err := c.ReadInto(ctx, buf); err != nil {
					return err
				}
				return errors.New("a record in a ring nobody writes to")
			}
		}
		return func(bool) error {
			if err := p.Write(ctx, msg); err != nil {
				return err
			}
			_, err := c.ReadInto(ctx, buf)
			return err
		}
	case "lease":
		q, err := ring.OpenQueue(seg, op, nil)
		fail(err)
		return func(bool) error {
			if err := q.Put(ctx, msg); err != nil {
				return err
			}
			l, err := q.GetLease(ctx)
			if err != nil {
				return err
			}
			return l.Done()
		}
	}
	testproc.Fatalf("unknown operation %q", op)
	return nil
}
