package futex

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
)

func init() {
	testproc.Register("futex-sem", helperSem)
	testproc.Register("futex-event", helperEvent)
	testproc.Register("futex-barrier", helperBarrier)
	testproc.Register("futex-producer", helperProducer)
	testproc.Register("futex-consumer", helperConsumer)
	testproc.Register("futex-cond-wait", helperCondWait)
	testproc.Register("futex-barrier-wait", helperBarrierWait)
}

func ctxMinute() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), time.Minute)
}

// Words of the semaphore test: inside now, maximum seen, total admissions.
const (
	semInside = iota
	semMax
	semTotal
	semWords
)

// helperSem: segment, rounds. Records how many processes are inside.
func helperSem() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	s, err := OpenSemaphore(seg, "s")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	w := openWords(seg, "w", semWords)
	ctx, cancel := ctxMinute()
	defer cancel()
	for i := 0; i < testproc.IntArg(1); i++ {
		if err := s.Acquire(ctx); err != nil {
			testproc.Fatalf("Acquire: %v", err)
		}
		in := atomic.AddUint64(&w[semInside], 1)
		for {
			m := atomic.LoadUint64(&w[semMax])
			if in <= m || atomic.CompareAndSwapUint64(&w[semMax], m, in) {
				break
			}
		}
		atomic.AddUint64(&w[semTotal], 1)
		time.Sleep(20 * time.Microsecond)
		atomic.AddUint64(&w[semInside], ^uint64(0))
		if err := s.Release(); err != nil {
			testproc.Fatalf("Release: %v", err)
		}
	}
}

func TestXprocSemaphore(t *testing.T) {
	seg, name := newSegment(t)
	s, err := NewSemaphore(seg, "s", 3)
	if err != nil {
		t.Fatal(err)
	}
	w := newWords(t, seg, "w", semWords)
	procs, rounds := 6, 2000
	if testing.Short() {
		rounds = 300
	}
	var cs []*testproc.Child
	for i := 0; i < procs; i++ {
		cs = append(cs, testproc.Start(t, "futex-sem", testproc.Options{Args: []string{name, strconv.Itoa(rounds)}}))
	}
	for _, c := range cs {
		c.MustWait()
	}
	t.Logf("maximum inside: %d", w[semMax])
	if w[semMax] > 3 || w[semMax] < 1 {
		t.Errorf("maximum inside = %d; want 1..3", w[semMax])
	}
	if got, want := w[semTotal], uint64(procs*rounds); got != want {
		t.Errorf("admissions = %d; want %d", got, want)
	}
	if got := s.Value(); got != 3 {
		t.Errorf("Value at the end = %d; want 3", got)
	}
}

// helperEvent: segment. Waits for event "e" and reports the flag.
func helperEvent() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	e, err := OpenEvent(seg, "e")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	ctx, cancel := ctxMinute()
	defer cancel()
	ok, err := e.Wait(ctx)
	testproc.Send("%v %v", ok, err)
}

func TestXprocEvent(t *testing.T) {
	seg, name := newSegment(t)
	e, err := NewEvent(seg, "e")
	if err != nil {
		t.Fatal(err)
	}
	var cs []*testproc.Child
	for i := 0; i < 4; i++ {
		c := testproc.Start(t, "futex-event", testproc.Options{Args: []string{name}})
		c.WaitReady()
		cs = append(cs, c)
	}
	waitFor(t, func() bool { return atomic.LoadUint32(&e.st.sleepers) == 4 })
	e.Set()
	for i, c := range cs {
		if got := c.Recv(time.Minute); got != "true <nil>" {
			t.Errorf("waiter %d: got %q; want \"true <nil>\"", i, got)
		}
		c.MustWait()
	}
}

// Words of the barrier test: arrivals, sum of indices.
const (
	barArrivals = iota
	barIdxSum
	barWords
)

// helperBarrier: segment, rounds. Proves lock-step with the arrivals count.
func helperBarrier() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	b, err := OpenBarrier(seg, "b")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	w := openWords(seg, "w", barWords)
	ctx, cancel := ctxMinute()
	defer cancel()
	p := uint64(b.Parties())
	for r := uint64(0); r < uint64(testproc.IntArg(1)); r++ {
		atomic.AddUint64(&w[barArrivals], 1)
		idx, err := b.Wait(ctx)
		if err != nil {
			testproc.Fatalf("round %d: Wait: %v", r, err)
		}
		a := atomic.LoadUint64(&w[barArrivals])
		if a < p*(r+1) || a > p*(r+1)+p-1 {
			testproc.Fatalf("round %d: %d arrivals after the barrier; want %d..%d", r, a, p*(r+1), p*(r+1)+p-1)
		}
		atomic.AddUint64(&w[barIdxSum], uint64(idx))
	}
}

func TestXprocBarrier(t *testing.T) {
	seg, name := newSegment(t)
	if _, err := NewBarrier(seg, "b", 4); err != nil {
		t.Fatal(err)
	}
	w := newWords(t, seg, "w", barWords)
	rounds := 1000
	if testing.Short() {
		rounds = 200
	}
	var cs []*testproc.Child
	for i := 0; i < 4; i++ {
		cs = append(cs, testproc.Start(t, "futex-barrier", testproc.Options{Args: []string{name, strconv.Itoa(rounds)}}))
	}
	for _, c := range cs {
		c.MustWait()
	}
	if got, want := w[barArrivals], uint64(4*rounds); got != want {
		t.Errorf("arrivals = %d; want %d", got, want)
	}
	if got, want := w[barIdxSum], uint64(6*rounds); got != want {
		t.Errorf("sum of indices = %d; want %d (0+1+2+3 per round)", got, want)
	}
}

// The hand-over queue of the condition test, guarded by condition "c".
const (
	qHead = iota
	qTail
	qDone
	qBuf
	qCap   = 16
	qWords = qBuf + qCap
)

// helperProducer: segment, items. Puts 1..items, then sets done.
func helperProducer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := OpenCondition(seg, "c")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	q := openWords(seg, "q", qWords)
	ctx, cancel := ctxMinute()
	defer cancel()
	n := uint64(testproc.IntArg(1))
	for i := uint64(1); i <= n+1; i++ {
		if err := c.Acquire(ctx); err != nil {
			testproc.Fatalf("Acquire: %v", err)
		}
		if i > n {
			q[qDone] = 1
		} else {
			if _, err := c.WaitFor(ctx, func() bool { return q[qTail]-q[qHead] < qCap }); err != nil {
				testproc.Fatalf("WaitFor room: %v", err)
			}
			q[qBuf+q[qTail]%qCap] = i
			q[qTail]++
		}
		if err := c.NotifyAll(); err != nil {
			testproc.Fatalf("NotifyAll: %v", err)
		}
		if err := c.Release(); err != nil {
			testproc.Fatalf("Release: %v", err)
		}
	}
}

// helperConsumer: segment, items. Takes items until done and the queue is
// empty, counting each in seen[item].
func helperConsumer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := OpenCondition(seg, "c")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	q := openWords(seg, "q", qWords)
	n := testproc.IntArg(1)
	seen := openWords(seg, "seen", n+1)
	ctx, cancel := ctxMinute()
	defer cancel()
	for {
		if err := c.Acquire(ctx); err != nil {
			testproc.Fatalf("Acquire: %v", err)
		}
		if _, err := c.WaitFor(ctx, func() bool { return q[qTail] != q[qHead] || q[qDone] != 0 }); err != nil {
			testproc.Fatalf("WaitFor item: %v", err)
		}
		if q[qTail] == q[qHead] {
			c.Release()
			return
		}
		item := q[qBuf+q[qHead]%qCap]
		q[qHead]++
		if err := c.NotifyAll(); err != nil {
			testproc.Fatalf("NotifyAll: %v", err)
		}
		if err := c.Release(); err != nil {
			testproc.Fatalf("Release: %v", err)
		}
		if item == 0 || item > uint64(n) {
			testproc.Fatalf("item %d out of range", item)
		}
		atomic.AddUint64(&seen[item], 1)
	}
}

func TestXprocCondition(t *testing.T) {
	seg, name := newSegment(t)
	if _, err := NewCondition(seg, "c", nil); err != nil {
		t.Fatal(err)
	}
	n := 10000
	if testing.Short() {
		n = 2000
	}
	newWords(t, seg, "q", qWords)
	seen := newWords(t, seg, "seen", n+1)
	var cs []*testproc.Child
	for i := 0; i < 3; i++ {
		cs = append(cs, testproc.Start(t, "futex-consumer", testproc.Options{Args: []string{name, strconv.Itoa(n)}}))
	}
	cs = append(cs, testproc.Start(t, "futex-producer", testproc.Options{Args: []string{name, strconv.Itoa(n)}}))
	for _, c := range cs {
		c.MustWait()
	}
	for i := 1; i <= n; i++ {
		if seen[i] != 1 {
			t.Errorf("item %d consumed %d times; want 1", i, seen[i])
		}
	}
}

// helperCondWait: segment. Waits on condition "c" (reporting "waiting"
// once registered) until killed, or parties on barrier "b".
func helperCondWait() {
	seg := openSegment(testproc.Arg(0))
	ctx, cancel := ctxMinute()
	defer cancel()
	switch testproc.Arg(1) {
	case "cond":
		c, err := OpenCondition(seg, "c")
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		if err := c.Acquire(ctx); err != nil {
			testproc.Fatalf("%v", err)
		}
		testproc.Send("waiting")
		err = c.Wait(ctx)
		testproc.Fatalf("Wait returned %v", err)
	case "barrier":
		b, err := OpenBarrier(seg, "b")
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		testproc.Send("waiting")
		_, err = b.Wait(ctx)
		testproc.Fatalf("Wait returned %v", err)
	}
}

func TestXprocBarrierPartyDies(t *testing.T) {
	seg, name := newSegment(t)
	b, err := NewBarrier(seg, "b", 3)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "futex-cond-wait", testproc.Options{Args: []string{name, "barrier"}})
	c.Recv(time.Minute)
	waitFor(t, func() bool { return b.NWaiting() == 1 })
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := ctxMinute()
		defer cancel()
		_, err := b.Wait(ctx)
		errc <- err
	}()
	waitFor(t, func() bool { return b.NWaiting() == 2 })
	c.Kill()
	start := time.Now()
	if err := <-errc; !errors.Is(err, ErrBrokenBarrier) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait with a dead party: got %v; want ErrBrokenBarrier (not a timeout)", err)
	}
	t.Logf("dead party noticed after %v", time.Since(start))
	if !b.Broken() {
		t.Errorf("barrier not broken after a party died")
	}
}

func TestXprocConditionWaiterDies(t *testing.T) {
	seg, name := newSegment(t)
	cond, err := NewCondition(seg, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "futex-cond-wait", testproc.Options{Args: []string{name, "cond"}})
	c.Recv(time.Minute)
	waitFor(t, func() bool { return atomic.LoadUint64(&cond.st.state)>>32 == 1 && !cond.Locker().(*RLock).Locked() })
	errc := make(chan error, 1)
	go func() {
		ctx, cancel := ctxMinute()
		defer cancel()
		v := cond.As(NewOwner())
		if err := v.Acquire(ctx); err != nil {
			errc <- err
			return
		}
		err := v.Wait(ctx)
		v.Release()
		errc <- err
	}()
	waitFor(t, func() bool { return atomic.LoadUint64(&cond.st.state)>>32 == 2 })
	c.Kill()
	if sig := c.ExitSignal(); sig != syscall.SIGKILL {
		t.Fatalf("child exit signal %v; want SIGKILL", sig)
	}
	// Notify(1): the dead waiter must not swallow it.
	ctx, cancel := ctxMinute()
	defer cancel()
	if err := cond.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cond.Notify(1); err != nil {
		t.Fatal(err)
	}
	cond.Release()
	if err := <-errc; err != nil {
		t.Errorf("live waiter after Notify(1) with a dead waiter: %v", err)
	}
}

// helperBarrierWait: segment. Waits once on barrier "b" and reports the
// result.
func helperBarrierWait() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	b, err := OpenBarrier(seg, "b")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	ctx, cancel := ctxMinute()
	defer cancel()
	_, err = b.Wait(ctx)
	testproc.Send("%v", errors.Is(err, ErrBrokenBarrier))
}

// TestXprocBarrierResetWhileStopped: a waiting party is stopped (SIGSTOP)
// across a Reset and across the next generation, which completes without
// it. Resumed, it must still report ErrBrokenBarrier for the generation it
// waited in (CPython: reset makes current waiters raise BrokenBarrierError),
// not count the later generation's completion as its own.
func TestXprocBarrierResetWhileStopped(t *testing.T) {
	seg, name := newSegment(t)
	b, err := NewBarrier(seg, "b", 2)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "futex-barrier-wait", testproc.Options{Args: []string{name}})
	waitFor(t, func() bool { return b.NWaiting() == 1 })
	c.Signal(syscall.SIGSTOP)
	for c.ProcState() != 'T' {
		time.Sleep(time.Millisecond)
	}
	b.Reset()
	for round := 0; round < 3; round++ {
		errc := make(chan error, 1)
		go func() {
			ctx, cancel := ctxMinute()
			defer cancel()
			_, err := b.Wait(ctx)
			errc <- err
		}()
		ctx, cancel := ctxMinute()
		_, err := b.Wait(ctx)
		cancel()
		if err != nil {
			t.Fatalf("round %d after Reset: %v", round, err)
		}
		if err := <-errc; err != nil {
			t.Fatalf("round %d after Reset, other party: %v", round, err)
		}
	}
	c.Signal(syscall.SIGCONT)
	if got := c.Recv(time.Minute); got != "true" {
		t.Errorf("party stopped across Reset: ErrBrokenBarrier = %s; want true", got)
	}
	c.MustWait()
}
