package benchkit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// The socket and pipe baselines use blocking descriptors and plain
// read(2)/write(2), the fastest way a Go (or C, or CPython) program can
// drive them: no netpoller, no epoll round trip between messages.

func init() {
	register(&Transport{Name: "unix", Desc: "Unix stream socket (connect/accept)", prepare: prepareUnix, open: openUnix})
	register(&Transport{Name: "seqpacket", Desc: "Unix seqpacket socketpair", Max: seqpacketMax,
		prepare: func(int) (*setup, error) { return preparePair(unix.SOCK_SEQPACKET) },
		open:    openPacketFD})
	register(&Transport{Name: "socketpair", Desc: "Unix stream socketpair",
		prepare: func(int) (*setup, error) { return preparePair(unix.SOCK_STREAM) },
		open:    openStreamFD})
	register(&Transport{Name: "pipe", Desc: "two pipe(2)s", prepare: preparePipes, open: openPipes})
	register(&Transport{Name: "tcp", Desc: "TCP loopback 127.0.0.1, TCP_NODELAY", prepare: prepareTCP, open: openTCP})
}

// fdConn is a Conn over blocking descriptors.
type fdConn struct {
	r, w   int
	packet bool // one read is one message (seqpacket)
	socket bool // CloseWrite is shutdown(SHUT_WR), not close
	closed atomic.Bool
}

func (c *fdConn) Send(p []byte) error {
	for len(p) > 0 {
		n, err := unix.Write(c.w, p)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		p = p[n:]
	}
	return nil
}

func (c *fdConn) read(p []byte) (int, error) {
	for {
		n, err := unix.Read(c.r, p)
		if err != unix.EINTR {
			return n, err
		}
	}
}

func (c *fdConn) Recv(p []byte) error {
	if !c.packet {
		return readFull(c.read, p)
	}
	n, err := c.read(p)
	if err != nil {
		return err
	}
	if n == 0 && len(p) > 0 {
		return io.EOF
	}
	if n != len(p) {
		return fmt.Errorf("benchkit: seqpacket message of %d bytes, want %d", n, len(p))
	}
	return nil
}

func (c *fdConn) CloseWrite() error {
	if c.socket {
		return unix.Shutdown(c.w, unix.SHUT_WR)
	}
	w := c.w
	c.w = -1
	return unix.Close(w)
}

func (c *fdConn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	err := unix.Close(c.r)
	if c.w != c.r && c.w >= 0 {
		unix.Close(c.w)
	}
	return err
}

// fileOf wraps a descriptor to hand it to the child.
func fileOf(fd int, name string) *os.File { return os.NewFile(uintptr(fd), name) }

func preparePair(typ int) (*setup, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, typ|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socketpair: %w", err)
	}
	if typ == unix.SOCK_SEQPACKET {
		growSndbuf(fds[0])
		growSndbuf(fds[1])
	}
	mine := &fdConn{r: fds[0], w: fds[0], packet: typ == unix.SOCK_SEQPACKET, socket: true}
	return &setup{
		files:  []*os.File{fileOf(fds[1], "socketpair")},
		accept: func(<-chan struct{}) (Conn, error) { return mine, nil },
	}, nil
}

func openStreamFD(_ []string, fds []int, _ int) (Conn, error) {
	return &fdConn{r: fds[0], w: fds[0], socket: true}, nil
}

func openPacketFD(_ []string, fds []int, _ int) (Conn, error) {
	return &fdConn{r: fds[0], w: fds[0], packet: true, socket: true}, nil
}

// growSndbuf raises a seqpacket socket's send buffer as far as the
// unprivileged limit (net.core.wmem_max) allows: it bounds the message size.
func growSndbuf(fd int) {
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 64<<20)
}

var seqpacketMax = sync.OnceValue(func() int {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return 1
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	growSndbuf(fds[0])
	n, err := unix.GetsockoptInt(fds[0], unix.SOL_SOCKET, unix.SO_SNDBUF)
	if err != nil {
		return 1
	}
	// The kernel refuses a record larger than the send buffer less a
	// small header (net/unix/af_unix.c); stay a page below to be safe.
	return n - 4096
})

func preparePipes(int) (*setup, error) {
	var down, up [2]int // parent→child, child→parent
	if err := unix.Pipe2(down[:], unix.O_CLOEXEC); err != nil {
		return nil, fmt.Errorf("pipe: %w", err)
	}
	if err := unix.Pipe2(up[:], unix.O_CLOEXEC); err != nil {
		unix.Close(down[0])
		unix.Close(down[1])
		return nil, fmt.Errorf("pipe: %w", err)
	}
	// 1 MiB pipes when allowed (fs.pipe-max-size), so large messages are
	// not chopped into 64 KiB writes by the default capacity.
	for _, fd := range []int{down[1], up[1]} {
		unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, 1<<20)
	}
	mine := &fdConn{r: up[0], w: down[1]}
	return &setup{
		files:  []*os.File{fileOf(down[0], "pipe-down-r"), fileOf(up[1], "pipe-up-w")},
		accept: func(<-chan struct{}) (Conn, error) { return mine, nil },
	}, nil
}

func openPipes(_ []string, fds []int, _ int) (Conn, error) {
	return &fdConn{r: fds[0], w: fds[1]}, nil
}

var sockSeq atomic.Int64

// prepareUnix listens on an abstract-namespace address (no file to clean
// up); the child connects, the parent accepts.
func prepareUnix(int) (*setup, error) {
	ln, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	name := "@shmkit-bench-" + strconv.Itoa(os.Getpid()) + "-" + strconv.FormatInt(sockSeq.Add(1), 10)
	if err := unix.Bind(ln, &unix.SockaddrUnix{Name: name}); err != nil {
		unix.Close(ln)
		return nil, fmt.Errorf("bind %s: %w", name, err)
	}
	if err := unix.Listen(ln, 1); err != nil {
		unix.Close(ln)
		return nil, fmt.Errorf("listen: %w", err)
	}
	return &setup{
		args: []string{name},
		accept: func(exited <-chan struct{}) (Conn, error) {
			fd, err := acceptTimeout(ln, 10*time.Second, exited)
			if err != nil {
				return nil, err
			}
			return &fdConn{r: fd, w: fd, socket: true}, nil
		},
		cleanup: func() { unix.Close(ln) },
	}, nil
}

func openUnix(args []string, _ []int, _ int) (Conn, error) {
	if len(args) < 1 {
		return nil, errors.New("unix: no address")
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: args[0]}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect %s: %w", args[0], err)
	}
	return &fdConn{r: fd, w: fd, socket: true}, nil
}

func prepareTCP(int) (*setup, error) {
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err := unix.Bind(ln, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(ln)
		return nil, fmt.Errorf("bind 127.0.0.1: %w", err)
	}
	if err := unix.Listen(ln, 1); err != nil {
		unix.Close(ln)
		return nil, fmt.Errorf("listen: %w", err)
	}
	sa, err := unix.Getsockname(ln)
	if err != nil {
		unix.Close(ln)
		return nil, err
	}
	port := sa.(*unix.SockaddrInet4).Port
	return &setup{
		args: []string{strconv.Itoa(port)},
		accept: func(exited <-chan struct{}) (Conn, error) {
			fd, err := acceptTimeout(ln, 10*time.Second, exited)
			if err != nil {
				return nil, err
			}
			unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
			return &fdConn{r: fd, w: fd, socket: true}, nil
		},
		cleanup: func() { unix.Close(ln) },
	}, nil
}

func openTCP(args []string, _ []int, _ int) (Conn, error) {
	if len(args) < 1 {
		return nil, errors.New("tcp: no port")
	}
	port, err := strconv.Atoi(args[0])
	if err != nil {
		return nil, err
	}
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := unix.Connect(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect 127.0.0.1:%d: %w", port, err)
	}
	return &fdConn{r: fd, w: fd, socket: true}, nil
}

// acceptTimeout accepts one connection, giving up after d (a child that
// died before connecting must not hang the parent).
func acceptTimeout(ln int, d time.Duration, exited <-chan struct{}) (int, error) {
	fds := []unix.PollFd{{Fd: int32(ln), Events: unix.POLLIN}}
	deadline := time.Now().Add(d)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			return -1, fmt.Errorf("benchkit: no connection within %v", d)
		}
		select {
		case <-exited:
			return -1, errPeerExited
		default:
		}
		// Short polls: a child killed before it connected (Ctrl-C) ends
		// the wait within one.
		n, err := unix.Poll(fds, int(min(left, 20*time.Millisecond)/time.Millisecond)+1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return -1, err
		}
		if n > 0 {
			break
		}
	}
	fd, _, err := unix.Accept4(ln, unix.SOCK_CLOEXEC)
	if err != nil {
		return -1, fmt.Errorf("accept: %w", err)
	}
	return fd, nil
}
