package ring_test

// Benchmark key (one process, an anonymous segment, so no truncation
// guard: the per-message cost of each data structure alone, with no
// cache line crossing between processes):
//
//	BenchmarkInProcess/type=T/size=64B
//	    a blocking send then a blocking receive of one message, b.N times.
//	    T = queue (Queue.Put + Queue.GetInto: the MPMC claims, with the
//	    pending words published for crash recovery) or spsc (Producer.Write
//	    + Consumer.ReadInto). Their ratio is the Queue's own overhead over
//	    the SPSC ring.

import (
	"context"
	"testing"

	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func BenchmarkInProcess(b *testing.B) {
	ctx := context.Background()
	msg, buf := make([]byte, 64), make([]byte, 64)
	for _, typ := range []string{"queue", "spsc"} {
		b.Run("type="+typ+"/size=64B", func(b *testing.B) {
			seg, err := shm.Anonymous(1 << 20)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { seg.Close() })
			var send func() error
			var recv func() (int, error)
			if typ == "queue" {
				q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 1024, MaxMessage: 64, Leases: -1})
				if err != nil {
					b.Fatal(err)
				}
				send = func() error { return q.Put(ctx, msg) }
				recv = func() (int, error) { return q.GetInto(ctx, buf) }
			} else {
				r, err := ring.NewRing(seg, "r", 1<<16, nil)
				if err != nil {
					b.Fatal(err)
				}
				p, err1 := r.Producer()
				c, err2 := r.Consumer()
				if err1 != nil || err2 != nil {
					b.Fatal(err1, err2)
				}
				send = func() error { return p.Write(ctx, msg) }
				recv = func() (int, error) { return c.ReadInto(ctx, buf) }
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := send(); err != nil {
					b.Fatal(err)
				}
				if n, err := recv(); err != nil || n != len(msg) {
					b.Fatal(n, err)
				}
			}
		})
	}
}
