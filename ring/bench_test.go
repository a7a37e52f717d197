package ring_test

// Benchmark key (every benchmark runs across two or three processes: the
// test binary re-executed as a child through testproc):
//
//	BenchmarkSPSC/transport=T/api=A/size=S
//	    one-way throughput, parent produces b.N messages of S bytes, a child
//	    consumes them. T = shm (Ring) or unix (SOCK_STREAM socketpair, one
//	    write per message, the baseline). A = single (Write/ReadInto, one
//	    tail store per message), batch (WriteBatch of 64 / Consume of 64
//	    read in place, one index store per batch), zerocopy (Reserve+copy in / Peek in place
//	    +Release: one copy instead of two), pipe (Conn.SendBytes /
//	    RecvBytesInto over a 1 MiB duplex Pipe: messages above 256 KiB go as
//	    256 KiB fragments). Copies of >256 KiB go in 256 KiB pieces.
//	BenchmarkPingPong/transport=T/wait=W/size=64B
//	    round trip: parent sends, child echoes. T = shm (duplex Pipe) or unix.
//	BenchmarkMPMC/transport=T/producers=2/size=64B
//	    two producer children, the parent consumes. T = shm (Queue) or unix
//	    (SOCK_SEQPACKET socketpair shared by both producers).
//	BenchmarkQueueRoundTrip/size=64B
//	    Put to a child that Gets and Puts back on a second Queue.
//
// Compare transports in the same run:
//
//	go test -run '^$' -bench . -count 6 ./ring | tee new.txt
//	benchstat -col /transport new.txt

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
)

func init() {
	testproc.Register("bench-spsc-consumer", benchSPSCConsumer)
	testproc.Register("bench-unix-consumer", benchUnixConsumer)
	testproc.Register("bench-pipe-echo", benchPipeEcho)
	testproc.Register("bench-unix-echo", benchUnixEcho)
	testproc.Register("bench-queue-producer", benchQueueProducer)
	testproc.Register("bench-seqpacket-producer", benchSeqpacketProducer)
	testproc.Register("bench-queue-echo", benchQueueEcho)
	testproc.Register("bench-pipe-consumer", benchPipeConsumer)
}

// benchPipeConsumer: receives Arg(2) messages of Arg(3) bytes on end 1 of
// pipe Arg(1).
func benchPipeConsumer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := ring.OpenPipe(seg, testproc.Arg(1), 1, nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	n, size := testproc.IntArg(2), testproc.IntArg(3)
	buf := make([]byte, size)
	testproc.Ready()
	for i := 0; i < n; i++ {
		if k, err := c.RecvBytesInto(context.Background(), buf); err != nil || k != size {
			testproc.Fatalf("recv %d: %d, %v", i, k, err)
		}
	}
	testproc.Send("done")
}

const testWait = time.Minute

// chunkedCopy copies in 256 KiB pieces, as the ring's own copies do.
func chunkedCopy(dst, src []byte) {
	for off := 0; off < len(src); off += 256 << 10 {
		copy(dst[off:], src[off:min(off+256<<10, len(src))])
	}
}

// goPipe returns a pipe whose read end a child waits on (waitGo) before it
// starts, so that process start-up stays out of the timed region.
func goPipe(b *testing.B) (r, w *os.File) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { r.Close(); w.Close() })
	return r, w
}

func waitGo(f *os.File) {
	var one [1]byte
	if _, err := f.Read(one[:]); err != nil {
		testproc.Fatalf("waiting for go: %v", err)
	}
}

var benchSizes = []struct {
	name string
	n    int
}{{"64B", 64}, {"4KiB", 4 << 10}, {"64KiB", 64 << 10}, {"1MiB", 1 << 20}}

func ringCapFor(size int) int {
	if size >= 64<<10 {
		return 8 << 20
	}
	return 1 << 20
}

// benchSPSCConsumer: Arg(0) segment, Arg(1) ring, Arg(2) messages,
// Arg(3) size, Arg(4) api.
func benchSPSCConsumer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	r, err := ring.OpenRing(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	c, err := r.Consumer()
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	n, size, api := testproc.IntArg(2), testproc.IntArg(3), testproc.Arg(4)
	buf := make([]byte, size)
	ctx := context.Background()
	testproc.Ready()
	for got := 0; got < n; {
		switch api {
		case "single":
			k, err := c.ReadInto(ctx, buf)
			if err != nil || k != size {
				testproc.Fatalf("read %d: %d, %v", got, k, err)
			}
			got++
		case "batch":
			k, err := c.Consume(ctx, 64, func(b []byte) error {
				if len(b) != size {
					return fmt.Errorf("record of %d bytes", len(b))
				}
				return nil
			})
			if err != nil {
				testproc.Fatalf("consume at %d: %v", got, err)
			}
			got += k
		case "zerocopy":
			b, err := c.Peek(ctx)
			if err != nil || len(b) != size || binary.LittleEndian.Uint64(b) != uint64(got) {
				testproc.Fatalf("peek %d: %d bytes, %v", got, len(b), err)
			}
			c.Release()
			got++
		}
	}
	testproc.Send("done")
}

// benchUnixConsumer: reads Arg(0) messages of Arg(1) bytes from File(0).
func benchUnixConsumer() {
	f := testproc.File(0)
	n, size := testproc.IntArg(0), testproc.IntArg(1)
	buf := make([]byte, max(size, 64<<10))
	testproc.Ready()
	for left := int64(n) * int64(size); left > 0; {
		k, err := f.Read(buf[:min(int64(len(buf)), left)])
		if err != nil {
			testproc.Fatalf("read: %v", err)
		}
		left -= int64(k)
	}
	testproc.Send("done")
}

func socketpair(b *testing.B, typ int) (*os.File, *os.File) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		b.Fatal(err)
	}
	f0, f1 := os.NewFile(uintptr(fds[0]), "sock0"), os.NewFile(uintptr(fds[1]), "sock1")
	b.Cleanup(func() { f0.Close(); f1.Close() })
	return f0, f1
}

func BenchmarkSPSC(b *testing.B) {
	for _, sz := range benchSizes {
		b.Run("transport=unix/api=single/size="+sz.name, func(b *testing.B) {
			f0, f1 := socketpair(b, syscall.SOCK_STREAM)
			child := testproc.Start(b, "bench-unix-consumer", testproc.Options{
				Args: []string{strconv.Itoa(b.N), strconv.Itoa(sz.n)}, Files: []*os.File{f1}})
			child.WaitReady()
			msg := make([]byte, sz.n)
			b.SetBytes(int64(sz.n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := f0.Write(msg); err != nil {
					b.Fatal(err)
				}
			}
			child.Recv(testWait)
			b.StopTimer()
			child.MustWait()
		})
		if sz.n >= 64<<10 {
			// A Pipe sends a message above a quarter of its 1 MiB ring as
			// 256 KiB fragments: both copies pipeline through the cache.
			b.Run("transport=shm/api=pipe/size="+sz.name, func(b *testing.B) {
				seg, name := newSegment(b, 4<<20)
				c0, _, err := ring.NewPipe(seg, "bp", &ring.PipeOptions{Capacity: 1 << 20})
				if err != nil {
					b.Fatal(err)
				}
				child := testproc.Start(b, "bench-pipe-consumer", testproc.Options{
					Args: []string{name, "bp", strconv.Itoa(b.N), strconv.Itoa(sz.n)}})
				child.WaitReady()
				msg := make([]byte, sz.n)
				ctx := context.Background()
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := c0.SendBytes(ctx, msg); err != nil {
						b.Fatal(err)
					}
				}
				child.Recv(testWait)
				b.StopTimer()
				child.MustWait()
			})
		}
		apis := []string{"single", "batch", "zerocopy"}
		for _, api := range apis {
			if api == "batch" && sz.n > 4<<10 {
				continue // batching pays for small messages only
			}
			b.Run("transport=shm/api="+api+"/size="+sz.name, func(b *testing.B) {
				seg, name := newSegment(b, ringCapFor(sz.n)+1<<20)
				r, err := ring.NewRing(seg, "bench", ringCapFor(sz.n), nil)
				if err != nil {
					b.Fatal(err)
				}
				p, _ := r.Producer()
				child := testproc.Start(b, "bench-spsc-consumer", testproc.Options{
					Args: []string{name, "bench", strconv.Itoa(b.N), strconv.Itoa(sz.n), api}})
				child.WaitReady()
				msg := make([]byte, sz.n)
				batch := make([][]byte, 64)
				for i := range batch {
					batch[i] = msg
				}
				ctx := context.Background()
				b.SetBytes(int64(sz.n))
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; {
					switch api {
					case "single":
						if err := p.Write(ctx, msg); err != nil {
							b.Fatal(err)
						}
						i++
					case "batch":
						k := min(len(batch), b.N-i)
						if err := p.WriteBatch(ctx, batch[:k]); err != nil {
							b.Fatal(err)
						}
						i += k
					case "zerocopy":
						w, err := p.Reserve(ctx, sz.n)
						if err != nil {
							b.Fatal(err)
						}
						binary.LittleEndian.PutUint64(msg, uint64(i))
						chunkedCopy(w, msg)
						p.Commit(sz.n)
						i++
					}
				}
				child.Recv(testWait)
				b.StopTimer()
				child.MustWait()
			})
		}
	}
}

// benchPipeEcho: echoes messages on end 1 of pipe Arg(1) until io.EOF,
// waiting with strategy Arg(2).
func benchPipeEcho() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := ring.OpenPipe(seg, testproc.Arg(1), 1, &ring.PipeOptions{Options: ring.Options{Wait: ring.WaitStrategy(testproc.IntArg(2))}})
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	buf := make([]byte, 4096)
	ctx := context.Background()
	testproc.Ready()
	for {
		n, err := c.RecvBytesInto(ctx, buf)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			testproc.Fatalf("recv: %v", err)
		}
		if err := c.SendBytes(ctx, buf[:n]); err != nil {
			testproc.Fatalf("send: %v", err)
		}
	}
}

// benchUnixEcho: echoes 64-byte messages on File(0) until EOF.
func benchUnixEcho() {
	f := testproc.File(0)
	buf := make([]byte, 64)
	testproc.Ready()
	for {
		if _, err := io.ReadFull(f, buf); err != nil {
			return
		}
		if _, err := f.Write(buf); err != nil {
			testproc.Fatalf("write: %v", err)
		}
	}
}

func BenchmarkPingPong(b *testing.B) {
	b.Run("transport=unix/wait=kernel/size=64B", func(b *testing.B) {
		f0, f1 := socketpair(b, syscall.SOCK_STREAM)
		child := testproc.Start(b, "bench-unix-echo", testproc.Options{Files: []*os.File{f1}})
		child.WaitReady()
		msg := make([]byte, 64)
		b.SetBytes(64)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := f0.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(f0, msg); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		f0.Close()
		child.MustWait()
	})
	for _, w := range []ring.WaitStrategy{ring.Hybrid, ring.Futex, ring.Spin} {
		b.Run("transport=shm/wait="+w.String()+"/size=64B", func(b *testing.B) {
			seg, name := newSegment(b, 1<<20)
			c0, _, err := ring.NewPipe(seg, "pp", &ring.PipeOptions{Capacity: 64 << 10, Options: ring.Options{Wait: w}})
			if err != nil {
				b.Fatal(err)
			}
			child := testproc.Start(b, "bench-pipe-echo", testproc.Options{Args: []string{name, "pp", strconv.Itoa(int(w))}})
			child.WaitReady()
			msg := make([]byte, 64)
			ctx := context.Background()
			b.SetBytes(64)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := c0.SendBytes(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := c0.RecvBytesInto(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			c0.Close()
			child.MustWait()
		})
	}
}

// benchQueueProducer: puts Arg(2) 64-byte messages into queue Arg(1).
func benchQueueProducer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	q, err := ring.OpenQueue(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	msg := make([]byte, 64)
	testproc.Ready()
	waitGo(testproc.File(0))
	for i := testproc.IntArg(2); i > 0; i-- {
		if err := q.Put(context.Background(), msg); err != nil {
			testproc.Fatalf("put: %v", err)
		}
	}
}

// benchSeqpacketProducer: writes Arg(0) 64-byte packets to File(0).
func benchSeqpacketProducer() {
	f := testproc.File(0)
	msg := make([]byte, 64)
	testproc.Ready()
	waitGo(testproc.File(1))
	for i := testproc.IntArg(0); i > 0; i-- {
		if _, err := f.Write(msg); err != nil {
			testproc.Fatalf("write: %v", err)
		}
	}
}

// BenchmarkMPMC: producers=1, 2, 4, … up to runtime.NumCPU() processes
// putting 64-byte messages that this process takes, through a SEQPACKET
// socket and through a Queue.
func BenchmarkMPMC(b *testing.B) {
	for producers := 1; ; producers = min(2*producers, runtime.NumCPU()) {
		benchMPMC(b, producers)
		if producers == runtime.NumCPU() {
			return
		}
	}
}

func benchMPMC(b *testing.B, producers int) {
	b.Run("transport=unix/producers="+strconv.Itoa(producers)+"/size=64B", func(b *testing.B) {
		f0, f1 := socketpair(b, syscall.SOCK_SEQPACKET)
		gr, gw := goPipe(b)
		var cs []*testproc.Child
		for i := 0; i < producers; i++ {
			n := b.N / producers
			if i == 0 {
				n += b.N % producers
			}
			c := testproc.Start(b, "bench-seqpacket-producer", testproc.Options{Args: []string{strconv.Itoa(n)}, Files: []*os.File{f1, gr}})
			c.WaitReady()
			cs = append(cs, c)
		}
		buf := make([]byte, 64)
		b.SetBytes(64)
		b.ReportAllocs()
		b.ResetTimer()
		gw.Write([]byte{1, 1})
		for i := 0; i < b.N; i++ {
			if _, err := f0.Read(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for _, c := range cs {
			c.MustWait()
		}
	})
	b.Run("transport=shm/producers="+strconv.Itoa(producers)+"/size=64B", func(b *testing.B) {
		seg, name := newSegment(b, 4<<20)
		q, err := ring.NewQueue(seg, "mq", &ring.QueueOptions{MaxSize: 4096, MaxMessage: 64})
		if err != nil {
			b.Fatal(err)
		}
		gr, gw := goPipe(b)
		var cs []*testproc.Child
		for i := 0; i < producers; i++ {
			n := b.N / producers
			if i == 0 {
				n += b.N % producers
			}
			c := testproc.Start(b, "bench-queue-producer", testproc.Options{Args: []string{name, "mq", strconv.Itoa(n)}, Files: []*os.File{gr}})
			c.WaitReady()
			cs = append(cs, c)
		}
		buf := make([]byte, 64)
		ctx := context.Background()
		b.SetBytes(64)
		b.ReportAllocs()
		b.ResetTimer()
		gw.Write([]byte{1, 1})
		for i := 0; i < b.N; i++ {
			if _, err := q.GetInto(ctx, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		for _, c := range cs {
			c.MustWait()
		}
	})
}

// benchQueueEcho: Gets from queue Arg(1) and Puts to Arg(2) until ErrClosed.
func benchQueueEcho() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	in, err := ring.OpenQueue(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	out, err := ring.OpenQueue(seg, testproc.Arg(2), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	buf := make([]byte, 64)
	ctx := context.Background()
	testproc.Ready()
	for {
		n, err := in.GetInto(ctx, buf)
		if errors.Is(err, ring.ErrClosed) {
			return
		}
		if err != nil {
			testproc.Fatalf("get: %v", err)
		}
		if err := out.Put(ctx, buf[:n]); err != nil {
			testproc.Fatalf("put: %v", err)
		}
	}
}

// BenchmarkQueueRoundTrip: the target is 1/20 of CPython's
// multiprocessing.Queue round trip (~22 µs), i.e. <= 1.1 µs.
func BenchmarkQueueRoundTrip(b *testing.B) {
	seg, name := newSegment(b, 4<<20)
	opt := &ring.QueueOptions{MaxSize: 64, MaxMessage: 64}
	q1, err := ring.NewQueue(seg, "q1", opt)
	if err != nil {
		b.Fatal(err)
	}
	q2, err := ring.NewQueue(seg, "q2", opt)
	if err != nil {
		b.Fatal(err)
	}
	child := testproc.Start(b, "bench-queue-echo", testproc.Options{Args: []string{name, "q1", "q2"}})
	child.WaitReady()
	msg := make([]byte, 64)
	ctx := context.Background()
	b.SetBytes(64)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := q1.Put(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := q2.GetInto(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	q1.Close()
	child.MustWait()
}
