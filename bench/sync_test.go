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
//	BenchmarkValue/impl=I/procs=N
//	    one increment of a shared int64 (b.SetBytes(8): MB/s counts the
//	    value's bytes).
//	    I = lock (ctypes.Value.Update under its RLock), atomic
//	    (ctypes.RawValue.Add), raw (Store(Load()+1), what Python's
//	    RawValue += 1 does: not atomic, shown for its cost only), and the
//	    in-process references sync.Mutex and sync-atomic (goroutines=N).
//	    N = 1, 2, 4, … up to runtime.NumCPU(): the timed process and N-1
//	    children incrementing the same value in a loop (goroutines for
//	    the in-process references).
//
// Locks and wake-ups move no payload, so those benchmarks report ns/op and
// allocations but set no bytes (an MB/s figure would mean nothing). Every
// benchmark with other processes (procs=2 and up, BenchmarkWakeup) reports
// probe-ns, the spin ping-pong round trip with the first of them just
// before the timed part, as the transport suites do, and every one reports
// cpu-ns/op, the CPU time all the processes used per op (the timed one
// from getrusage, the others from /proc/PID/task/*/schedstat), and cores,
// that over the elapsed time.

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

// The helpers' environment: the CPU to pin to, and whether to answer the
// spin probe (only the first helper of a benchmark does).
const (
	envHelperCPU   = "SHMKIT_BENCH_HELPER_CPU"
	envHelperProbe = "SHMKIT_BENCH_HELPER_PROBE"
)

// pinHelper pins the helper's thread to the CPU its parent chose, if any.
func pinHelper() {
	if cpu, err := strconv.Atoi(os.Getenv(envHelperCPU)); err == nil && cpu >= 0 {
		benchkit.Pin(cpu)
	}
}

// probeAndReady is the helper's side of startHelpers: the spin probe on
// file 0 (first helper only), then "ready".
func probeAndReady() {
	if os.Getenv(envHelperProbe) == "1" {
		testproc.Send("probe")
		if err := benchkit.AnswerProbe(testproc.File(0)); err != nil {
			testproc.Fatalf("%v", err)
		}
	}
	testproc.Ready()
}

// helperCPUs returns the CPU for the calling (timed) goroutine and for
// each of n helpers under the -placement flag: pair spreads the helpers
// over the other allowed CPUs (wrapping around, the timed one's included,
// when there are more helpers than CPUs), shared puts all on one CPU, free
// pins nothing (-1).
func helperCPUs(b *testing.B, n int) (parent int, helpers []int) {
	place, err := benchkit.ParsePlacement(*placement)
	if err != nil {
		b.Fatal(err)
	}
	helpers = make([]int, n)
	pp, pc, ok := place.CPUs()
	cpus := benchkit.AllowedCPUs()
	for i := range helpers {
		switch {
		case !ok:
			helpers[i], pp = -1, -1
		case place == benchkit.Pair && len(cpus) > 1:
			helpers[i] = cpus[(1+i)%len(cpus)]
		default:
			helpers[i] = pc
		}
	}
	return pp, helpers
}

// startHelpers starts n copies of helper name with the probe page and seg
// (if not nil) as their files, each pinned as helperCPUs says; pins the
// calling goroutine until the benchmark ends; and reports the spin probe
// it then runs with the first helper as probe-ns, so the placement is on
// record beside the figure. The helpers call probeAndReady.
func startHelpers(b *testing.B, n int, name string, seg *shm.Segment, args ...string) []*testproc.Child {
	if n == 0 {
		return nil
	}
	pp, cpus := helperCPUs(b, n)
	probe, err := benchkit.NewProbe()
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close()
	files := []*os.File{probe.File()}
	if seg != nil {
		files = append(files, seg.File())
	}
	var cs []*testproc.Child
	for i, cpu := range cpus {
		probeIt := "0"
		if i == 0 {
			probeIt = "1"
		}
		env := []string{envHelperCPU + "=" + strconv.Itoa(cpu), envHelperProbe + "=" + probeIt}
		c := testproc.Start(b, name, testproc.Options{Args: args, Files: files, Env: env, Timeout: 2 * time.Minute})
		b.Cleanup(c.Kill)
		cs = append(cs, c)
	}
	// Pin after the start: a child forked from a pinned thread would
	// inherit its CPU for all of its threads.
	if pp >= 0 {
		b.Cleanup(benchkit.Pin(pp))
	}
	if l := cs[0].Recv(time.Minute); l != "probe" {
		b.Fatalf("helper %s: got %q, want probe", name, l)
	}
	d := probe.Run()
	for _, c := range cs {
		c.WaitReady()
	}
	// Reported at the end: b.ResetTimer and b.Loop drop metrics reported
	// before the timed part.
	b.Cleanup(func() { b.ReportMetric(float64(d.Nanoseconds()), "probe-ns") })
	return cs
}

// startPinned starts one helper (startHelpers with n = 1).
func startPinned(b *testing.B, name string, seg *shm.Segment, args ...string) *testproc.Child {
	return startHelpers(b, 1, name, seg, args...)[0]
}

// bill is the CPU time of the timed process and its helpers over a
// benchmark's timed part: helpers still running are read from /proc,
// helpers that exit report theirs, added as extra.
type bill struct {
	t0    time.Time
	self  benchkit.CPUMeter
	pids  []int
	c0    []time.Duration
	extra time.Duration
}

// startBill starts counting; call it just before the timed loop.
func startBill(cs []*testproc.Child) *bill {
	bl := &bill{t0: time.Now(), self: benchkit.NewCPUMeter()}
	for _, c := range cs {
		bl.pids = append(bl.pids, c.Pid())
		bl.c0 = append(bl.c0, benchkit.ProcCPU(c.Pid()))
	}
	return bl
}

// report stops counting and reports cpu-ns/op over ops operations and
// cores (the CPU time over the elapsed time).
func (bl *bill) report(b *testing.B, ops int) {
	elapsed := time.Since(bl.t0)
	cpu := bl.self.Used() + bl.extra
	for i, pid := range bl.pids {
		cpu += benchkit.ProcCPU(pid) - bl.c0[i]
	}
	if ops > 0 {
		b.ReportMetric(float64(cpu)/float64(ops), "cpu-ns/op")
	}
	if elapsed > 0 {
		b.ReportMetric(float64(cpu)/float64(elapsed), "cores")
	}
}

func init() {
	// shm-lock-hammer IMPL CPU: acquire and release the lock until killed.
	testproc.Register("shm-lock-hammer", func() {
		pinHelper()
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
		pinHelper()
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
		pinHelper()
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
		pinHelper()
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

func benchShmLock(b *testing.B, impl string, procs int) {
	seg := anonSegment(b)
	l, err := newShmLock(seg, impl, true)
	if err != nil {
		b.Fatal(err)
	}
	cs := startHelpers(b, procs-1, "shm-lock-hammer", seg, impl)
	b.ReportAllocs()
	bl := startBill(cs)
	for b.Loop() {
		if err := l.Acquire(bg); err != nil {
			b.Fatal(err)
		}
		if err := l.Release(); err != nil {
			b.Fatal(err)
		}
	}
	bl.report(b, b.N)
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
				wake: func() {
					if err := e.Set(); err != nil {
						panic(err)
					}
				},
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
			c := startPinned(b, "wake-echo", seg, prim)
			samples := make([]time.Duration, 0, b.N)
			b.ReportAllocs()
			b.ResetTimer()
			bl := startBill([]*testproc.Child{c})
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				ping.wake()
				if err := pong.wait(); err != nil {
					b.Fatal(err)
				}
				samples = append(samples, time.Since(t0))
			}
			b.StopTimer()
			bl.report(b, b.N)
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
	echo := startPinned(b, "cond-echo", seg)
	if err := c.Acquire(bg); err != nil {
		b.Fatal(err)
	}
	defer c.Release()
	samples := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	bl := startBill([]*testproc.Child{echo})
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
	bl.report(b, b.N)
	reportPercentiles(b, samples)
}

func reportPercentiles(b *testing.B, samples []time.Duration) {
	slices.Sort(samples)
	b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkValue(b *testing.B) {
	for _, impl := range []string{"lock", "atomic", "raw"} {
		for _, procs := range procCounts() {
			b.Run("impl="+impl+"/procs="+strconv.Itoa(procs), func(b *testing.B) {
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
				cs := startHelpers(b, procs-1, "value-hammer", seg, impl)
				b.SetBytes(8)
				b.ReportAllocs()
				bl := startBill(cs)
				for b.Loop() {
					inc()
				}
				bl.report(b, b.N)
			})
		}
	}
	for _, n := range procCounts() {
		b.Run("impl=sync.Mutex/goroutines="+strconv.Itoa(n), func(b *testing.B) {
			var mu sync.Mutex
			var x int64
			stop := hammer(n-1, func() { mu.Lock(); x++; mu.Unlock() })
			defer stop()
			b.SetBytes(8)
			b.ReportAllocs()
			bl := startBill(nil)
			for b.Loop() {
				mu.Lock()
				x++
				mu.Unlock()
			}
			bl.report(b, b.N)
		})
		b.Run("impl=sync-atomic/goroutines="+strconv.Itoa(n), func(b *testing.B) {
			var x atomic.Int64
			stop := hammer(n-1, func() { x.Add(1) })
			defer stop()
			b.SetBytes(8)
			b.ReportAllocs()
			bl := startBill(nil)
			for b.Loop() {
				x.Add(1)
			}
			bl.report(b, b.N)
		})
	}
}

// hammer runs f in a loop on n other goroutines until the returned stop is
// called.
func hammer(n int, f func()) (stop func()) {
	var done atomic.Bool
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for !done.Load() {
				f()
			}
		})
	}
	return func() { done.Store(true); wg.Wait() }
}
