package benchkit

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shmkit/shmkit/internal/reexec"
)

// The child is a role of internal/reexec, the repository's one re-exec
// mechanism: "benchkit/" + the role name.
const (
	rolePrefix = "benchkit/"
	envCPU     = "SHMKIT_BENCH_CPU" // CPU the child pins its hot thread (or, unlocked, itself) to
)

// The child's inherited descriptors, in reexec's Options.Files order.
var (
	fdControl  = reexec.FD(0) // control pipe, child → parent
	fdProbe    = reexec.FD(1) // probe page
	fdFirstArg = reexec.FD(2) // the transport's descriptors
)

// registerRole makes fn runnable as a child role. Only this package's init
// functions call it, so the set is fixed before Main runs.
func registerRole(name string, fn func(args []string) error) {
	reexec.Register(rolePrefix+name, func() {
		if err := fn(os.Args[1:]); err != nil {
			fmt.Fprintf(os.Stderr, "benchkit child %s: %v\n", name, err)
			os.Exit(3)
		}
	})
}

// Main runs the child role named in the environment (a benchkit role, or
// any other reexec role of the binary) and exits, or returns at once in a
// process that is not a child. Call it first thing in main (and in
// TestMain).
func Main() { reexec.Main() }

// controlFile is the child's end of the control pipe, wrapped once: a
// second os.File for the same descriptor would close it when collected.
var controlFile = sync.OnceValue(func() *os.File { return reexec.File(0) })

// control writes one line to the parent.
func control(format string, args ...any) {
	fmt.Fprintf(controlFile(), format+"\n", args...)
}

// child is a running peer process, seen from the parent.
type child struct {
	rcmd   *reexec.Cmd
	cmd    *exec.Cmd
	lines  chan string
	exited chan struct{} // closed when the control pipe ends: the child is gone
	out    syncBuffer
	once   sync.Once
	err    error
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b.Len() > 1<<16 {
		return len(p), nil
	}
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.TrimSpace(s.b.String())
}

// spawn re-executes this binary as role with args, handing it files as fds
// 5, 6, … after the control pipe (3) and the probe page (4). cpu >= 0 pins
// the child's hot thread there (the whole child for an unlocked transport).
func spawn(role string, args []string, probe *os.File, files []*os.File, cpu int) (*child, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := &child{lines: make(chan string, 16), exited: make(chan struct{})}
	var env []string
	if cpu >= 0 {
		env = []string{envCPU + "=" + strconv.Itoa(cpu)}
	}
	// reexec kills the child with its parent, one killed mid-run included.
	c.rcmd, err = reexec.Command(rolePrefix+role, reexec.Options{
		Args: args, Files: append([]*os.File{w, probe}, files...), Env: env, Stdout: &c.out, Stderr: &c.out,
	})
	if err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("benchkit: %w", err)
	}
	c.cmd = c.rcmd.Cmd
	c.cmd.WaitDelay = 2 * time.Second
	if err := c.rcmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, fmt.Errorf("benchkit: start child: %w", err)
	}
	w.Close()
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		r.Close()
		close(c.exited)
		close(c.lines)
	}()
	return c, nil
}

var errChildExited = errors.New("benchkit: child exited")

// expect waits for the next control line and checks its first word.
func (c *child) expect(word string, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case l, ok := <-c.lines:
		if !ok {
			return "", fmt.Errorf("%w before %q: %v: %s", errChildExited, word, c.wait(), c.out.String())
		}
		if f := strings.Fields(l); len(f) == 0 || f[0] != word {
			return "", fmt.Errorf("benchkit: child said %q, want %q", l, word)
		}
		return l, nil
	case <-t.C:
		c.kill()
		return "", fmt.Errorf("benchkit: no %q from child within %v: %s", word, timeout, c.out.String())
	}
}

// wait reaps the child once and returns its exit error.
func (c *child) wait() error {
	c.once.Do(func() { c.err = c.rcmd.Wait() })
	return c.err
}

// kill stops the child and reaps it.
func (c *child) kill() {
	c.cmd.Process.Kill()
	c.wait()
}

// finish waits up to timeout for a clean exit, then kills.
func (c *child) finish(timeout time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- c.wait() }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("benchkit: child: %v: %s", err, c.out.String())
		}
		return nil
	case <-time.After(timeout):
		c.kill()
		return fmt.Errorf("benchkit: child did not exit within %v: %s", timeout, c.out.String())
	}
}
