package ring_test

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
)

func init() {
	testproc.Register("ring-pipe-objects", helperPipeObjects)
}

// pjob is a value of the kind CPython programs send through a pipe.
type pjob struct {
	ID   int
	Name string
	Args []float64
	Meta map[string]string
}

// helperPipeObjects: takes ticket Arg(2) on end 1 of pipe Arg(1) and, as a
// ported CPython child would with conn.send(obj), sends a pjob (a job record), a list of
// strings and a number, then a point through a TypedConn with the default
// codec, then closes.
func helperPipeObjects() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	c := openTicket(seg, testproc.Arg(1), 1, testproc.IntArg(2))
	ctx := context.Background()
	for _, v := range []any{
		pjob{ID: 7, Name: "resize", Args: []float64{0.5, 2}, Meta: map[string]string{"by": "child"}},
		[]string{"a", "b", "c"},
		42,
	} {
		if err := c.Send(ctx, v); err != nil {
			testproc.Fatalf("send %T: %v", v, err)
		}
	}
	if err := ring.NewTypedConn[point](c, nil).Send(ctx, point{X: 1, Y: 2, ID: 3}); err != nil {
		testproc.Fatalf("typed send: %v", err)
	}
	c.Close()
}

// TestConnSendRecvValues: Conn.Send and Conn.Recv carry values, as
// CPython's send(obj) and recv(), across processes; a TypedConn with no
// codec uses the default one; a value that does not decode into the
// receiver's variable is ErrCodec and consumed.
func TestConnSendRecvValues(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	parent, childConn, err := ring.NewPipe(seg, "p", nil)
	if err != nil {
		t.Fatal(err)
	}
	ticket, err := childConn.Reserve()
	if err != nil {
		t.Fatal(err)
	}
	child := testproc.Start(t, "ring-pipe-objects", testproc.Options{Args: []string{name, "p", strconv.Itoa(ticket)}})
	childConn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	var j pjob
	if err := parent.Recv(ctx, &j); err != nil {
		t.Fatalf("Recv pjob: %v", err)
	}
	want := pjob{ID: 7, Name: "resize", Args: []float64{0.5, 2}, Meta: map[string]string{"by": "child"}}
	if !reflect.DeepEqual(j, want) {
		t.Fatalf("Recv pjob: got %+v; want %+v", j, want)
	}
	var n int
	if err := parent.Recv(ctx, &n); !errors.Is(err, ring.ErrCodec) {
		t.Fatalf("Recv of a list into an int: got %v; want ErrCodec", err)
	}
	if err := parent.Recv(ctx, &n); err != nil || n != 42 {
		t.Fatalf("Recv int after the bad one: got %d, %v; want 42", n, err)
	}
	if p, err := ring.NewTypedConn[point](parent, nil).Recv(ctx); err != nil || p != (point{X: 1, Y: 2, ID: 3}) {
		t.Fatalf("typed Recv: got %+v, %v", p, err)
	}
	if err := parent.Recv(ctx, &n); err != io.EOF {
		t.Fatalf("after the child closed: got %v; want io.EOF", err)
	}
	child.MustWait()

	if err := parent.Send(ctx, func() {}); !errors.Is(err, ring.ErrCodec) {
		t.Fatalf("Send of a func: got %v; want ErrCodec", err)
	}
}
