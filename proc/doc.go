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
// for Conditions, which must live beside their locks. A Dict, List or
// Namespace, which grows in place, gets a segment of its own. The
// factories come in pairs, NewX returning an error and X panicking on it;
// a nil *Manager means the process-wide default one, the counterpart of
// calling multiprocessing.Queue() with no manager at all.
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
//	p.close()                             nothing to do: a reaped Process holds no descriptor
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
//	Manager().dict(), list(), Namespace() proc.Dict[V](m), proc.List[V](m), proc.Namespace(m) (package dict)
//	AssertionError "cannot start a process twice"      ErrStartedTwice
//	AssertionError "can only join a started process"   ErrNotStarted
//	AssertionError "can only join a child process"     ErrNotChild
//	AssertionError "process has already started" (daemon)  ErrDaemonAfterStart
//	AssertionError "daemonic processes are not allowed to have children"  ErrDaemonChildren
//
// # Pool and futures
//
// A Pool runs registered tasks in worker processes (or, with
// PoolOptions.InProcess, on goroutines: the same API, switched by one
// option). Go cannot send a closure to another process, so a task is a
// function registered by name at package init, and its methods submit it:
//
//	var square = proc.Task("square", func(ctx context.Context, x int) (int, error) { return x * x, nil })
//
//	p, err := proc.NewPool(5, nil) // Pool(5)
//	...
//	out, err := square.Map(ctx, p, xs) // p.map(square, xs)
//
// Arguments and results travel through shared memory: each worker has its
// own pipe (two SPSC rings of package ring) in an anonymous segment, with
// the value's bytes as the codec for fixed-size plain types and
// encoding/gob for the rest. (Not a shared queue with leases: a chunk of
// Map can be larger than any queue slot, and the parent must know which
// task each worker runs for TaskTimeout anyway; see the mark below.)
//
//	multiprocessing.pool, concurrent.futures       proc
//	def f(x): ... (any module-level function)     var f = proc.Task("f", func(ctx context.Context, x A) (R, error) {...})
//	Pool(processes)                               proc.NewPool(n, nil) (Pool() is NewPool(runtime.NumCPU(), nil))
//	Pool(initializer=g, initargs=(a,))            g := proc.Initializer("g", fn); PoolOptions{Initializer: g.With(a)}
//	Pool(maxtasksperchild=k)                      PoolOptions{MaxTasksPerChild: k}
//	(pebble, billiard: a per-task timeout)        PoolOptions{TaskTimeout: d}
//	(none: retry a task whose worker died)        PoolOptions{Retries: k}
//	multiprocessing.dummy.Pool, ThreadPoolExecutor  PoolOptions{InProcess: true}
//	p.map(f, xs, chunksize)                       f.Map(ctx, p, xs) / f.Map(ctx, p, xs, proc.Chunksize(k))
//	p.map_async(f, xs)                            f.MapAsync(p, xs) (*AsyncResult[[]R])
//	p.imap(f, it) / p.imap_unordered(f, it)       f.Imap(ctx, p, seq) / f.ImapUnordered(ctx, p, seq) (iter.Seq2[R, error])
//	p.starmap(f, pairs)                           a task of a struct type: f.Map(ctx, p, []Pair{...})
//	p.apply(f, (x,))                              f.Apply(ctx, p, x)
//	p.apply_async(f, (x,), callback, error_callback)  r := f.ApplyAsync(p, x); r.OnSuccess(cb); r.OnError(ecb)
//	r.get(timeout), r.wait(timeout)               r.Get(ctx), r.Wait(ctx)
//	r.ready(), r.successful()                     r.Ready(), r.Successful()
//	p.close(), p.join(), p.terminate()            p.Close(), p.Join(ctx), p.Terminate()
//	ProcessPoolExecutor(n)                        proc.NewPool(n, nil)
//	ex.submit(f, x)                               f.Submit(p, x) (*Future[R])
//	ex.map(f, xs)                                 f.Imap(ctx, p, slices.Values(xs))
//	ex.shutdown(wait=True, cancel_futures=c)      p.Shutdown(ctx, c)
//	with ProcessPoolExecutor() as ex: / with Pool() as p:  defer p.Shutdown(ctx, false) / defer p.Terminate()
//	fut.result(timeout), fut.exception(timeout)   fut.Result(ctx), fut.Err(ctx)
//	fut.done(), running(), cancel(), cancelled()  fut.Done(), Running(), Cancel(), Cancelled()
//	fut.add_done_callback(fn)                     fut.AddDoneCallback(fn) (at once if done)
//	as_completed(fs, timeout)                     proc.AsCompleted(ctx, fs)
//	wait(fs, timeout, return_when)                proc.Wait(ctx, fs, proc.FirstCompleted / FirstException / AllCompleted)
//	ValueError "Number of processes must be at least 1"  ErrWorkers
//	ValueError "Pool not running"                 ErrNotRunning (in the result of a call on a closed pool)
//	ValueError "Pool is still running"            ErrStillRunning (Join before Close)
//	ValueError "Chunksize must be 1+"             ErrChunksize
//	ValueError "... not ready" (successful)       ErrNotReady
//	multiprocessing.TimeoutError, TimeoutError    ctx.Err() (context.DeadlineExceeded)
//	CancelledError                                ErrCancelled
//	(task timeout)                                ErrTimeout in a *WorkerError
//	(a hang, gh-66587) / BrokenProcessPool        ErrWorkerDied in a *WorkerError, for that task only
//
// A "task" is what one worker takes at once: one call of Apply, ApplyAsync
// or Submit, or one chunk of Map or Imap (CPython's meaning):
// MaxTasksPerChild and TaskTimeout count chunks. A worker is sent tasks
// ahead of its current one only while more than that many per worker are
// queued, so a queued future stays cancellable while the workers are busy.
// Tasks may not start processes of their own: workers are daemon children.
//
// How a task ends, and what happens to its worker:
//
//	in the worker                      the task's error                        the worker
//	the task returns err               *RemoteError (err's text; in-process,   goes on
//	                                   err itself)
//	the task panics                    *PanicError (value and stack)           goes on
//	os.Exit(n), a runtime crash (2)    *WorkerError{ExitCode: n}, ErrWorkerDied  replaced
//	SIGKILL, the OOM killer            *WorkerError{ExitCode: -9, Signal: SIGKILL}, ErrWorkerDied  replaced
//	runs past TaskTimeout              *WorkerError (killed with SIGKILL), ErrTimeout  replaced
//	dies between tasks                 none                                    replaced when next sent work
//	the pool's owner dies (SIGKILL too)  -                                     dies with it (daemon)
//
// With Retries k, a task whose worker died runs again on another worker, up
// to k times, before it fails (timed-out tasks are not retried). Tasks sent
// to a dead worker that it had not started always go back to the front of
// the queue. Every other task completes, and the pool never hangs: the
// worker writes the number of the task it starts in a mark word in shared
// memory, and when it dies (its process is reaped) the parent first reads
// every result the worker sent, then the mark: the one task under it,
// unanswered, is the one that was running. In-process, a timed-out task's
// goroutine cannot be killed: its context is cancelled, its result dropped,
// and the worker goroutine goes on with the next task.
//
// Each worker's segment holds:
//
//	object  kind                  written by                        read by
//	"pool"  duplex ring.Pipe      parent (end 0): tasks             worker (end 1)
//	                              worker (end 1): results           parent (end 0)
//	"mark"  ctypes.RawValue[uint64]  worker: the running task's     parent, after the worker died,
//	                              number (0 idle; bit 63 set while  and its timeout watchdog
//	                              it sends the result)
//
// A task message is the task's number (8 bytes, little-endian), its name
// (uvarint length, bytes) and the arguments (uvarint count, then each
// argument's uvarint length and encoding). A worker's message is a kind
// byte (1 ready, 2 initializer failed, 3 result, 4 the task could not run)
// and, for a result, the task's number and per item an outcome byte (0
// value, 1 error text, 2 panic), a uvarint length and the bytes. Every
// length is checked against the message (ErrMessage, never a panic).
//
// # Layout
//
// A Process keeps nothing of its own in shared memory: the objects it
// passes are laid out by their packages (futex, ctypes, ring, dict); a
// Pool's worker segments hold only the pipe and mark word drawn under
// "Pool and futures". What proc sends a child travels through pipes, in
// this order of descriptors:
//
//	fd  what                      written by   read by
//	3   lifeline (EOF: parent died)  nobody     child
//	4   header and arguments (gob)   parent     child
//	5   result (gob)                 child      parent
//	6…  anonymous segments           -          child (shm.FromFile)
package proc
