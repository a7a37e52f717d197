package benchkit

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// shmkit's own transports. Each run gets an anonymous (memfd) segment that
// the child inherits, so nothing is ever left under /dev/shm, even when the
// run is interrupted: the memory goes with the last descriptor.
//
//	shm-spsc      two SPSC rings (one each way), Write / ReadInto: the
//	              payload is copied into the ring and out of it
//	shm-spsc-zc   the same rings, zero-copy receive: Peek, use the record
//	              in place (the benchmark reads its first and last byte),
//	              Release; the sender still copies its message in, standing
//	              for an application that builds it in the ring
//	shm-batch     throughput only: Reserve+Stage with one Flush (one
//	              release-store of the tail) per batch, Consume of a batch
//	              per release of the head; copies in and out like shm-spsc,
//	              so the two differ only in batching (see batchOf)
//	shm-pipe      ring.Pipe (duplex, default capacity), SendBytes /
//	              RecvBytesInto: what multiprocessing.Pipe users get
//	shm-queue     two ring.Queues (MPMC), Put / GetInto (shmqueue.go)
//
// The wait-strategy ablation registers shm-spsc-spin, -yield and -futex
// (shm-spsc itself is the default, hybrid).

// ringCapacity is each direction's ring for messages of size bytes: 1 MiB
// (the Pipe default, which stays in a core's L2 cache; a 4 MiB ring made the
// 4 KiB round trip three times slower here), or room for four messages
// when they are larger than 256 KiB.
func ringCapacity(size int) int {
	c := 1 << 20
	for c < 4*size {
		c <<= 1
	}
	return c
}

// maxRingMessage bounds the message size of the ring transports (64 MiB
// rings).
const maxRingMessage = 16 << 20

// batchSize is how many small messages shm-batch publishes per tail store.
const batchSize = 64

// batchOf is how many messages of size bytes shm-batch publishes per tail
// store and releases per head store in a ring of capacity bytes: batchSize,
// or fewer so a batch spans at most an eighth of the ring. A batch that
// fills the ring serialises the two sides (the consumer sees nothing until
// the producer has written the whole ring, the producer gets no room back
// until the consumer has read all of it): at 64 KiB that made batching five
// times slower than one message per store. (ring itself now also publishes
// and releases every 32 KiB within a batch; this bound keeps the transport
// sensible with or without that.)
func batchOf(size, capacity int) int {
	return max(1, min(batchSize, capacity/8/(size+16)))
}

func init() {
	for _, v := range []struct {
		name, desc string
		wait       ring.Options // Wait and YieldTime only
		zc, batch  bool
		ablation   bool
	}{
		{"shm-spsc", "shmkit SPSC rings, copy in/out, hybrid wait", ring.Options{Wait: ring.Hybrid}, false, false, false},
		{"shm-spsc-zc", "shmkit SPSC rings, zero-copy receive (Peek/Release)", ring.Options{Wait: ring.Hybrid}, true, false, false},
		{"shm-batch", "shmkit SPSC ring, batched publish and release (throughput only)", ring.Options{Wait: ring.Hybrid}, false, true, false},
		{"shm-spsc-spin", "shmkit SPSC rings, spin wait", ring.Options{Wait: ring.Spin}, false, false, true},
		{"shm-spsc-yield", "shmkit SPSC rings, sched_yield wait", ring.Options{Wait: ring.Yield}, false, false, true},
		{"shm-spsc-futex", "shmkit SPSC rings, futex wait", ring.Options{Wait: ring.Futex}, false, false, true},
		{"shm-spsc-noyield", "shmkit SPSC rings, hybrid wait without its sched_yield phase (YieldTime < 0)", ring.Options{Wait: ring.Hybrid, YieldTime: -1}, false, false, true},
	} {
		v := v
		register(&Transport{
			Name:           v.name,
			Desc:           v.desc,
			Max:            func() int { return maxRingMessage },
			ThroughputOnly: v.batch,
			Ablation:       v.ablation,
			prepare: func(size int) (*setup, error) {
				return prepareRings(size, v.wait, v.zc, v.batch)
			},
			open: func(args []string, fds []int, size int) (Conn, error) {
				return openRings(args, fds, size, v.zc, v.batch)
			},
		})
	}
	register(&Transport{
		Name:    "shm-pipe",
		Desc:    "shmkit ring.Pipe, duplex, default capacity",
		prepare: preparePipe,
		open:    openPipe,
	})
}

// newBenchSegment makes an anonymous segment and a descriptor for the child
// (a dup: the Segment keeps its own).
func newBenchSegment(size int) (*shm.Segment, *os.File, error) {
	seg, err := shm.Anonymous(size)
	if err != nil {
		return nil, nil, err
	}
	fd, err := unix.FcntlInt(seg.File().Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		seg.Close()
		return nil, nil, fmt.Errorf("dup segment: %w", err)
	}
	return seg, os.NewFile(uintptr(fd), "segment"), nil
}

func attachBenchSegment(fds []int) (*shm.Segment, error) {
	if len(fds) < 1 {
		return nil, fmt.Errorf("no segment descriptor")
	}
	return shm.FromFile(os.NewFile(uintptr(fds[0]), "segment"))
}

// copyCached copies src into dst in pieces of at most 256 KiB, as ring's
// Write and ReadInto do: Go's copy of a megabyte or more uses non-temporal
// stores on some CPUs, which bypass the cache the peer is about to read
// from (a plain copy made 1 MiB messages 2.5 times slower here).
func copyCached(dst, src []byte) int {
	const chunk = 256 << 10
	n := 0
	for len(src) > chunk {
		n += copy(dst[n:], src[:chunk])
		src = src[chunk:]
	}
	return n + copy(dst[n:], src)
}

// ringConn is a Conn over two SPSC rings.
type ringConn struct {
	seg    *shm.Segment // the child's attachment, closed with the conn
	p      *ring.Producer
	c      *ring.Consumer
	zc     bool
	batch  int // messages per publish and per release; 0: one at a time
	staged int
}

var bg = context.Background()

func (r *ringConn) Send(msg []byte) error {
	if r.batch == 0 {
		return r.p.Write(bg, msg)
	}
	b, err := r.p.Reserve(bg, len(msg))
	if err != nil {
		return err
	}
	copyCached(b, msg)
	if err := r.p.Stage(len(msg)); err != nil {
		return err
	}
	if r.staged++; r.staged == r.batch {
		r.p.Flush()
		r.staged = 0
	}
	return nil
}

func (r *ringConn) Recv(p []byte) error {
	if !r.zc {
		n, err := r.c.ReadInto(bg, p)
		if err != nil {
			return err
		}
		if n != len(p) {
			return fmt.Errorf("record of %d bytes, want %d", n, len(p))
		}
		return nil
	}
	b, err := r.c.Peek(bg)
	if err != nil {
		return err
	}
	if len(b) != len(p) {
		return fmt.Errorf("record of %d bytes, want %d", len(b), len(p))
	}
	p[0], p[len(p)-1] = b[0], b[len(b)-1]
	return r.c.Release()
}

// recvBatch hands up to a batch of records to each (copied into p) and
// releases them with one store of the head.
func (r *ringConn) recvBatch(p []byte, each func() error) error {
	_, err := r.c.Consume(bg, r.batch, func(rec []byte) error {
		if len(rec) != len(p) {
			return fmt.Errorf("record of %d bytes, want %d", len(rec), len(p))
		}
		copyCached(p, rec)
		return each()
	})
	return err
}

func (r *ringConn) CloseWrite() error { return r.p.Close() }

func (r *ringConn) Close() error {
	r.p.Close()
	r.c.Close()
	if r.seg != nil {
		return r.seg.Close()
	}
	return nil
}

// batchReceiver is implemented by conns that consume many records per call.
type batchReceiver interface {
	batchable() bool
	recvBatch(p []byte, each func() error) error
}

func (r *ringConn) batchable() bool { return r.batch > 0 }

func prepareRings(size int, wait ring.Options, zc, batch bool) (*setup, error) {
	capacity := ringCapacity(size)
	seg, f, err := newBenchSegment(2*capacity + 1<<20)
	if err != nil {
		return nil, err
	}
	o := &ring.Options{Wait: wait.Wait, YieldTime: wait.YieldTime}
	down, err1 := ring.NewRing(seg, "down", capacity, o)
	up, err2 := ring.NewRing(seg, "up", capacity, o)
	if err1 != nil || err2 != nil {
		f.Close()
		seg.Close()
		return nil, fmt.Errorf("rings: %v %v", err1, err2)
	}
	p, err1 := down.Producer()
	c, err2 := up.Consumer()
	if err1 != nil || err2 != nil {
		f.Close()
		seg.Close()
		return nil, fmt.Errorf("ring ends: %v %v", err1, err2)
	}
	mine := &ringConn{p: p, c: c, zc: zc, batch: batchFor(batch, size, capacity)}
	return &setup{
		args:    []string{strconv.Itoa(int(wait.Wait)), strconv.FormatInt(int64(wait.YieldTime), 10)},
		files:   []*os.File{f},
		accept:  func(<-chan struct{}) (Conn, error) { return mine, nil },
		cleanup: func() { mine.Close(); seg.Close() },
	}, nil
}

func openRings(args []string, fds []int, size int, zc, batch bool) (Conn, error) {
	if len(args) < 2 {
		return nil, fmt.Errorf("want wait strategy and yield time, got %q", args)
	}
	w, err1 := strconv.Atoi(args[0])
	yield, err2 := strconv.ParseInt(args[1], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	seg, err := attachBenchSegment(fds)
	if err != nil {
		return nil, err
	}
	o := &ring.Options{Wait: ring.WaitStrategy(w), YieldTime: time.Duration(yield)}
	down, err1 := ring.OpenRing(seg, "down", o)
	up, err2 := ring.OpenRing(seg, "up", o)
	if err1 != nil || err2 != nil {
		seg.Close()
		return nil, fmt.Errorf("rings: %v %v", err1, err2)
	}
	c, err1 := down.Consumer()
	p, err2 := up.Producer()
	if err1 != nil || err2 != nil {
		seg.Close()
		return nil, fmt.Errorf("ring ends: %v %v", err1, err2)
	}
	return &ringConn{seg: seg, p: p, c: c, zc: zc, batch: batchFor(batch, size, down.Cap())}, nil
}

func batchFor(batch bool, size, capacity int) int {
	if !batch {
		return 0
	}
	return batchOf(size, capacity)
}

// pipeConn is a Conn over one end of a ring.Pipe.
type pipeConn struct {
	seg *shm.Segment
	c   *ring.Conn
}

func (p *pipeConn) Send(msg []byte) error { return p.c.SendBytes(bg, msg) }

func (p *pipeConn) Recv(b []byte) error {
	n, err := p.c.RecvBytesInto(bg, b)
	if err != nil {
		return err
	}
	if n != len(b) {
		return fmt.Errorf("message of %d bytes, want %d", n, len(b))
	}
	return nil
}

// CloseWrite closes the whole end: a Pipe end has no half-close, and the
// child reports on the control pipe, not through the pipe.
func (p *pipeConn) CloseWrite() error { return p.c.Close() }

func (p *pipeConn) Close() error {
	p.c.Close()
	if p.seg != nil {
		return p.seg.Close()
	}
	return nil
}

func preparePipe(int) (*setup, error) {
	seg, f, err := newBenchSegment(2*ring.DefaultPipeCapacity + 1<<20)
	if err != nil {
		return nil, err
	}
	c0, c1, err := ring.NewPipe(seg, "pipe", nil)
	if err != nil {
		f.Close()
		seg.Close()
		return nil, err
	}
	// End 1 is the child's: it takes it over with OpenPipe.
	_ = c1
	mine := &pipeConn{c: c0}
	return &setup{
		files:   []*os.File{f},
		accept:  func(<-chan struct{}) (Conn, error) { return mine, nil },
		cleanup: func() { mine.Close(); seg.Close() },
	}, nil
}

func openPipe(_ []string, fds []int, _ int) (Conn, error) {
	seg, err := attachBenchSegment(fds)
	if err != nil {
		return nil, err
	}
	c, err := ring.OpenPipe(seg, "pipe", 1, nil)
	if err != nil {
		seg.Close()
		return nil, err
	}
	return &pipeConn{seg: seg, c: c}, nil
}
