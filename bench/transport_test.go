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
// T is a transport of internal/benchkit: chan (Go channels inside one
// process, the in-process reference; no probe), unix, seqpacket,
// socketpair, pipe, tcp, and the shmkit rings; S one of 8B 64B 512B 4KiB
// 64KiB 1MiB. A transport that cannot carry S (seqpacket above the send
// buffer) skips.

import (
	"context"
	"errors"
	"testing"

	"github.com/shmkit/shmkit/internal/benchkit"
)

func runTransport(b *testing.B, mode, name string, size int) {
	t, err := benchkit.Lookup(name)
	if err != nil {
		b.Fatal(err)
	}
	if !t.Fits(size) {
		b.Skipf("%s carries at most %d bytes per message", name, t.Max())
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	res, err := benchkit.Run(context.Background(), t, mode, benchkit.Options{
		Size:  size,
		N:     b.N,
		Start: b.ResetTimer,
		Stop:  b.StopTimer,
	})
	if errors.Is(err, benchkit.ErrTooLarge) {
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

func benchTransports(b *testing.B, mode string) {
	for _, name := range benchkit.Names() {
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
