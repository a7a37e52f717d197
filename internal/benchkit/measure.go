package benchkit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Modes of a run.
const (
	// PingPong: the parent sends one message, the child echoes it back;
	// each round trip is timed.
	PingPong = "pingpong"
	// Throughput: the parent streams messages one way as fast as the
	// channel takes them; the child counts them and reports the total.
	Throughput = "throughput"
	// Idle: the parent sends one message every Options.Interval (1 ms by
	// default) and sleeps in between; the child waits for each with the
	// transport's own wait. What it measures is the child's CPU bill
	// (Result.WaiterShare): what a quiet consumer costs.
	Idle = "idle"
)

// DefaultInterval is the gap between messages of an Idle run.
const DefaultInterval = time.Millisecond

// Options shapes one run.
type Options struct {
	// Size is the message size in bytes.
	Size int
	// N is the number of messages (throughput) or round trips (ping-pong).
	// 0 runs for Duration instead.
	N int
	// Duration bounds a run with N == 0.
	Duration time.Duration
	// Placement says where the parent's and the child's hot threads run.
	Placement Placement
	// Interval is the gap between messages in Idle mode (0: DefaultInterval).
	Interval time.Duration
	// Start and Stop, when set, are called just before and just after the
	// timed part (b.ResetTimer and b.StopTimer in a benchmark).
	Start, Stop func()
}

// Result is what one run measured.
type Result struct {
	Transport   string        `json:"transport"`
	Mode        string        `json:"mode"`
	Size        int           `json:"size"`
	Msgs        int64         `json:"msgs"`
	Elapsed     time.Duration `json:"elapsed_ns"`
	MsgsPerSec  float64       `json:"msgs_per_sec"`
	BytesPerSec float64       `json:"bytes_per_sec"`
	RTTMedian   time.Duration `json:"rtt_median_ns,omitempty"`
	RTTP99      time.Duration `json:"rtt_p99_ns,omitempty"`
	Probe       time.Duration `json:"probe_rtt_ns"`
	Placement   Placement     `json:"placement"`
	// RunqWait is how long the parent's and the child's hot threads
	// together spent runnable but without a CPU during the run (schedstat):
	// time other load took from the measurement. With both pinned to one
	// CPU (Shared) it counts their waits for each other too. A transport
	// whose goroutine moves between threads (bell-netpoll) counts every
	// thread of both processes, the Go runtime's own among them, which
	// queue on the CPU a pinned placement gives the whole process: its
	// share can pass 100%.
	RunqWait time.Duration `json:"runq_wait_ns"`
	// ParentCPU and ChildCPU are the user + system CPU time each process
	// used during the timed part (getrusage RUSAGE_SELF, all threads):
	// spinning shows here, not in the elapsed time.
	ParentCPU time.Duration `json:"parent_cpu_ns"`
	ChildCPU  time.Duration `json:"child_cpu_ns"`
}

// CPUPerMsg is the CPU time both processes used per message (throughput,
// idle) or per round trip (ping-pong); 0 for in-process runs.
func (r Result) CPUPerMsg() time.Duration {
	if r.Msgs <= 0 {
		return 0
	}
	return (r.ParentCPU + r.ChildCPU) / time.Duration(r.Msgs)
}

// Cores is the CPU time both processes used over the elapsed time: 2.0
// means two CPUs busy for the whole run (both sides spinning or working).
func (r Result) Cores() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.ParentCPU+r.ChildCPU) / float64(r.Elapsed)
}

// WaiterShare is the child's CPU time over the elapsed time: in an Idle
// run, the share of one core the waiting side costs (0.05 = 5%).
func (r Result) WaiterShare() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.ChildCPU) / float64(r.Elapsed)
}

// RunqShare is RunqWait as a share of the run's elapsed time (0.05: the
// two threads together lost 5% of one CPU's worth of the run).
func (r Result) RunqShare() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.RunqWait) / float64(r.Elapsed)
}

// maxSamples caps the round trips a duration-bound ping-pong records.
const maxSamples = 1 << 20

// Run measures transport t in mode across a freshly spawned child. A
// cancelled ctx kills the child and returns ctx.Err().
func Run(ctx context.Context, t *Transport, mode string, o Options) (res Result, err error) {
	res = Result{Transport: t.Name, Mode: mode, Size: o.Size}
	if o.Size <= 0 {
		return res, fmt.Errorf("benchkit: size %d", o.Size)
	}
	if !t.Fits(o.Size) {
		return res, fmt.Errorf("benchkit: %s carries at most %d-byte messages, not %d: %w", t.Name, t.Max(), o.Size, ErrTooLarge)
	}
	if o.N <= 0 && o.Duration <= 0 {
		return res, errors.New("benchkit: neither N nor Duration set")
	}
	if t.ThroughputOnly && mode != Throughput {
		return res, fmt.Errorf("benchkit: %s measures throughput only: %w", t.Name, ErrMode)
	}
	role := map[string]string{PingPong: "echo", Throughput: "sink", Idle: "sink"}[mode]
	if role == "" {
		return res, fmt.Errorf("benchkit: unknown mode %q", mode)
	}
	if t.local != nil {
		if err := t.local(ctx, mode, o, &res); err != nil {
			return res, fmt.Errorf("benchkit: %s %s %dB: %w", t.Name, mode, o.Size, err)
		}
		res.rates(o.Size)
		return res, nil
	}
	probeFile, mem, err := newProbePage()
	if err != nil {
		return res, err
	}
	defer probeFile.Close()
	st, err := t.prepare(o.Size)
	if err != nil {
		return res, fmt.Errorf("benchkit: %s: %w", t.Name, err)
	}
	if st.cleanup != nil {
		defer st.cleanup()
	}
	pp, pc, pinned := o.Placement.cpus()
	args := append([]string{t.Name, strconv.Itoa(o.Size), strconv.Itoa(len(st.files))}, st.args...)
	c, err := spawn(role, args, probeFile, st.files, pc)
	for _, f := range st.files {
		f.Close()
	}
	if err != nil {
		return res, err
	}
	defer c.kill()
	stop := context.AfterFunc(ctx, c.kill)
	defer stop()
	fail := func(err error) (Result, error) {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		return res, fmt.Errorf("benchkit: %s %s %dB: %w", t.Name, mode, o.Size, err)
	}
	conn, err := st.accept(c.exited)
	if err != nil {
		return fail(err)
	}
	defer conn.Close()
	if w, ok := conn.(peerWatcher); ok {
		w.watch(c.exited)
	}
	if _, err := c.expect("probe", 10*time.Second); err != nil {
		return fail(err)
	}
	if pinned {
		restore, ok := pin(pp, t.unlocked)
		defer restore()
		if ok {
			res.Placement = o.Placement
		}
	} else if !t.unlocked {
		// One thread for the whole run, so its schedstat is the run's.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
	}
	res.Probe = probeParent(mem)
	if _, err := c.expect("ready", 10*time.Second); err != nil {
		return fail(err)
	}
	w0, cpu := runqWait(t.unlocked), NewCPUMeter()
	switch mode {
	case PingPong:
		err = pingPong(ctx, conn, o, &res)
	case Throughput, Idle:
		if mode == Idle && o.Interval <= 0 {
			o.Interval = DefaultInterval
		}
		err = throughput(ctx, conn, c, o, &res)
	}
	if err != nil {
		return fail(err)
	}
	res.RunqWait, res.ParentCPU = runqWait(t.unlocked)-w0, cpu.Used()
	line, err := c.expect("runq", 10*time.Second)
	if err != nil {
		return fail(err)
	}
	// "runq NS cpu NS": the child's own figures over its serving loop.
	if f := strings.Fields(line); len(f) == 4 {
		runq, err1 := strconv.ParseInt(f[1], 10, 64)
		cpu, err2 := strconv.ParseInt(f[3], 10, 64)
		if err1 == nil && err2 == nil {
			res.RunqWait += time.Duration(runq)
			res.ChildCPU = time.Duration(cpu)
		}
	}
	if err := c.finish(10 * time.Second); err != nil {
		return fail(err)
	}
	res.rates(o.Size)
	return res, nil
}

// peerWatcher is implemented by conns that cannot see the peer's death by
// themselves (no socket to hang up, no participant table): the parent hands
// them a channel closed when the child is gone, and their waits give up.
type peerWatcher interface {
	watch(exited <-chan struct{})
}

func (r *Result) rates(size int) {
	if s := r.Elapsed.Seconds(); s > 0 {
		r.MsgsPerSec = float64(r.Msgs) / s
		r.BytesPerSec = float64(r.Msgs) * float64(size) / s
	}
}

// ErrMode: the transport does not support the mode asked.
var ErrMode = errors.New("benchkit: mode not supported by transport")

// ErrTooLarge: the transport cannot carry messages of the size asked.
var ErrTooLarge = errors.New("benchkit: message too large for transport")

// checkEvery says how many messages pass between clock and context checks
// in a duration-bound run: about every 64 KiB moved, at least every 256.
func checkEvery(size int) int { return max(1, min(256, (64<<10)/size)) }

func pingPong(ctx context.Context, conn Conn, o Options, res *Result) error {
	out := make([]byte, o.Size)
	in := make([]byte, o.Size)
	for i := range out {
		out[i] = byte(i)
	}
	n := o.N
	samples := make([]time.Duration, 0, min(max(n, 1024), maxSamples))
	every := checkEvery(o.Size)
	if o.Start != nil {
		o.Start()
	}
	t0 := time.Now()
	var deadline time.Time
	if n <= 0 {
		deadline = t0.Add(o.Duration)
	}
	i := 0
	for ; n <= 0 || i < n; i++ {
		if n <= 0 && i%every == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		s := time.Now()
		if err := conn.Send(out); err != nil {
			return err
		}
		if err := conn.Recv(in); err != nil {
			return err
		}
		if len(samples) < cap(samples) {
			samples = append(samples, time.Since(s))
		}
	}
	res.Elapsed = time.Since(t0)
	if o.Stop != nil {
		o.Stop()
	}
	res.Msgs = int64(i)
	if in[0] != out[0] || in[len(in)-1] != out[len(out)-1] {
		return fmt.Errorf("echo changed the message")
	}
	slices.Sort(samples)
	if len(samples) > 0 {
		res.RTTMedian = samples[len(samples)/2]
		res.RTTP99 = samples[min(len(samples)-1, len(samples)*99/100)]
	}
	return conn.CloseWrite()
}

func throughput(ctx context.Context, conn Conn, c *child, o Options, res *Result) error {
	out := make([]byte, o.Size)
	n := o.N
	every := checkEvery(o.Size)
	if o.Start != nil {
		o.Start()
	}
	t0 := time.Now()
	var deadline time.Time
	if n <= 0 {
		deadline = t0.Add(o.Duration)
	}
	if o.Interval > 0 {
		every = 1
	}
	i := 0
	for ; n <= 0 || i < n; i++ {
		if n <= 0 && i%every == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		if o.Interval > 0 {
			// Paced (Idle): the i-th message leaves at t0 + i×Interval.
			time.Sleep(time.Until(t0.Add(time.Duration(i) * o.Interval)))
		}
		out[0] = byte(i)
		if err := conn.Send(out); err != nil {
			return err
		}
	}
	if err := conn.CloseWrite(); err != nil {
		return err
	}
	line, err := c.expect("done", 30*time.Second)
	res.Elapsed = time.Since(t0)
	if o.Stop != nil {
		o.Stop()
	}
	if err != nil {
		return err
	}
	got, _ := strconv.ParseInt(strings.TrimPrefix(line, "done "), 10, 64)
	if got != int64(i) {
		return fmt.Errorf("child received %d messages, sent %d", got, i)
	}
	res.Msgs = int64(i)
	return nil
}

func init() {
	registerRole("echo", func(args []string) error {
		return childLoop(args, func(conn Conn, buf []byte) error { return conn.Send(buf) }, nil)
	})
	registerRole("sink", func(args []string) error {
		var n int64
		return childLoop(args, func(Conn, []byte) error { n++; return nil },
			func() { control("done %d", n) })
	})
}

// childLoop opens the transport named in args, runs the probe, and calls
// each for every message until the parent closes its side, then atEOF.
func childLoop(args []string, each func(Conn, []byte) error, atEOF func()) error {
	if len(args) < 3 {
		return fmt.Errorf("want transport, size, fd count; got %q", args)
	}
	t, err := Lookup(args[0])
	if err != nil {
		return err
	}
	if c, err := strconv.Atoi(os.Getenv(envCPU)); err == nil {
		pin(c, t.unlocked) // for the child's life
	} else if !t.unlocked {
		runtime.LockOSThread() // one thread: its schedstat is the run's
	}
	size, err1 := strconv.Atoi(args[1])
	nfd, err2 := strconv.Atoi(args[2])
	if err := errors.Join(err1, err2); err != nil {
		return err
	}
	fds := make([]int, nfd)
	for i := range fds {
		fds[i] = fdFirstArg + i
	}
	mem, err := mapProbe(fdProbe)
	if err != nil {
		return fmt.Errorf("probe page: %w", err)
	}
	conn, err := t.open(args[3:], fds, size)
	if err != nil {
		return err
	}
	defer conn.Close()
	control("probe")
	probeChild(mem)
	w0, cpu := runqWait(t.unlocked), NewCPUMeter()
	control("ready")
	if err := serve(conn, make([]byte, size), each); err != nil {
		return err
	}
	if atEOF != nil {
		atEOF()
	}
	control("runq %d cpu %d", int64(runqWait(t.unlocked)-w0), int64(cpu.Used()))
	return nil
}

// serve calls each for every message until the parent closes its side.
func serve(conn Conn, buf []byte, each func(Conn, []byte) error) error {
	if br, ok := conn.(batchReceiver); ok && br.batchable() {
		for {
			err := br.recvBatch(buf, func() error { return each(conn, buf) })
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
		}
	}
	for {
		err := conn.Recv(buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := each(conn, buf); err != nil {
			return err
		}
	}
}
