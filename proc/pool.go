package proc

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// PoolOptions configures NewPool. The zero value (or nil) gives CPython's
// defaults: no initializer, workers that live for ever, no task timeout, no
// retries, worker processes.
type PoolOptions struct {
	// Initializer runs once in each worker before its first task
	// (initializer and initargs); make it with InitFunc.With. A worker
	// whose initializer fails fails the tasks it takes with ErrInitializer.
	Initializer *Init
	// MaxTasksPerChild replaces a worker after it has run this many tasks
	// (maxtasksperchild; a chunk of Map counts as one task, as in CPython).
	// Zero means never.
	MaxTasksPerChild int
	// TaskTimeout fails a task that runs longer with ErrTimeout; its worker
	// process is killed and replaced. In-process, the task's context is
	// cancelled and its goroutine abandoned (a goroutine cannot be killed).
	// Zero means no limit. A chunk of Map is one task.
	TaskTimeout time.Duration
	// Retries is how many times a task whose worker died is run again, on
	// another worker, before it fails with ErrWorkerDied. Timed-out tasks
	// are not retried.
	Retries int
	// InProcess runs the same pool on goroutines of this process
	// (multiprocessing.dummy.Pool, ThreadPoolExecutor): tasks are called
	// directly, with no process, codec or shared memory.
	InProcess bool
}

// Pool is a pool of worker processes (or goroutines) that run registered
// tasks, as multiprocessing.Pool and concurrent.futures.ProcessPoolExecutor:
// submit work with the methods of a TaskFunc (square.Map(ctx, pool, xs),
// square.Submit(pool, x), ...). Tasks and results travel through
// shared-memory rings; a worker that dies fails (or retries) only the task
// it was running and is replaced. A Pool is safe for concurrent use.
type Pool struct {
	n     int
	opt   PoolOptions
	mu    sync.Mutex
	cond  sync.Cond
	q     []*job // queued jobs from q[head]; cancelled ones are skipped
	head  int
	state poolState
	run   map[*job]struct{} // jobs handed to workers and not finished
	ctx   context.Context   // cancelled by Terminate
	stop  context.CancelFunc
	slots sync.WaitGroup
	ended chan struct{} // closed when every worker slot has ended
	procs procSet       // worker processes (process pools only)
}

type poolState int

const (
	poolRunning poolState = iota
	poolClosed
	poolTerminated
)

// job is one message to a worker: one task call, or a chunk of a Map.
type job struct {
	task  string
	w     work
	tries int      // runs lost to dead workers so far
	state jobState // guarded by Pool.mu
}

type jobState int

const (
	jobPending jobState = iota
	jobRunning
	jobDone
)

// work is the typed side of a job.
type work interface {
	// runLocal runs the job in this goroutine; deliver stores the outcomes
	// where the caller reads them (deferred, so that an abandoned run never
	// writes them: only the goroutine that claims the job delivers).
	runLocal(ctx context.Context) (deliver func())
	// appendArgs appends the job's arguments message.
	appendArgs(dst []byte) ([]byte, error)
	// decode stores the outcomes from a worker's result message.
	decode(b []byte) error
	// started is called when a worker takes the job.
	started()
	// finish ends the job: with err nil the outcomes are stored; otherwise
	// every item failed with err.
	finish(err error)
}

// NewPool starts a pool of n workers (n < 1 is ErrWorkers; CPython's
// default Pool() is NewPool(runtime.NumCPU(), nil)) and waits until each
// has started and run its initializer. Worker processes are daemon
// children: they exit when the pool's process dies.
func NewPool(n int, o *PoolOptions) (*Pool, error) {
	if n < 1 {
		return nil, fmt.Errorf("%w: %d", ErrWorkers, n)
	}
	p := &Pool{n: n, run: map[*job]struct{}{}, ended: make(chan struct{})}
	if o != nil {
		p.opt = *o
	}
	if p.opt.MaxTasksPerChild < 0 || p.opt.TaskTimeout < 0 || p.opt.Retries < 0 {
		return nil, fmt.Errorf("%w: negative MaxTasksPerChild, TaskTimeout or Retries", ErrInvalidOption)
	}
	if in := p.opt.Initializer; in != nil && in.err != nil {
		return nil, in.err
	}
	p.cond.L = &p.mu
	p.ctx, p.stop = context.WithCancel(context.Background())
	started := make(chan error, n)
	p.slots.Add(n)
	for i := range n {
		if p.opt.InProcess {
			go p.localSlot(i, started)
		} else {
			go p.procSlot(i, started)
		}
	}
	go func() { p.slots.Wait(); close(p.ended) }()
	if !p.opt.InProcess && p.opt.TaskTimeout > 0 {
		go p.watchTimeouts()
	}
	var first error
	for range n {
		if err := <-started; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		p.Terminate()
		<-p.ended
		return nil, first
	}
	return p, nil
}

// Workers returns the number of workers.
func (p *Pool) Workers() int { return p.n }

// Close stops the pool accepting work (later submissions fail with
// ErrNotRunning); the workers finish what was submitted and exit. Close
// does not wait: Join does.
func (p *Pool) Close() error {
	p.mu.Lock()
	if p.state == poolRunning {
		p.state = poolClosed
	}
	p.mu.Unlock()
	p.cond.Broadcast()
	return nil
}

// Terminate stops the pool at once: queued and running tasks fail with
// ErrTerminated and worker processes are killed (SIGKILL). In-process
// workers get a cancelled context; Join then waits for the worker
// processes to be reaped, or for the in-process tasks still running to
// return.
func (p *Pool) Terminate() error {
	p.mu.Lock()
	if p.state == poolTerminated {
		p.mu.Unlock()
		return nil
	}
	p.state = poolTerminated
	var fail []*job
	for _, j := range p.q[p.head:] {
		if j.state == jobPending {
			fail = append(fail, j)
		}
	}
	p.q, p.head = nil, 0
	for j := range p.run {
		fail = append(fail, j)
	}
	for _, j := range fail {
		j.state = jobDone
		delete(p.run, j)
	}
	p.mu.Unlock()
	p.stop()
	p.cond.Broadcast()
	p.procs.killAll()
	for _, j := range fail {
		j.w.finish(ErrTerminated)
	}
	return nil
}

// Join waits until every worker has exited after Close or Terminate; it
// returns ErrStillRunning before them, or ctx.Err() if ctx ends first.
func (p *Pool) Join(ctx context.Context) error {
	p.mu.Lock()
	st := p.state
	p.mu.Unlock()
	if st == poolRunning {
		return ErrStillRunning
	}
	select {
	case <-p.ended:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// submit queues jobs, all or none.
func (p *Pool) submit(js ...*job) error {
	p.mu.Lock()
	if p.state != poolRunning {
		for _, j := range js {
			j.state = jobDone // never queued: not cancellable either
		}
		p.mu.Unlock()
		return ErrNotRunning
	}
	p.q = append(p.q, js...)
	p.mu.Unlock()
	if len(js) == 1 {
		p.cond.Signal()
	} else {
		p.cond.Broadcast()
	}
	return nil
}

// requeue puts jobs whose worker died before starting them (or that are to
// be retried) back at the front of the queue, in order.
func (p *Pool) requeue(js []*job) {
	if len(js) == 0 {
		return
	}
	p.mu.Lock()
	if p.state == poolTerminated {
		p.mu.Unlock()
		return // Terminate failed them
	}
	var keep []*job
	for _, j := range js {
		if j.state == jobRunning {
			j.state = jobPending
			delete(p.run, j)
			keep = append(keep, j)
		}
	}
	rest := p.q[p.head:]
	q := make([]*job, 0, len(keep)+len(rest))
	p.q, p.head = append(append(q, keep...), rest...), 0
	p.mu.Unlock()
	p.cond.Broadcast()
}

// maxAhead bounds the jobs sent to one worker process and not yet
// answered.
const maxAhead = 64

// take hands the next queued job to a worker that has have jobs in flight.
// An idle worker (have 0) waits for one; take then returns nil only when
// the pool is no longer running and the queue is empty (or it was
// terminated). A busy worker gets one only while more than have jobs per
// worker are queued, so that work queues ahead of a worker only when every
// worker can have as much, and a queued future stays cancellable while
// the workers are busy.
func (p *Pool) take(have int) *job {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.state != poolTerminated {
		if have > 0 && (have >= maxAhead || have*p.n >= len(p.q)-p.head) {
			return nil
		}
		for p.head < len(p.q) {
			j := p.q[p.head]
			p.q[p.head] = nil
			p.head++
			if j.state != jobPending {
				continue
			}
			j.state = jobRunning
			p.run[j] = struct{}{}
			j.w.started()
			return j
		}
		p.q, p.head = p.q[:0], 0
		if have > 0 || p.state != poolRunning {
			return nil
		}
		p.cond.Wait()
	}
	return nil
}

// claim takes a running job for completion; it reports false when the job
// was already finished (a timed-out run that returns late, a worker killed
// by Terminate). Only the claimer stores outcomes and calls finish, so an
// abandoned run never writes results that a caller is reading.
func (p *Pool) claim(j *job) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if j.state != jobRunning {
		return false
	}
	j.state = jobDone
	delete(p.run, j)
	return true
}

// fail ends a running job with err, unless it already ended.
func (p *Pool) fail(j *job, err error) {
	if p.claim(j) {
		j.w.finish(err)
	}
}

// cancel cancels a queued job; it reports whether it did.
func (p *Pool) cancel(j *job) bool {
	p.mu.Lock()
	if j.state != jobPending {
		p.mu.Unlock()
		return false
	}
	j.state = jobDone
	p.mu.Unlock()
	j.w.finish(ErrCancelled)
	return true
}

// running reports whether the pool takes work, or has queued work left.
func (p *Pool) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == poolRunning || p.state == poolClosed && p.head < len(p.q)
}

func (p *Pool) terminated() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state == poolTerminated
}
