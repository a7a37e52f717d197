package ring_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
)

func init() {
	testproc.Register("ring-short-deadlines", helperShortDeadlines)
}

// shortDeadlineRounds is how many Polls and Recvs each deadline test makes.
func shortDeadlineRounds() int {
	if testing.Short() {
		return 60
	}
	return 400
}

// shortDeadlines polls and receives on c, an end whose peer is alive and
// sends nothing, with deadlines of 1 to 20 ms. Every Poll must report
// (false, nil) and every Recv, RecvBytes and RecvBytesInto the deadline
// itself; the first call that does not is returned as an error.
func shortDeadlines(c *ring.Conn, rounds int) error {
	buf := make([]byte, 64)
	for i := 0; i < rounds; i++ {
		d := time.Duration(1+i%20) * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), d)
		var err error
		switch i % 4 {
		case 0, 1:
			var ok bool
			if ok, err = c.Poll(ctx); ok || err != nil {
				err = fmt.Errorf("Poll with a %v deadline on an empty pipe: got %v, %v; want false, nil", d, ok, err)
			}
		case 2:
			if _, err = c.RecvBytes(ctx); !errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("RecvBytes with a %v deadline on an empty pipe: got %v; want DeadlineExceeded", d, err)
			} else {
				err = nil
			}
		case 3:
			if _, err = c.RecvBytesInto(ctx, buf); !errors.Is(err, context.DeadlineExceeded) {
				err = fmt.Errorf("RecvBytesInto with a %v deadline on an empty pipe: got %v; want DeadlineExceeded", d, err)
			} else {
				err = nil
			}
		}
		cancel()
		if err != nil {
			return fmt.Errorf("call %d: %w", i, err)
		}
	}
	return nil
}

// TestPollShortDeadline: Poll with a short deadline on an empty pipe whose
// peer lives reports (false, nil) every time, and receives report the
// deadline, under every wait strategy.
func TestPollShortDeadline(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	for _, w := range []ring.WaitStrategy{ring.Hybrid, ring.Spin, ring.Yield, ring.Futex} {
		t.Run("wait="+w.String(), func(t *testing.T) {
			c0, c1, err := ring.NewPipe(seg, "p-"+w.String(), &ring.PipeOptions{Capacity: 4096, Options: ring.Options{Wait: w}})
			if err != nil {
				t.Fatal(err)
			}
			defer c1.Close()
			if err := shortDeadlines(c0, shortDeadlineRounds()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// helperShortDeadlines: opens end 0 of pipe Arg(1) and runs shortDeadlines
// with Arg(2) rounds while the parent holds end 1 open and sends nothing.
func helperShortDeadlines() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c, err := ring.OpenPipe(seg, testproc.Arg(1), 0, nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	if err := shortDeadlines(c, testproc.IntArg(2)); err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Send("done")
}

// TestPollShortDeadlineCrossProcess: the same in a child process, whose
// peer end (this process) is alive and silent.
func TestPollShortDeadlineCrossProcess(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	_, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	child := testproc.Start(t, "ring-short-deadlines", testproc.Options{Args: []string{name, "p", fmt.Sprint(shortDeadlineRounds())}})
	if got := child.Recv(time.Minute); got != "done" {
		t.Fatalf("child: got %q; want done", got)
	}
	child.MustWait()
}

// TestShortDeadlineWaitingForTheReceiveSide: while another handle on the
// same end holds its receive side (inside a fragmented message whose
// sender was cut short), Poll and receives with short deadlines report
// (false, nil) and the deadline; once that handle closes, the waiting one
// skips the rest of the cut message and gets the next one.
func TestShortDeadlineWaitingForTheReceiveSide(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, w, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ring.OpenPipe(seg, "p", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	cutSend(t, w)
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	if _, err := a.RecvBytes(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("receive of a cut message: got %v; want DeadlineExceeded", err)
	}
	cancel()
	if err := shortDeadlines(b, shortDeadlineRounds()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	ctx := context.Background()
	if err := w.SendBytes(ctx, []byte("next")); err != nil {
		t.Fatal(err)
	}
	if m, err := b.RecvBytes(ctx); err != nil || string(m) != "next" {
		t.Fatalf("after the holder closed: got %q, %v; want next", m, err)
	}
}
