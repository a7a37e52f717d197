package compat_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// infoArgs is what the _test_process-style children get.
type infoArgs struct {
	Q    *ring.TypedQueue[string]
	Args []int
}

var reportInfo = proc.Func("compat-report-info", func(ctx context.Context, a infoArgs) error {
	me := proc.CurrentProcess()
	for _, s := range []string{
		fmt.Sprint(a.Args), me.Name(), fmt.Sprint(me.Pid() == os.Getpid()),
		fmt.Sprint(me.Daemon()), fmt.Sprint(proc.ParentProcess().Pid() == os.Getppid()),
		fmt.Sprint(proc.ParentProcess().IsAlive()),
	} {
		if err := a.Q.Put(ctx, s); err != nil {
			return err
		}
	}
	return nil
})

// TestProcess ports _TestProcess.test_process (and
// _TestParentProcess.test_parent_process): a child's name, daemon flag, pid,
// arguments and exit code, seen from both sides, its parent_process() pid
// and is_alive(), and is_alive/exitcode before start, while running and
// after join.
func TestProcess(t *testing.T) {
	ctx := ctxT(t)
	q := proc.Queue[string](manager(t))
	p := reportInfo.New(infoArgs{Q: q, Args: []int{1, 2, 3}}, &proc.Options{Name: "SomeProcess", Daemon: true})
	if p.IsAlive() || p.Pid() != 0 {
		t.Fatalf("before start: alive %v, pid %d", p.IsAlive(), p.Pid())
	}
	if _, exited := p.ExitCode(); exited {
		t.Fatal("exitcode set before start")
	}
	if p.Name() != "SomeProcess" || !p.Daemon() {
		t.Fatalf("name %q daemon %v", p.Name(), p.Daemon())
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if p.Pid() <= 0 {
		t.Fatalf("pid %d after start", p.Pid())
	}
	var got []string
	for range 6 {
		s, err := q.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{"[1 2 3]", "SomeProcess", "true", "true", "true", "true"}
	if !slices.Equal(got, want) {
		t.Errorf("child reported %q; want %q", got, want)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if code, exited := p.ExitCode(); code != 0 || !exited || p.IsAlive() {
		t.Errorf("after join: exitcode %d %v, alive %v", code, exited, p.IsAlive())
	}
	if slices.Contains(proc.ActiveChildren(), p) {
		t.Error("joined process still in active_children()")
	}
}

// hangArgs is what a child that blocks until killed gets.
type hangArgs struct {
	Started *futex.Event
	Never   *futex.Event // never set
	Q       *ring.TypedQueue[int]
}

var hang = proc.Func("compat-hang", func(ctx context.Context, a hangArgs) error {
	a.Started.Set()
	if a.Q != nil {
		_, err := a.Q.Get(ctx) // blocks: nothing is ever put
		return fmt.Errorf("get returned: %v", err)
	}
	_, err := a.Never.Wait(ctx)
	return fmt.Errorf("wait returned: %v", err)
})

// startHung starts hang and waits until it runs.
func startHung(t *testing.T, m *proc.Manager, inGet bool) (*proc.Process, hangArgs) {
	t.Helper()
	ctx := ctxT(t)
	a := hangArgs{Started: proc.Event(m), Never: proc.Event(m)}
	if inGet {
		a.Q = proc.Queue[int](m)
	}
	p := hang.Start(ctx, a)
	if ok, err := a.Started.Wait(ctx); !ok || err != nil {
		t.Fatalf("child did not start: %v %v (%v)", ok, err, p.Err())
	}
	return p, a
}

// TestTerminate ports _TestProcess.test_terminate: join with a timeout on a
// running child returns (ctx.Err() here, None there) and leaves it alive;
// terminate() makes exitcode -SIGTERM.
func TestTerminate(t *testing.T) {
	testKilled(t, (*proc.Process).Terminate, syscall.SIGTERM, false)
}

// TestKill ports _TestProcess.test_kill: as test_terminate with SIGKILL.
func TestKill(t *testing.T) {
	testKilled(t, (*proc.Process).Kill, syscall.SIGKILL, false)
}

// TestTerminateBlockedInQueueGet ports the CPython idiom of terminating a
// worker blocked in queue.get() (_TestQueue.test_get's consumer, the docs'
// warning on terminate): the child dies with -SIGTERM and the queue stays
// usable by the survivors (CPython warns the queue may break; a shm ring
// must not).
func TestTerminateBlockedInQueueGet(t *testing.T) {
	ctx := ctxT(t)
	a := testKilled(t, (*proc.Process).Terminate, syscall.SIGTERM, true)
	if err := a.Q.Put(ctx, 42); err != nil {
		t.Fatal(err)
	}
	if v, err := a.Q.Get(ctx); v != 42 || err != nil {
		t.Fatalf("queue after the getter died: %d, %v", v, err)
	}
}

func testKilled(t *testing.T, kill func(*proc.Process) error, sig syscall.Signal, inGet bool) hangArgs {
	ctx := ctxT(t)
	p, a := startHung(t, manager(t), inGet)
	if err := p.Join(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("join(timeout) of a running child: %v; want DeadlineExceeded", err)
	}
	if !p.IsAlive() {
		t.Fatal("child not alive after join timed out")
	}
	if _, exited := p.ExitCode(); exited {
		t.Fatal("exitcode set while running")
	}
	select {
	case <-p.Done():
		t.Fatal("sentinel ready while running")
	default:
	}
	if !slices.Contains(proc.ActiveChildren(), p) {
		t.Error("running child not in active_children()")
	}
	if err := kill(p); err != nil {
		t.Fatal(err)
	}
	err := p.Join(ctx)
	if !errors.Is(err, proc.ErrSignaled) {
		t.Fatalf("join: %v; want ErrSignaled", err)
	}
	var ee *proc.ExitError
	if !errors.As(err, &ee) || ee.Code != -int(sig) {
		t.Fatalf("join: %#v; want code %d", err, -int(sig))
	}
	if code, exited := p.ExitCode(); code != -int(sig) || !exited || p.IsAlive() {
		t.Fatalf("exitcode %d %v alive %v; want %d", code, exited, p.IsAlive(), -int(sig))
	}
	// A second terminate/kill of a dead process does nothing (CPython: no error).
	if err := kill(p); err != nil {
		t.Errorf("signal after exit: %v", err)
	}
	return a
}

// TestManyProcesses ports _TestProcess.test_many_processes: several
// children, half terminated and half killed, all reaped with the right
// negative exit codes.
func TestManyProcesses(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	const n = 6
	var ps []*proc.Process
	for range n {
		p, _ := startHung(t, m, false)
		ps = append(ps, p)
	}
	for i, p := range ps {
		f := p.Terminate
		if i%2 == 1 {
			f = p.Kill
		}
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range ps {
		p.Join(ctx)
		want := -int(syscall.SIGTERM)
		if i%2 == 1 {
			want = -int(syscall.SIGKILL)
		}
		if code, exited := p.ExitCode(); code != want || !exited {
			t.Errorf("process %d: exitcode %d %v; want %d", i, code, exited, want)
		}
	}
}

// recArgs is what each node of TestRecursion gets.
type recArgs struct {
	W  *ring.Conn
	ID []int
}

var recurse *proc.Target[recArgs]

func init() {
	recurse = proc.Func("compat-recursion", func(ctx context.Context, a recArgs) error {
		if err := a.W.Send(ctx, a.ID); err != nil {
			return err
		}
		if len(a.ID) < 2 {
			for i := range 2 {
				c := recArgs{W: a.W, ID: append(slices.Clone(a.ID), i)}
				if err := recurse.Start(ctx, c).Join(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// TestRecursion ports _TestProcess.test_recursion: children start children
// (two levels), all sending on one end of Pipe(duplex=False).
func TestRecursion(t *testing.T) {
	ctx := ctxT(t)
	r, w := proc.Pipe(manager(t), false)
	if err := recurse.Start(ctx, recArgs{W: w, ID: []int{}}).Join(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 7 {
		var id []int
		if err := r.Recv(ctx, &id); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprint(id))
	}
	slices.Sort(got)
	want := []string{"[0 0]", "[0 1]", "[0]", "[1 0]", "[1 1]", "[1]", "[]"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q; want %q", got, want)
	}
	if ok, err := r.Poll(nowait()); ok {
		t.Errorf("extra message after the tree: %v", err)
	}
}

// TestSentinel ports _TestProcess.test_sentinel: the sentinel is not ready
// while the child runs and ready once it has exited.
func TestSentinel(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	ev := proc.Event(m)
	p := waitThenExit.Start(ctx, ev)
	select {
	case <-p.Done():
		t.Fatalf("sentinel ready before the child may exit: %v", p.Err())
	default:
	}
	ev.Set()
	select {
	case <-p.Done():
	case <-ctx.Done():
		t.Fatal("sentinel never ready")
	}
	if code, exited := p.ExitCode(); code != 0 || !exited {
		t.Fatalf("exitcode %d %v", code, exited)
	}
}

var waitThenExit = proc.Func("compat-wait-then-exit", func(ctx context.Context, ev *futex.Event) error {
	_, err := ev.Wait(ctx)
	return err
})

var exitHow = proc.Func("compat-exit-how", func(ctx context.Context, how string) error {
	switch how {
	case "exit8":
		os.Exit(8)
	case "error":
		return errors.New("child error")
	case "panic":
		panic("child panic")
	}
	return nil
})

// TestExitCodes ports _TestSubclassingProcess.test_sys_exit and the
// exception case of _TestProcess.test_process: sys.exit(N) gives N, an
// exception in the target gives 1 (here: an error or a panic, both
// reported by join as an *ExitError with the text).
func TestExitCodes(t *testing.T) {
	ctx := ctxT(t)
	for _, c := range []struct {
		how  string
		code int
		text string
	}{{"ok", 0, ""}, {"exit8", 8, ""}, {"error", 1, "child error"}, {"panic", 1, "child panic"}} {
		p := exitHow.Start(ctx, c.how)
		err := p.Join(ctx)
		if code, exited := p.ExitCode(); code != c.code || !exited {
			t.Errorf("%s: exitcode %d %v; want %d", c.how, code, exited, c.code)
		}
		if (err == nil) != (c.code == 0) || (err != nil && !strings.Contains(err.Error(), c.text)) {
			t.Errorf("%s: join: %v; want %q", c.how, err, c.text)
		}
		if c.how == "panic" && !errors.Is(err, proc.ErrPanic) {
			t.Errorf("panic: %v is not ErrPanic", err)
		}
	}
}

// Sub is a Runner: CPython's Process subclass with a run method.
type Sub struct {
	Q *ring.TypedQueue[string]
	N int
}

// Run is the subclass's run().
func (s *Sub) Run(ctx context.Context) error {
	return s.Q.Put(ctx, strings.Repeat("x", s.N))
}

func init() { proc.Register[*Sub]("compat-sub") }

// TestSubclassing ports _TestSubclassingProcess.test_subclassing: a
// Process subclass's run() runs in the child with its attributes.
func TestSubclassing(t *testing.T) {
	ctx := ctxT(t)
	q := proc.Queue[string](manager(t))
	p := proc.New(&Sub{Q: q, N: 3}, nil)
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if s, err := q.Get(ctx); s != "xxx" || err != nil {
		t.Fatalf("got %q, %v", s, err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

var tryChild = proc.Func("compat-try-child", func(ctx context.Context, _ int) error {
	err := exitHow.Start(ctx, "ok").Join(ctx)
	if !errors.Is(err, proc.ErrDaemonChildren) {
		return fmt.Errorf("grandchild of a daemon: %v", err)
	}
	return nil
})

// TestProcessMisuse ports the AssertionErrors _TestProcess checks
// (test_process's "cannot start a process twice", "can only join a started
// process", daemon set after start) and test_daemon's "daemonic processes
// are not allowed to have children"; shmkit returns the sentinels.
func TestProcessMisuse(t *testing.T) {
	ctx := ctxT(t)
	p := exitHow.New("ok", nil)
	if err := p.Join(ctx); !errors.Is(err, proc.ErrNotStarted) {
		t.Errorf("join before start: %v", err)
	}
	if err := p.Terminate(); !errors.Is(err, proc.ErrNotStarted) {
		t.Errorf("terminate before start: %v", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); !errors.Is(err, proc.ErrStartedTwice) {
		t.Errorf("second start: %v", err)
	}
	if err := p.SetDaemon(true); !errors.Is(err, proc.ErrDaemonAfterStart) {
		t.Errorf("daemon after start: %v", err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if err := proc.CurrentProcess().Join(ctx); !errors.Is(err, proc.ErrNotChild) {
		t.Errorf("join of current_process(): %v", err)
	}
	d := tryChild.New(0, &proc.Options{Daemon: true})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	if err := d.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestCurrentProcess ports _TestProcess.test_current and test_cpu_count:
// the main process is "MainProcess", not a daemon, without a parent;
// cpu_count() is at least 1.
func TestCurrentProcess(t *testing.T) {
	me := proc.CurrentProcess()
	if me.Name() != "MainProcess" || me.Daemon() || me.Pid() != os.Getpid() {
		t.Errorf("current_process(): %q daemon %v pid %d", me.Name(), me.Daemon(), me.Pid())
	}
	if proc.ParentProcess() != nil {
		t.Error("parent_process() of the main process is not None")
	}
	if n := proc.CPUCount(); n < 1 {
		t.Errorf("cpu_count() = %d", n)
	}
}

var nameTree *proc.Target[*ring.TypedQueue[string]]

func init() {
	nameTree = proc.Func("compat-name-tree", func(ctx context.Context, q *ring.TypedQueue[string]) error {
		me := proc.CurrentProcess().Name()
		if err := q.Put(ctx, me+" "+proc.ParentProcess().Name()); err != nil {
			return err
		}
		if strings.Count(me, ":") == 0 {
			return nameTree.Start(ctx, q).Join(ctx)
		}
		return nil
	})
}

// TestProcessNames ports the default naming _TestProcess relies on
// (process.py's _identity): a child is "Process-N", its own child
// "Process-N:1", and each sees its parent's name in parent_process().
func TestProcessNames(t *testing.T) {
	ctx := ctxT(t)
	q := proc.Queue[string](manager(t))
	p := nameTree.Start(ctx, q)
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	var n int
	if _, err := fmt.Sscanf(p.Name(), "Process-%d", &n); err != nil || n < 1 {
		t.Fatalf("default name %q", p.Name())
	}
	want := []string{p.Name() + " MainProcess", p.Name() + ":1 " + p.Name()}
	for _, w := range want {
		if s, err := q.Get(ctx); s != w || err != nil {
			t.Errorf("got %q, %v; want %q", s, err, w)
		}
	}
}
