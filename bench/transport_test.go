package bench

// Naming key:
//
//	BenchmarkPingPong/transport=T/size=S
//	    one message to a child process and the same message back; ns/op is
//	    the mean round trip; p50-ns and p99-ns its median and 99th
//	    percentile; probe-ns the spin ping-pong round trip just before.
//	BenchmarkThroughput/transport=T/size=S
//	    a one-way stream to a child process; ns/op per message, MB/s, msgs/s.
//
//	BenchmarkWait/mode=M/wait=W/size=S
//	    the wait-strategy ablation: shmkit SPSC rings (copy in/out) with
//	    W = hybrid (the default), spin, yield or futex, everything else equal;
//	    M = pingpong or throughput, metrics as above.
//
// T is a transport of internal/benchkit: chan (Go channels inside one
// process, the in-process reference; no probe), unix (stream socket,
// connect/accept), seqpacket, socketpair, pipe (two pipe(2)s), tcp
// (127.0.0.1, TCP_NODELAY), shm-spsc (SPSC rings, copy in/out), shm-spsc-zc
// (zero-copy receive), shm-batch (64 messages per publish; throughput
// only), shm-pipe (ring.Pipe), shm-queue (ring.Queue, MPMC); S one of
// 8B 64B 512B 4KiB 64KiB 1MiB. A transport that cannot carry S (seqpacket
// above the send buffer) or has no such mode (shm-batch ping-pong) skips.
//
// The two processes are pinned to two different CPUs by default; pass
// -args -placement=shared to pin both to one CPU (the shared-core figures)
// or -placement=free to leave them to the scheduler.

import (
	"context"
	"errors"
	"flag"
	"strings"
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
	b.SetBytes(int64(size))
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
	}
	switch mode {
	case benchkit.PingPong:
		b.ReportMetric(float64(res.RTTMedian.Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(res.RTTP99.Nanoseconds()), "p99-ns")
	case benchkit.Throughput:
		b.ReportMetric(res.MsgsPerSec, "msgs/s")
	}
}

// waitVariants are the ablation transports BenchmarkWait covers; the
// transport suites leave them out.
var waitVariants = map[string]string{"hybrid": "shm-spsc", "spin": "shm-spsc-spin", "yield": "shm-spsc-yield", "futex": "shm-spsc-futex"}

func isWaitVariant(name string) bool {
	return name != "shm-spsc" && strings.HasPrefix(name, "shm-spsc-") && name != "shm-spsc-zc"
}

func benchTransports(b *testing.B, mode string) {
	for _, name := range benchkit.Names() {
		if isWaitVariant(name) {
			continue
		}
		b.Run("transport="+name, func(b *testing.B) {
			for _, size := range benchkit.Sizes {
				b.Run("size="+benchkit.SizeLabel(size), func(b *testing.B) {
					runTransport(b, mode, name, size)
				})
			}
		})
	}
}

func BenchmarkPingPong(b *testing.B)   { benchTransports(b, benchkit.PingPong) }
func BenchmarkThroughput(b *testing.B) { benchTransports(b, benchkit.Throughput) }

func BenchmarkWait(b *testing.B) {
	for _, mode := range []string{benchkit.PingPong, benchkit.Throughput} {
		b.Run("mode="+mode, func(b *testing.B) {
			for _, w := range []string{"hybrid", "spin", "yield", "futex"} {
				b.Run("wait="+w, func(b *testing.B) {
					for _, size := range benchkit.Sizes {
						b.Run("size="+benchkit.SizeLabel(size), func(b *testing.B) {
							runTransport(b, mode, waitVariants[w], size)
						})
					}
				})
			}
		})
	}
}
