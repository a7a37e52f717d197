package benchkit

import (
	"context"
	"fmt"
	"io"
	"os"
	"sort"
)

// Conn is one end of a message channel between the parent and the child.
// Messages have the fixed size the run was set up with.
type Conn interface {
	// Send writes one message.
	Send(p []byte) error
	// Recv reads one message of exactly len(p) bytes into p; io.EOF when
	// the peer closed its sending side before a new message began.
	Recv(p []byte) error
	// CloseWrite tells the peer no more messages follow (its Recv then
	// returns io.EOF).
	CloseWrite() error
	// Close releases the end.
	Close() error
}

// Transport is one way of moving messages between two processes.
type Transport struct {
	// Name is the key used in benchmark names, flags and tables.
	Name string
	// Desc says what it is in a few words.
	Desc string
	// Max is the largest message it carries, 0 for no limit.
	Max func() int
	// ThroughputOnly marks a transport that has no ping-pong (batching
	// holds messages back until a batch is full).
	ThroughputOnly bool
	// Ablation marks a twin that differs from another transport in one
	// design choice (see Knobs); the transport suites and tables leave it
	// out, the ablation suites use it.
	Ablation bool

	// unlocked: the hot goroutine is not locked to its thread. Its waits
	// park in Go's netpoller, and a locked goroutine readied there costs
	// a second wake-up (the poller's thread hands it to its own); a Go
	// program that does not lock threads pays only the first. Placements
	// pin the whole process instead of the hot thread, as taskset pins a
	// program.
	unlocked bool

	prepare func(size int) (*setup, error)
	open    func(args []string, fds []int, size int) (Conn, error)
	// local runs an in-process transport instead (no child, no probe).
	local func(ctx context.Context, mode string, o Options, res *Result) error
}

// InProcess reports whether the transport stays inside one process.
func (t *Transport) InProcess() bool { return t.local != nil }

// setup is what prepare hands back to the parent.
type setup struct {
	args    []string                                   // for the child's open
	files   []*os.File                                 // for the child, from fd 6; closed after spawn
	accept  func(exited <-chan struct{}) (Conn, error) // the parent's end, once the child runs; gives up when exited closes
	cleanup func()                                     // after the run, whatever happened
}

// Fits reports whether the transport carries messages of size bytes.
func (t *Transport) Fits(size int) bool {
	if t.Max == nil {
		return true
	}
	m := t.Max()
	return m == 0 || size <= m
}

var transports = map[string]*Transport{}

func register(t *Transport) {
	if _, dup := transports[t.Name]; dup {
		panic("benchkit: transport " + t.Name + " registered twice")
	}
	transports[t.Name] = t
}

// Lookup returns the transport called name.
func Lookup(name string) (*Transport, error) {
	t, ok := transports[name]
	if !ok {
		return nil, fmt.Errorf("benchkit: unknown transport %q (have %v)", name, Names())
	}
	return t, nil
}

// Names lists the registered transports in a fixed order: the socket
// baselines first, shmkit's after.
func Names() []string {
	var out []string
	for n := range transports {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool {
		ri, rj := rank(out[i]), rank(out[j])
		if ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return out
}

var order = []string{"chan", "unix", "seqpacket", "socketpair", "pipe", "tcp",
	"shm-spsc", "shm-spsc-zc", "shm-batch", "shm-queue", "shm-pipe", "shm-spsc-spin", "shm-spsc-yield", "shm-spsc-futex", "shm-spsc-noyield",
	"bell-futex", "bell-futex-timed", "bell-eventfd", "bell-pipe", "bell-netpoll"}

func rank(name string) int {
	for i, n := range order {
		if n == name {
			return i
		}
	}
	return len(order)
}

// readFull fills p from fd-like reads, EOF rules as Conn.Recv.
func readFull(read func([]byte) (int, error), p []byte) error {
	got := 0
	for got < len(p) {
		n, err := read(p[got:])
		if err != nil {
			return err
		}
		if n == 0 {
			if got == 0 {
				return io.EOF
			}
			return io.ErrUnexpectedEOF
		}
		got += n
	}
	return nil
}

var errEOF = io.EOF
