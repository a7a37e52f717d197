package benchkit

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// shm-queue: two ring.Queues (MPMC, multiprocessing.Queue semantics), one
// each way, used here by one producer and one consumer. Each slot holds one
// message in place, so the queue is sized per run: slots of the message
// size, as many as fit in about 4 MiB (between 4 and 1024).

func init() {
	register(&Transport{
		Name:    "shm-queue",
		Desc:    "shmkit ring.Queue (MPMC), Put / GetInto",
		Max:     func() int { return 4 << 20 },
		prepare: prepareQueues,
		open:    openQueues,
	})
}

func queueSlots(size int) int { return max(4, min(1024, (4<<20)/size)) }

type queueConn struct {
	seg       *shm.Segment
	out, in   *ring.Queue
	outClosed bool
}

func (q *queueConn) Send(msg []byte) error { return q.out.Put(bg, msg) }

func (q *queueConn) Recv(p []byte) error {
	n, err := q.in.GetInto(bg, p)
	if errors.Is(err, ring.ErrClosed) {
		return errEOF
	}
	if err != nil {
		return err
	}
	if n != len(p) {
		return fmt.Errorf("message of %d bytes, want %d", n, len(p))
	}
	return nil
}

// CloseWrite closes the outgoing queue (for every process, as Queue.Close
// does): the peer drains it and then sees the end.
func (q *queueConn) CloseWrite() error {
	q.outClosed = true
	return q.out.Close()
}

func (q *queueConn) Close() error {
	if q.seg != nil {
		return q.seg.Close()
	}
	return nil
}

func prepareQueues(size int) (*setup, error) {
	slots := queueSlots(size)
	seg, f, err := newBenchSegment(2*slots*(size+128) + 1<<20)
	if err != nil {
		return nil, err
	}
	o := &ring.QueueOptions{MaxSize: slots, MaxMessage: size, Leases: -1} // no Get here takes a lease
	down, err1 := ring.NewQueue(seg, "down", o)
	up, err2 := ring.NewQueue(seg, "up", o)
	if err1 != nil || err2 != nil {
		f.Close()
		seg.Close()
		return nil, fmt.Errorf("queues: %v %v", err1, err2)
	}
	mine := &queueConn{out: down, in: up}
	return &setup{
		args:    []string{strconv.Itoa(size)},
		files:   []*os.File{f},
		accept:  func(<-chan struct{}) (Conn, error) { return mine, nil },
		cleanup: func() { seg.Close() },
	}, nil
}

func openQueues(_ []string, fds []int, _ int) (Conn, error) {
	seg, err := attachBenchSegment(fds)
	if err != nil {
		return nil, err
	}
	down, err1 := ring.OpenQueue(seg, "down", nil)
	up, err2 := ring.OpenQueue(seg, "up", nil)
	if err1 != nil || err2 != nil {
		seg.Close()
		return nil, fmt.Errorf("queues: %v %v", err1, err2)
	}
	return &queueConn{seg: seg, out: up, in: down}, nil
}
