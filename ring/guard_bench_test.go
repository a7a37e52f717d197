package ring_test

import (
	"context"
	"testing"

	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// benchGuard runs, on each of three kinds of segment, one goroutine that
// sends a 64-byte message and receives it back through the handles open
// makes in the segment: the two calls' own time, with no peer and no wait.
// The segments are an anonymous sealed one (the unchecked fast path: one
// load of the state word), a named one (guarded: every operation runs
// under the truncation guard) and a named one opened with
// Options.Unguarded.
func benchGuard(b *testing.B, open func(seg *shm.Segment) (send func([]byte) error, recv func([]byte) error, err error)) {
	segs := []struct {
		name string
		o    *shm.Options
	}{{"anon", nil}, {"named", nil}, {"unguarded", &shm.Options{Unguarded: true}}}
	for _, sg := range segs {
		b.Run("seg="+sg.name, func(b *testing.B) {
			var seg *shm.Segment
			if sg.name == "anon" {
				seg = testseg.Anon(b, 4<<20)
			} else {
				seg, _ = testseg.Named(b, 4<<20, sg.o)
			}
			send, recv, err := open(seg)
			if err != nil {
				b.Fatal(err)
			}
			msg, buf := make([]byte, 64), make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if err := send(msg); err != nil {
					b.Fatal(err)
				}
				if err := recv(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSPSCGuard is the truncation guard's cost on an SPSC ring:
// Producer.Write and Consumer.ReadInto of a 64-byte record (benchGuard).
func BenchmarkSPSCGuard(b *testing.B) {
	ctx := context.Background()
	benchGuard(b, func(seg *shm.Segment) (func([]byte) error, func([]byte) error, error) {
		r, err := ring.NewRing(seg, "r", 64<<10, nil)
		if err != nil {
			return nil, nil, err
		}
		p, err := r.Producer()
		if err != nil {
			return nil, nil, err
		}
		c, err := r.Consumer()
		send := func(m []byte) error { return p.Write(ctx, m) }
		recv := func(m []byte) error { _, err := c.ReadInto(ctx, m); return err }
		return send, recv, err
	})
}

// BenchmarkPipeGuard is BenchmarkSPSCGuard for a pipe: Conn.SendBytes on
// one end, Conn.RecvBytesInto on the other.
func BenchmarkPipeGuard(b *testing.B) {
	ctx := context.Background()
	benchGuard(b, func(seg *shm.Segment) (func([]byte) error, func([]byte) error, error) {
		c0, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 64 << 10})
		if err != nil {
			return nil, nil, err
		}
		send := func(m []byte) error { return c0.SendBytes(ctx, m) }
		recv := func(m []byte) error { _, err := c1.RecvBytesInto(ctx, m); return err }
		return send, recv, nil
	})
}
