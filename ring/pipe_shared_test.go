package ring_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ring-pipe-sender", helperPipeSender)
	testproc.Register("ring-pipe-receiver", helperPipeReceiver)
	testproc.Register("ring-pipe-child-conn", helperPipeChildConn)
	testproc.Register("ring-pipe-stuck-sender", helperPipeStuckSender)
	testproc.Register("ring-pipe-cut-receiver", helperPipeCutReceiver)
}

// sharedMsg is message j of sender k: k, j, then a payload of a length and
// content fixed by (k, j); every 7th message is larger than a quarter of a
// 4 KiB ring, so it travels as fragments.
func sharedMsg(k, j int) []byte {
	n := 16 + (k*31+j*17)%200
	if j%7 == 3 {
		n = 3000 + j%500
	}
	m := make([]byte, n)
	binary.LittleEndian.PutUint64(m, uint64(k))
	binary.LittleEndian.PutUint64(m[8:], uint64(j))
	for i := 16; i < n; i++ {
		m[i] = byte(k + j + i)
	}
	return m
}

// checkSharedMsg returns the (k, j) of m, or an error if m is not exactly
// sharedMsg(k, j).
func checkSharedMsg(m []byte) (k, j int, err error) {
	if len(m) < 16 {
		return 0, 0, fmt.Errorf("message of %d bytes", len(m))
	}
	k, j = int(binary.LittleEndian.Uint64(m)), int(binary.LittleEndian.Uint64(m[8:]))
	if k < 0 || k > 64 || j < 0 || j > 1<<20 || !bytes.Equal(m, sharedMsg(k, j)) {
		return k, j, fmt.Errorf("message (%d, %d) of %d bytes is not what was sent", k, j, len(m))
	}
	return k, j, nil
}

func openTicket(seg *shm.Segment, name string, end, ticket int) *ring.Conn {
	c, err := ring.OpenPipe(seg, name, end, &ring.PipeOptions{Ticket: ticket})
	if err != nil {
		testproc.Fatalf("open end %d, ticket %d: %v", end, ticket, err)
	}
	return c
}

// helperPipeSender: sender Arg(3) takes ticket Arg(2) on end 1 of pipe
// Arg(1), sends Arg(4) messages (sharedMsg) without any lock of its own,
// and closes its handle.
func helperPipeSender() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c := openTicket(seg, testproc.Arg(1), 1, testproc.IntArg(2))
	k, n := testproc.IntArg(3), testproc.IntArg(4)
	for j := 0; j < n; j++ {
		if err := c.SendBytes(context.Background(), sharedMsg(k, j)); err != nil {
			testproc.Fatalf("sender %d, message %d: %v", k, j, err)
		}
	}
	if err := c.Close(); err != nil {
		testproc.Fatalf("close: %v", err)
	}
}

func sharedCount() int {
	if testing.Short() {
		return 200
	}
	return 2000
}

// TestPipeEndSharedBySenders: five processes send on their copies of one
// end (CPython's Barrier test hands one child_conn to five children),
// without a lock of their own, through a 4 KiB ring that wraps often and
// fragments every 7th message; this process closes its copy of that end as
// soon as the children start. The reader gets every message exactly once,
// intact, in each sender's order, then io.EOF once the last sender closed.
func TestPipeEndSharedBySenders(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	r, w, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const senders = 5
	n := sharedCount()
	for k := 0; k < senders; k++ {
		ticket, err := w.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		testproc.Start(t, "ring-pipe-sender", testproc.Options{Args: []string{name, "p", strconv.Itoa(ticket), strconv.Itoa(k), strconv.Itoa(n)}})
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	next := make([]int, senders)
	for got := 0; ; got++ {
		m, err := r.RecvBytes(ctx)
		if err == io.EOF {
			if got != senders*n {
				t.Fatalf("io.EOF after %d messages; want %d (next per sender %v)", got, senders*n, next)
			}
			break
		}
		if err != nil {
			t.Fatalf("message %d: %v (next per sender %v)", got, err, next)
		}
		k, j, err := checkSharedMsg(m)
		if err != nil {
			t.Fatalf("message %d: %v", got, err)
		}
		if k >= senders || j != next[k] {
			t.Fatalf("message %d: got (%d, %d); want sender %d's message %d", got, k, j, k, next[min(k, senders-1)])
		}
		next[k]++
	}
}

// helperPipeReceiver: takes ticket Arg(2) on end 1 of pipe Arg(1),
// receives until io.EOF checking that each sender's messages come in
// order, and reports "count sum sumOfSquares" of the message numbers.
func helperPipeReceiver() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c := openTicket(seg, testproc.Arg(1), 1, testproc.IntArg(2))
	testproc.Ready()
	var count, sum, sq int
	last := -1
	buf := make([]byte, 8192)
	for {
		var m []byte
		var err error
		if count%2 == 0 {
			m, err = c.RecvBytes(context.Background())
		} else {
			var n int
			n, err = c.RecvBytesInto(context.Background(), buf)
			m = buf[:n]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			testproc.Fatalf("receive after %d messages: %v", count, err)
		}
		_, j, err := checkSharedMsg(m)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		if j <= last {
			testproc.Fatalf("message %d after %d", j, last)
		}
		last = j
		count, sum, sq = count+1, sum+j, sq+j*j
	}
	testproc.Send("%d %d %d", count, sum, sq)
	c.Close()
}

// TestPipeEndSharedByReceivers: four processes receive on their copies of
// one end while this process sends; every message is taken by exactly one
// of them, intact (fragmented ones too), and each sees io.EOF after this
// process closes its end.
func TestPipeEndSharedByReceivers(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	c0, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const receivers = 4
	var children []*testproc.Child
	for i := 0; i < receivers; i++ {
		ticket, err := c1.Reserve()
		if err != nil {
			t.Fatal(err)
		}
		children = append(children, testproc.Start(t, "ring-pipe-receiver", testproc.Options{Args: []string{name, "p", strconv.Itoa(ticket)}}))
	}
	c1.Close()
	for _, ch := range children {
		ch.WaitReady()
	}
	n := 4 * sharedCount()
	ctx := context.Background()
	for j := 0; j < n; j++ {
		if err := c0.SendBytes(ctx, sharedMsg(0, j)); err != nil {
			t.Fatalf("send %d: %v", j, err)
		}
	}
	c0.Close()
	var count, sum, sq int
	for _, ch := range children {
		f := strings.Fields(ch.Recv(time.Minute))
		if len(f) != 3 {
			t.Fatalf("receiver report %q", f)
		}
		a, _ := strconv.Atoi(f[0])
		b, _ := strconv.Atoi(f[1])
		c, _ := strconv.Atoi(f[2])
		count, sum, sq = count+a, sum+b, sq+c
		ch.MustWait()
	}
	wantSum, wantSq := 0, 0
	for j := 0; j < n; j++ {
		wantSum, wantSq = wantSum+j, wantSq+j*j
	}
	if count != n || sum != wantSum || sq != wantSq {
		t.Fatalf("receivers took %d messages (sum %d, squares %d); want %d (%d, %d)", count, sum, sq, n, wantSum, wantSq)
	}
}

// helperPipeChildConn: the child of CPython's idiom. It takes ticket Arg(2)
// on end 1 of pipe Arg(1) (whose copy the parent closed), echoes Arg(3)
// messages, sends Arg(4) more of its own, then closes.
func helperPipeChildConn() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c := openTicket(seg, testproc.Arg(1), 1, testproc.IntArg(2))
	ctx := context.Background()
	for i := 0; i < testproc.IntArg(3); i++ {
		m, err := c.RecvBytes(ctx)
		if err != nil {
			testproc.Fatalf("receive %d: %v", i, err)
		}
		if err := c.SendBytes(ctx, m); err != nil {
			testproc.Fatalf("echo %d: %v", i, err)
		}
	}
	for j := 0; j < testproc.IntArg(4); j++ {
		if err := c.SendBytes(ctx, sharedMsg(1, j)); err != nil {
			testproc.Fatalf("send %d: %v", j, err)
		}
	}
	c.Close()
}

// TestPipeCloseClosesOnlyThisCopy: CPython's p.start(); child_conn.close().
// Closing this process's copy of end 1 right after starting the child
// neither ends the child's sends nor its receives; this process's reader
// gets everything the child sent, then io.EOF once the child closed.
func TestPipeCloseClosesOnlyThisCopy(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	parent, childConn, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := childConn.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	const echoes = 50
	n := sharedCount()
	child := testproc.Start(t, "ring-pipe-child-conn", testproc.Options{Args: []string{name, "p", strconv.Itoa(ticket), strconv.Itoa(echoes), strconv.Itoa(n)}})
	if err := childConn.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for i := 0; i < echoes; i++ {
		want := sharedMsg(0, i)
		if err := parent.SendBytes(ctx, want); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
		got, err := parent.RecvBytes(ctx)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("echo %d: got %d bytes, %v; want %d bytes", i, len(got), err, len(want))
		}
	}
	for j := 0; j < n; j++ {
		m, err := parent.RecvBytes(ctx)
		if err != nil {
			t.Fatalf("message %d of %d: %v", j, n, err)
		}
		if k, jj, err := checkSharedMsg(m); err != nil || k != 1 || jj != j {
			t.Fatalf("message %d: got (%d, %d), %v", j, k, jj, err)
		}
	}
	if _, err := parent.RecvBytes(ctx); err != io.EOF {
		t.Fatalf("after the child closed: got %v; want io.EOF", err)
	}
	child.MustWait()
}

// TestPipeCloseOneOfTwoHandles: in one process, two handles on one end;
// closing one leaves the end open for the other, and the reader sees
// io.EOF only after both are closed. Opening the closed end then fails.
func TestPipeCloseOneOfTwoHandles(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, w1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	w2, err := ring.OpenPipe(seg, "p", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	w1.SendBytes(ctx, []byte("one"))
	w1.Close()
	expired, cancel := context.WithCancel(ctx)
	cancel()
	if m, err := r.RecvBytes(ctx); err != nil || string(m) != "one" {
		t.Fatalf("first message: got %q, %v", m, err)
	}
	if ok, err := r.Poll(expired); ok || err != nil {
		t.Fatalf("Poll with one handle still open: got %v, %v; want false, nil", ok, err)
	}
	if err := w2.SendBytes(ctx, []byte("two")); err != nil {
		t.Fatalf("send on the handle left open: %v", err)
	}
	w2.Close()
	if m, err := r.RecvBytes(ctx); err != nil || string(m) != "two" {
		t.Fatalf("second message: got %q, %v", m, err)
	}
	if _, err := r.RecvBytes(ctx); err != io.EOF {
		t.Fatalf("after both handles closed: got %v; want io.EOF", err)
	}
	if _, err := ring.OpenPipe(seg, "p", 1, nil); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("opening the closed end: got %v; want ErrClosed", err)
	}
}

// helperPipeStuckSender: takes ticket Arg(2) on end 1 of pipe Arg(1) and
// sends one 256 KiB message that the parent does not read, so that it
// blocks mid-message, holding the end's send side, until it is killed.
func helperPipeStuckSender() {
	seg := openSegment(testproc.Arg(0))
	c := openTicket(seg, testproc.Arg(1), 1, testproc.IntArg(2))
	testproc.Ready()
	big := bytes.Repeat([]byte("garbage!"), 32<<10)
	c.SendBytes(context.Background(), big)
	testproc.Fatalf("the send of an unread 256 KiB message returned")
}

// TestPipeSenderKilledMidMessage: a sender SIGKILLed while it holds the
// end's send side halfway through a fragmented message does not wedge the
// other senders (its hold is taken over) and never exposes a partial
// message: the reader gets io.ErrUnexpectedEOF for the cut message (or
// nothing, if none of it was published), then the next sender's messages
// intact, then io.EOF when that sender closes.
func TestPipeSenderKilledMidMessage(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	r, w, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	t1, _ := w.Reserve()
	t2, _ := w.Reserve()
	stuck := testproc.Start(t, "ring-pipe-stuck-sender", testproc.Options{Args: []string{name, "p", strconv.Itoa(t1)}})
	w.Close()
	stuck.WaitReady()
	// Let it publish the ring full of fragments (the assertions hold
	// whether or not it has).
	time.Sleep(100 * time.Millisecond)
	stuck.Kill()
	stuck.Wait()
	const n = 20
	next := testproc.Start(t, "ring-pipe-sender", testproc.Options{Args: []string{name, "p", strconv.Itoa(t2), "3", strconv.Itoa(n)}})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	m, err := r.RecvBytes(ctx)
	if err == io.ErrUnexpectedEOF {
		m, err = r.RecvBytes(ctx)
	}
	for j := 0; j < n; j++ {
		if j > 0 {
			m, err = r.RecvBytes(ctx)
		}
		if err != nil {
			t.Fatalf("message %d: %v", j, err)
		}
		if k, jj, err := checkSharedMsg(m); err != nil || k != 3 || jj != j {
			t.Fatalf("message %d: got (%d, %d), %v; want (3, %d)", j, k, jj, err, j)
		}
	}
	if _, err := r.RecvBytes(ctx); err != io.EOF {
		t.Fatalf("after the last sender closed: got %v; want io.EOF", err)
	}
	next.MustWait()
}

// helperPipeCutReceiver: takes ticket Arg(2) on end 1 of pipe Arg(1),
// receives with a short deadline a message whose sender was cut short, so
// that it holds the end's receive side inside the message, reports "cut"
// and waits to be killed.
func helperPipeCutReceiver() {
	seg := openSegment(testproc.Arg(0))
	c := openTicket(seg, testproc.Arg(1), 1, testproc.IntArg(2))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if m, err := c.RecvBytes(ctx); !errors.Is(err, context.DeadlineExceeded) {
		testproc.Fatalf("receive of a cut message: got %d bytes, %v; want DeadlineExceeded", len(m), err)
	}
	testproc.Send("cut")
	time.Sleep(time.Hour)
}

// TestPipeReceiverKilledMidMessage: a receiver SIGKILLed while it holds the
// end's receive side inside a fragmented message does not wedge the other
// receivers, which skip the rest of that message and get the next ones
// intact.
func TestPipeReceiverKilledMidMessage(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	c0, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	ticket, _ := c1.Reserve()
	cutSend(t, c0)
	victim := testproc.Start(t, "ring-pipe-cut-receiver", testproc.Options{Args: []string{name, "p", strconv.Itoa(ticket)}})
	if got := victim.Recv(time.Minute); got != "cut" {
		t.Fatalf("receiver: got %q; want cut", got)
	}
	victim.Kill()
	victim.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for j := 0; j < 3; j++ {
		if err := c0.SendBytes(ctx, sharedMsg(0, j)); err != nil {
			t.Fatalf("send %d: %v", j, err)
		}
	}
	for j := 0; j < 3; j++ {
		m, err := c1.RecvBytes(ctx)
		if err != nil {
			t.Fatalf("message %d after the receiver died: %v", j, err)
		}
		if k, jj, err := checkSharedMsg(m); err != nil || k != 0 || jj != j {
			t.Fatalf("message %d: got (%d, %d), %v; want (0, %d)", j, k, jj, err, j)
		}
	}
}

// TestConnConcurrentGoroutines: goroutines sharing one Conn send and
// receive at once (sends of 4 goroutines on one handle, receives of 3 on
// another, fragmented messages included): every message arrives exactly
// once, intact. Run with -race, it checks the
// happens-before edges the end's locks give the handles' local state.
func TestConnConcurrentGoroutines(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, w, err := ring.NewPipe(seg, "p", &ring.PipeOptions{OneWay: true, Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	const senders, receivers = 4, 3
	n := sharedCount()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	errs := make(chan error, senders+receivers)
	for k := 0; k < senders; k++ {
		go func() {
			for j := 0; j < n; j++ {
				if err := w.SendBytes(ctx, sharedMsg(k, j)); err != nil {
					errs <- fmt.Errorf("sender %d, message %d: %w", k, j, err)
					return
				}
			}
			errs <- nil
		}()
	}
	got := make(chan [2]int, senders*n)
	for i := 0; i < receivers; i++ {
		go func() {
			for {
				m, err := r.RecvBytes(ctx)
				if err == io.EOF {
					errs <- nil
					return
				}
				if err != nil {
					errs <- err
					return
				}
				k, j, err := checkSharedMsg(m)
				if err != nil {
					errs <- err
					return
				}
				got <- [2]int{k, j}
			}
		}()
	}
	for i := 0; i < senders; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	for i := 0; i < receivers; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(got)
	seen := make(map[[2]int]bool)
	for kj := range got {
		if seen[kj] {
			t.Fatalf("message %v received twice", kj)
		}
		seen[kj] = true
	}
	if len(seen) != senders*n {
		t.Fatalf("received %d distinct messages; want %d", len(seen), senders*n)
	}
}
