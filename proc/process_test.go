package proc_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/procstat"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// watchdog bounds every wait of these tests; a healthy run takes
// milliseconds.
const watchdog = time.Minute

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	t.Cleanup(cancel)
	return ctx
}

// Shared is what TestSharedObjects passes to each child.
type Shared struct {
	Q     *ring.TypedQueue[int]
	Mu    *futex.Lock
	V     *ctypes.Value[int64]
	A     *ctypes.Array[int64]
	Go    *futex.Event
	B     *futex.Barrier
	Out   *ring.Conn // the sending end of a one-way pipe, held by every child
	I     int
	Depth int // > 0: also start a grandchild with the same objects
}

// useShared is set in init: its function starts useShared again.
var useShared *proc.Target[Shared]

func init() { useShared = proc.Func("use-shared", sharedChild) }

func sharedChild(ctx context.Context, a Shared) error {
	if _, err := a.B.Wait(ctx); err != nil {
		return err
	}
	if ok, err := a.Go.Wait(ctx); !ok || err != nil {
		return fmt.Errorf("event: %v %v", ok, err)
	}
	// An unguarded read-modify-write: only the Lock makes the count exact.
	if err := a.Mu.Acquire(ctx); err != nil {
		return err
	}
	a.V.Store(a.V.Load() + 1)
	if err := a.Mu.Release(); err != nil {
		return err
	}
	a.A.Add(a.I, int64(a.I)+1)
	if err := a.Q.Put(ctx, a.I); err != nil {
		return err
	}
	if err := a.Out.Send(ctx, a.I); err != nil {
		return err
	}
	if a.Depth > 0 {
		g := a
		g.Depth--
		g.I += 100
		return useShared.Start(ctx, g).Join(ctx)
	}
	return nil
}

// TestSharedObjects passes a Queue, Lock, Value, Array, pipe end, Event
// and Barrier to 5 children, each of which starts a grandchild with the same
// objects; every count must come out exact.
func TestSharedObjects(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	const n = 5
	in, out := proc.Pipe(m, false)
	a := Shared{
		Q: proc.Queue[int](m), Mu: proc.Lock(m), V: proc.Value[int64](m, 0),
		A: proc.Array[int64](m, 200), Go: proc.Event(m), B: proc.Barrier(m, n), Out: out, Depth: 1,
	}
	var ps []*proc.Process
	for i := range n {
		a.I = i
		ps = append(ps, useShared.Start(ctx, a))
	}
	a.Go.Set()
	for _, p := range ps {
		if err := p.Join(ctx); err != nil {
			t.Fatal(err)
		}
	}
	var want []int
	for i := range n {
		want = append(want, i)
	}
	for i := range n {
		want = append(want, i+100)
	}
	if got := a.V.Load(); got != 2*n {
		t.Errorf("value: got %d; want %d", got, 2*n)
	}
	var gotQ, gotPipe []int
	for range 2 * n {
		v, err := a.Q.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		gotQ = append(gotQ, v)
		var x int
		if err := in.Recv(ctx, &x); err != nil {
			t.Fatal(err)
		}
		gotPipe = append(gotPipe, x)
	}
	slices.Sort(gotQ)
	slices.Sort(gotPipe)
	if !slices.Equal(gotQ, want) || !slices.Equal(gotPipe, want) {
		t.Errorf("queue %v, pipe %v; want %v", gotQ, gotPipe, want)
	}
	for _, i := range want {
		if x := a.A.Get(i); x != int64(i)+1 {
			t.Errorf("array[%d]: got %d; want %d", i, x, i+1)
		}
	}
	if !a.Q.Queue().Empty() {
		t.Errorf("queue not empty after %d gets", 2*n)
	}
}

// Ends is what TestPipeEnds passes: one end of a duplex pipe and the
// sending end of a one-way pipe, both in a struct behind a pointer.
type Ends struct {
	Duplex *ring.Conn
	Out    []*ring.Conn
}

var echo = proc.Func("echo", func(ctx context.Context, e *Ends) error {
	var msg string
	if err := e.Duplex.Recv(ctx, &msg); err != nil {
		return err
	}
	if err := e.Duplex.Send(ctx, msg+" back"); err != nil {
		return err
	}
	return e.Out[0].Send(ctx, "one-way")
})

// TestPipeEnds passes pipe ends (in a slice, behind a pointer) to a child
// and talks to it through them.
func TestPipeEnds(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	mine, theirs := proc.Pipe(m, true)
	in, out := proc.Pipe(m, false)
	p := echo.Start(ctx, &Ends{Duplex: theirs, Out: []*ring.Conn{out}})
	if err := mine.Send(ctx, "hello"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"hello back", "one-way"} {
		c := mine
		if want == "one-way" {
			c = in
		}
		var got string
		if err := c.Recv(ctx, &got); err != nil || got != want {
			t.Errorf("got %q, %v; want %q", got, err, want)
		}
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

var exitWith = proc.Func("exit-with", func(ctx context.Context, how string) error {
	switch how {
	case "ok":
		return nil
	case "exit7":
		os.Exit(7)
	case "error":
		return errors.New("boom")
	case "panic":
		panic("kaboom")
	case "sleep":
		time.Sleep(watchdog)
	}
	return fmt.Errorf("unknown %q", how)
})

// TestExitCodes checks ExitCode and Join's error for each way a child ends.
func TestExitCodes(t *testing.T) {
	ctx := ctxT(t)
	for _, tc := range []struct {
		how  string
		sig  func(*proc.Process) error
		code int
	}{
		{"ok", nil, 0},
		{"exit7", nil, 7},
		{"error", nil, 1},
		{"panic", nil, 1},
		{"sleep", (*proc.Process).Kill, -9},
		{"sleep", (*proc.Process).Terminate, -15},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.how, tc.code), func(t *testing.T) {
			p := exitWith.Start(ctx, tc.how)
			if code, exited := p.ExitCode(); exited {
				t.Errorf("ExitCode while running: %d, true", code)
			}
			if tc.sig != nil {
				if !p.IsAlive() {
					t.Error("IsAlive false while running")
				}
				if err := tc.sig(p); err != nil {
					t.Fatal(err)
				}
			}
			err := p.Join(ctx)
			if code, exited := p.ExitCode(); code != tc.code || !exited {
				t.Errorf("ExitCode: got %d, %v; want %d, true", code, exited, tc.code)
			}
			if p.IsAlive() {
				t.Error("IsAlive after Join")
			}
			if (err == nil) != (tc.code == 0) {
				t.Fatalf("Join: %v", err)
			}
			var ee *proc.ExitError
			if tc.code != 0 && (!errors.As(err, &ee) || ee.Code != tc.code || ee.Pid != p.Pid()) {
				t.Errorf("Join: got %#v; want an ExitError with code %d", err, tc.code)
			}
			if got := errors.Is(err, proc.ErrSignaled); got != (tc.code < 0) {
				t.Errorf("errors.Is(%v, ErrSignaled) = %v", err, got)
			}
		})
	}
}

// TestErrorAndPanicCarried checks that the child's error text, and a
// panic's value and stack, reach the parent.
func TestErrorAndPanicCarried(t *testing.T) {
	ctx := ctxT(t)
	var ee *proc.ExitError
	err := exitWith.Start(ctx, "error").Join(ctx)
	if !errors.As(err, &ee) || ee.Err != "boom" || errors.Is(err, proc.ErrPanic) {
		t.Errorf("error: got %v; want the child's \"boom\"", err)
	}
	err = exitWith.Start(ctx, "panic").Join(ctx)
	if !errors.As(err, &ee) || ee.Panic != "kaboom" || !errors.Is(err, proc.ErrPanic) || !strings.Contains(ee.Stack, "proc_test.init") {
		t.Errorf("panic: got %v (stack %q); want kaboom with the child's stack", err, ee.Stack)
	}
}

var spawnChild = proc.Func("spawn-child", func(ctx context.Context, _ struct{}) error {
	return exitWith.Start(ctx, "ok").Join(ctx)
})

// TestMisuse checks CPython's misuse errors.
func TestMisuse(t *testing.T) {
	ctx := ctxT(t)
	p := exitWith.New("ok", nil)
	if err := p.Join(ctx); !errors.Is(err, proc.ErrNotStarted) {
		t.Errorf("join before start: got %v; want ErrNotStarted", err)
	}
	if err := p.Kill(); !errors.Is(err, proc.ErrNotStarted) {
		t.Errorf("kill before start: got %v; want ErrNotStarted", err)
	}
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Start(); !errors.Is(err, proc.ErrStartedTwice) {
		t.Errorf("second start: got %v; want ErrStartedTwice", err)
	}
	if err := p.SetDaemon(true); !errors.Is(err, proc.ErrDaemonAfterStart) {
		t.Errorf("daemon after start: got %v; want ErrDaemonAfterStart", err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	d := spawnChild.New(struct{}{}, &proc.Options{Daemon: true})
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	var ee *proc.ExitError
	if err := d.Join(ctx); !errors.As(err, &ee) || !strings.Contains(ee.Err, proc.ErrDaemonChildren.Error()) {
		t.Errorf("daemon starting a child: got %v; want %v", err, proc.ErrDaemonChildren)
	}
	if err := proc.CurrentProcess().Join(ctx); !errors.Is(err, proc.ErrNotChild) {
		t.Errorf("join self: got %v; want ErrNotChild", err)
	}
}

// TestForgotMain runs this test binary without Main (TestMain skips it
// under envNoMain) and checks that Start fails with ErrNoMain.
func TestForgotMain(t *testing.T) {
	if os.Getenv(envNoMain) != "" {
		err := exitWith.Start(context.Background(), "ok").Join(context.Background())
		if !errors.Is(err, proc.ErrNoMain) {
			t.Fatalf("Start without Main: got %v; want ErrNoMain", err)
		}
		return
	}
	ctx := ctxT(t)
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestForgotMain$", "-test.count=1")
	cmd.Env = append(os.Environ(), envNoMain+"=1")
	if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("the binary without Main: %v\n%s", err, out)
	}
}

// TestNames checks the default names and the process views.
func TestNames(t *testing.T) {
	if got := proc.CurrentProcess().Name(); got != "MainProcess" {
		t.Errorf("CurrentProcess().Name() = %q; want MainProcess", got)
	}
	if proc.ParentProcess() != nil {
		t.Error("ParentProcess() in the main process is not nil")
	}
	p := exitWith.New("ok", nil)
	if !strings.HasPrefix(p.Name(), "Process-") {
		t.Errorf("default name %q; want Process-N", p.Name())
	}
	if proc.CPUCount() < 1 {
		t.Errorf("CPUCount() = %d", proc.CPUCount())
	}
}

var reportSelf = proc.Func("report-self", func(ctx context.Context, q *ring.TypedQueue[string]) error {
	me, parent := proc.CurrentProcess(), proc.ParentProcess()
	return q.Put(ctx, fmt.Sprintf("%s %d %s %d %v", me.Name(), me.Pid(), parent.Name(), parent.Pid(), parent.IsAlive()))
})

// TestChildViews checks CurrentProcess and ParentProcess in a child, and
// ActiveChildren in the parent.
func TestChildViews(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	q := proc.Queue[string](m)
	p := reportSelf.New(q, &proc.Options{Name: "reporter"})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(proc.ActiveChildren(), p) {
		t.Errorf("ActiveChildren() lacks the running child")
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := q.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("reporter %d MainProcess %d true", p.Pid(), os.Getpid()); got != want {
		t.Errorf("child says %q; want %q", got, want)
	}
	if slices.Contains(proc.ActiveChildren(), p) {
		t.Errorf("ActiveChildren() holds a joined child")
	}
}

// Worker is a Runner: CPython's Process subclass.
type Worker struct {
	V *ctypes.Value[int64]
	N int64
}

func (w *Worker) Run(ctx context.Context) error {
	w.V.Add(w.N)
	return nil
}

func init() { proc.Register[*Worker]("worker") }

type unregistered struct{}

func (unregistered) Run(context.Context) error { return nil }

// TestRunner starts a Runner type, and refuses an unregistered one.
func TestRunner(t *testing.T) {
	ctx := ctxT(t)
	v := proc.Value[int64](nil, 0)
	if err := proc.Start(ctx, &Worker{V: v, N: 42}).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.Load(); got != 42 {
		t.Errorf("value: got %d; want 42", got)
	}
	if err := proc.Start(ctx, unregistered{}).Join(ctx); !errors.Is(err, proc.ErrNotRegistered) {
		t.Errorf("unregistered Runner: got %v; want ErrNotRegistered", err)
	}
}

// alive reports whether pid is a live (not zombie) process.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	st, err := procstat.Read(pid)
	return err == nil && st.Live()
}
