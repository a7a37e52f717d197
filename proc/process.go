package proc

import (
	"bytes"
	"context"
	"encoding/gob"
	"fmt"
	"io"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/shmkit/shmkit/internal/reexec"
	"github.com/shmkit/shmkit/shm"
)

// Options configures a Process. The zero value (or nil) gives the
// defaults: the name Process-N, not a daemon, the parent's environment,
// directory, stdout and stderr, and a child that dies with its parent.
type Options struct {
	// Name names the Process (CPython's name); default Process-N, with
	// the parent's number in front in a child (Process-2:1).
	Name string
	// Daemon makes a daemon process: it may not start children of its
	// own (ErrDaemonChildren), and it always dies with its parent.
	Daemon bool
	// OutliveParent lets a non-daemon child go on running when its parent
	// dies (crash, SIGKILL). By default every child is killed with its
	// parent. Ignored for a daemon.
	OutliveParent bool
	// Env holds extra "KEY=value" environment entries for the child.
	Env []string
	// Dir is the child's working directory; "" for the parent's.
	Dir string
	// Stdout and Stderr receive the child's output; nil for the parent's
	// standard output and error (os.Stdout and os.Stderr as they were at
	// package init).
	Stdout, Stderr io.Writer
}

// kind tells a child Process (started by this one) from the views of
// CurrentProcess and ParentProcess.
type kind uint8

const (
	kindChild kind = iota
	kindCurrent
	kindParent
)

// Process is a child process running a registered target, the counterpart
// of multiprocessing.Process. Make one with Target.New or New (or start it
// at once with Target.Start or Start); its methods are safe for concurrent
// use.
type Process struct {
	e    *entry
	args reflect.Value
	opt  Options
	kind kind

	mu      sync.Mutex
	name    string
	daemon  bool
	started bool
	preErr  error // a failure known before Start (an unregistered type)
	cmd     *reexec.Cmd
	pid     int
	reclaim []func()      // run once the child is reaped (shm.Reclaimer)
	done    chan struct{} // closed when the child is reaped or failed to start
	exited  bool          // the child was reaped: code is its exit code
	code    int
	err     error
}

var procSeq atomic.Int64

// stdFiles are this process's standard output and error as package init
// found them: reading os.Stdout at each Start would race with code that
// swaps the variable (go test does, around each Example).
var stdFiles = [2]*os.File{os.Stdout, os.Stderr}

func newProcess(e *entry, args reflect.Value, o *Options) *Process {
	p := &Process{e: e, args: args, done: make(chan struct{})}
	if o != nil {
		p.opt = *o
	}
	p.name, p.daemon = p.opt.Name, p.opt.Daemon
	if p.name == "" {
		p.name = "Process-" + childIdent(procSeq.Add(1))
	}
	return p
}

// childIdent is the identity of this process's n-th child: n in the main
// process, the parent's identity, a colon and n in a child.
func childIdent(n int64) string {
	if self.ident == "" {
		return strconv.FormatInt(n, 10)
	}
	return self.ident + ":" + strconv.FormatInt(n, 10)
}

func (p *Process) fail(err error) { p.preErr = err }

// Name returns the process's name.
func (p *Process) Name() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.name
}

// SetName renames the process (in this process only, as in CPython; a
// started child keeps the name it was given).
func (p *Process) SetName(name string) {
	p.mu.Lock()
	p.name = name
	p.mu.Unlock()
}

// Daemon reports whether p is a daemon process.
func (p *Process) Daemon() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.daemon
}

// SetDaemon sets the daemon flag, which is possible only before Start
// (ErrDaemonAfterStart).
func (p *Process) SetDaemon(daemon bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.kind != kindChild {
		return ErrDaemonAfterStart
	}
	p.daemon = daemon
	return nil
}

// Pid returns the process id, 0 before Start.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pid
}

// Start starts the child. It fails with ErrStartedTwice on a started
// Process, ErrNoMain in a binary whose Main has not run, ErrDaemonChildren
// in a daemon, ErrArgs for arguments that cannot travel. A Process whose
// Start failed is done: Join and Err return the error.
func (p *Process) Start() error { return p.startCtx(context.Background()) }

func (p *Process) startCtx(ctx context.Context) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.kind != kindChild {
		return ErrStartedTwice
	}
	p.started = true
	err := p.preErr
	if err == nil {
		err = ctx.Err()
	}
	if err == nil {
		err = p.spawn()
	}
	if err != nil {
		p.err = fmt.Errorf("proc: start %s: %w", p.name, err)
		close(p.done)
		return p.err
	}
	return nil
}

// header is what a child reads first: who it is, what to run, and the
// segments and handles its arguments refer to.
type header struct {
	Target  string
	Name    string
	Ident   string
	Daemon  bool
	Parent  string // the parent's name
	Segs    []segRef
	Handles []handleRef
	Args    []byte // the encoded arguments
}

// result is what a child reports before it exits.
type result struct {
	Err, Panic, Stack string
}

// spawn starts the child; p.mu is held.
func (p *Process) spawn() error {
	if !reexec.Called() {
		return ErrNoMain
	}
	if self.daemon {
		return ErrDaemonChildren
	}
	var body bytes.Buffer
	enc := &encoder{enc: gob.NewEncoder(&body), segIdx: make(map[*shm.Segment]int)}
	if err := enc.encode(p.args); err != nil {
		return err
	}
	h := header{Target: p.e.name, Name: p.name, Ident: identOf(p.name), Daemon: p.daemon, Parent: self.name,
		Segs: enc.segs, Handles: enc.handles, Args: body.Bytes()}
	var blob bytes.Buffer
	if err := gob.NewEncoder(&blob).Encode(&h); err != nil {
		return fmt.Errorf("%w: %v", ErrArgs, err)
	}
	argsR, argsW, err := os.Pipe()
	if err != nil {
		return err
	}
	resR, resW, err := os.Pipe()
	if err != nil {
		argsR.Close()
		argsW.Close()
		return err
	}
	stdout, stderr := p.opt.Stdout, p.opt.Stderr
	if stdout == nil {
		stdout = stdFiles[0]
	}
	if stderr == nil {
		stderr = stdFiles[1]
	}
	cmd, err := reexec.Command(role, reexec.Options{
		Args:          []string{p.e.name},
		Files:         append([]*os.File{argsR, resW}, enc.files...),
		Env:           p.opt.Env,
		Dir:           p.opt.Dir,
		Stdout:        stdout,
		Stderr:        stderr,
		OutliveParent: p.opt.OutliveParent && !p.daemon,
	})
	if err == nil {
		err = cmd.Start()
	}
	argsR.Close()
	resW.Close()
	if err != nil {
		argsW.Close()
		resR.Close()
		return err
	}
	go func() {
		// A child that dies unread makes this fail with EPIPE: nothing to do.
		argsW.Write(blob.Bytes())
		argsW.Close()
	}()
	p.cmd, p.pid, p.reclaim = cmd, cmd.Process.Pid, enc.reclaim
	children.add(p)
	go p.reap(resR)
	return nil
}

// identOf extracts the identity from a default name ("Process-2:1" →
// "2:1"); a custom name gives a fresh identity.
func identOf(name string) string {
	const prefix = "Process-"
	if len(name) > len(prefix) && name[:len(prefix)] == prefix {
		return name[len(prefix):]
	}
	return childIdent(procSeq.Add(1))
}

// reap reads the child's report, waits for it and records the outcome.
func (p *Process) reap(res *os.File) {
	var r result
	b, _ := io.ReadAll(res) // EOF once the child exits: only it holds the write end
	res.Close()
	gotResult := gob.NewDecoder(bytes.NewReader(b)).Decode(&r) == nil
	p.cmd.Wait()
	code := -1
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
		if ws.Signaled() {
			code = -int(ws.Signal())
		} else {
			code = ws.ExitStatus()
		}
	}
	var err error
	if code != 0 || gotResult && (r.Err != "" || r.Panic != "") {
		err = &ExitError{Name: p.Name(), Pid: p.pid, Code: code, Err: r.Err, Panic: r.Panic, Stack: r.Stack}
	}
	// Give back what the arguments set aside for the child (a pipe end's
	// reserved entry), in case it died before attaching them.
	for _, f := range p.reclaim {
		f()
	}
	p.mu.Lock()
	p.exited, p.code, p.err = true, code, err
	p.mu.Unlock()
	children.remove(p)
	close(p.done)
}

// Join waits until the child exits and returns its failure: nil if its
// target returned nil, else an *ExitError (the target's error, a panic, a
// non-zero exit, a signal). It returns ctx.Err() if ctx ends first (the
// child runs on), ErrNotStarted before Start, and the start error for a
// Process that failed to start.
func (p *Process) Join(ctx context.Context) error {
	if err := p.checkChild(); err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return p.Err()
}

func (p *Process) checkChild() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.kind != kindChild:
		return ErrNotChild
	case !p.started:
		return ErrNotStarted
	}
	return nil
}

// Done returns a channel closed when the child has exited and been reaped
// (or failed to start): CPython's sentinel. ExitCode and Err are then set.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err returns the child's failure once it is done (see Join), nil before.
func (p *Process) Err() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// ExitCode returns the child's exit code and true once it has exited: 0
// on success, N for exit status N (1 for a target that returned an error
// or panicked), -N when killed by signal N. While the child runs, and for
// a Process that never ran, it returns 0 and false (CPython's None).
func (p *Process) ExitCode() (code int, exited bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.code, p.exited
}

// IsAlive reports whether the child has started and not yet been reaped.
func (p *Process) IsAlive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch p.kind {
	case kindCurrent:
		return true
	case kindParent:
		return os.Getppid() == p.pid
	}
	return p.cmd != nil && !p.exited
}

// Terminate sends SIGTERM to the child (its ExitCode becomes -15 unless it
// handles the signal). It does nothing once the child has exited.
func (p *Process) Terminate() error { return p.signal(syscall.SIGTERM) }

// Kill sends SIGKILL to the child (ExitCode -9). It does nothing once the
// child has exited.
func (p *Process) Kill() error { return p.signal(syscall.SIGKILL) }

func (p *Process) signal(sig syscall.Signal) error {
	if err := p.checkChild(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.exited {
		return nil
	}
	// os.Process signals through a pidfd: never a reused pid.
	if err := p.cmd.Process.Signal(sig); err != nil && err != os.ErrProcessDone {
		return fmt.Errorf("proc: signal %s: %w", p.name, err)
	}
	return nil
}

// String returns a description in the manner of CPython's repr.
func (p *Process) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	state := "initial"
	switch {
	case p.kind != kindChild || p.cmd != nil && !p.exited:
		state = "started"
	case p.exited:
		state = "stopped exitcode=" + strconv.Itoa(p.code)
	case p.started:
		state = "failed"
	}
	if p.daemon {
		state += " daemon"
	}
	return fmt.Sprintf("<Process name=%q pid=%d %s>", p.name, p.pid, state)
}

// self describes this process, as its parent described it.
var self = struct {
	name, ident string
	daemon      bool
	parent      string
	ppid        int
	child       bool
	segs        []*shm.Segment // the segments the arguments live in, kept open
	attached    []shm.Releaser // argument handles to give up when the target ends
}{name: "MainProcess"}

// runChild is the reexec role: read the header, attach, run, report.
func runChild() {
	res := reexec.File(1)
	report := func(r result) {
		gob.NewEncoder(res).Encode(&r)
		if r.Err != "" || r.Panic != "" {
			os.Exit(1)
		}
		os.Exit(0)
	}
	e, args, err := readHeader()
	if err != nil {
		report(result{Err: err.Error()})
	}
	var r result
	func() {
		defer func() {
			if v := recover(); v != nil {
				r.Panic, r.Stack = fmt.Sprint(v), string(debug.Stack())
			}
		}()
		if err := e.run(context.Background(), args); err != nil {
			r.Err = err.Error()
		}
	}()
	// The exit of a CPython process closes its copies of Connections; give
	// up ours, so that the other end of a pipe sees end-of-file once every
	// holder has finished (a handle the target closed itself is closed
	// again harmlessly).
	for _, h := range self.attached {
		h.ReleaseShare()
	}
	report(r)
}

// readHeader reads what the parent sent, attaches the segments and
// decodes the arguments.
func readHeader() (*entry, reflect.Value, error) {
	in := reexec.File(0)
	var h header
	err := gob.NewDecoder(in).Decode(&h)
	in.Close()
	if err != nil {
		return nil, reflect.Value{}, fmt.Errorf("proc: child: reading arguments: %w", err)
	}
	self.name, self.ident, self.daemon, self.parent, self.ppid, self.child = h.Name, h.Ident, h.Daemon, h.Parent, os.Getppid(), true
	e := lookup(h.Target)
	if e == nil {
		return nil, reflect.Value{}, fmt.Errorf("proc: child: no target %q registered in %s", h.Target, os.Args[0])
	}
	files := map[int]bool{}
	for _, ref := range h.Segs {
		var seg *shm.Segment
		var err error
		if ref.Name == "" {
			if files[ref.File] {
				return nil, reflect.Value{}, fmt.Errorf("%w: descriptor %d passed twice", ErrArgs, ref.File)
			}
			files[ref.File] = true
			seg, err = shm.FromFile(reexec.File(2 + ref.File))
		} else {
			seg, err = shm.OpenWith(ref.Name, &shm.Options{CreationID: ref.CreationID})
		}
		if err != nil {
			return nil, reflect.Value{}, fmt.Errorf("proc: child: %w", err)
		}
		self.segs = append(self.segs, seg)
	}
	v := reflect.New(e.typ).Elem()
	d := &decoder{dec: gob.NewDecoder(bytes.NewReader(h.Args)), segs: self.segs, handles: h.Handles}
	if err := d.decode(v); err != nil {
		return nil, reflect.Value{}, fmt.Errorf("proc: child: arguments of %s: %w", h.Target, err)
	}
	self.attached = d.attached
	return e, v, nil
}
