// Package testproc runs helper processes for cross-process tests: the test
// binary re-executes itself as a named helper, as os/exec's own tests do.
//
// A test package registers helpers (usually next to the test that uses them)
// and calls Main from TestMain:
//
//	func init() { testproc.Register("lock-holder", lockHolder) }
//	func TestMain(m *testing.M) { testproc.Main(m) }
//
// The parent starts one with Start, which kills it at a deadline (first
// SIGQUIT, so that its goroutine dump shows where it hung, then SIGKILL) and
// in t.Cleanup, captures its output, and gives it a line-oriented report
// channel (Send in the child, Recv in the parent). Segments travel by name
// (in Args) or as inherited descriptors (Options.Files; File(i) in the child).
//
// It is built on internal/reexec, the repository's one re-exec mechanism:
// a helper is the reexec role "testproc/" + name, so a test binary may also
// start package proc's children, and Main runs whichever the child is.
package testproc

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/procstat"
	"github.com/shmkit/shmkit/internal/reexec"
)

// rolePrefix makes a helper's reexec role.
const rolePrefix = "testproc/"

// Register makes fn runnable as helper name. Call it from init.
func Register(name string, fn func()) { reexec.Register(rolePrefix+name, fn) }

// Main runs the helper (or any other reexec role) named in the environment
// and exits, or runs the tests.
func Main(m *testing.M) {
	reexec.Main()
	os.Exit(m.Run())
}

// IsHelper reports whether this process runs as a helper.
func IsHelper() bool { return strings.HasPrefix(reexec.Role(), rolePrefix) }

// helperName is this helper's name, for messages.
func helperName() string { return strings.TrimPrefix(reexec.Role(), rolePrefix) }

// Args returns the helper's arguments.
func Args() []string { return os.Args[1:] }

// Arg returns argument i, and exits with a message if it is missing.
func Arg(i int) string {
	if i >= len(os.Args)-1 {
		Fatalf("missing argument %d", i)
	}
	return os.Args[1+i]
}

// IntArg returns argument i as an int.
func IntArg(i int) int {
	n, err := strconv.Atoi(Arg(i))
	if err != nil {
		Fatalf("argument %d: %v", i, err)
	}
	return n
}

// File returns inherited descriptor i (Options.Files[i] in the parent).
// The report pipe is reexec's File(0); the test's files follow it.
func File(i int) *os.File { return reexec.File(1 + i) }

var report struct {
	sync.Mutex
	f *os.File
}

// Send writes one line to the parent's Recv.
func Send(format string, args ...any) {
	report.Lock()
	defer report.Unlock()
	if report.f == nil {
		report.f = reexec.File(0)
	}
	line := fmt.Sprintf(format, args...)
	if strings.ContainsRune(line, '\n') {
		Fatalf("testproc: Send line holds a newline: %q", line)
	}
	if _, err := report.f.WriteString(line + "\n"); err != nil {
		os.Exit(4) // the parent is gone
	}
}

// Ready sends "ready".
func Ready() { Send("ready") }

// Fatalf prints to stderr and exits with status 3, which the parent reports.
func Fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "helper %s: %s\n", helperName(), fmt.Sprintf(format, args...))
	os.Exit(3)
}

// Options configures Start.
type Options struct {
	Args    []string      // helper arguments
	Files   []*os.File    // inherited descriptors, File(0), File(1), ... in the child
	Env     []string      // extra environment variables
	Timeout time.Duration // the helper is killed after this; default 2 minutes
}

// quitGrace is how long a helper gets, after the SIGQUIT at its deadline, to
// print its goroutines before SIGKILL.
const quitGrace = 2 * time.Second

// Child is a running helper process.
type Child struct {
	t       testing.TB
	name    string
	rcmd    *reexec.Cmd
	cmd     *exec.Cmd
	out     syncBuffer
	lines   chan string
	waited  chan struct{}
	waitErr error
	timer   *time.Timer
	mu      sync.Mutex
	expired bool
	reaped  bool
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs helper name as a child process. At Options.Timeout it gets
// SIGQUIT (Go prints every goroutine's stack into the output that Wait
// reports) and, quitGrace later, SIGKILL; Wait then reports the deadline.
// When the test ends, a child still running is killed and reaped.
func Start(t testing.TB, name string, o Options) *Child {
	t.Helper()
	if !reexec.Registered(rolePrefix + name) {
		t.Fatalf("testproc: no helper %q registered", name)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatalf("testproc: pipe: %v", err)
	}
	c := &Child{t: t, name: name, lines: make(chan string, 1024), waited: make(chan struct{})}
	// reexec kills the child with the test binary (go test's own timeout
	// included): parent-death signal from its forking thread, and the
	// lifeline.
	c.rcmd, err = reexec.Command(rolePrefix+name, reexec.Options{
		Args: o.Args, Files: append([]*os.File{w}, o.Files...), Env: o.Env, Stdout: &c.out, Stderr: &c.out,
	})
	if err != nil {
		r.Close()
		w.Close()
		t.Fatalf("testproc: %v", err)
	}
	c.cmd = c.rcmd.Cmd
	c.cmd.WaitDelay = 5 * time.Second
	if err := c.rcmd.Start(); err != nil {
		r.Close()
		w.Close()
		t.Fatalf("testproc: start %s: %v", name, err)
	}
	w.Close()
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		r.Close()
		close(c.lines)
	}()
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	c.timer = time.AfterFunc(timeout, func() {
		c.mu.Lock()
		c.expired = true
		c.mu.Unlock()
		c.cmd.Process.Signal(syscall.SIGQUIT)
		select {
		case <-c.waited:
		case <-time.After(quitGrace):
			c.cmd.Process.Kill()
		}
	})
	t.Cleanup(func() {
		c.timer.Stop()
		c.mu.Lock()
		reaped := c.reaped
		c.mu.Unlock()
		if !reaped {
			c.cmd.Process.Kill()
			c.reap()
		}
	})
	return c
}

// Pid returns the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Recv returns the next line the child sent, failing the test if none comes
// within timeout or the child exits first.
func (c *Child) Recv(timeout time.Duration) string {
	c.t.Helper()
	select {
	case l, ok := <-c.lines:
		if !ok {
			c.Wait()
			c.t.Fatalf("helper %s exited before sending a line; output:\n%s", c.name, c.out.String())
		}
		return l
	case <-time.After(timeout):
		c.t.Fatalf("helper %s sent nothing within %v; output:\n%s", c.name, timeout, c.out.String())
	}
	return ""
}

// WaitReady waits for the child's Ready.
func (c *Child) WaitReady() {
	c.t.Helper()
	if l := c.Recv(time.Minute); l != "ready" {
		c.t.Fatalf("helper %s: got %q, want ready", c.name, l)
	}
}

// Signal sends sig to the child.
func (c *Child) Signal(sig syscall.Signal) {
	c.t.Helper()
	if err := syscall.Kill(c.Pid(), sig); err != nil {
		c.t.Fatalf("kill %s (%d) %v: %v", c.name, c.Pid(), sig, err)
	}
}

// Kill sends SIGKILL and does not reap: the child stays a zombie until Wait.
func (c *Child) Kill() { c.Signal(syscall.SIGKILL) }

func (c *Child) reap() {
	c.mu.Lock()
	if c.reaped {
		c.mu.Unlock()
		<-c.waited
		return
	}
	c.reaped = true
	c.mu.Unlock()
	c.waitErr = c.rcmd.Wait()
	close(c.waited)
}

// Wait reaps the child and returns its exit status: nil for status 0, else an
// error that holds the child's output. A child killed by the deadline is
// reported as such, with the goroutine dump it printed.
func (c *Child) Wait() error {
	c.reap()
	c.timer.Stop()
	c.mu.Lock()
	expired := c.expired
	c.mu.Unlock()
	if expired {
		return fmt.Errorf("helper %s killed at its deadline; output:\n%s", c.name, c.out.String())
	}
	if c.waitErr != nil {
		return fmt.Errorf("helper %s: %v; output:\n%s", c.name, c.waitErr, c.out.String())
	}
	return nil
}

// MustWait fails the test unless the child exits with status 0.
func (c *Child) MustWait() {
	c.t.Helper()
	if err := c.Wait(); err != nil {
		c.t.Fatal(err)
	}
}

// ExitSignal waits for the child and returns the signal that killed it, or
// 0 if it exited.
func (c *Child) ExitSignal() syscall.Signal {
	c.reap()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return ws.Signal()
	}
	return 0
}

// Output returns what the child has written to stdout and stderr so far.
func (c *Child) Output() string { return c.out.String() }

// ProcState returns the state letter of /proc/<pid>/stat ('R', 'S', 'T',
// 'Z', ...) or 0 if it cannot be read.
func (c *Child) ProcState() byte {
	st, err := procstat.Read(c.Pid())
	if err != nil {
		return 0
	}
	return st.State
}

// Name returns a segment name unique to the test and this process, for
// segments under /dev/shm that t.Cleanup must remove.
func Name(t testing.TB) string {
	n := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-' {
			return r
		}
		return '_'
	}, t.Name())
	if len(n) > 150 {
		n = n[:150]
	}
	return fmt.Sprintf("shmkit-test.%s.%d.%d", n, os.Getpid(), nameSeq.add())
}

var nameSeq counter

type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) add() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}
