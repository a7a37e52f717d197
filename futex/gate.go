package futex

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/shm"
)

// gateFor returns this process's gate of the primitive at off in seg
// (docs/robustness.md V7, F23): at most one goroutine per process sleeps in
// the kernel on a primitive, since one blocked in FUTEX_WAIT pins an OS
// thread and 10,000 of them exceed the runtime's thread limit. Lock and
// Semaphore pass the gate's turn (Enter, Leave): one goroutine at a time
// contends, the others queue in Go. Every handle to the same object in this
// process shares the gate; it is freed with the last of them.
func gateFor(seg *shm.Segment, off int) *gate.Gate {
	return gate.For(gate.Key{ID: seg.CreationID(), Off: off})
}

// Wait slices: a parked thread wakes at least this often to re-check its
// context and the liveness of whoever it waits for (docs/robustness.md D3), so a dead
// holder is noticed within maxSlice plus one liveness check.
const (
	minSlice = time.Millisecond
	maxSlice = 50 * time.Millisecond
)

// park sleeps on addr while it holds val, for at most slice and never past
// ctx's deadline. It reports whether the slice elapsed without a wake-up,
// and returns ctx.Err() once ctx is done.
func park(ctx context.Context, addr *uint32, val uint32, slice time.Duration) (timedOut bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d := slice
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return false, context.DeadlineExceeded
		}
		d = min(d, left)
	}
	if Wait(addr, val, d) == ErrTimeout {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// nextSlice doubles a wait slice up to maxSlice.
func nextSlice(d time.Duration) time.Duration { return min(2*d, maxSlice) }

// spinRounds bounds the spinning before a goroutine parks: four rounds of
// 2^i*32 loads with a yield between, a few microseconds in all. On a 2-core
// machine with more processes than cores a longer spin would steal the
// holder's CPU.
const spinRounds = 4

// relayWait is the wait of a primitive whose waiters wait for different
// things (a Barrier's generations, a Condition's notifications, which only
// waiters registered before them may take), where passing a turn would
// queue a goroutine whose wait is over behind one that waits for something
// later. One goroutine per process sleeps on addr (while it holds val) for
// at most slice, as the sleeper of g's round; the others wait in Go for
// that round to end and then re-check their own condition. A caller whose
// val is stale returns at once to re-check.
func relayWait(ctx context.Context, g *gate.Gate, addr *uint32, val uint32, slice time.Duration, sleepers *uint32) (bool, error) {
	sleeper, ended, same := g.BeginRound(val)
	if !sleeper {
		if !same {
			return false, ctx.Err()
		}
		select {
		case <-ended:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	// The round ends however this one does: a truncation fault on the
	// shared counter panics through here (the caller's guard turns it into
	// an error), and a round left open would keep the process's other
	// waiters on addr waiting on ended.
	defer g.EndRound()
	atomic.AddUint32(sleepers, 1)
	timedOut, err := park(ctx, addr, val, slice)
	atomic.AddUint32(sleepers, ^uint32(0))
	return timedOut, err
}
