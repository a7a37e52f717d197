package proc_test

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

var sendThree = proc.Func("send-three", func(ctx context.Context, c *ring.Conn) error {
	for i := range 3 {
		if err := c.Send(ctx, i); err != nil {
			return err
		}
	}
	return nil // no Close: the end of the target gives the copy up
})

// TestChildEndReleased: children that return without closing their copy
// of a pipe end leave the reader io.EOF after their messages, as the exit
// of a CPython process closes its descriptors (not ErrPeerDead).
func TestChildEndReleased(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := proc.NewManager()
	defer m.Close()
	r, w := proc.Pipe(m, false)
	ps := []*proc.Process{sendThree.Start(ctx, w), sendThree.Start(ctx, w)}
	w.Close() // the parent's copy; the children hold theirs
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	sum := 0
	for n := 0; ; n++ {
		var v int
		err := r.Recv(ctx, &v)
		if errors.Is(err, io.EOF) {
			if n != 6 || sum != 6 {
				t.Errorf("EOF after %d messages summing to %d; want 6 summing to 6", n, sum)
			}
			return
		}
		if err != nil {
			t.Fatalf("Recv after %d messages: %v; want io.EOF once the children are done", n, err)
		}
		sum += v
	}
}

var idleWriter = proc.Func("idle-writer", func(ctx context.Context, c *ring.Conn) error {
	time.Sleep(time.Hour)
	return nil
})

// TestChildKilledBeforeAttach: a child SIGKILLed right after Start (before
// or after it attached the pipe end it was given) leaves the reader
// io.EOF once the parent has closed its own copy, as the kernel closing a
// killed CPython process's descriptors would; the entry reserved for the
// child is given back when it is reaped, not held for ever.
func TestChildKilledBeforeAttach(t *testing.T) {
	for i := range 5 {
		m := proc.NewManager()
		r, w := proc.Pipe(m, false)
		p := idleWriter.New(w, nil)
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			p.Kill() // most likely before the child has attached
		} else {
			time.Sleep(20 * time.Millisecond) // most likely after
			p.Kill()
		}
		w.Close()
		p.Join(context.Background())
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := r.RecvBytes(ctx)
		cancel()
		if !errors.Is(err, io.EOF) {
			t.Errorf("round %d: RecvBytes after the only writer was killed: %v; want io.EOF", i, err)
		}
		m.Close()
	}
}
