package ring_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ring"
)

func TestConnDirectionsAndClose(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, w, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := w.RecvBytes(ctx); !errors.Is(err, ring.ErrWriteOnly) {
		t.Fatalf("Recv on the send-only end: got %v; want ErrWriteOnly", err)
	}
	if err := r.SendBytes(ctx, nil); !errors.Is(err, ring.ErrReadOnly) {
		t.Fatalf("Send on the receive-only end: got %v; want ErrReadOnly", err)
	}
	expired, cancel := context.WithCancel(ctx)
	cancel()
	if ok, err := r.Poll(expired); ok || err != nil {
		t.Fatalf("Poll on an empty pipe: got %v, %v; want false, nil", ok, err)
	}
	var rw io.ReadWriteCloser = w
	if n, err := rw.Write([]byte("hello, stream")); err != nil || n != 13 {
		t.Fatalf("Write: got %d, %v", n, err)
	}
	if ok, err := r.Poll(expired); !ok || err != nil {
		t.Fatalf("Poll with a message: got %v, %v; want true, nil", ok, err)
	}
	buf := make([]byte, 5)
	var got []byte
	for len(got) < 13 {
		n, err := r.Read(buf)
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "hello, stream" {
		t.Fatalf("Read: got %q", got)
	}
	w.Close()
	if ok, err := r.Poll(ctx); !ok || err != nil {
		t.Fatalf("Poll after the peer closed: got %v, %v; want true, nil", ok, err)
	}
	if _, err := r.Read(buf); err != io.EOF {
		t.Fatalf("Read after the peer closed: got %v; want io.EOF", err)
	}
	if err := w.SendBytes(ctx, []byte("x")); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("Send on a closed end: got %v; want ErrClosed", err)
	}
}

// TestProducerBrokenPipe: a producer blocked on a full ring gets
// ErrBrokenPipe when the consumer closes.
func TestProducerBrokenPipe(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, err := ring.NewRing(seg, "r", 128, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Producer()
	c, _ := r.Consumer()
	for p.TryWrite(make([]byte, 24)) == nil {
	}
	done := make(chan error, 1)
	go func() { done <- p.Write(context.Background(), make([]byte, 24)) }()
	time.Sleep(10 * time.Millisecond)
	c.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ring.ErrBrokenPipe) {
			t.Fatalf("Write after the consumer closed: got %v; want ErrBrokenPipe", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("producer still blocked 10 s after the consumer closed")
	}
}

// TestHotPathsDoNotAllocate: copy-in/copy-out, zero-copy and queue calls
// allocate nothing, including when they wait.
func TestHotPathsDoNotAllocate(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, _ := ring.NewRing(seg, "r", 4096, nil)
	p, _ := r.Producer()
	c, _ := r.Consumer()
	q, _ := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 8, MaxMessage: 64})
	ctx := context.Background()
	msg, buf := make([]byte, 64), make([]byte, 64)
	allocs := testing.AllocsPerRun(1000, func() {
		p.Write(ctx, msg)
		c.ReadInto(ctx, buf)
		b, _ := p.Reserve(ctx, 64)
		copy(b, msg)
		p.Commit(64)
		c.Peek(ctx)
		c.Release()
		q.Put(ctx, msg)
		q.GetInto(ctx, buf)
	})
	if allocs != 0 {
		t.Fatalf("allocations per round: got %v; want 0", allocs)
	}

	// Calls that have to wait: a cancelled context ends each wait at once,
	// after the wait has been set up.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	full, _ := ring.NewQueue(seg, "full", &ring.QueueOptions{MaxSize: 1, MaxMessage: 64})
	full.Put(ctx, msg)
	empty, _ := ring.NewQueue(seg, "empty", &ring.QueueOptions{MaxSize: 1, MaxMessage: 64})
	jq, _ := ring.NewJoinableQueue(seg, "jq", &ring.QueueOptions{MaxSize: 1, MaxMessage: 64})
	jq.Put(ctx, msg)
	r2, _ := ring.NewRing(seg, "r2", 64, nil)
	p2, _ := r2.Producer()
	c2, _ := r2.Consumer()
	p2.Write(ctx, make([]byte, 56))
	allocs = testing.AllocsPerRun(100, func() {
		full.Put(cancelled, msg)
		empty.GetInto(cancelled, buf)
		jq.Join(cancelled)
		p2.Write(cancelled, msg[:8])
	})
	if allocs != 0 {
		t.Fatalf("allocations per round of waits: got %v; want 0", allocs)
	}
	c2.ReadInto(ctx, buf)
	if _, err := c2.Peek(cancelled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Peek on an empty ring with a cancelled context: got %v; want Canceled", err)
	}
}

// cutSend sends a 64 KiB message, which a 4 KiB ring nobody reads cannot
// hold, with a context that ends while the send waits for room: the
// message is cut after its first ring-full of fragments.
func cutSend(t *testing.T, w *ring.Conn) {
	t.Helper()
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := w.SendBytes(short, make([]byte, 64<<10)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("send of an unread 64 KiB message: got %v; want DeadlineExceeded", err)
	}
}

// TestCutMessageThenEOF: a message its sender cut short (its context
// ended with the ring full, then it closed) is reported once as
// io.ErrUnexpectedEOF (CPython's "got end of file during message"), then
// the stream ends with io.EOF.
func TestCutMessageThenEOF(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, w, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	cutSend(t, w)
	w.Close()
	ctx := context.Background()
	if _, err := r.RecvBytes(ctx); err != io.ErrUnexpectedEOF {
		t.Fatalf("the cut message: got %v; want io.ErrUnexpectedEOF", err)
	}
	if _, err := r.RecvBytes(ctx); err != io.EOF {
		t.Fatalf("after the cut message: got %v; want io.EOF", err)
	}
}
