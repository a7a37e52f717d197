package futex

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

func init() { testproc.Register("futex-trunc-victim", helperTruncVictim) }

// truncOps are the loops a victim runs while a peer truncates the segment;
// the "-blocked" ones wait for something nobody does, and "queries" calls
// the accessors without an error result, which panic.
var truncOps = []string{
	"semaphore", "semaphore-blocked", "bounded", "event", "event-blocked",
	"condition", "condition-blocked", "barrier", "barrier-blocked", "queries",
}

// TestTruncatedSegmentFaultsNoWaiter: a process looping on (or blocked in)
// Semaphore, BoundedSemaphore, Event, Condition and Barrier operations,
// and on their queries without an error result, while a peer truncates the
// named segment's file to 0 and to 8 KiB (which cuts every object off):
// every operation reports an error (for the queries, a recovered panic)
// wrapping shm.ErrSegmentTruncated with one package prefix, and the
// process exits normally; none dies of SIGBUS.
//
// Not under the race detector (testseg.Truncations).
func TestTruncatedSegmentFaultsNoWaiter(t *testing.T) {
	testseg.Truncations(t, func(t *testing.T, size int64) {
		seg, name := newSegment(t)
		mustDo(t, func() error { _, err := NewSemaphore(seg, "sem", 1); return err })
		mustDo(t, func() error { _, err := NewSemaphore(seg, "sem0", 0); return err })
		mustDo(t, func() error { _, err := NewBoundedSemaphore(seg, "bsem", 1); return err })
		mustDo(t, func() error { _, err := NewEvent(seg, "ev"); return err })
		mustDo(t, func() error { _, err := NewEvent(seg, "ev0"); return err })
		mustDo(t, func() error { _, err := NewCondition(seg, "cond", nil); return err })
		mustDo(t, func() error { _, err := NewCondition(seg, "cond0", nil); return err })
		mustDo(t, func() error { _, err := NewBarrier(seg, "bar1", 1); return err })
		mustDo(t, func() error { _, err := NewBarrier(seg, "bar2", 2); return err })
		for _, info := range seg.Objects() {
			if int64(info.Offset) < size {
				t.Fatalf("object %q at offset %d: truncating to %d leaves it mapped", info.Name, info.Offset, size)
			}
		}
		// The settling time lets the blocked operations reach the kernel
		// first; nothing depends on it.
		testseg.Truncate(t, "futex-trunc-victim", name, truncOps, size, 200*time.Millisecond)
	})
}

func mustDo(t *testing.T, f func() error) {
	t.Helper()
	if err := f(); err != nil {
		t.Fatal(err)
	}
}

// helperTruncVictim: testseg.Victims on the primitives of
// TestTruncatedSegmentFaultsNoWaiter, running the operations of truncOps.
// An error that does not carry exactly one package prefix is reported as
// another error.
func helperTruncVictim() {
	var (
		sem, sem0  *Semaphore
		bsem       *BoundedSemaphore
		ev, ev0    *Event
		cond, cnd0 *Condition
		bar1, bar2 *Barrier
	)
	open := func(seg *shm.Segment) {
		var errs [9]error
		sem, errs[0] = OpenSemaphore(seg, "sem")
		sem0, errs[1] = OpenSemaphore(seg, "sem0")
		bsem, errs[2] = OpenBoundedSemaphore(seg, "bsem")
		ev, errs[3] = OpenEvent(seg, "ev")
		ev0, errs[4] = OpenEvent(seg, "ev0")
		cond, errs[5] = OpenCondition(seg, "cond")
		cnd0, errs[6] = OpenCondition(seg, "cond0")
		bar1, errs[7] = OpenBarrier(seg, "bar1")
		bar2, errs[8] = OpenBarrier(seg, "bar2")
		for _, err := range errs {
			if err != nil {
				testproc.Fatalf("%v", err)
			}
		}
	}
	// The context is only a watchdog: the loops must end by the truncation.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	step := func(op string) error {
		switch op {
		case "semaphore":
			if err := sem.Acquire(ctx); err != nil {
				return err
			}
			return sem.Release()
		case "bounded":
			if _, err := bsem.TryAcquire(); err != nil {
				return err
			}
			return bsem.Release()
		case "event":
			if err := ev.Set(); err != nil {
				return err
			}
			if _, err := ev.Wait(ctx); err != nil {
				return err
			}
			return ev.Clear()
		case "condition":
			if err := cond.Acquire(ctx); err != nil {
				return err
			}
			if err := cond.NotifyAll(); err != nil {
				return err
			}
			return cond.Release()
		case "barrier":
			if _, err := bar1.Wait(ctx); err != nil {
				return err
			}
			if err := bar1.Abort(); err != nil {
				return err
			}
			return bar1.Reset()
		case "queries":
			_, _, _ = sem.Value(), bsem.Max(), ev.IsSet()
			_, _ = bar1.NWaiting(), bar1.Broken()
			return nil
		}
		return blockOn(ctx, op, sem0, ev0, cnd0, bar2)
	}
	testseg.Victims(open, func(op string, running func()) error {
		err := testseg.Loop(op == "queries", func(n int) error {
			if n == 1 || strings.HasSuffix(op, "-blocked") {
				running()
			}
			return step(op)
		})
		if err != nil && strings.Count(err.Error(), "futex: ") != 1 {
			err = fmt.Errorf("not one package prefix: %q", err.Error())
		}
		return err
	})
}

// blockOn waits for what nobody gives: a permit of a semaphore at 0, a
// clear event, a notification, a barrier's second party. It returns the
// error that ends the wait (a nil error would be a bug).
func blockOn(ctx context.Context, op string, sem0 *Semaphore, ev *Event, cond *Condition, bar2 *Barrier) error {
	var err error
	switch op {
	case "semaphore-blocked":
		err = sem0.Acquire(ctx)
	case "event-blocked":
		_, err = ev.Wait(ctx)
	case "condition-blocked":
		if err := cond.Acquire(ctx); err != nil {
			return err
		}
		err = cond.Wait(ctx)
	case "barrier-blocked":
		_, err = bar2.Wait(ctx)
	default:
		testproc.Fatalf("unknown operation %q", op)
	}
	if err == nil {
		err = fmt.Errorf("%s: woken with nobody to wake it", op)
	}
	return err
}
