// Package reexec is the repository's one mechanism for starting a child
// process that runs Go code: Go cannot fork, so the child is this binary
// executed again, told by its environment which registered role to run.
// Package proc (Process, Pool), internal/testproc (cross-process tests) and
// internal/benchkit (benchmark peers) are built on it. It imports nothing
// of shmkit, so that every package's tests can use it without a cycle.
//
// A binary registers roles at package init and calls Main first thing in
// main (and in TestMain). In a child Main runs the role and exits; in the
// original process it returns at once. Command refuses to start anything
// in a binary whose Main has not run (ErrNoMain): such a child would run
// main again instead of its role, and start children of its own.
//
// Every child gets, besides stdin, stdout and stderr:
//   - descriptor 3, the lifeline: the read end of a pipe whose write end
//     only its parent holds. Unless Options.OutliveParent, the child kills
//     itself when the lifeline reports end of file (its parent died).
//   - descriptors 4, 5, ...: Options.Files, found with File(i).
//
// and no other: Main closes any descriptor beyond these that the child
// inherited by mistake (one its parent opened without close-on-exec), and
// marks these close-on-exec so that they reach no grandchild unasked.
//
// A child also gets the parent-death signal (SIGKILL), unless
// Options.OutliveParent. The kernel sends it when the OS thread that
// forked the child exits (Go issue 27505), not when the process does, so
// every child is forked from one goroutine locked to its thread for the
// life of the process; the child re-checks its parent pid once armed, and
// the lifeline covers what the signal might miss.
package reexec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// Environment variables that tell a child what to do. Main removes them
// from its environment, so that they do not reach processes the role runs.
const (
	envRole     = "SHMKIT_REEXEC"          // the role to run
	envParent   = "SHMKIT_REEXEC_PPID"     // the parent's pid, re-checked
	envFiles    = "SHMKIT_REEXEC_FILES"    // how many Options.Files
	envLifeline = "SHMKIT_REEXEC_LIFELINE" // "1": die at the lifeline's EOF
)

const (
	fdLifeline = 3
	fdFirst    = 4 // Options.Files[0]
)

// ErrNoMain is Command's error in a binary whose Main has not run.
var ErrNoMain = errors.New("reexec: Main was not called first in main (or TestMain): a child would run main again")

// ErrNoRole is Command's error for a role no init function registered.
var ErrNoRole = errors.New("reexec: no such role registered at init")

var (
	rolesMu sync.Mutex
	roles   = map[string]func(){}
	called  atomic.Bool
	current string // the role this process runs; set by Main
)

// Register makes fn runnable as role name. Call it from package init: a
// child runs roles from Main, before main's own code could register them.
// It panics on a duplicate name or after Main.
func Register(name string, fn func()) {
	rolesMu.Lock()
	defer rolesMu.Unlock()
	if called.Load() {
		panic("reexec: role " + name + " registered after Main; register at package init")
	}
	if _, dup := roles[name]; dup {
		panic("reexec: role " + name + " registered twice")
	}
	roles[name] = fn
}

// Registered reports whether role name is registered.
func Registered(name string) bool {
	rolesMu.Lock()
	defer rolesMu.Unlock()
	_, ok := roles[name]
	return ok
}

// Main runs the role named in the environment and exits with status 0
// when it returns (a role that fails calls os.Exit itself), or returns at
// once in a process that is not a child. An unknown role exits with status
// 2. Call it first thing in main and in TestMain; calling it again is a
// no-op.
func Main() {
	if called.Swap(true) {
		return
	}
	name, ok := os.LookupEnv(envRole)
	if !ok {
		return
	}
	current = name
	nfiles, _ := strconv.Atoi(os.Getenv(envFiles))
	lifeline := os.Getenv(envLifeline) == "1"
	ppid, _ := strconv.Atoi(os.Getenv(envParent))
	for _, k := range []string{envRole, envParent, envFiles, envLifeline} {
		os.Unsetenv(k)
	}
	hardenFiles(fdFirst + nfiles)
	if lifeline {
		// The parent-death signal was armed before exec; a parent that
		// died before that left us to init (or a subreaper).
		if os.Getppid() != ppid {
			os.Exit(1)
		}
		go watchLifeline()
	}
	rolesMu.Lock()
	fn := roles[name]
	rolesMu.Unlock()
	if fn == nil {
		fmt.Fprintf(os.Stderr, "reexec: no role %q registered in %s (register at package init)\n", name, os.Args[0])
		os.Exit(2)
	}
	fn()
	os.Exit(0)
}

// Called reports whether Main has run in this process.
func Called() bool { return called.Load() }

// Role returns the role this process runs, "" in a process that is not a
// child.
func Role() string { return current }

// FD returns the descriptor number of Options.Files[i] in the child.
func FD(i int) int { return fdFirst + i }

// File returns inherited descriptor i (Options.Files[i] in the parent).
// Each call makes a new *os.File: call it once per descriptor.
func File(i int) *os.File {
	return os.NewFile(uintptr(fdFirst+i), "reexec-file-"+strconv.Itoa(i))
}

// hardenFiles closes every descriptor from limit up that this process
// inherited (close-on-exec clear: the Go runtime and os open everything
// close-on-exec, so such a descriptor came through exec by mistake), and
// marks 3 .. limit-1 close-on-exec.
func hardenFiles(limit int) {
	for fd := fdLifeline; fd < limit; fd++ {
		unix.CloseOnExec(fd)
	}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return
	}
	names, _ := d.Readdirnames(-1)
	dirFD := int(d.Fd())
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd < limit || fd == dirFD {
			continue
		}
		if flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err == nil && flags&unix.FD_CLOEXEC == 0 {
			unix.Close(fd)
		}
	}
	d.Close()
}

// watchLifeline kills this process when the parent's end of the lifeline
// closes: the parent died (the kernel closes its descriptors even when it
// is SIGKILLed).
func watchLifeline() {
	var b [1]byte
	for {
		_, err := unix.Read(fdLifeline, b[:])
		if err == unix.EINTR {
			continue
		}
		// EOF, or an error that leaves us no way to watch: either way the
		// parent is gone or unreachable.
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		return
	}
}

// Options configures Command. The zero value runs the role with no
// arguments, the parent's environment and directory, stdin from /dev/null,
// output discarded, and a child that dies with its parent.
type Options struct {
	Args   []string   // os.Args[1:] in the child
	Files  []*os.File // inherited descriptors: File(0), File(1), ... in the child
	Env    []string   // extra "KEY=value" environment entries
	Dir    string     // working directory; "" for the parent's
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// OutliveParent lets the child go on when its parent dies: no
	// parent-death signal, no lifeline watch.
	OutliveParent bool
}

// Cmd is a child process being prepared or run. Use its exec.Cmd for the
// process and its state; start it with Start and reap it with Wait (not
// the embedded Cmd's).
type Cmd struct {
	*exec.Cmd
	lifeline *os.File // the parent's (write) end, closed by Wait
}

// Command prepares a child that runs role. It fails with ErrNoMain in a
// binary whose Main has not run and with ErrNoRole for a role not
// registered here (the child is this binary, so it would not know it
// either).
func Command(role string, o Options) (*Cmd, error) {
	if !called.Load() {
		return nil, ErrNoMain
	}
	if !Registered(role) {
		return nil, fmt.Errorf("%w: %q", ErrNoRole, role)
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("reexec: %w", err)
	}
	cmd := exec.Command(exe, o.Args...)
	env := make([]string, 0, len(os.Environ())+4+len(o.Env))
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envRole) { // every variable of ours shares the prefix
			env = append(env, kv)
		}
	}
	lifeline := "1"
	if o.OutliveParent {
		lifeline = "0"
	}
	env = append(env,
		envRole+"="+role,
		envParent+"="+strconv.Itoa(os.Getpid()),
		envFiles+"="+strconv.Itoa(len(o.Files)),
		envLifeline+"="+lifeline,
	)
	cmd.Env = append(env, o.Env...)
	cmd.Dir = o.Dir
	cmd.ExtraFiles = o.Files
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.Stdin, o.Stdout, o.Stderr
	if !o.OutliveParent {
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
	return &Cmd{Cmd: cmd}, nil
}

// Start starts the child from the forking thread (see the package doc).
func (c *Cmd) Start() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("reexec: lifeline: %w", err)
	}
	// Files is set here, not in Command, so that the lifeline exists only
	// for a child that starts.
	files := c.ExtraFiles
	c.ExtraFiles = append([]*os.File{r}, files...)
	onForker(func() { err = c.Cmd.Start() })
	c.ExtraFiles = files
	r.Close()
	if err != nil {
		w.Close()
		return err
	}
	c.lifeline = w
	return nil
}

// Wait waits for the child to exit (see exec.Cmd.Wait) and then closes
// the lifeline.
func (c *Cmd) Wait() error {
	err := c.Cmd.Wait()
	if c.lifeline != nil {
		c.lifeline.Close()
	}
	return err
}

// forker is the goroutine, locked to its OS thread for the life of the
// process, that forks every child: the parent-death signal is tied to the
// forking thread, and Go ends the threads of goroutines that exit locked,
// and may reuse others for anything.
var forker struct {
	once sync.Once
	reqs chan func()
}

// onForker runs fn on the forking thread and waits for it.
func onForker(fn func()) {
	forker.once.Do(func() {
		forker.reqs = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives as long as the process
			for f := range forker.reqs {
				f()
			}
		}()
	})
	done := make(chan struct{})
	forker.reqs <- func() { fn(); close(done) }
	<-done
}
