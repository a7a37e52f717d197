package ring_test

import (
	"context"
	"testing"

	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// guardSegments are the three kinds of segment a handle's operations run
// on: an anonymous sealed one (the unchecked fast path: one load of the
// state word), a named one (guarded: every operation runs under the
// truncation guard) and a named one opened with Options.Unguarded.
var guardSegments = []struct {
	name string
	make func(b *testing.B) *shm.Segment
}{
	{"anon", func(b *testing.B) *shm.Segment { return testseg.Anon(b, 4<<20) }},
	{"named", func(b *testing.B) *shm.Segment { s, _ := testseg.Named(b, 4<<20, nil); return s }},
	{"unguarded", func(b *testing.B) *shm.Segment {
		s, _ := testseg.Named(b, 4<<20, &shm.Options{Unguarded: true})
		return s
	}},
}

// BenchmarkSPSCGuard is the truncation guard's cost on an SPSC ring: one
// goroutine writes a 64-byte record and reads it back (Producer.Write,
// Consumer.ReadInto), so the figure is the two calls' own time, with no
// peer and no wait.
func BenchmarkSPSCGuard(b *testing.B) {
	for _, sg := range guardSegments {
		b.Run("seg="+sg.name, func(b *testing.B) {
			r, err := ring.NewRing(sg.make(b), "r", 64<<10, nil)
			if err != nil {
				b.Fatal(err)
			}
			p, err := r.Producer()
			if err != nil {
				b.Fatal(err)
			}
			c, err := r.Consumer()
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			msg, buf := make([]byte, 64), make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if err := p.Write(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := c.ReadInto(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPipeGuard is BenchmarkSPSCGuard for a pipe: Conn.SendBytes of
// 64 bytes on one end, Conn.RecvBytesInto on the other, in one goroutine.
func BenchmarkPipeGuard(b *testing.B) {
	for _, sg := range guardSegments {
		b.Run("seg="+sg.name, func(b *testing.B) {
			c0, c1, err := ring.NewPipe(sg.make(b), "p", &ring.PipeOptions{Capacity: 64 << 10})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			msg, buf := make([]byte, 64), make([]byte, 64)
			b.ReportAllocs()
			for b.Loop() {
				if err := c0.SendBytes(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := c1.RecvBytesInto(ctx, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
