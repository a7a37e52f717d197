package benchkit

import (
	"context"
	"fmt"
	"time"
)

// The in-process reference: two goroutines and Go channels. Messages are
// copied into the receiver's own buffer, as every other transport does, so
// the row differs from the others only by staying inside one process.

func init() {
	register(&Transport{Name: "chan", Desc: "Go channels, one process (reference)", local: runChan})
}

func runChan(ctx context.Context, mode string, o Options, res *Result) error {
	switch mode {
	case PingPong:
		return chanPingPong(ctx, o, res)
	case Throughput:
		return chanThroughput(ctx, o, res)
	case Idle:
		return fmt.Errorf("no second process to bill: %w", ErrMode)
	}
	return fmt.Errorf("benchkit: unknown mode %q", mode)
}

// chanConn is one end of a pair of channels carrying buffer slices.
type chanConn struct {
	out, in chan []byte
	mine    []byte // the buffer this end sends from
}

func (c *chanConn) Send(p []byte) error {
	copy(c.mine, p)
	c.out <- c.mine
	return nil
}

func (c *chanConn) Recv(p []byte) error {
	b, ok := <-c.in
	if !ok {
		return errEOF
	}
	copy(p, b)
	return nil
}

func (c *chanConn) CloseWrite() error { close(c.out); return nil }
func (c *chanConn) Close() error      { return nil }

func chanPingPong(ctx context.Context, o Options, res *Result) error {
	ping, pong := make(chan []byte), make(chan []byte)
	parent := &chanConn{out: ping, in: pong, mine: make([]byte, o.Size)}
	echo := &chanConn{out: pong, in: ping, mine: make([]byte, o.Size)}
	done := make(chan error, 1)
	buf := make([]byte, o.Size)
	go func() {
		for {
			if err := echo.Recv(buf); err != nil {
				done <- nil
				return
			}
			echo.Send(buf)
		}
	}()
	if err := pingPong(ctx, parent, o, res); err != nil {
		return err
	}
	return <-done
}

func chanThroughput(ctx context.Context, o Options, res *Result) error {
	// depth+2 buffers used in turn: when the sender reuses one, the
	// receiver has finished copying it (see the channel capacity bound).
	depth := max(2, min(1024, (16<<20)/o.Size))
	ch := make(chan []byte, depth)
	bufs := make([][]byte, depth+2)
	for i := range bufs {
		bufs[i] = make([]byte, o.Size)
	}
	count := make(chan int64, 1)
	in := make([]byte, o.Size)
	go func() {
		var n int64
		for b := range ch {
			copy(in, b)
			n++
		}
		count <- n
	}()
	n := o.N
	every := checkEvery(o.Size)
	if o.Start != nil {
		o.Start()
	}
	t0 := time.Now()
	deadline := t0.Add(o.Duration)
	i := 0
	for ; n <= 0 || i < n; i++ {
		if n <= 0 && i%every == 0 && (time.Now().After(deadline) || ctx.Err() != nil) {
			break
		}
		b := bufs[i%len(bufs)]
		b[0] = byte(i)
		ch <- b
	}
	close(ch)
	got := <-count
	res.Elapsed = time.Since(t0)
	if o.Stop != nil {
		o.Stop()
	}
	if got != int64(i) {
		return fmt.Errorf("received %d messages, sent %d", got, i)
	}
	res.Msgs = int64(i)
	return nil
}
