package futex

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/park"
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

// sleep parks on addr while it holds val (internal/park): untimed, until
// woken by whoever changes the word, by this process's heartbeat at least
// every park.Heartbeat, or by ctx's end. It returns ctx.Err() once ctx is
// done (context.DeadlineExceeded as soon as the clock passes ctx's
// deadline). Otherwise beat reports that the heartbeat woke the sleep:
// about a Heartbeat passed without a wake-up from the word, so a caller
// that waits for a holder checks its liveness now (docs/robustness.md D3:
// a dead holder is noticed within a Heartbeat plus one liveness check;
// death is never inferred from the beat itself, only from Alive). state is
// the handle's segment state word: on a segment that can be truncated,
// where the heartbeat cannot rescue a sleeper (no /proc), each sleep lasts
// at most a Heartbeat.
func sleep(ctx context.Context, sl *park.Sleeper, addr *uint32, val uint32, state *uint32) (beat bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	dl, hasDeadline := ctx.Deadline()
	if hasDeadline && !time.Now().Before(dl) {
		return false, context.DeadlineExceeded
	}
	beat = sl.Sleep(ctx, addr, val, dl, hasDeadline, atomic.LoadUint32(state) != 0 && !park.CanRescue())
	if err := ctx.Err(); err != nil {
		return false, err
	}
	return beat, nil
}

// spinRounds bounds the spinning before a goroutine parks: four rounds of
// 2^i*32 loads with a yield between, a few microseconds in all. On a 2-core
// machine with more processes than cores a longer spin would steal the
// holder's CPU.
const spinRounds = 4

// relayWait is the wait of a primitive whose waiters wait for different
// things (a Barrier's generations, a Condition's notifications, which only
// waiters registered before them may take), where passing a turn would
// queue a goroutine whose wait is over behind one that waits for something
// later. One goroutine per process sleeps on addr (while it holds val), as
// the sleeper of g's round, using sl (sleep); the others wait in Go for
// that round to end and then re-check their own condition. A caller whose
// val is stale returns at once to re-check. beat is sleep's, for the
// round's sleeper (false for the others: one goroutine per process runs
// the slow checks of a round).
func relayWait(ctx context.Context, g *gate.Gate, sl *park.Sleeper, addr *uint32, val uint32, sleepers, state *uint32) (beat bool, err error) {
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
	beat, err = sleep(ctx, sl, addr, val, state)
	atomic.AddUint32(sleepers, ^uint32(0))
	return beat, err
}
