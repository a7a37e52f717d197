package ring

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/internal/view"
)

// TestWakeClearsParkedFlag: the waker clears the parked flag, so the
// publishes that follow a wake-up, until the sleeper runs and parks again,
// make no further FUTEX_WAKE.
func TestWakeClearsParkedFlag(t *testing.T) {
	var word, parked uint32
	wake(&word, &parked)
	if parked != 0 {
		t.Fatalf("wake with no waiter: parked %d; want 0", parked)
	}
	parked = 1
	wake(&word, &parked)
	if parked != 0 {
		t.Fatalf("after wake: parked %d; want 0", parked)
	}
}

// TestAdaptiveBudgets: each of Hybrid's phases (spin, then sched_yield)
// halves its budget after ending empty-handed, drops to zero below
// minPhase, doubles after succeeding, and comes back in full after a
// successful probe; a failed probe leaves it at zero.
func TestAdaptiveBudgets(t *testing.T) {
	for _, phase := range []string{"spin", "yield"} {
		t.Run(phase, func(t *testing.T) {
			opt := &Options{SpinTime: 16 * time.Microsecond, YieldTime: -1}
			if phase == "yield" {
				opt = &Options{SpinTime: -1, YieldTime: 16 * time.Microsecond}
			}
			cfg, err := opt.cfg()
			if err != nil {
				t.Fatal(err)
			}
			b := &cfg.spin
			if phase == "yield" {
				b = &cfg.yield
			}
			testBudget(t, &cfg, b)
		})
	}
}

func testBudget(t *testing.T, cfg *waitCfg, b *budget) {
	var word, parked uint32
	g := gate.For(gate.Key{Off: -1}) // a word in no segment
	never := &waitSpec{
		ready:  func() (bool, error) { return false, nil },
		word:   &word,
		parked: &parked,
		peer:   func() error { return nil },
		gate:   g,
	}
	failWait := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if err := cfg.wait(ctx, never); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait: got %v; want DeadlineExceeded", err)
		}
	}
	for _, want := range []time.Duration{8 * time.Microsecond, 4 * time.Microsecond, 2 * time.Microsecond, 0} {
		failWait()
		if got := time.Duration(b.cur); got != want {
			t.Fatalf("budget after a failed phase: got %v; want %v", got, want)
		}
	}
	b.cur = int64(4 * time.Microsecond)
	calls := 0
	second := &waitSpec{
		ready:  func() (bool, error) { calls++; return calls >= 2, nil }, // the first check in the phase succeeds
		word:   &word,
		parked: &parked,
		peer:   func() error { return nil },
		gate:   g,
	}
	if err := cfg.wait(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if got, want := time.Duration(b.cur), 8*time.Microsecond; got != want {
		t.Fatalf("budget after a successful phase: got %v; want %v", got, want)
	}

	// With no budget, every probeEvery-th wait runs the phase with the full
	// budget once; its success restores the full budget, its failure leaves
	// none.
	b.cur, b.waits = 0, probeEvery-1
	failWait()
	if b.cur != 0 {
		t.Fatalf("budget after a failed probe: got %v; want 0", time.Duration(b.cur))
	}
	b.cur, b.waits, calls = 0, probeEvery-1, 0
	if err := cfg.wait(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if got, want := time.Duration(b.cur), 16*time.Microsecond; got != want {
		t.Fatalf("budget after a successful probe: got %v; want %v", got, want)
	}
}

// futexSpec returns a Futex-strategy config and a wait on a private word
// that never becomes ready, whose peer check fails with peerErr once set.
func futexSpec(t *testing.T, peerErr *atomic.Value) (waitCfg, *waitSpec) {
	t.Helper()
	cfg, err := (&Options{Wait: Futex}).cfg()
	if err != nil {
		t.Fatal(err)
	}
	var word, parked uint32
	return cfg, &waitSpec{
		ready:  func() (bool, error) { return false, nil },
		word:   &word,
		parked: &parked,
		peer: func() error {
			if e, _ := peerErr.Load().(error); e != nil {
				return e
			}
			return nil
		},
		gate: gate.For(gate.Key{Off: -2}),
	}
}

// TestSleeperWokenByHeartbeat: a sleeper parks with no timeout, and the
// process's heartbeat wakes it so that it notices a peer failure that
// nobody signalled on the word (internal/park's tests check that the
// heartbeat stops once no one sleeps).
func TestSleeperWokenByHeartbeat(t *testing.T) {
	var peerErr atomic.Value
	cfg, ws := futexSpec(t, &peerErr)
	errPeer := errors.New("peer gone")
	time.AfterFunc(5*time.Millisecond, func() { peerErr.Store(errPeer) }) // usually parked by then; either way works
	if err := watchdog(t, func() error { return cfg.wait(context.Background(), ws) }); !errors.Is(err, errPeer) {
		t.Fatalf("wait: got %v; want %v", err, errPeer)
	}
}

// TestSleeperWokenByCancel: cancelling a context without a deadline wakes
// a sleeper parked with no timeout, and the wait reports context.Canceled;
// the same for a deadline, reported as context.DeadlineExceeded.
func TestSleeperWokenByCancel(t *testing.T) {
	var peerErr atomic.Value
	cfg, ws := futexSpec(t, &peerErr)
	for _, delay := range []time.Duration{0, time.Millisecond, 10 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(delay, cancel)
		if err := watchdog(t, func() error { return cfg.wait(ctx, ws) }); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancel after %v: got %v; want context.Canceled", delay, err)
		}
		ctx, cancel = context.WithTimeout(context.Background(), delay)
		if err := watchdog(t, func() error { return cfg.wait(ctx, ws) }); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("deadline after %v: got %v; want context.DeadlineExceeded", delay, err)
		}
		cancel()
	}
}

// watchdog runs f and fails the test if it has not returned within 10 s.
func watchdog(t *testing.T, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return within 10 s")
		return nil
	}
}

// TestSleeperRescuedFromTruncatedPage: a sleeper whose page is truncated
// away cannot be woken by FUTEX_WAKE (the kernel finds no page); the
// heartbeat finds its thread and interrupts the wait, so the sleeper runs
// its checks (which here report the truncation) instead of sleeping until
// its context ends.
func TestSleeperRescuedFromTruncatedPage(t *testing.T) {
	m, truncate := testseg.Page(t)
	cfg, err := (&Options{Wait: Futex}).cfg()
	if err != nil {
		t.Fatal(err)
	}
	var parked uint32
	var truncated atomic.Bool
	errTruncated := errors.New("truncated")
	ws := &waitSpec{
		ready:  func() (bool, error) { return false, nil }, // touches no shared memory
		word:   view.Ptr[uint32](m, 64),
		parked: &parked,
		peer: func() error {
			if truncated.Load() {
				return errTruncated
			}
			return nil
		},
		gate: gate.For(gate.Key{Off: -3}),
	}
	time.AfterFunc(20*time.Millisecond, func() { // usually asleep by then; either way works
		truncated.Store(true)
		truncate()
	})
	if err := watchdog(t, func() error { return cfg.wait(context.Background(), ws) }); !errors.Is(err, errTruncated) {
		t.Fatalf("wait: got %v; want %v", err, errTruncated)
	}
}
