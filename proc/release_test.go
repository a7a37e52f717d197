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
