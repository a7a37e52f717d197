package benchkit

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/ring"
)

// The doorbell transports isolate the sleeping path: a one-message mailbox
// each way in a memfd mapping, no spinning at all, and a waiter that parks
// on one of five objects. They differ only in that object, so their round
// trips compare the wake-ups themselves:
//
//	bell-futex    FUTEX_WAIT / FUTEX_WAKE on a shared word, no timeout
//	              (what ring's futex wait parks on)
//	bell-futex-timed  the same with a 50 ms timeout on every FUTEX_WAIT,
//	              as ring's waits had before they parked untimed (each
//	              wait arms and cancels a kernel timer)
//	bell-eventfd  a blocking read(2) / write(2) of an eventfd both processes
//	              hold
//	bell-pipe     a blocking read(2) / write(2) of one byte on a pipe both
//	              processes hold (pipe and socket wake-ups are synchronous:
//	              the kernel may run the woken task on the waker's CPU)
//	bell-netpoll  one byte on a non-blocking Unix stream socketpair, read
//	              and written through net.Conn: the waiter's goroutine
//	              parks in Go's netpoller (epoll) and its thread is free;
//	              the sleeping path of Go shared-memory IPC libraries that
//	              notify over a Unix socket only when the reader has
//	              flagged itself parked (the sleep word below), the
//	              reader draining the notification bytes on each wake-up
//
// A one-message mailbox is a ring of one slot: a ping-pong has one message
// in flight each way, so a deeper ring would change nothing in its round
// trip. bell-netpoll runs as a Go program that locks no goroutine to a thread
// runs (the Transport's unlocked): its goroutine is not locked, and a pinned placement
// pins the whole process with GOMAXPROCS 1, as taskset does. Pinning only
// the hot thread would not hold it: the goroutine wakes on whichever thread
// polled, and the socket's synchronous wake-up may run that thread on the
// waker's CPU, so "pinned" round trips become same-CPU ones.
//
// They are ablation twins (knob sleep), measured with -ablations or by
// name. Each direction of the mapping (down first, then up):
//
//	off  size  field        written by              read by
//	0    4     state        both (0 empty, 1 full,  both
//	                        2 closed)
//	64   4     len          sender                  receiver
//	128  4     dataSleep    receiver (1: parked),   sender
//	                        sender (0 when ringing)
//	192  4     spaceSleep   sender (1: parked),     receiver
//	                        receiver (0 when ringing)
//	256  n     payload      sender                  receiver
//
// A side that must wait stores 1 in its sleep word, re-checks the state,
// and parks; the other side changes the state and rings only when it swaps
// a 1 out of that word (a token left over from a wait that found the state
// changed costs one spurious wake-up later, never a lost one).

const (
	bellHeader  = 256
	bellMaxSize = 1 << 20
)

// bell is one doorbell: park blocks until rung (or returns early: callers
// re-check), ring wakes a parked peer.
type bell interface {
	park(sleep *uint32)
	ring(sleep *uint32)
	files() []*os.File // for the child, in order
	close()
}

// futexBell parks with FUTEX_WAIT, for at most timeout (< 0: none).
type futexBell struct{ timeout time.Duration }

func (b futexBell) park(sleep *uint32) { futex.Wait(sleep, 1, b.timeout) }
func (futexBell) ring(sleep *uint32)   { futex.Wake(sleep, 1) }
func (futexBell) files() []*os.File    { return nil }
func (futexBell) close()               {}

// bellSlice is bell-futex-timed's timeout: ring.MaxSlice.
const bellSlice = ring.MaxSlice

func futexBellKind(timeout time.Duration, on string) bellKind {
	return bellKind{
		make: func() (bell, error) { return futexBell{timeout}, nil },
		open: func([]int) (bell, int, error) { return futexBell{timeout}, 0, nil },
		on:   on,
	}
}

type eventfdBell struct{ f *os.File }

func (b eventfdBell) park(*uint32) {
	var v [8]byte
	for {
		if _, err := unix.Read(int(b.f.Fd()), v[:]); err != unix.EINTR {
			return
		}
	}
}

func (b eventfdBell) ring(*uint32) {
	v := [8]byte{1}
	unix.Write(int(b.f.Fd()), v[:])
}

func (b eventfdBell) files() []*os.File { return []*os.File{b.f} }
func (b eventfdBell) close()            { b.f.Close() }

func newEventfdBell() (bell, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	return eventfdBell{os.NewFile(uintptr(fd), "eventfd")}, nil
}

func openEventfdBell(fds []int) (bell, int, error) {
	return eventfdBell{os.NewFile(uintptr(fds[0]), "eventfd")}, 1, nil
}

type pipeBell struct{ r, w *os.File }

func (b pipeBell) park(*uint32) {
	var v [1]byte
	for {
		if _, err := unix.Read(int(b.r.Fd()), v[:]); err != unix.EINTR {
			return
		}
	}
}

func (b pipeBell) ring(*uint32) { unix.Write(int(b.w.Fd()), []byte{1}) }

func (b pipeBell) files() []*os.File { return []*os.File{b.r, b.w} }
func (b pipeBell) close()            { b.r.Close(); b.w.Close() }

func newPipeBell() (bell, error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, err
	}
	return pipeBell{os.NewFile(uintptr(p[0]), "bell-r"), os.NewFile(uintptr(p[1]), "bell-w")}, nil
}

func openPipeBell(fds []int) (bell, int, error) {
	return pipeBell{os.NewFile(uintptr(fds[0]), "bell-r"), os.NewFile(uintptr(fds[1]), "bell-w")}, 2, nil
}

// netpollBell parks the goroutine, not the thread: r and w are the two
// ends of a socketpair (the waiter reads r, the ringer writes w), rc and
// wc the same ends through the netpoller. A ring swapped a 1 out of the
// sleep word, so at most one byte per park is in flight; park reads up to
// 64 at once, draining any a wake-up that found the state changed left.
type netpollBell struct {
	r, w   *os.File
	rc, wc net.Conn
}

func (b *netpollBell) park(*uint32) {
	var v [64]byte
	b.rc.Read(v[:]) // an error (closed) returns too: callers re-check
}

func (b *netpollBell) ring(*uint32) { b.wc.Write([]byte{1}) }

func (b *netpollBell) files() []*os.File { return []*os.File{b.r, b.w} }

func (b *netpollBell) close() {
	b.rc.Close()
	b.wc.Close()
	b.r.Close()
	b.w.Close()
}

// netpollConns wraps r and w for the netpoller (net.FileConn dups them and
// sets them non-blocking).
func netpollConns(r, w *os.File) (bell, error) {
	rc, err := net.FileConn(r)
	if err != nil {
		return nil, err
	}
	wc, err := net.FileConn(w)
	if err != nil {
		rc.Close()
		return nil, err
	}
	return &netpollBell{r: r, w: w, rc: rc, wc: wc}, nil
}

func newNetpollBell() (bell, error) {
	s, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	r, w := os.NewFile(uintptr(s[0]), "bell-r"), os.NewFile(uintptr(s[1]), "bell-w")
	b, err := netpollConns(r, w)
	if err != nil {
		r.Close()
		w.Close()
	}
	return b, err
}

func openNetpollBell(fds []int) (bell, int, error) {
	r, w := os.NewFile(uintptr(fds[0]), "bell-r"), os.NewFile(uintptr(fds[1]), "bell-w")
	b, err := netpollConns(r, w)
	if err != nil {
		r.Close()
		w.Close()
	}
	return b, 2, err
}

// bellKind makes and opens one kind of doorbell.
type bellKind struct {
	make func() (bell, error)
	open func(fds []int) (b bell, used int, err error)
	nfd  int
	on   string // what the waiter parks on, for Desc
}

// bellKinds are the doorbells, registered as "bell-" + the name.
var bellKinds = map[string]bellKind{
	"futex":       futexBellKind(-1, "a futex word"),
	"futex-timed": futexBellKind(bellSlice, "a futex word, 50 ms timeout"),
	"eventfd":     {newEventfdBell, openEventfdBell, 1, "an eventfd"},
	"pipe":        {newPipeBell, openPipeBell, 2, "a pipe"},
	"netpoll":     {newNetpollBell, openNetpollBell, 2, "a Unix socket in Go's netpoller"},
}

func init() {
	for name, k := range bellKinds {
		register(&Transport{
			Name:     "bell-" + name,
			Desc:     "one-message mailbox in shared memory, no spin, waiter parks on " + k.on,
			Max:      func() int { return bellMaxSize },
			Ablation: true,
			unlocked: name == "netpoll",
			prepare:  func(size int) (*setup, error) { return prepareBell(size, k) },
			open:     func(_ []string, fds []int, size int) (Conn, error) { return openBell(fds, size, k) },
		})
	}
}

// bellDir is one direction's mailbox and its two doorbells.
type bellDir struct {
	mem                   []byte
	state, len            *uint32
	dataSleep, spaceSleep *uint32
	dataBell, spaceBell   bell
}

func newBellDir(mem []byte, data, space bell) *bellDir {
	w := func(off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
	return &bellDir{mem: mem, state: w(0), len: w(64), dataSleep: w(128), spaceSleep: w(192), dataBell: data, spaceBell: space}
}

// bellConn sends on out and receives on in.
type bellConn struct {
	mapping []byte
	out, in *bellDir
	bells   []bell
	dead    atomic.Bool
	stop    chan struct{}  // closed by Close: the watcher returns
	watcher sync.WaitGroup // Close unmaps only after the watcher returned

	closeOnce sync.Once
	closeErr  error
}

var errPeerGone = errors.New("peer exited")

// await parks on b until cond holds or the peer is gone.
func (c *bellConn) await(sleep *uint32, b bell, cond func() bool) error {
	for !cond() {
		if c.dead.Load() {
			return errPeerGone
		}
		atomic.StoreUint32(sleep, 1)
		if cond() {
			atomic.StoreUint32(sleep, 0)
			return nil
		}
		b.park(sleep)
	}
	return nil
}

func ringIfParked(sleep *uint32, b bell) {
	if atomic.SwapUint32(sleep, 0) == 1 {
		b.ring(sleep)
	}
}

func (c *bellConn) Send(p []byte) error {
	d := c.out
	if err := c.await(d.spaceSleep, d.spaceBell, func() bool { return atomic.LoadUint32(d.state) == 0 }); err != nil {
		return err
	}
	copy(d.mem[bellHeader:], p)
	atomic.StoreUint32(d.len, uint32(len(p)))
	atomic.StoreUint32(d.state, 1)
	ringIfParked(d.dataSleep, d.dataBell)
	return nil
}

func (c *bellConn) Recv(p []byte) error {
	d := c.in
	if err := c.await(d.dataSleep, d.dataBell, func() bool { return atomic.LoadUint32(d.state) != 0 }); err != nil {
		return err
	}
	if atomic.LoadUint32(d.state) == 2 {
		return errEOF
	}
	if n := atomic.LoadUint32(d.len); int(n) != len(p) {
		return fmt.Errorf("message of %d bytes, want %d", n, len(p))
	}
	copy(p, d.mem[bellHeader:bellHeader+len(p)])
	atomic.StoreUint32(d.state, 0)
	ringIfParked(d.spaceSleep, d.spaceBell)
	return nil
}

// CloseWrite waits for the last message to be taken, then marks the end.
func (c *bellConn) CloseWrite() error {
	d := c.out
	if err := c.await(d.spaceSleep, d.spaceBell, func() bool { return atomic.LoadUint32(d.state) == 0 }); err != nil {
		return err
	}
	atomic.StoreUint32(d.state, 2)
	ringIfParked(d.dataSleep, d.dataBell)
	return nil
}

// Close releases the end once (Run closes the conn, and its setup's
// cleanup closes it again).
func (c *bellConn) Close() error {
	c.closeOnce.Do(func() {
		close(c.stop)
		c.watcher.Wait()
		for _, b := range c.bells {
			b.close()
		}
		c.closeErr = unix.Munmap(c.mapping)
	})
	return c.closeErr
}

// watch rings every bell once the child is gone, so a parked parent wakes
// and sees it (until Close).
func (c *bellConn) watch(exited <-chan struct{}) {
	c.watcher.Go(func() {
		select {
		case <-exited:
		case <-c.stop:
			return
		}
		c.dead.Store(true)
		for _, d := range []*bellDir{c.out, c.in} {
			d.dataBell.ring(d.dataSleep)
			d.spaceBell.ring(d.spaceSleep)
		}
	})
}

func bellDirSize(size int) int { return (bellHeader + size + 4095) &^ 4095 }

// newBellConn lays the two directions over mapping (down first) with
// bells[0..1] for down's data and space and bells[2..3] for up's.
func newBellConn(mapping []byte, size int, bells []bell, child bool) *bellConn {
	n := bellDirSize(size)
	down := newBellDir(mapping[:n], bells[0], bells[1])
	up := newBellDir(mapping[n:2*n], bells[2], bells[3])
	if child {
		down, up = up, down
	}
	return &bellConn{mapping: mapping, out: down, in: up, bells: bells, stop: make(chan struct{})}
}

func prepareBell(size int, k bellKind) (*setup, error) {
	fd, err := unix.MemfdCreate("shmkit-bench-bell", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("bell memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "bell")
	n := 2 * bellDirSize(size)
	if err := unix.Ftruncate(fd, int64(n)); err != nil {
		f.Close()
		return nil, err
	}
	mapping, err := unix.Mmap(fd, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, err
	}
	files := []*os.File{f}
	var bells []bell
	for range 4 {
		b, err := k.make()
		if err != nil {
			f.Close()
			unix.Munmap(mapping)
			return nil, err
		}
		bells = append(bells, b)
		// The child gets its own descriptors (dups): the parent's stay
		// open after the spawn closes what it handed over.
		for _, bf := range b.files() {
			d, err := unix.FcntlInt(bf.Fd(), unix.F_DUPFD_CLOEXEC, 0)
			if err != nil {
				return nil, err
			}
			files = append(files, os.NewFile(uintptr(d), "bell"))
		}
	}
	mine := newBellConn(mapping, size, bells, false)
	return &setup{
		files:   files,
		accept:  func(<-chan struct{}) (Conn, error) { return mine, nil },
		cleanup: func() { mine.Close() },
	}, nil
}

func openBell(fds []int, size int, k bellKind) (Conn, error) {
	if len(fds) != 1+4*k.nfd || size <= 0 || size > bellMaxSize {
		return nil, fmt.Errorf("bell: %d descriptors for size %d", len(fds), size)
	}
	n := 2 * bellDirSize(size)
	mapping, err := unix.Mmap(fds[0], 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	unix.Close(fds[0])
	if err != nil {
		return nil, err
	}
	var bells []bell
	rest := fds[1:]
	for range 4 {
		b, used, err := k.open(rest)
		if err != nil {
			for _, b := range bells {
				b.close()
			}
			unix.Munmap(mapping)
			return nil, fmt.Errorf("bell: %w", err)
		}
		bells = append(bells, b)
		rest = rest[used:]
	}
	return newBellConn(mapping, size, bells, true), nil
}
