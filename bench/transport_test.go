package bench

// Naming key:
//
//	BenchmarkPingPong/transport=T/size=S
//	    one message to a child process and the same message back; ns/op is
//	    the mean round trip; p50-ns and p99-ns its median and 99th
//	    percentile; probe-ns the spin ping-pong round trip just before;
//	    runq-% the time the two processes' hot threads spent runnable but
//	    without a CPU (other load), as a share of the run.
//	BenchmarkThroughput/transport=T/size=S
//	    a one-way stream to a child process; ns/op per message, MB/s, msgs/s.
//	BenchmarkIdle/transport=T/size=64B
//	    one message every millisecond to a child that waits for each with
//	    the transport's own wait; waiter-% is the share of one core the
//	    waiting child used, both-% that of both processes.
//
//	Every cross-process benchmark reports cpu-ns/op, the CPU time (user +
//	system, getrusage for the parent, the child's own getrusage) both
//	processes used per op, and cores, that over the elapsed time: a
//	spinning wait shows there, not in ns/op.
//
//	BenchmarkAblation/knob=K/set=V/mode=M/size=S
//	    one design choice toggled with everything else equal; metrics as
//	    above, M = pingpong or throughput. Without -bench.full only the
//	    wait knob at 64 B runs (matrix_test.go). K and its values V (shmkit's
//	    choice first) come from benchkit.Knobs:
//	      wait          hybrid (the default), spin, yield, futex: shmkit's
//	                    SPSC rings with ring.Options.Wait set
//	      batch         off (Write / ReadInto), on (Stage+Flush / Consume
//	                    of a batch per index store): shmkit's SPSC ring,
//	                    throughput only
//	      padding       on, off: head/tail/wait words on their own cache
//	                    lines or on one
//	      cached-index  on, off: peer index cached or loaded every call
//	      checksum      off, on: xxhash64 per record written and verified
//	      wake          parked, always: FUTEX_WAKE only when the peer is
//	                    parked, or after every publish
//	      sleep         futex, futex-timed, eventfd, pipe, netpoll: what a
//	                    waiter that never spins parks on (a futex word,
//	                    untimed or with a 50 ms timeout, an eventfd, a
//	                    pipe, a Unix socket read through net.Conn in Go's
//	                    netpoller, as Go IPC libraries that notify over a
//	                    socket do), in benchkit's one-message doorbell
//	                    mailbox (internal/benchkit/doorbell.go)
//	    padding, cached-index, checksum and wake toggle benchkit's lab ring,
//	    a minimal twin of ring's SPSC design (internal/benchkit/labring.go),
//	    because ring has no switch for them. The Value ablation (lock,
//	    atomic, raw) is BenchmarkValue in sync_test.go.
//
// T is a transport of internal/benchkit: chan (Go channels inside one
// process, the in-process reference; no probe), unix (stream socket,
// connect/accept), seqpacket, socketpair, pipe (two pipe(2)s), tcp
// (127.0.0.1, TCP_NODELAY), shm-spsc (SPSC rings, copy in/out), shm-spsc-zc
// (zero-copy receive), shm-batch (up to 64 messages per publish, at most
// an eighth of the ring; throughput only), shm-pipe (ring.Pipe), shm-queue
// (ring.Queue, MPMC); S one of 8B 64B 512B 4KiB 64KiB 1MiB. A transport that cannot carry S (seqpacket
// above the send buffer) or has no such mode (shm-batch ping-pong) skips.
// Without -bench.full only the transports and sizes in matrix_test.go run.
//
// The two processes are pinned to two different CPUs by default (stable
// figures for before/after comparisons); pass -placement=free to leave
// them to the scheduler (what users get) or -placement=shared to pin both
// to one CPU.

import (
	"context"
	"errors"
	"flag"
	"testing"

	"github.com/shmkit/shmkit/internal/benchkit"
)

var placement = flag.String("placement", "pair", "where the two processes run: pair, shared or free")

func runTransport(b *testing.B, mode, name string, size int) {
	t, err := benchkit.Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	if !t.Fits(size) {
		b.Skipf("%s carries at most %d bytes per message", name, t.Max())
	}
	if t.ThroughputOnly && mode != benchkit.Throughput {
		b.Skipf("%s measures throughput only", name)
	}
	place, err := benchkit.ParsePlacement(*placement)
	if err != nil {
		b.Fatal(err)
	}
	if mode != benchkit.Idle {
		b.SetBytes(int64(size))
	}
	b.ReportAllocs()
	res, err := benchkit.Run(context.Background(), t, mode, benchkit.Options{
		Size:      size,
		N:         b.N,
		Placement: place,
		Start:     b.ResetTimer,
		Stop:      b.StopTimer,
	})
	if errors.Is(err, benchkit.ErrTooLarge) || errors.Is(err, benchkit.ErrMode) {
		b.Skip(err)
	}
	if err != nil {
		b.Fatal(err)
	}
	if !t.InProcess() {
		b.ReportMetric(float64(res.Probe.Nanoseconds()), "probe-ns")
		b.ReportMetric(100*res.RunqShare(), "runq-%")
		if res.Msgs > 0 {
			b.ReportMetric(float64(res.ParentCPU+res.ChildCPU)/float64(res.Msgs), "cpu-ns/op")
		}
		b.ReportMetric(res.Cores(), "cores")
	}
	switch mode {
	case benchkit.PingPong:
		b.ReportMetric(float64(res.RTTMedian.Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(res.RTTP99.Nanoseconds()), "p99-ns")
	case benchkit.Throughput:
		b.ReportMetric(res.MsgsPerSec, "msgs/s")
	case benchkit.Idle:
		b.ReportMetric(100*res.WaiterShare(), "waiter-%")
		b.ReportMetric(100*res.Cores(), "both-%")
	}
}

func benchTransports(b *testing.B, mode string) {
	for _, name := range benchkit.Names() {
		sizes := matrixSizes(name)
		if t, _ := benchkit.Lookup(name); t.Ablation || len(sizes) == 0 {
			continue
		}
		b.Run("transport="+name, func(b *testing.B) {
			for _, size := range sizes {
				b.Run("size="+benchkit.SizeLabel(size), func(b *testing.B) {
					runTransport(b, mode, name, size)
				})
			}
		})
	}
}

func BenchmarkPingPong(b *testing.B)   { benchTransports(b, benchkit.PingPong) }
func BenchmarkThroughput(b *testing.B) { benchTransports(b, benchkit.Throughput) }

// BenchmarkIdle: what a waiter costs while messages trickle in.
func BenchmarkIdle(b *testing.B) {
	for _, name := range []string{"unix", "pipe", "shm-spsc", "shm-spsc-futex", "shm-queue", "shm-pipe"} {
		b.Run("transport="+name+"/size=64B", func(b *testing.B) { runTransport(b, benchkit.Idle, name, 64) })
	}
}

func BenchmarkAblation(b *testing.B) {
	for _, k := range benchkit.Knobs() {
		sizes := ablationSizes(k.Name)
		if len(sizes) == 0 {
			continue
		}
		b.Run("knob="+k.Name, func(b *testing.B) {
			for _, set := range k.Settings {
				b.Run("set="+set.Name, func(b *testing.B) {
					for _, mode := range []string{benchkit.PingPong, benchkit.Throughput} {
						b.Run("mode="+mode, func(b *testing.B) {
							for _, size := range sizes {
								b.Run("size="+benchkit.SizeLabel(size), func(b *testing.B) {
									runTransport(b, mode, set.Transport, size)
								})
							}
						})
					}
				})
			}
		})
	}
}
