package proc

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
)

// Pool and futures sentinels. Calls wrap them with the pool or task name;
// test with errors.Is.
var (
	// ErrWorkers: NewPool with fewer than one worker (CPython's ValueError
	// "Number of processes must be at least 1").
	ErrWorkers = errors.New("proc: number of workers must be at least 1")
	// ErrNotRunning: work submitted to a pool after Close or Terminate
	// (ValueError "Pool not running"; RuntimeError "cannot schedule new
	// futures after shutdown" in concurrent.futures).
	ErrNotRunning = errors.New("proc: pool not running")
	// ErrStillRunning: Join before Close or Terminate (ValueError "Pool is
	// still running").
	ErrStillRunning = errors.New("proc: pool is still running")
	// ErrChunksize: a chunk size below 1 (ValueError "Chunksize must be 1+").
	ErrChunksize = errors.New("proc: chunksize must be 1+")
	// ErrNotReady: AsyncResult.Successful before the result is ready
	// (ValueError "... not ready").
	ErrNotReady = errors.New("proc: result not ready")
	// ErrTimeout: a task ran longer than PoolOptions.TaskTimeout; its worker
	// was killed and replaced (CPython has no per-task timeout; a Get or
	// Result whose context ends returns ctx.Err() instead, as every blocking
	// call here).
	ErrTimeout = errors.New("proc: task timed out")
	// ErrWorkerDied: the worker running a task died (SIGKILL, OOM kill,
	// os.Exit, a crash) before it sent the task's result. The error is a
	// *WorkerError that carries the exit code or signal. CPython's Pool
	// hangs here (gh-66587) and ProcessPoolExecutor breaks the whole pool
	// (BrokenProcessPool); a shmkit pool fails only that task.
	ErrWorkerDied = errors.New("proc: worker died")
	// ErrCancelled: the future was cancelled before it started
	// (concurrent.futures.CancelledError).
	ErrCancelled = errors.New("proc: future cancelled")
	// ErrTerminated: the pool was terminated before the task finished (in
	// CPython such a result never becomes ready).
	ErrTerminated = errors.New("proc: pool terminated")
	// ErrNoTask: a worker was sent a task name that no Task registered in
	// its binary.
	ErrNoTask = errors.New("proc: no such task")
	// ErrInitializer: the pool's initializer failed in a worker; tasks that
	// worker would have run fail with it.
	ErrInitializer = errors.New("proc: worker initializer failed")
	// ErrInvalidOption: a negative PoolOptions field.
	ErrInvalidOption = errors.New("proc: invalid pool option")
	// ErrMessage: a task or result message between the pool and a worker is
	// malformed (never a panic).
	ErrMessage = errors.New("proc: malformed pool message")
)

// WorkerError is the error of a task whose worker died or was killed for
// running past its timeout. It matches ErrWorkerDied (or ErrTimeout) with
// errors.Is.
type WorkerError struct {
	Task     string         // the task's registered name
	Pid      int            // the worker's process id (0 in an in-process pool)
	ExitCode int            // as Process.ExitCode: N for exit(N), -N for signal N
	Signal   syscall.Signal // the signal that killed it, else 0
	Err      error          // ErrWorkerDied or ErrTimeout
}

func (e *WorkerError) Error() string {
	what := "worker died"
	if e.Err != nil {
		what = strings.TrimPrefix(e.Err.Error(), "proc: ")
	}
	if e.Pid == 0 {
		return fmt.Sprintf("proc: task %q: %s (in-process worker goroutine abandoned)", e.Task, what)
	}
	how := fmt.Sprintf("exit status %d", e.ExitCode)
	if e.Signal != 0 {
		how = "signal " + e.Signal.String()
	}
	return fmt.Sprintf("proc: task %q: worker %d: %s (%s)", e.Task, e.Pid, what, how)
}

// Unwrap returns ErrWorkerDied or ErrTimeout.
func (e *WorkerError) Unwrap() error { return e.Err }

// PanicError is the error of a task that panicked: the worker recovers,
// reports the panic's value and stack as the task's error, and goes on.
type PanicError struct {
	Task  string // the task's registered name
	Value string // fmt.Sprint of the panic value
	Stack string // the panicking goroutine's stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("proc: task %q panicked: %s\n%s", e.Task, e.Value, e.Stack)
}

// RemoteError is the error a task returned in a worker process. Only its
// text crosses the process boundary: errors.Is against the task's own
// sentinels does not hold (in an in-process pool the task's error is
// returned as it is).
type RemoteError struct {
	Task string // the task's registered name
	Msg  string // the error's text in the worker
}

func (e *RemoteError) Error() string { return fmt.Sprintf("proc: task %q: %s", e.Task, e.Msg) }
