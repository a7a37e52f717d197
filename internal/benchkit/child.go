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
	"syscall"
	"time"
)

const (
	envChild = "SHMKIT_BENCH_CHILD" // role the re-executed binary runs
	envCPU   = "SHMKIT_BENCH_CPU"   // CPU the child pins its hot thread to

	fdControl  = 3 // control pipe, child → parent
	fdProbe    = 4 // probe page
	fdFirstArg = 5 // the transport's descriptors
)

// roles are the child programs, keyed by the SHMKIT_BENCH_CHILD value.
var roles = map[string]func(args []string) error{}

// registerRole makes fn runnable as a child role. Only this package's init
// functions call it, so the set is fixed before Main runs.
func registerRole(name string, fn func(args []string) error) {
	if _, dup := roles[name]; dup {
		panic("benchkit: role " + name + " registered twice")
	}
	roles[name] = fn
}

// Main runs the child role named in the environment and exits, or returns at
// once in a process that is not a benchkit child. Call it first thing in
// main (and in TestMain, before testproc.Main).
func Main() {
	role := os.Getenv(envChild)
	if role == "" {
		return
	}
	fn, ok := roles[role]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchkit child: unknown role %q\n", role)
		os.Exit(2)
	}
	if c := os.Getenv(envCPU); c != "" {
		if cpu, err := strconv.Atoi(c); err == nil {
			pinThread(cpu) // stays pinned (and locked) for the child's life
		}
	}
	if err := fn(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchkit child %s: %v\n", role, err)
		os.Exit(3)
	}
	os.Exit(0)
}

// controlFile is the child's end of the control pipe, wrapped once: a
// second os.File for the same descriptor would close it when collected.
var controlFile = sync.OnceValue(func() *os.File { return os.NewFile(fdControl, "control") })

// control writes one line to the parent.
func control(format string, args ...any) {
	fmt.Fprintf(controlFile(), format+"\n", args...)
}

// child is a running peer process, seen from the parent.
type child struct {
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
// the child's hot thread there.
func spawn(role string, args []string, probe *os.File, files []*os.File, cpu int) (*child, error) {
	if _, ok := roles[role]; !ok {
		return nil, fmt.Errorf("benchkit: no role %q", role)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := &child{lines: make(chan string, 16), exited: make(chan struct{})}
	c.cmd = exec.Command(exe, args...)
	c.cmd.Env = append(os.Environ(), envChild+"="+role)
	if cpu >= 0 {
		c.cmd.Env = append(c.cmd.Env, envCPU+"="+strconv.Itoa(cpu))
	}
	c.cmd.ExtraFiles = append([]*os.File{w, probe}, files...)
	c.cmd.Stdout = &c.out
	c.cmd.Stderr = &c.out
	c.cmd.WaitDelay = 2 * time.Second
	// The child must not outlive a parent killed mid-run.
	c.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := c.cmd.Start(); err != nil {
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
	c.once.Do(func() { c.err = c.cmd.Wait() })
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
