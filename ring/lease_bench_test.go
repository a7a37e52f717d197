package ring_test

// Benchmark key for leases (one process: the cost of a lease itself, not of
// crossing processes; BenchmarkMPMC and BenchmarkQueueRoundTrip measure
// that):
//
//	BenchmarkQueueGet/api=A/size=64B
//	    TryPut then a Get of one message, b.N times. A = plain (Queue.TryGet),
//	    lease (Queue.TryGetLease + Lease.Done: an entry reserved, the message
//	    copied into it, one CAS to end it) or joinable (JoinableQueue.TryGet +
//	    TaskDone, which finds the process's lease by scanning the table).

import (
	"testing"

	"github.com/shmkit/shmkit/ring"
)

func BenchmarkQueueGet(b *testing.B) {
	msg := make([]byte, 64)
	o := &ring.QueueOptions{MaxSize: 64, MaxMessage: 64}
	for _, api := range []string{"plain", "lease", "joinable"} {
		b.Run("api="+api+"/size=64B", func(b *testing.B) {
			seg, _ := newSegment(b, 1<<20)
			var put func([]byte) error
			var get func() error
			switch api {
			case "plain":
				q, err := ring.NewQueue(seg, "q", o)
				if err != nil {
					b.Fatal(err)
				}
				put = q.TryPut
				get = func() error { _, err := q.TryGet(); return err }
			case "lease":
				q, err := ring.NewQueue(seg, "q", o)
				if err != nil {
					b.Fatal(err)
				}
				put = q.TryPut
				get = func() error {
					l, err := q.TryGetLease()
					if err != nil {
						return err
					}
					return l.Done()
				}
			case "joinable":
				q, err := ring.NewJoinableQueue(seg, "q", o)
				if err != nil {
					b.Fatal(err)
				}
				put = q.TryPut
				get = func() error {
					if _, err := q.TryGet(); err != nil {
						return err
					}
					return q.TaskDone()
				}
			}
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if err := put(msg); err != nil {
					b.Fatal(err)
				}
				if err := get(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
