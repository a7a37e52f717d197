package ring

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/gate"
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

// TestAdaptiveSpinBudget: Hybrid's spin budget halves after each spin that
// ends empty-handed, drops to zero below minSpin, doubles after a spin
// that succeeds, and comes back in full after a successful probe.
func TestAdaptiveSpinBudget(t *testing.T) {
	cfg, err := (&Options{SpinTime: 16 * time.Microsecond, YieldTime: -1}).cfg()
	if err != nil {
		t.Fatal(err)
	}
	var word, parked uint32
	g := gate.For(gate.Key{Off: -1}) // a word in no segment
	never := &waitSpec{
		ready:  func() (bool, error) { return false, nil },
		word:   &word,
		parked: &parked,
		peer:   func() error { return nil },
		gate:   g,
	}
	for _, want := range []time.Duration{8 * time.Microsecond, 4 * time.Microsecond, 2 * time.Microsecond, 0} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := cfg.wait(ctx, never)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait: got %v; want DeadlineExceeded", err)
		}
		if got := time.Duration(cfg.spinCur); got != want {
			t.Fatalf("budget after a failed spin: got %v; want %v", got, want)
		}
	}
	cfg.spinCur = int64(4 * time.Microsecond)
	calls := 0
	second := &waitSpec{
		ready:  func() (bool, error) { calls++; return calls >= 2, nil }, // the first check in the spin succeeds
		word:   &word,
		parked: &parked,
		peer:   func() error { return nil },
		gate:   g,
	}
	if err := cfg.wait(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if got, want := time.Duration(cfg.spinCur), 8*time.Microsecond; got != want {
		t.Fatalf("budget after a successful spin: got %v; want %v", got, want)
	}

	// With no budget, every probeEvery-th wait spins the full budget once;
	// its success restores the full budget.
	cfg.spinCur, cfg.waits, calls = 0, probeEvery-1, 0
	if err := cfg.wait(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	if got, want := time.Duration(cfg.spinCur), 16*time.Microsecond; got != want {
		t.Fatalf("budget after a successful probe: got %v; want %v", got, want)
	}
}
