// Package proc is multiprocessing's process layer for Go: child processes
// that receive shared queues, locks, values and pipes as ordinary
// arguments, and a Manager that makes those objects without names or
// sizes.
//
// Go cannot fork a running program, so a child is the same binary
// executed again. Functions (or Runner types) are registered by name at
// package init, and Main, the first statement of main (and of TestMain),
// runs the registered function in a child and exits there:
//
//	type Args struct {
//		Q  *ring.TypedQueue[string]
//		Mu *futex.Lock
//		I  int
//	}
//
//	var work = proc.Func("work", func(ctx context.Context, a Args) error {
//		if err := a.Mu.Acquire(ctx); err != nil {
//			return err
//		}
//		defer a.Mu.Release()
//		return a.Q.Put(ctx, fmt.Sprintf("hello from %d", a.I))
//	})
//
//	func main() {
//		proc.Main()
//		ctx := context.Background()
//		m := proc.NewManager()
//		q, mu := proc.Queue[string](m), proc.Lock(m)
//		var ps []*proc.Process
//		for i := range 3 {
//			ps = append(ps, work.Start(ctx, Args{q, mu, i}))
//		}
//		for _, p := range ps {
//			p.Join(ctx)
//		}
//		for range 3 {
//			s, _ := q.Get(ctx)
//			fmt.Println(s)
//		}
//	}
//
// A binary that forgot Main gets ErrNoMain from Start: never a child that
// runs main again (a fork bomb) or one that hangs.
//
// # Arguments
//
// Every shmkit handle (anything implementing shm.Handle: futex, ctypes,
// ring and dict handles) in a child's arguments — a field, behind a
// pointer, in a slice or array, in nested structs — reaches the child open,
// on the same shared object. Handles in anonymous segments (a Manager's)
// travel as inherited descriptors, handles in named segments by name and
// creation id. Everything else travels through encoding/gob, so the rules
// of gob apply: exported fields only, interface values registered with
// gob.Register. A handle inside a map or an interface value is not found
// (ErrArgs from gob). Typed queues and pipes travel with the Plain or Gob
// codec only.
//
// # The Manager
//
// A Manager allocates objects from anonymous (sealed memfd) segments of
// SegmentSize bytes that it owns, and starts a new segment when one is
// full (a bigger one for an object that needs it): no segment sizes or
// object names in user code. A quarter of each segment's directory is kept
// for Conditions, which must live beside their locks. The factories come in pairs, NewX returning
// an error and X panicking on it; a nil *Manager means the process-wide
// default one, the counterpart of calling multiprocessing.Queue() with no
// manager at all.
//
// # How a child ends
//
//	child                         ExitCode   Join / Err
//	target returns nil            0          nil
//	target returns err            1          *ExitError{Err: err.Error()}
//	target panics                 1          *ExitError{Panic, Stack}; errors.Is(err, ErrPanic)
//	os.Exit(n)                    n          *ExitError{Code: n} (nil for n == 0)
//	killed by signal N            -N         *ExitError{Code: -N}; errors.Is(err, ErrSignaled)
//	  (Terminate: -15, Kill: -9, the OOM killer: -9)
//	failed to start               unset      the start error
//
// # When the parent dies
//
// A daemon child always dies with its parent, and by default so does
// every other child: each is killed by the parent-death signal (SIGKILL),
// which the kernel sends when the thread that forked the child exits —
// proc forks every child from one goroutine locked to its OS thread for
// the process's life, so that is when the process exits, however it
// exits, SIGKILL included. The child re-checks its parent pid after the
// signal is armed, and watches a pipe only its parent can write (the
// lifeline): its end of file, when the parent's descriptors close, kills
// the child too. Options.OutliveParent lets a non-daemon child outlive a
// crashed parent. Go has no exit hooks, so a parent that returns from
// main does not wait for non-daemon children as CPython does: Join them.
//
// A child inherits stdin from /dev/null, the parent's stdout and stderr
// (Options.Stdout, Stderr), environment (plus Options.Env) and directory
// (Options.Dir), and no descriptor besides its pipes and the segments its
// arguments need: one the parent opened without close-on-exec is closed
// in the child before any user code runs.
//
// # From Python
//
//	multiprocessing                       proc
//	Process(target=f, args=(a,))          var f = proc.Func("f", fn); p := f.New(a, nil)
//	Process(..., name=, daemon=)          f.New(a, &proc.Options{Name: n, Daemon: true})
//	class P(Process): def run(self)       type P struct{...}; func (*P) Run(ctx) error; proc.Register[*P]("p")
//	p.start()                             p.Start(); or p := f.Start(ctx, a)
//	p.join(timeout)                       p.Join(ctx) (returns the child's failure, or ctx.Err())
//	p.is_alive()                          p.IsAlive()
//	p.terminate() / p.kill()              p.Terminate() / p.Kill()
//	p.pid, p.name, p.daemon               p.Pid(), p.Name()/SetName, p.Daemon()/SetDaemon
//	p.exitcode                            p.ExitCode() (code, exited)
//	p.sentinel                            p.Done()
//	(exception in the child)              p.Err(): *ExitError with the error or panic and stack
//	current_process()                     proc.CurrentProcess()
//	parent_process()                      proc.ParentProcess()
//	active_children()                     proc.ActiveChildren()
//	cpu_count()                           proc.CPUCount()
//	freeze_support(), set_start_method    proc.Main() (there is one start method: re-execution)
//	Queue(maxsize)                        proc.Queue[T](m) / proc.NewQueue[T](m, &ring.QueueOptions{MaxSize: n})
//	SimpleQueue(), JoinableQueue()        proc.SimpleQueue[T](m), proc.JoinableQueue[T](m)
//	Pipe(duplex)                          proc.Pipe(m, duplex)
//	Lock(), RLock()                       proc.Lock(m), proc.RLock(m)
//	Semaphore(n), BoundedSemaphore(n)     proc.Semaphore(m, n), proc.BoundedSemaphore(m, n)
//	Event(), Condition(lock)              proc.Event(m), proc.Condition(m, lock)
//	Barrier(n)                            proc.Barrier(m, n)
//	Value(t, v), Array(t, n)              proc.Value[T](m, v), proc.Array[T](m, n)
//	Manager()                             proc.NewManager() (no server process)
//	AssertionError "cannot start a process twice"      ErrStartedTwice
//	AssertionError "can only join a started process"   ErrNotStarted
//	AssertionError "can only join a child process"     ErrNotChild
//	AssertionError "process has already started" (daemon)  ErrDaemonAfterStart
//	AssertionError "daemonic processes are not allowed to have children"  ErrDaemonChildren
//
// # Pool and futures
//
// (The Pool and concurrent.futures rows are added with the pool.)
//
// # Layout
//
// proc keeps nothing of its own in shared memory: the objects it passes
// are laid out by their packages (futex, ctypes, ring, dict). What it
// sends a child travels through pipes, in this order of descriptors:
//
//	fd  what                      written by   read by
//	3   lifeline (EOF: parent died)  nobody     child
//	4   header and arguments (gob)   parent     child
//	5   result (gob)                 child      parent
//	6…  anonymous segments           -          child (shm.FromFile)
package proc
