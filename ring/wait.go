package ring

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/park"
	"github.com/shmkit/shmkit/shm"
)

// WaitStrategy selects how a blocked call waits for its peer.
type WaitStrategy int

const (
	// Hybrid spins for up to Options.SpinTime, then yields the CPU with
	// sched_yield for up to Options.YieldTime, then parks on a futex. The
	// default. Each phase's budget adapts: it shrinks while the phase keeps
	// failing (a peer on the same core, an idle peer) and grows back when
	// it succeeds. A ring consumer that took three records or more since
	// its previous wait (a streaming producer), in less than a quarter of
	// the ring, first keeps off the ring for a microsecond while its spin
	// phase has a budget, so that it drains a batch instead of trailing the
	// producer record by record; a Conn that sent since its last wait
	// (replying) does not.
	Hybrid WaitStrategy = iota
	// Spin busy-waits (checking the deadline and the peer's liveness every
	// wait slice). Lowest latency while each process has its own core;
	// ruinous when processes outnumber cores.
	Spin
	// Yield calls sched_yield between checks: it never sleeps in the kernel
	// but lets other runnable processes on the same core go first.
	Yield
	// Futex parks on a futex at once: no CPU burnt, but every wake-up is
	// a FUTEX_WAKE and a thread switch (BenchmarkPingPong/wait=futex).
	Futex
)

// String names the strategy as benchmarks spell it.
func (w WaitStrategy) String() string {
	switch w {
	case Hybrid:
		return "hybrid"
	case Spin:
		return "spin"
	case Yield:
		return "yield"
	case Futex:
		return "futex"
	}
	return fmt.Sprintf("WaitStrategy(%d)", int(w))
}

// Defaults for Options.
const (
	DefaultSpinTime  = 20 * time.Microsecond
	DefaultYieldTime = 100 * time.Microsecond
	// MaxSlice bounds the time between checks of the peer's liveness: a
	// sleeper is woken at least this often by its process's heartbeat, and
	// Spin and Yield check as often. The owner-death budget D of
	// docs/robustness.md is one slice plus one liveness check.
	MaxSlice = park.Heartbeat
)

// Options tunes waiting. The zero value gives the defaults: Hybrid with
// DefaultSpinTime and DefaultYieldTime. Options are per handle, not stored
// in shared memory: the two ends of a ring may wait differently.
type Options struct {
	Wait WaitStrategy
	// SpinTime is Hybrid's largest busy-wait budget before yielding. The spin backs
	// off (exponentially longer pauses between checks of the shared word),
	// so it costs little memory traffic. Negative means none.
	SpinTime time.Duration
	// YieldTime is Hybrid's largest sched_yield budget before parking;
	// like the spin budget it adapts. Negative means none.
	YieldTime time.Duration
}

type waitCfg struct {
	strategy WaitStrategy
	spin     budget // Hybrid's spin phase
	yield    budget // Hybrid's sched_yield phase
	pauses   uint64 // settle pauses taken (atomic; the tests read it)
}

// budget is one adaptive phase of Hybrid (spin or yield), in ns, accessed
// atomically: it halves each time the phase ends empty-handed (to zero once
// below minPhase) and doubles (up to max) each time it succeeds.
//
// Two processes sharing one core never succeed in spinning (the peer cannot
// run while we spin), so their spin budget falls to zero within a few waits
// and they go on to yield, which hands the core to the peer and succeeds. A
// waiter whose messages come seldom (an idle consumer, a pool worker between
// tasks) never succeeds in either phase, so both fall to zero and it parks
// at once: a fixed 100 µs yield phase cost such a waiter at one message per
// millisecond 13% of a core, the futex alone 7%.
//
// Every probeEvery-th wait with a zero budget probes with the full budget,
// so that a budget lost to a passing preemption, or a later move to
// separate cores, is noticed: a probe shorter than the peer's time per
// message (a 64 KiB copy takes a few microseconds) would never succeed,
// leaving every later wait to the next phase (measured with the spin phase
// going straight to sched_yield: 64 KiB throughput fell from 200k to 30k
// messages/s, the consumer's budget stuck at zero).
type budget struct {
	max   time.Duration
	cur   int64
	waits uint32
}

const (
	probeEvery = 128
	minPhase   = 2 * time.Microsecond
)

// A Hybrid consumer that took settleAfter or more records since its
// previous wait (it found a backlog: the producer is streaming), in less
// than a quarter of the ring, stays off the shared lines for settlePause
// before its first look at the tail (Consumer.backlogged).
//
// A spinning consumer of a streaming producer catches up after every few
// records: it then reloads the tail for each record the producer publishes
// and reads each record while the producer writes the next into the same
// cache line, so both lines move between the cores once per record and the
// producer's publish (a full-barrier store) stalls on the transfer. A
// consumer parked on the futex instead wakes to a backlog of tens or
// hundreds of records and drains it behind the producer, which is why futex-only
// waiting out-ran the default at 64 B (0.82x, pinned and unpinned). The
// pause lets the producer get a few cache lines ahead, so the consumer
// drains a batch per look at the tail instead of one record. Measured with
// 64 B messages, two threads pinned to two cores, medians of 7 runs: 1.5
// records per tail load and 6 per wait without it, 8 and 54 with it
// (futex-only: 9 and 35 to 39); the producer's CPU time per message fell
// from 54 ns to 46 (futex-only: 42).
//
// A round trip takes one record per wait (two now and then, when the reply
// comes back before the echo looks again: 0.1% of waits in a ping-pong here
// took two, none three), and so does a paced or idle peer: those never
// pause. A Conn that sent since its last wait does not pause either, so
// that a request of three messages or more is not followed by a pause
// before the next request (Consumer.replied). A message that arrives during
// a pause waits at most settlePause.
// A consumer that drains a quarter of the ring or more per wait does not
// pause either: the producer could fill the ring during the pause and then
// wait for room (a 4 KiB ring of 1 KiB messages fell from 8 M to 3-4 M
// messages/s when it did). Nor does a producer waiting for room: such waits
// come one record apart on a small ring, where a pause per record was
// slower still.
//
// Queue waits do not settle: both sides write each Queue slot (the consumer
// frees it through its sequence word), so its lines move between the cores
// once per message however far apart the two sides are, and a pause before
// Queue waits (Put's and Get's) measured no gain.
const (
	settleAfter = 3
	settlePause = time.Microsecond
)

func newBudget(d time.Duration) budget { return budget{max: d, cur: int64(d)} }

// take returns this wait's budget for the phase.
func (b *budget) take() time.Duration {
	d := time.Duration(atomic.LoadInt64(&b.cur))
	if d == 0 && atomic.AddUint32(&b.waits, 1)%probeEvery == 0 {
		d = b.max
	}
	return d
}

// won records that a phase given used succeeded.
func (b *budget) won(used time.Duration) {
	atomic.StoreInt64(&b.cur, int64(min(max(2*used, minPhase), b.max)))
}

// lost records that a phase given used ended empty-handed; a failed probe
// (the budget was zero before it) or a budget that small stops the phase
// at once.
func (b *budget) lost(used time.Duration) {
	next := used / 2
	if next < minPhase || atomic.LoadInt64(&b.cur) == 0 {
		next = 0
	}
	atomic.StoreInt64(&b.cur, int64(next))
}

func (o *Options) cfg() (waitCfg, error) {
	c := waitCfg{strategy: Hybrid, spin: newBudget(DefaultSpinTime), yield: newBudget(DefaultYieldTime)}
	if o == nil {
		return c, nil
	}
	if o.Wait < Hybrid || o.Wait > Futex {
		return c, fmt.Errorf("ring: wait strategy %d: %w", int(o.Wait), ErrInvalid)
	}
	c.strategy = o.Wait
	if o.SpinTime != 0 {
		c.spin = newBudget(max(o.SpinTime, 0))
	}
	if o.YieldTime != 0 {
		c.yield = newBudget(max(o.YieldTime, 0))
	}
	return c, nil
}

// waitSpec describes one wait: the condition, the futex word whose change
// signals progress, the parked-waiter counter the waker checks, and the slow
// check of the peer (closed flags, liveness) run between slices.
type waitSpec struct {
	ready  func() (bool, error) // cheap: shared loads only
	word   *uint32              // futex word, changes when ready may have become true
	parked *uint32              // parked-waiter count, read by the waker
	peer   func() error         // slow: may call seg.Alive; nil error = keep waiting
	gate   *gate.Gate           // one kernel waiter per word and process (docs/robustness.md V7)

	sleeper park.Sleeper // the gate's sleeper's registration
	// state is the segment's state word (guard.state; nil: none), non-zero
	// when the segment is closed or can be truncated. A truncation takes
	// the word's page away, and with it every FUTEX_WAKE (EFAULT), the
	// heartbeat's included: the heartbeat then interrupts the sleeper's
	// thread (internal/park's rescue), or where it cannot (no /proc), a sleeper
	// on such a segment sleeps at most MaxSlice, then finds the fault in
	// its checks.
	state *uint32
}

// isDeadline reports whether err is a context's error (from ctx.Err() or
// from wait's own reading of the deadline): callers that give a timeout its
// own meaning (Poll's false) must test the error, never ctx.Err() after
// the fact, which may still be nil when the clock has passed the deadline
// but ctx's timer has not fired yet.
func isDeadline(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// ctxDone is ctx.Err(), or context.DeadlineExceeded once now has reached
// ctx's deadline even if ctx's timer has not fired yet: a passed deadline
// is reported as the deadline on every path, whichever check sees it first.
func ctxDone(ctx context.Context, now time.Time) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok && !now.Before(d) {
		return context.DeadlineExceeded
	}
	return nil
}

// wait blocks until s.ready reports true, s.ready or s.peer fail, or ctx
// ends (ctx.Err(), or context.DeadlineExceeded once the clock passes ctx's
// deadline). Every path re-checks ready before reporting a peer failure,
// so data published just before a peer died is still delivered.
func (c *waitCfg) wait(ctx context.Context, s *waitSpec) error {
	return c.waitSettled(ctx, s, false)
}

// waitSettled is wait that, when settle is set, starts with settlePause
// (if settles).
func (c *waitCfg) waitSettled(ctx context.Context, s *waitSpec, settle bool) error {
	if c.settles(settle) {
		atomic.AddUint64(&c.pauses, 1)
		pause(settlePause)
	}
	if ok, err := s.ready(); ok || err != nil {
		return err
	}
	// Spin and Yield run their phase until ctx ends (-1); Hybrid runs
	// each phase for its adaptive budget.
	var spinFor, yieldFor time.Duration
	switch c.strategy {
	case Hybrid:
		spinFor, yieldFor = c.spin.take(), c.yield.take()
	case Spin:
		spinFor = -1
	case Yield:
		yieldFor = -1
	}
	// The clock is read only where a phase or a deadline needs it: a
	// futex wait for a context without a deadline reads it on no path
	// that a round trip takes (two reads cost 5% of one here).
	deadline, hasDeadline := ctx.Deadline()
	clock := func() time.Time {
		if hasDeadline {
			return time.Now()
		}
		return time.Time{}
	}
	start := clock()
	if spinFor != 0 || yieldFor != 0 {
		start = time.Now()
	}
	if err := ctxDone(ctx, start); err != nil {
		return err
	}
	nextPeer := start.Add(MaxSlice)
	// checkSlow runs between slices: context, then the peer.
	checkSlow := func(now time.Time, force bool) (bool, error) {
		if err := ctxDone(ctx, now); err != nil {
			return true, err
		}
		if !force && now.Before(nextPeer) {
			return false, nil
		}
		nextPeer = now.Add(MaxSlice)
		if err := s.peer(); err != nil {
			if ok, rerr := s.ready(); ok || rerr != nil {
				return true, rerr
			}
			return true, err
		}
		return false, nil
	}

	// Spin with back-off: 1, 2, 4 ... 16 empty iterations between loads of
	// the shared word, and a clock read every few checks.
	if spinFor != 0 {
		pause := 1
		for n := 0; ; n++ {
			for i := 0; i < pause; i++ {
				spinHint()
			}
			if pause < 16 {
				pause <<= 1
			}
			if ok, err := s.ready(); ok || err != nil {
				if spinFor > 0 && err == nil {
					c.spin.won(spinFor)
				}
				return err
			}
			if n&15 == 15 {
				now := time.Now()
				if done, err := checkSlow(now, false); done {
					if err != nil && spinFor > 0 {
						c.spin.lost(spinFor) // ended empty-handed, by ctx or the peer
					}
					return err
				}
				if spinFor > 0 && now.Sub(start) >= spinFor {
					break
				}
			}
		}
		c.spin.lost(spinFor)
	}
	if yieldFor != 0 {
		ystart := time.Now()
		for n := 0; ; n++ {
			schedYield()
			if ok, err := s.ready(); ok || err != nil {
				if yieldFor > 0 && err == nil {
					c.yield.won(yieldFor)
				}
				return err
			}
			if n&3 == 3 {
				now := time.Now()
				if done, err := checkSlow(now, false); done {
					if err != nil && yieldFor > 0 {
						c.yield.lost(yieldFor) // ended empty-handed, by ctx or the peer
					}
					return err
				}
				if yieldFor > 0 && now.Sub(ystart) >= yieldFor {
					break
				}
			}
		}
		c.yield.lost(yieldFor)
	}

	// Park until woken: by the peer's publish, by the heartbeat each
	// MaxSlice (then the peer is checked), or by ctx's end (internal/park). The
	// parked flag is set before the final check of ready, and the waker
	// changes the word before reading the flag, so a wake-up is never lost
	// (both sides use sequentially consistent atomics). The waker, not the
	// waiter, clears the flag: a wake-up takes tens of microseconds to
	// reach a sleeping process, and a flag the waiter cleared itself would
	// make every publish in that time another FUTEX_WAKE.
	for {
		val := atomic.LoadUint32(s.word)
		if sleeper, ended, _ := s.gate.BeginRound(val); sleeper {
			// The round ends however this one does: a truncation fault in
			// the store or in ready panics through here (the caller's guard
			// turns it into an error), and a round left open would keep the
			// process's other waiters on the word waiting on ended.
			ok, err := func() (ok bool, err error) {
				defer s.gate.EndRound()
				atomic.StoreUint32(s.parked, 1)
				if ok, err = s.ready(); !ok && err == nil {
					if err = ctxDone(ctx, clock()); err == nil {
						s.sleeper.Sleep(ctx, s.word, val, deadline, hasDeadline, s.state != nil && atomic.LoadUint32(s.state) != 0 && !park.CanRescue())
					}
				}
				return ok, err
			}()
			if ok || err != nil {
				return err
			}
		} else {
			// Another goroutine of this process sleeps on the word; wait
			// in Go for its round to end (the heartbeat ends it within
			// MaxSlice) or for ctx.
			select {
			case <-ended:
			case <-ctx.Done():
			}
		}
		if ok, err := s.ready(); ok || err != nil {
			return err
		}
		if done, err := checkSlow(time.Now(), true); done {
			return err
		}
	}
}

// wake wakes every waiter parked on word if the parked flag is set, and
// clears the flag: one FUTEX_WAKE per parking, however many publishes
// follow before the sleeper runs. Waking all rather than one is what makes
// clearing safe: a waiter that finds nothing to do sets the flag again
// before it sleeps again. Callers change the word (or the state behind it)
// before calling.
func wake(word, parked *uint32) {
	if atomic.LoadUint32(parked) != 0 && atomic.SwapUint32(parked, 0) != 0 {
		futex.Wake(word, 1<<30)
	}
}

// gateOf returns this process's gate of the futex word at word, which lies
// in the header hdr of a ring or queue at offset base of seg: every handle
// on the same word in this process shares it (docs/robustness.md V7: at most
// one OS thread parked per word and process, however many handles).
func gateOf[H any](seg *shm.Segment, base int, hdr *H, word *uint32) *gate.Gate {
	off := base + wordOffset(hdr, word)
	return gate.For(gate.Key{ID: seg.CreationID(), Off: off})
}

var spinSink uint32

// spinHint is one iteration of a back-off pause: a load that the compiler
// cannot drop, touching only this process's memory.
func spinHint() { atomic.LoadUint32(&spinSink) }

// settles reports whether a wait asked to settle starts with settlePause:
// Hybrid only, and only while the spin phase has a budget (the peer runs on
// another core; with both on one core the pause would only burn the time
// slice the peer needs).
func (c *waitCfg) settles(settle bool) bool {
	return settle && c.strategy == Hybrid && atomic.LoadInt64(&c.spin.cur) != 0
}

// pause busy-waits for d without touching shared memory.
func pause(d time.Duration) {
	for start := time.Now(); time.Since(start) < d; {
		for i := 0; i < 16; i++ {
			spinHint()
		}
	}
}

func schedYield() { unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
