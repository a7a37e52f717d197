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
	"github.com/shmkit/shmkit/shm"
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
	// failWait's phase ends empty-handed, by its own clock or, on a host
	// so loaded that the phase outlasts the deadline, by ctx: a loss
	// either way.
	failWait := func() {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
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

// TestSettleAfterBacklog: a consumer that took settleAfter records or more
// since its previous wait, in less than a quarter of the ring, starts the
// next wait with settlePause (Hybrid, with a spin budget only); one that
// took fewer, or a quarter of the ring or more, does not, and the count
// starts again at each wait. Read one by one or with Consume, the same.
func TestSettleAfterBacklog(t *testing.T) {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	r, err := NewRing(seg, "r", 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err1 := r.Producer()
	c, err2 := r.Consumer()
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	ctx := context.Background()
	buf := make([]byte, 1024)
	// emptyWait reads from the empty ring with a passed deadline: one
	// wait, which reports the deadline.
	emptyWait := func() {
		t.Helper()
		dctx, cancel := context.WithTimeout(ctx, 0)
		defer cancel()
		if _, err := c.ReadInto(dctx, buf); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("read from an empty ring: got %v; want DeadlineExceeded", err)
		}
	}
	write := func(n, size int) {
		t.Helper()
		for i := 0; i < n; i++ {
			if err := p.Write(ctx, make([]byte, size)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tc := range []struct {
		name          string
		records, size int
		consume       bool
		want          bool
	}{
		{"one", 1, 3, false, false},
		{"two", settleAfter - 1, 3, false, false},
		{"three", settleAfter, 3, false, true},
		{"one again", 1, 3, false, false},
		{"consume three", settleAfter, 3, true, true},
		{"consume two", settleAfter - 1, 3, true, false},
		{"consume ten", 10, 3, true, true},
		{"three of a quarter ring", settleAfter, 1000, false, false}, // 3 x 1008 bytes of 4096
		{"consume three of a quarter ring", settleAfter, 1000, true, false},
		{"three small after large", settleAfter, 3, false, true},
	} {
		write(tc.records, tc.size)
		if tc.consume {
			n, err := c.Consume(ctx, 10, func([]byte) error { return nil })
			if err != nil || n != tc.records {
				t.Fatalf("%s: Consume: %d, %v; want %d, nil", tc.name, n, err, tc.records)
			}
		} else {
			for i := 0; i < tc.records; i++ {
				if _, err := c.ReadInto(ctx, buf); err != nil {
					t.Fatal(err)
				}
			}
		}
		if got := c.backlogged(); got != tc.want {
			t.Fatalf("%s: %d records, %d bytes taken: backlogged %v; want %v", tc.name, c.took, c.head-c.waitHead, got, tc.want)
		}
		// The wait itself pauses exactly when backlogged (the spin budget
		// is refilled first: a wait may spend it).
		atomic.StoreInt64(&c.cfg.spin.cur, int64(c.cfg.spin.max))
		before := atomic.LoadUint64(&c.cfg.pauses)
		emptyWait()
		if got := atomic.LoadUint64(&c.cfg.pauses) - before; got != map[bool]uint64{false: 0, true: 1}[tc.want] {
			t.Fatalf("%s: the wait paused %d times; want %v", tc.name, got, tc.want)
		}
		if c.took != 0 || c.waitHead != c.head {
			t.Fatalf("%s: after a wait: %d records, %d bytes counted; want 0, 0", tc.name, c.took, c.head-c.waitHead)
		}
	}

	// Hybrid settles while it has a spin budget, not without one (both
	// sides on one core); the other strategies never do.
	if !c.cfg.settles(true) || c.cfg.settles(false) {
		t.Fatal("Hybrid with a spin budget: settles(true) false or settles(false) true")
	}
	c.cfg.spin.cur = 0
	if c.cfg.settles(true) {
		t.Fatal("settles with no spin budget; want not")
	}
	for _, w := range []WaitStrategy{Spin, Yield, Futex} {
		cfg, err := (&Options{Wait: w}).cfg()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.settles(true) {
			t.Fatalf("wait=%v settles; want only Hybrid", w)
		}
	}
}

// TestSettleNotAfterReply: a Conn whose receiver took three messages or
// more pauses before its next wait, unless it sent since its last wait (a
// server answering a request of several messages waits for the next
// request at once).
func TestSettleNotAfterReply(t *testing.T) {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close() })
	a, b, err := NewPipe(seg, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cfg := &a.recv.cfg
	for _, reply := range []bool{false, true, false} {
		for i := 0; i < settleAfter; i++ {
			if err := b.SendBytes(ctx, []byte("part")); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < settleAfter; i++ {
			if _, err := a.RecvBytes(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if reply {
			if err := a.SendBytes(ctx, []byte("answer")); err != nil {
				t.Fatal(err)
			}
			if _, err := b.RecvBytes(ctx); err != nil {
				t.Fatal(err)
			}
		}
		atomic.StoreInt64(&cfg.spin.cur, int64(cfg.spin.max))
		before := atomic.LoadUint64(&cfg.pauses)
		dctx, cancel := context.WithTimeout(ctx, 0)
		if _, err := a.RecvBytes(dctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("receive from an empty pipe: %v; want DeadlineExceeded", err)
		}
		cancel()
		want := uint64(1)
		if reply {
			want = 0
		}
		if got := atomic.LoadUint64(&cfg.pauses) - before; got != want {
			t.Fatalf("reply %v: the wait paused %d times; want %d", reply, got, want)
		}
	}
}
