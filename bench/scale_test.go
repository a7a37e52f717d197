package bench

// Naming key:
//
//	BenchmarkQueue/producers=P/consumers=C/size=64B
//	    P producer processes Put and C consumer processes GetInto 64-byte
//	    messages through one ring.Queue (MPMC), all started on one signal;
//	    ns/op is the wall time per message, msgs/s the aggregate rate, for
//	    P and C of 1 and of 2, 4, … up to runtime.NumCPU() (P×1, 1×C,
//	    N×N).
//	BenchmarkPipe/pairs=N/size=64B
//	    N independent ring.Pipes, each with a pinging process and an
//	    echoing one (2N processes), all started on one signal; ns/op is the
//	    wall time per round trip over all pairs, msgs/s the aggregate round
//	    trips per second, for N = 1, 2, 4, … up to runtime.NumCPU()/2.
//
// The parent starts the helpers, gives the signal (a futex.Event) and
// waits; every helper runs where the scheduler puts it (no pinning: with
// more processes than CPUs pinning would only pick who waits). Both
// report cpu-ns/op, every helper's CPU time per message, and cores.
// On a 2-vCPU VM these stop at 2×2 and one pair: the figures that show
// whether the queue's shared head and tail and the pipes' independence
// scale need a bigger host.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/benchkit"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

const scaleMsg = 64

func init() {
	// Every helper here ends by reporting "done N CPU": the messages it
	// took (consumers) and the CPU time it used from "go" to the end.
	//
	// queue-producer N: wait for "go", Put N messages to queue "q".
	testproc.Register("queue-producer", func() {
		seg := childSegment()
		q, err := ring.OpenQueue(seg, "q", nil)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		cpu := waitGo(seg)
		msg := make([]byte, scaleMsg)
		for i := testproc.IntArg(0); i > 0; i-- {
			if err := q.Put(bg, msg); err != nil {
				testproc.Fatalf("put: %v", err)
			}
		}
		testproc.Send("done 0 %d", cpu.Used())
	})
	// queue-consumer: wait for "go", GetInto until the queue is closed and
	// drained.
	testproc.Register("queue-consumer", func() {
		seg := childSegment()
		q, err := ring.OpenQueue(seg, "q", nil)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		cpu := waitGo(seg)
		buf := make([]byte, scaleMsg)
		n := 0
		for {
			if _, err := q.GetInto(bg, buf); errors.Is(err, ring.ErrClosed) {
				break
			} else if err != nil {
				testproc.Fatalf("get: %v", err)
			}
			n++
		}
		testproc.Send("done %d %d", n, cpu.Used())
	})
	// pipe-end NAME END N: wait for "go"; end 0 sends N messages, each
	// answered before the next, then closes; end 1 echoes until EOF.
	testproc.Register("pipe-end", func() {
		seg := childSegment()
		end := testproc.IntArg(1)
		c, err := ring.OpenPipe(seg, testproc.Arg(0), end, nil)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		cpu := waitGo(seg)
		buf := make([]byte, scaleMsg)
		if end == 1 {
			for {
				n, err := c.RecvBytesInto(bg, buf)
				if err == io.EOF {
					testproc.Send("done 0 %d", cpu.Used())
					return
				}
				if err != nil {
					testproc.Fatalf("recv: %v", err)
				}
				if err := c.SendBytes(bg, buf[:n]); err != nil {
					testproc.Fatalf("send: %v", err)
				}
			}
		}
		for i := testproc.IntArg(2); i > 0; i-- {
			if err := c.SendBytes(bg, buf); err != nil {
				testproc.Fatalf("send: %v", err)
			}
			if _, err := c.RecvBytesInto(bg, buf); err != nil {
				testproc.Fatalf("recv: %v", err)
			}
		}
		c.Close()
		testproc.Send("done 0 %d", cpu.Used())
	})
}

// waitGo says ready and waits for the parent's "go" event in seg; the
// meter it returns starts at "go".
func waitGo(seg *shm.Segment) benchkit.CPUMeter {
	ev, err := futex.OpenEvent(seg, "go")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	if _, err := ev.Wait(bg); err != nil {
		testproc.Fatalf("wait: %v", err)
	}
	return benchkit.NewCPUMeter()
}

// crowd is a set of helpers that start together on a "go" event.
type crowd struct {
	b   *testing.B
	seg *shm.Segment
	ev  *futex.Event
	all []*testproc.Child
	cpu time.Duration // the helpers' CPU time, as they reported it
}

func newCrowd(b *testing.B, segSize int) *crowd {
	seg, err := shm.Anonymous(segSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { seg.Close() })
	ev, err := futex.NewEvent(seg, "go")
	if err != nil {
		b.Fatal(err)
	}
	return &crowd{b: b, seg: seg, ev: ev}
}

// start starts helper name with the segment as File(1) (File(0) is unused
// here, kept for childSegment's numbering) and waits until it is ready;
// testproc reaps it, or kills it, when the benchmark ends.
func (c *crowd) start(name string, args ...string) *testproc.Child {
	ch := testproc.Start(c.b, name, testproc.Options{Args: args, Files: []*os.File{c.seg.File(), c.seg.File()}, Timeout: 2 * time.Minute})
	ch.WaitReady()
	c.all = append(c.all, ch)
	return ch
}

// done waits for helper ch's "done N CPU" line and returns N.
func (c *crowd) done(ch *testproc.Child) int {
	l := ch.Recv(time.Minute)
	var n int
	var cpu int64
	if _, err := fmt.Sscanf(l, "done %d %d", &n, &cpu); err != nil {
		c.b.Fatalf("helper said %q, want done N CPU", l)
	}
	c.cpu += time.Duration(cpu)
	return n
}

// run resets the timer, gives the signal, calls wait (which calls done
// for every helper), stops the timer and reports msgs/s, and cpu-ns/op
// and cores of the parent and every helper, over ops operations.
func (c *crowd) run(ops int, wait func()) {
	c.b.ResetTimer()
	bl := startBill(nil)
	t0 := time.Now()
	c.ev.Set()
	wait()
	elapsed := time.Since(t0)
	c.b.StopTimer()
	bl.extra = c.cpu
	bl.report(c.b, ops)
	c.b.ReportMetric(float64(ops)/elapsed.Seconds(), "msgs/s")
}

// queueShapes are the producer × consumer counts BenchmarkQueue runs.
func queueShapes() [][2]int {
	var out [][2]int
	seen := map[[2]int]bool{}
	for _, n := range procCounts() {
		for _, s := range [][2]int{{n, 1}, {1, n}, {n, n}} {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	return out
}

func BenchmarkQueue(b *testing.B) {
	for _, s := range queueShapes() {
		p, c := s[0], s[1]
		b.Run("producers="+strconv.Itoa(p)+"/consumers="+strconv.Itoa(c)+"/size=64B", func(b *testing.B) {
			cr := newCrowd(b, 4<<20)
			q, err := ring.NewQueue(cr.seg, "q", &ring.QueueOptions{MaxSize: 1024, MaxMessage: scaleMsg, Leases: -1})
			if err != nil {
				b.Fatal(err)
			}
			// The remainder goes in first, untimed: each producer puts b.N/p.
			msg := make([]byte, scaleMsg)
			for range b.N % p {
				if err := q.Put(bg, msg); err != nil {
					b.Fatal(err)
				}
			}
			var producers, consumers []*testproc.Child
			for range p {
				producers = append(producers, cr.start("queue-producer", strconv.Itoa(b.N/p)))
			}
			for range c {
				consumers = append(consumers, cr.start("queue-consumer"))
			}
			b.SetBytes(scaleMsg)
			got := 0
			cr.run(b.N, func() {
				for _, ch := range producers {
					cr.done(ch)
				}
				q.Close()
				for _, ch := range consumers {
					got += cr.done(ch)
				}
			})
			if got != b.N {
				b.Fatalf("consumers got %d messages; %d were put", got, b.N)
			}
		})
	}
}

func BenchmarkPipe(b *testing.B) {
	for _, pairs := range procCountsUpTo(max(1, runtime.NumCPU()/2)) {
		b.Run("pairs="+strconv.Itoa(pairs)+"/size=64B", func(b *testing.B) {
			cr := newCrowd(b, pairs*(2*ring.DefaultPipeCapacity+64<<10)+1<<20)
			per := max(1, b.N/pairs)
			var ends []*testproc.Child
			for i := range pairs {
				name := "p" + strconv.Itoa(i)
				c0, c1, err := ring.NewPipe(cr.seg, name, nil)
				if err != nil {
					b.Fatal(err)
				}
				ends = append(ends, cr.start("pipe-end", name, "0", strconv.Itoa(per)), cr.start("pipe-end", name, "1"))
				// The helpers hold the ends now; the echo sees EOF when
				// its pinger closes.
				c0.Close()
				c1.Close()
			}
			cr.run(per*pairs, func() {
				for _, ch := range ends {
					cr.done(ch)
				}
			})
		})
	}
}
