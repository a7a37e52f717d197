package futex

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestDeadlineReportedAsDeadline blocks every primitive's wait until a
// short deadline, many times, with deadlines that end in each phase of the
// wait (before the spin, during it, at the gate or relay, inside
// FUTEX_WAIT, at a slice boundary). The clock can pass the deadline before
// ctx.Err() turns non-nil; whichever a loop looks at first, the call must
// report context.DeadlineExceeded (Barrier: wrapped with ErrBrokenBarrier),
// never nil, another error or a success.
func TestDeadlineReportedAsDeadline(t *testing.T) {
	seg, _ := newSegment(t)
	lock, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := lock.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	rlock, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := rlock.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	sem, err := NewSemaphore(seg, "s", 0)
	if err != nil {
		t.Fatal(err)
	}
	bsem, err := NewBoundedSemaphore(seg, "bs", 0)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := NewEvent(seg, "e")
	if err != nil {
		t.Fatal(err)
	}
	cond, err := NewCondition(seg, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	bar, err := NewBarrier(seg, "b", 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		wait func(ctx context.Context) error
	}{
		{"Lock", lock.Acquire},
		{"RLock", rlock.Acquire},
		{"RLock.Owner", rlock.As(NewOwner()).Acquire},
		{"Semaphore", sem.Acquire},
		{"BoundedSemaphore", bsem.Acquire},
		{"Event", func(ctx context.Context) error {
			ok, err := ev.Wait(ctx)
			if ok {
				return errors.New("Event.Wait returned true")
			}
			return err
		}},
		{"Condition", func(ctx context.Context) error {
			if err := cond.Acquire(context.Background()); err != nil {
				return err
			}
			werr := cond.Wait(ctx)
			if err := cond.Release(); err != nil {
				return errors.Join(werr, err) // not held again after Wait
			}
			return werr
		}},
		{"Barrier", func(ctx context.Context) error {
			defer bar.Reset()
			_, err := bar.Wait(ctx)
			if err != nil && !errors.Is(err, ErrBrokenBarrier) {
				return errors.Join(err, errors.New("not ErrBrokenBarrier"))
			}
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rounds := 300
			if testing.Short() {
				rounds = 60
			}
			for i := range rounds {
				d := time.Duration(i%6) * 400 * time.Microsecond // 0 to 2 ms
				if i%6 == 0 {
					d = time.Duration(i%13) * time.Microsecond
				}
				ctx, cancel := context.WithTimeout(context.Background(), d)
				err := tc.wait(ctx)
				cancel()
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("round %d, deadline %v: got %v; want context.DeadlineExceeded", i, d, err)
				}
			}
		})
	}
}
