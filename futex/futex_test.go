package futex

import (
	"errors"
	"runtime"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/view"
)

func init() {
	testproc.Register("futex-wait-word", helperWaitWord)
}

func TestWaitWake(t *testing.T) {
	seg, _ := newSegment(t)
	o, err := seg.CreateObject("w", kindWords, 1<<16, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := view.Ptr[uint32](o.Bytes(), 0)
	if err := Wait(w, 1, time.Minute); err != nil {
		t.Errorf("Wait on a word that differs: got %v; want nil at once", err)
	}
	start := time.Now()
	if err := Wait(w, 0, 10*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("Wait without a wake-up: got %v; want ErrTimeout", err)
	}
	if d := time.Since(start); d < 10*time.Millisecond {
		t.Errorf("Wait(10ms) returned ErrTimeout after %v", d)
	}
	if n := Wake(w, 1); n != 0 {
		t.Errorf("Wake with no sleeper = %d; want 0", n)
	}
	if n := Wake(w, 0); n != 0 {
		t.Errorf("Wake(0) = %d; want 0", n)
	}
	done := make(chan error, 1)
	go func() { done <- Wait(w, 0, time.Minute) }()
	atomic.StoreUint32(w, 1)
	for woke := false; !woke; {
		Wake(w, 1<<40) // n is clamped to the kernel's int range
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("woken Wait: got %v; want nil", err)
			}
			woke = true
		case <-time.After(time.Millisecond):
		}
	}
}

// TestWaitEINTR sends SIGURG (the runtime's preemption signal, which has a
// handler, so FUTEX_WAIT returns EINTR) to the waiting thread every 100µs:
// Wait must neither return early nor report a wake-up.
func TestWaitEINTR(t *testing.T) {
	seg, _ := newSegment(t)
	o, err := seg.CreateObject("w", kindWords, 1<<16, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := view.Ptr[uint32](o.Bytes(), 0)
	const d = 30 * time.Millisecond
	tid := make(chan int)
	type result struct {
		err     error
		elapsed time.Duration
	}
	res := make(chan result)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid <- syscall.Gettid()
		start := time.Now()
		err := Wait(w, 0, d)
		res <- result{err, time.Since(start)}
	}()
	id, pid := <-tid, syscall.Getpid()
	signals := 0
	for {
		select {
		case r := <-res:
			t.Logf("%d signals during the wait", signals)
			if !errors.Is(r.err, ErrTimeout) {
				t.Errorf("Wait under a signal storm: got %v; want ErrTimeout", r.err)
			}
			if r.elapsed < d {
				t.Errorf("Wait(%v) under a signal storm returned after %v", d, r.elapsed)
			}
			return
		case <-time.After(100 * time.Microsecond):
			if err := syscall.Tgkill(pid, id, syscall.SIGURG); err != nil {
				t.Fatal(err)
			}
			signals++
		}
	}
}

// helperWaitWord: segment. Waits on word "w" while it is 0, for at most
// 20 s, and reports how the wait ended.
func helperWaitWord() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	o, err := seg.OpenObject("w", kindWords, 1<<16)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	w := view.Ptr[uint32](o.Bytes(), 0)
	testproc.Ready()
	deadline := time.Now().Add(20 * time.Second)
	for atomic.LoadUint32(w) == 0 {
		if Wait(w, 0, time.Until(deadline)) == ErrTimeout {
			testproc.Send("timeout")
			return
		}
	}
	testproc.Send("woken")
}

// TestXprocWaitWake: a Wake in this process wakes a Wait in another, which
// only the shared (non-private) futex operations do. If the child is not
// asleep yet when the word changes, its Wait returns at once; either way it
// reports "woken" promptly, and only a lost wake-up makes it time out.
func TestXprocWaitWake(t *testing.T) {
	seg, name := newSegment(t)
	o, err := seg.CreateObject("w", kindWords, 1<<16, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := view.Ptr[uint32](o.Bytes(), 0)
	c := testproc.Start(t, "futex-wait-word", testproc.Options{Args: []string{name}})
	c.WaitReady()
	time.Sleep(50 * time.Millisecond) // usually long enough to be asleep
	atomic.StoreUint32(w, 1)
	Wake(w, 1)
	if got := c.Recv(time.Minute); got != "woken" {
		t.Errorf("child: got %q; want woken", got)
	}
	c.MustWait()
}
