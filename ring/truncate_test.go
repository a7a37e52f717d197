package ring_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() { testproc.Register("ring-trunc-victim", helperRingTruncVictim) }

// ringTruncOps are the operations the victim runs while a peer truncates
// the segment, each on the object of its name: loops of pipe SendBytes and
// RecvBytesInto, of SPSC Producer.Write and Consumer.ReadInto, and of
// Queue.Put, GetLease and Lease.Done; and calls blocked in a pipe's
// RecvBytes (empty), a pipe's SendBytes (full) and a Consumer's ReadInto
// (empty).
var ringTruncOps = []string{"pipe", "pipe-recv-blocked", "pipe-send-blocked", "spsc", "spsc-blocked", "lease"}

// TestTruncatedSegmentRingVictims: the operations of ringTruncOps, while
// the parent truncates the named segment's file to 0 and to 8 KiB (which
// cuts every object off), each report shm.ErrSegmentTruncated and the
// victim exits normally; it died of SIGBUS before pipes, SPSC rings and
// leases were guarded, and its blocked calls hung once sleeps had no
// timeout (a FUTEX_WAKE on a truncated page fails with EFAULT, so nothing
// could wake them).
//
// Not under the race detector (testseg.Truncations).
func TestTruncatedSegmentRingVictims(t *testing.T) {
	testseg.Truncations(t, func(t *testing.T, size int64) {
		seg, name := newSegment(t, 1<<20)
		for _, create := range []func() error{
			func() error { _, _, err := ring.NewPipe(seg, "pipe", &ring.PipeOptions{Capacity: 4096}); return err },
			func() error {
				_, _, err := ring.NewPipe(seg, "pipe-recv-blocked", &ring.PipeOptions{Capacity: 4096})
				return err
			},
			func() error {
				_, _, err := ring.NewPipe(seg, "pipe-send-blocked", &ring.PipeOptions{Capacity: 4096})
				return err
			},
			func() error { _, err := ring.NewRing(seg, "spsc", 4096, nil); return err },
			func() error { _, err := ring.NewRing(seg, "spsc-blocked", 4096, nil); return err },
			func() error {
				_, err := ring.NewQueue(seg, "lease", &ring.QueueOptions{MaxSize: 16, MaxMessage: 8, Leases: 4})
				return err
			},
		} {
			if err := create(); err != nil {
				t.Fatal(err)
			}
		}
		for _, o := range seg.Objects() {
			if o.Offset < 8<<10 {
				t.Fatalf("object %q at offset %d: a truncation to 8 KiB would leave it", o.Name, o.Offset)
			}
		}
		// The settling time lets the blocked calls park in the kernel
		// (they wait with the Futex strategy); the test holds without it.
		testseg.Truncate(t, "ring-trunc-victim", name, ringTruncOps, size, 100*time.Millisecond)
	})
}

// helperRingTruncVictim: testseg.Victims on the objects of ringTruncOps.
func helperRingTruncVictim() {
	// The context is only a watchdog: the truncation must end every call.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	steps := map[string]func(n int, running func()) error{}
	testseg.Victims(func(seg *shm.Segment) {
		for _, op := range ringTruncOps {
			steps[op] = ringTruncStep(ctx, seg, op)
		}
	}, func(op string, running func()) error {
		return testseg.Loop(false, func(n int) error { return steps[op](n, running) })
	})
}

// ringTruncStep attaches to the object of op and returns one step of its
// loop, which calls running once the operation is under way.
func ringTruncStep(ctx context.Context, seg *shm.Segment, op string) func(n int, running func()) error {
	must := func(err error) {
		if err != nil {
			testproc.Fatalf("%s: attach: %v", op, err)
		}
	}
	msg, buf := []byte("message"), make([]byte, 64)
	park := &ring.PipeOptions{Options: ring.Options{Wait: ring.Futex}}
	// blocked runs call once, which must not return without an error.
	blocked := func(call func() error) func(int, func()) error {
		return func(_ int, running func()) error {
			running()
			if err := call(); err != nil {
				return err
			}
			return errors.New("returned without an error; nobody sends or receives")
		}
	}
	// loop runs step n and reports running after the first.
	loop := func(step func() error) func(int, func()) error {
		return func(n int, running func()) error {
			if n == 1 {
				running()
			}
			return step()
		}
	}
	switch op {
	case "pipe", "pipe-recv-blocked", "pipe-send-blocked":
		o := park
		if op == "pipe" {
			o = nil
		}
		c0, err := ring.OpenPipe(seg, op, 0, o)
		must(err)
		c1, err := ring.OpenPipe(seg, op, 1, nil) // held open: no EOF, no ErrBrokenPipe
		must(err)
		switch op {
		case "pipe-recv-blocked":
			return blocked(func() error { _, err := c0.RecvBytes(ctx); return err })
		case "pipe-send-blocked":
			return blocked(func() error {
				for {
					if err := c0.SendBytes(ctx, msg); err != nil {
						return err
					}
				}
			})
		}
		return loop(func() error {
			if err := c0.SendBytes(ctx, msg); err != nil {
				return err
			}
			_, err := c1.RecvBytesInto(ctx, buf)
			return err
		})
	case "spsc", "spsc-blocked":
		r, err := ring.OpenRing(seg, op, &park.Options)
		must(err)
		p, err := r.Producer()
		must(err)
		c, err := r.Consumer()
		must(err)
		if op == "spsc-blocked" {
			return blocked(func() error { _, err := c.ReadInto(ctx, buf); return err })
		}
		return loop(func() error {
			if err := p.Write(ctx, msg); err != nil {
				return err
			}
			_, err := c.ReadInto(ctx, buf)
			return err
		})
	case "lease":
		q, err := ring.OpenQueue(seg, op, nil)
		must(err)
		return loop(func() error {
			if err := q.Put(ctx, msg); err != nil {
				return err
			}
			l, err := q.GetLease(ctx)
			if err != nil {
				return err
			}
			return l.Done()
		})
	}
	testproc.Fatalf("unknown operation %q", op)
	return nil
}
