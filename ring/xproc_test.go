package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
)

func init() {
	testproc.Register("ring-spsc-producer", helperSPSCProducer)
	testproc.Register("ring-producer-hang", helperProducerHang)
	testproc.Register("ring-pipe-echo", helperPipeEcho)
	testproc.Register("ring-pipe-sizes", helperPipeSizes)
}

// spscRecords is how many records TestSPSCCrossProcess sends: the issue's
// 10 million (about 5 s on two cores), 20,000 under -short.
func spscRecords() int {
	if testing.Short() {
		return 20_000
	}
	return 10_000_000
}

// pattern is the source of record payloads: random bytes read at a random
// offset, so that payloads differ without a random generator per byte.
var pattern = func() []byte {
	b := make([]byte, 256<<10)
	rng := rand.New(rand.NewPCG(7, 7))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}()

// helperSPSCProducer: Arg(0) segment, Arg(1) ring, Arg(2) records. Each
// record is seq u64, xxhash64(payload) u64, payload of 1 B to 4 KiB.
func helperSPSCProducer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	r, err := ring.OpenRing(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	p, err := r.Producer()
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	n := testproc.IntArg(2)
	rng := rand.New(rand.NewPCG(1, uint64(n)))
	ctx := context.Background()
	for i := 0; i < n; i++ {
		size := 1 + rng.IntN(4096)
		off := rng.IntN(len(pattern) - size)
		payload := pattern[off : off+size]
		b, err := p.Reserve(ctx, 16+size)
		if err != nil {
			testproc.Fatalf("record %d: %v", i, err)
		}
		binary.LittleEndian.PutUint64(b, uint64(i))
		binary.LittleEndian.PutUint64(b[8:], xxhash.Sum64(payload))
		copy(b[16:], payload)
		if err := p.Commit(len(b)); err != nil {
			testproc.Fatalf("%v", err)
		}
	}
	p.Close()
}

// TestSPSCCrossProcess: records of random sizes from a producer process all
// arrive, in order, intact, followed by io.EOF.
func TestSPSCCrossProcess(t *testing.T) {
	seg, name := newSegment(t, 4<<20)
	r, err := ring.NewRing(seg, "spsc", 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := r.Consumer()
	if err != nil {
		t.Fatal(err)
	}
	n := spscRecords()
	child := testproc.Start(t, "ring-spsc-producer", testproc.Options{Args: []string{name, "spsc", strconv.Itoa(n)}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; ; i++ {
		b, err := c.Peek(ctx)
		if err == io.EOF {
			if i != n {
				t.Fatalf("io.EOF after %d records; want %d", i, n)
			}
			break
		}
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if len(b) < 17 || len(b) > 16+4096 {
			t.Fatalf("record %d: got %d bytes; want 17..4112", i, len(b))
		}
		if seq := binary.LittleEndian.Uint64(b); seq != uint64(i) {
			t.Fatalf("record %d: got sequence %d", i, seq)
		}
		if h := xxhash.Sum64(b[16:]); h != binary.LittleEndian.Uint64(b[8:]) {
			t.Fatalf("record %d: payload hash %#x; want %#x", i, h, binary.LittleEndian.Uint64(b[8:]))
		}
		c.Release()
	}
	child.MustWait()
}

// helperProducerHang: attaches as producer, writes Arg(2) records, reports
// ready and waits to be killed.
func helperProducerHang() {
	seg := openSegment(testproc.Arg(0))
	r, err := ring.OpenRing(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	p, err := r.Producer()
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	for i := 0; i < testproc.IntArg(2); i++ {
		if err := p.Write(context.Background(), []byte(fmt.Sprint("record ", i))); err != nil {
			testproc.Fatalf("%v", err)
		}
	}
	if _, err := p.Reserve(context.Background(), 100); err != nil { // dies mid-record
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	time.Sleep(time.Hour)
}

// TestConsumerSeesPeerDead: a consumer blocked on a ring whose producer is
// SIGKILLed drains what was committed and then gets ErrPeerDead, within
// the owner-death budget, instead of waiting for ever; the record the
// producer was writing never appears.
func TestConsumerSeesPeerDead(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	r, err := ring.NewRing(seg, "r", 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Consumer()
	child := testproc.Start(t, "ring-producer-hang", testproc.Options{Args: []string{name, "r", "3"}})
	child.WaitReady()
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		b, err := c.ReadBytes(ctx)
		if err != nil || string(b) != fmt.Sprint("record ", i) {
			t.Fatalf("record %d: got %q, %v", i, b, err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := c.ReadBytes(ctx)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	child.Kill()
	select {
	case err := <-done:
		if !errors.Is(err, ring.ErrPeerDead) {
			t.Fatalf("after the producer died: got %v; want ErrPeerDead", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("consumer still blocked 10 s after the producer died")
	}
	if sig := child.ExitSignal(); sig != 9 {
		t.Fatalf("child exit signal %v; want SIGKILL", sig)
	}
}

func pipeCount() int {
	if testing.Short() {
		return 10_000
	}
	return 100_000
}

// helperPipeEcho: opens end 1 of pipe Arg(1) and echoes every message until
// io.EOF, then closes.
func helperPipeEcho() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := ring.OpenPipe(seg, testproc.Arg(1), 1, nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	ctx := context.Background()
	buf := make([]byte, 1<<20)
	for {
		n, err := c.RecvBytesInto(ctx, buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			testproc.Fatalf("recv: %v", err)
		}
		if err := c.SendBytes(ctx, buf[:n]); err != nil {
			testproc.Fatalf("send: %v", err)
		}
	}
	c.Close()
}

// TestPipeDuplexEcho: 100,000 messages to an echo process come back intact
// and in order; after this end closes, the echo process sees io.EOF (any
// other error fails it) and exits. (A reader's io.EOF after the writer's
// Close and the drain: TestPipeBufferTooShortRetry.)
func TestPipeDuplexEcho(t *testing.T) {
	seg, name := newSegment(t, 4<<20)
	c0, _, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	child := testproc.Start(t, "ring-pipe-echo", testproc.Options{Args: []string{name, "p"}})
	ctx := context.Background()
	n := pipeCount()
	rng := rand.New(rand.NewPCG(3, 4))
	const window = 16 // messages in flight
	var sent [][]byte
	buf := make([]byte, 1<<20)
	for i, got := 0, 0; got < n; {
		if i < n && i-got < window {
			size := 8 + rng.IntN(200)
			if i%1000 == 999 {
				size = 40_000 + rng.IntN(100_000) // fragmented
			}
			off := rng.IntN(len(pattern) - size)
			m := append([]byte(nil), pattern[off:off+size]...)
			binary.LittleEndian.PutUint64(m, uint64(i))
			if err := c0.SendBytes(ctx, m); err != nil {
				t.Fatalf("send %d: %v", i, err)
			}
			sent = append(sent, m)
			i++
			continue
		}
		k, err := c0.RecvBytesInto(ctx, buf)
		if err != nil {
			t.Fatalf("recv %d: %v", got, err)
		}
		want := sent[0]
		sent = sent[1:]
		if string(buf[:k]) != string(want) {
			t.Fatalf("echo %d: got %d bytes (seq %d); want %d bytes", got, k, binary.LittleEndian.Uint64(buf), len(want))
		}
		got++
	}
	c0.Close()
	child.MustWait()
}

// helperPipeSizes: takes the handle reserved with ticket Arg(2) on end 1
// of pipe Arg(1), sends messages of the sizes in Args[3:], then closes.
func helperPipeSizes() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := ring.OpenPipe(seg, testproc.Arg(1), 1, &ring.PipeOptions{Ticket: testproc.IntArg(2)})
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	for _, a := range testproc.Args()[3:] {
		n, _ := strconv.Atoi(a)
		m := make([]byte, n)
		for i := range m {
			m[i] = byte(n + i)
		}
		if err := c.SendBytes(context.Background(), m); err != nil {
			testproc.Fatalf("send %d: %v", n, err)
		}
	}
	c.Close()
}

// TestPipeBufferTooShortRetry: RecvBytesInto with a short buffer returns
// ErrBufferTooShort and the needed length, and the message stays: the retry
// gets it intact. After the sender closes, io.EOF. This process closes its
// copy of the sending end as soon as the child is started (CPython's
// p.start(); child_conn.close()), having reserved the child's handle.
func TestPipeBufferTooShortRetry(t *testing.T) {
	seg, name := newSegment(t, 4<<20)
	c0, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := c1.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{1, 100, 16 << 10, 100_000, 7, 0, 3}
	args := []string{name, "p", strconv.Itoa(ticket)}
	for _, s := range sizes {
		args = append(args, strconv.Itoa(s))
	}
	child := testproc.Start(t, "ring-pipe-sizes", testproc.Options{Args: args})
	c1.Close()
	ctx := context.Background()
	for _, s := range sizes {
		small := make([]byte, s/2)
		n, err := c0.RecvBytesInto(ctx, small)
		if s > 0 {
			if !errors.Is(err, ring.ErrBufferTooShort) || n != s {
				t.Fatalf("size %d into %d bytes: got %d, %v; want %d, ErrBufferTooShort", s, len(small), n, err, s)
			}
			big := make([]byte, n)
			if n, err = c0.RecvBytesInto(ctx, big); err != nil || n != s {
				t.Fatalf("size %d retry: got %d, %v", s, n, err)
			}
			for i := range big {
				if big[i] != byte(s+i) {
					t.Fatalf("size %d byte %d: got %d; want %d", s, i, big[i], byte(s+i))
				}
			}
		} else if err != nil || n != 0 {
			t.Fatalf("empty message: got %d, %v", n, err)
		}
	}
	if _, err := c0.RecvBytes(ctx); err != io.EOF {
		t.Fatalf("after close: got %v; want io.EOF", err)
	}
	if err := c0.SendBytes(ctx, []byte("x")); !errors.Is(err, ring.ErrReadOnly) {
		t.Fatalf("send on the receive-only end: got %v; want ErrReadOnly", err)
	}
	child.MustWait()
}
