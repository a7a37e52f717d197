package park

import (
	"context"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/internal/view"
)

// TestUnsafeFenced: of the package's own files only layout.go imports
// unsafe.
func TestUnsafeFenced(t *testing.T) { testseg.UnsafeConfined(t) }

// TestSleepWokenByHeartbeat: a sleep nobody wakes on its word ends by the
// heartbeat, and Sleep reports the beat; once no one sleeps, the heartbeat
// goroutine stops.
func TestSleepWokenByHeartbeat(t *testing.T) {
	var word uint32
	var sl Sleeper
	done := make(chan bool, 1)
	go func() { done <- sl.Sleep(context.Background(), &word, 0, time.Time{}, false, false) }()
	select {
	case beat := <-done:
		if !beat {
			t.Fatal("Sleep ended by the heartbeat reported no beat")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Sleep did not return within 10 s")
	}
	deadline := time.Now().Add(100 * Heartbeat)
	for running() && time.Now().Before(deadline) {
		time.Sleep(Heartbeat / 5)
	}
	if running() {
		t.Fatal("the heartbeat still runs with no sleeper")
	}
}

// TestSleepWokenByWord: a wake-up on the word ends the sleep (repeated
// until it lands: the first may come before the FUTEX_WAIT). The heartbeat
// would end the sleep too, so the sleeper sleeps again until a sleep ends
// with no beat: one the wake-up on the word ended.
func TestSleepWokenByWord(t *testing.T) {
	var word uint32
	var sl Sleeper
	done := make(chan struct{})
	go func() {
		for sl.Sleep(context.Background(), &word, 0, time.Time{}, false, false) {
		}
		close(done)
	}()
	watchdog := time.After(10 * time.Second)
	for {
		Wake(&word, 1)
		select {
		case <-done:
			return
		case <-watchdog:
			t.Fatal("no sleep was ended by a wake-up on its word within 10 s")
		case <-time.After(time.Millisecond):
		}
	}
}

// TestSleepWokenByContext: a context's cancellation and its deadline both
// end a sleep nobody wakes on its word, at any moment relative to the
// FUTEX_WAIT.
func TestSleepWokenByContext(t *testing.T) {
	var word uint32
	var sl Sleeper
	for _, delay := range []time.Duration{0, 100 * time.Microsecond, time.Millisecond, 5 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(delay, cancel)
		for ctx.Err() == nil {
			sleepWithin(t, &sl, ctx, &word)
		}
		ctx, cancel = context.WithTimeout(context.Background(), delay)
		for ctx.Err() == nil {
			sleepWithin(t, &sl, ctx, &word)
		}
		cancel()
	}
}

func sleepWithin(t *testing.T, sl *Sleeper, ctx context.Context, word *uint32) {
	t.Helper()
	dl, ok := ctx.Deadline()
	done := make(chan struct{})
	go func() { sl.Sleep(ctx, word, 0, dl, ok, false); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Sleep did not return within 10 s of its context's end")
	}
}

// TestBoundedSleep: a bounded sleep ends within about a Heartbeat by its
// own timeout even if the heartbeat's wake-up cannot reach it, and reports
// the beat.
func TestBoundedSleep(t *testing.T) {
	var word uint32
	var sl Sleeper
	if !sl.Sleep(context.Background(), &word, 0, time.Time{}, false, true) {
		t.Fatal("a bounded sleep that ran out reported no beat")
	}
}

// TestRescueFromTruncatedPage: a sleeper whose page is truncated away
// cannot be woken by FUTEX_WAKE; the heartbeat finds its thread and
// interrupts the wait, and the sleep returns.
func TestRescueFromTruncatedPage(t *testing.T) {
	if !CanRescue() {
		t.Skip("no /proc/self/task")
	}
	m, truncate := testseg.Page(t)
	word := view.Ptr[uint32](m, 64)
	var sl Sleeper
	done := make(chan struct{})
	go func() {
		// The first sleep may end by a beat before the truncation; the
		// one after the truncation must end too (EFAULT at once, or the
		// rescue).
		for i := 0; i < 3; i++ {
			sl.Sleep(context.Background(), word, 0, time.Time{}, false, false)
		}
		close(done)
	}()
	time.AfterFunc(20*time.Millisecond, truncate)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a sleeper on a truncated page was not rescued within 10 s")
	}
}

func running() bool {
	heartbeat.mu.Lock()
	defer heartbeat.mu.Unlock()
	return heartbeat.running
}
