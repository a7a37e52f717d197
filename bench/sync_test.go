package bench

// Naming key:
//
//	BenchmarkLock/impl=I/contention=C (lock_test.go) also covers shmkit's
//	    locks: I = shm-lock (futex.Lock), shm-rlock (futex.RLock),
//	    shm-semaphore (futex.Semaphore of 1, Acquire+Release).
//	BenchmarkWakeup/prim=P
//	    cross-process wake-up: the parent wakes a child parked on P, the
//	    child wakes the parent back; ns/op is one round trip (two
//	    wake-ups), p50-ns and p99-ns its median and 99th percentile.
//	    P = event (futex.Event Set / Wait / Clear), semaphore
//	    (futex.Semaphore Release / Acquire), condition (futex.Condition
//	    over a futex.Lock: store the turn in a shared word, Notify(1),
//	    Wait until the other side's turn). The kernel baseline is
//	    BenchmarkPingPong/transport=pipe/size=8B.
//	BenchmarkValue/impl=I/contention=C
//	    one increment of a shared int64 (b.SetBytes(8): MB/s counts the
//	    value's bytes).
//	    I = lock (ctypes.Value.Update under its RLock), atomic
//	    (ctypes.RawValue.Add), raw (Store(Load()+1), what Python's
//	    RawValue += 1 does: not atomic, shown for its cost only), and the
//	    in-process references sync.Mutex and sync-atomic.
//	    C = none, or 2proc (a child increments the same value in a loop;
//	    2goroutine for the in-process references).
//
// Locks and wake-ups move no payload, so those benchmarks report ns/op and
// allocations but set no bytes (an MB/s figure would mean nothing). Every
// benchmark with a second process (2proc, BenchmarkWakeup) reports
// probe-ns, the spin ping-pong round trip with that process just before
// the timed part, as the transport suites do.

import (
	"context"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/benchkit"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

var bg = context.Background()

// shmLocker is what BenchmarkLock needs of a shmkit lock.
type shmLocker interface {
	Acquire(context.Context) error
	Release() error
}

// newShmLock creates (or, in the child, opens) the lock of kind impl.
func newShmLock(seg *shm.Segment, impl string, create bool) (shmLocker, error) {
	switch impl {
	case "shm-lock":
		if create {
			return futex.NewLock(seg, "lock")
		}
		return futex.OpenLock(seg, "lock")
	case "shm-rlock":
		if create {
			return futex.NewRLock(seg, "lock")
		}
		return futex.OpenRLock(seg, "lock")
	case "shm-semaphore":
		if create {
			return futex.NewSemaphore(seg, "lock", 1)
		}
		return futex.OpenSemaphore(seg, "lock")
	}
	panic("unknown lock " + impl)
}

// anonSegment makes an anonymous segment closed at the end of the benchmark.
func anonSegment(b *testing.B) *shm.Segment {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { seg.Close() })
	return seg
}

// childSegment attaches the helper to the segment its parent handed it
// (file 1; file 0 is the probe page).
func childSegment() *shm.Segment {
	seg, err := shm.FromFile(testproc.File(1))
	if err != nil {
		testproc.Fatalf("attach: %v", err)
	}
	return seg
}

// pinChild pins the helper's thread to the CPU in argument i (-1: none).
func pinChild(i int) {
	if cpu := testproc.IntArg(i); cpu >= 0 {
		benchkit.Pin(cpu)
	}
}

// probeAndReady is the helper's side of startPinned: the spin probe on
// file 0, then "ready".
func probeAndReady() {
	testproc.Send("probe")
	if err := benchkit.AnswerProbe(testproc.File(0)); err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
}

// startPinned starts helper name with the probe page and seg (if not nil)
// as its files and the placement's child CPU as its last argument, pins
// the calling goroutine to the parent CPU until the benchmark ends, and
// reports the spin probe it then runs with the helper as probe-ns, so the
// placement is on record beside the figure. The helper calls
// probeAndReady.
func startPinned(b *testing.B, name string, seg *shm.Segment, args ...string) *testproc.Child {
	place, err := benchkit.ParsePlacement(*placement)
	if err != nil {
		b.Fatal(err)
	}
	pp, pc, ok := place.CPUs()
	if !ok {
		pc = -1
	}
	probe, err := benchkit.NewProbe()
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close()
	files := []*os.File{probe.File()}
	if seg != nil {
		files = append(files, seg.File())
	}
	c := testproc.Start(b, name, testproc.Options{Args: append(args, strconv.Itoa(pc)), Files: files, Timeout: time.Minute})
	b.Cleanup(c.Kill)
	// Pin after the start: a child forked from a pinned thread would
	// inherit its CPU for all of its threads.
	if ok {
		b.Cleanup(benchkit.Pin(pp))
	}
	if l := c.Recv(time.Minute); l != "probe" {
		b.Fatalf("helper %s: got %q, want probe", name, l)
	}
	d := probe.Run()
	c.WaitReady()
	// Reported at the end: b.ResetTimer and b.Loop drop metrics reported
	// before the timed part.
	b.Cleanup(func() { b.ReportMetric(float64(d.Nanoseconds()), "probe-ns") })
	return c
}

func init() {
	// shm-lock-hammer IMPL CPU: acquire and release the lock until killed.
	testproc.Register("shm-lock-hammer", func() {
		pinChild(1)
		l, err := newShmLock(childSegment(), testproc.Arg(0), false)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		probeAndReady()
		for {
			if err := l.Acquire(bg); err != nil {
				testproc.Fatalf("acquire: %v", err)
			}
			if err := l.Release(); err != nil {
				testproc.Fatalf("release: %v", err)
			}
		}
	})
	// wake-echo PRIM CPU: wait on "ping", wake "pong", until killed.
	testproc.Register("wake-echo", func() {
		pinChild(1)
		seg := childSegment()
		ping, pong := openWake(seg, testproc.Arg(0), false)
		probeAndReady()
		for {
			if err := ping.wait(); err != nil {
				testproc.Fatalf("wait: %v", err)
			}
			pong.wake()
		}
	})
	// cond-echo CPU: answer each odd turn with the next even one.
	testproc.Register("cond-echo", func() {
		pinChild(0)
		seg := childSegment()
		c, err := futex.OpenCondition(seg, "cond")
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		turn, err := ctypes.OpenRawValue[int64](seg, "turn")
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		if err := c.Acquire(bg); err != nil {
			testproc.Fatalf("acquire: %v", err)
		}
		probeAndReady()
		for i := int64(0); ; i++ {
			for turn.Load() != 2*i+1 {
				if err := c.Wait(bg); err != nil {
					testproc.Fatalf("wait: %v", err)
				}
			}
			turn.Store(2*i + 2)
			if err := c.Notify(1); err != nil {
				testproc.Fatalf("notify: %v", err)
			}
		}
	})
	// value-hammer IMPL CPU: increment the value until killed.
	testproc.Register("value-hammer", func() {
		pinChild(1)
		seg := childSegment()
		impl := testproc.Arg(0)
		probeAndReady()
		switch impl {
		case "lock":
			v, err := ctypes.OpenValue[int64](seg, "v")
			if err != nil {
				testproc.Fatalf("%v", err)
			}
			inc := func(x int64) int64 { return x + 1 }
			for {
				if _, err := v.Update(bg, inc); err != nil {
					testproc.Fatalf("update: %v", err)
				}
			}
		default:
			v, err := ctypes.OpenRawValue[int64](seg, "v")
			if err != nil {
				testproc.Fatalf("%v", err)
			}
			for {
				if impl == "atomic" {
					v.Add(1)
				} else {
					v.Store(v.Load() + 1)
				}
			}
		}
	})
}

func benchShmLock(b *testing.B, impl, contention string) {
	seg := anonSegment(b)
	l, err := newShmLock(seg, impl, true)
	if err != nil {
		b.Fatal(err)
	}
	if contention == "2proc" {
		startPinned(b, "shm-lock-hammer", seg, impl)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := l.Acquire(bg); err != nil {
			b.Fatal(err)
		}
		if err := l.Release(); err != nil {
			b.Fatal(err)
		}
	}
}

// wakeSide is one direction of a wake-up ping-pong.
type wakeSide struct {
	wait func() error
	wake func()
}

func openWake(seg *shm.Segment, prim string, create bool) (ping, pong wakeSide) {
	side := func(name string) wakeSide {
		switch prim {
		case "event":
			var e *futex.Event
			var err error
			if create {
				e, err = futex.NewEvent(seg, name)
			} else {
				e, err = futex.OpenEvent(seg, name)
			}
			if err != nil {
				panic(err)
			}
			return wakeSide{
				wait: func() error {
					if _, err := e.Wait(bg); err != nil {
						return err
					}
					e.Clear()
					return nil
				},
				wake: e.Set,
			}
		case "semaphore":
			var s *futex.Semaphore
			var err error
			if create {
				s, err = futex.NewSemaphore(seg, name, 0)
			} else {
				s, err = futex.OpenSemaphore(seg, name)
			}
			if err != nil {
				panic(err)
			}
			return wakeSide{wait: func() error { return s.Acquire(bg) }, wake: func() { s.Release() }}
		}
		panic("unknown primitive " + prim)
	}
	return side("ping"), side("pong")
}

func BenchmarkWakeup(b *testing.B) {
	for _, prim := range []string{"event", "semaphore"} {
		b.Run("prim="+prim, func(b *testing.B) {
			seg := anonSegment(b)
			ping, pong := openWake(seg, prim, true)
			startPinned(b, "wake-echo", seg, prim)
			samples := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				ping.wake()
				if err := pong.wait(); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			b.StopTimer()
			reportPercentiles(b, samples)
		})
	}
	b.Run("prim=condition", benchConditionWakeup)
}

// benchConditionWakeup is BenchmarkWakeup/prim=condition: the parent
// holds the lock except inside Wait, like the child.
func benchConditionWakeup(b *testing.B) {
	seg := anonSegment(b)
	l, err := futex.NewLock(seg, "cond.lock")
	if err != nil {
		b.Fatal(err)
	}
	c, err := futex.NewCondition(seg, "cond", l)
	if err != nil {
		b.Fatal(err)
	}
	turn, err := ctypes.NewRawValue[int64](seg, "turn", 0, nil)
	if err != nil {
		b.Fatal(err)
	}
	startPinned(b, "cond-echo", seg)
	if err := c.Acquire(bg); err != nil {
		b.Fatal(err)
	}
	defer c.Release()
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := int64(0); i < int64(b.N); i++ {
		t0 := time.Now()
		turn.Store(2*i + 1)
		if err := c.Notify(1); err != nil {
			b.Fatal(err)
		}
		for turn.Load() != 2*i+2 {
			if err := c.Wait(bg); err != nil {
				b.Fatal(err)
			}
		}
		samples = append(samples, time.Since(t0))
	}
	b.StopTimer()
	reportPercentiles(b, samples)
}

func reportPercentiles(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkValue(b *testing.B) {
	for _, impl := range []string{"lock", "atomic", "raw"} {
		for _, contention := range []string{"none", "2proc"} {
			b.Run("impl="+impl+"/contention="+contention, func(b *testing.B) {
				seg := anonSegment(b)
				var inc func()
				if impl == "lock" {
					v, err := ctypes.NewValue[int64](seg, "v", 0, nil)
					if err != nil {
						b.Fatal(err)
					}
					add := func(x int64) int64 { return x + 1 }
					inc = func() {
						if _, err := v.Update(bg, add); err != nil {
							b.Fatal(err)
						}
					}
				} else {
					v, err := ctypes.NewRawValue[int64](seg, "v", 0, nil)
					if err != nil {
						b.Fatal(err)
					}
					if impl == "atomic" {
						inc = func() { v.Add(1) }
					} else {
						inc = func() { v.Store(v.Load() + 1) }
					}
				}
				if contention == "2proc" {
					startPinned(b, "value-hammer", seg, impl)
				}
				b.SetBytes(8)
				b.ReportAllocs()
				for b.Loop() {
					inc()
				}
			})
		}
	}
	for _, contention := range []string{"none", "2goroutine"} {
		b.Run("impl=sync.Mutex/contention="+contention, func(b *testing.B) {
			var mu sync.Mutex
			var x int64
			stop := hammer(contention, func() { mu.Lock(); x++; mu.Unlock() })
			defer stop()
			b.SetBytes(8)
			b.ReportAllocs()
			for b.Loop() {
				mu.Lock()
				x++
				mu.Unlock()
			}
		})
		b.Run("impl=sync-atomic/contention="+contention, func(b *testing.B) {
			var x atomic.Int64
			stop := hammer(contention, func() { x.Add(1) })
			defer stop()
			b.SetBytes(8)
			b.ReportAllocs()
			for b.Loop() {
				x.Add(1)
			}
		})
	}
}

// hammer runs f in a loop on another goroutine when contention asks for
// it, until the returned stop is called.
func hammer(contention string, f func()) (stop func()) {
	if contention == "none" {
		return func() {}
	}
	var done atomic.Bool
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for !done.Load() {
			f()
		}
	}()
	return func() { done.Store(true); <-finished }
}
