package proc

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// Outcome states.
const (
	outPending  = iota // queued in the pool
	outRunning         // handed to a worker
	outSettling        // value set, AsyncResult callbacks running, not yet done
	outDone            // finished, failed or cancelled
)

// outcome is the state behind a Future and an AsyncResult: one value or
// error, set once, with callbacks.
type outcome[R any] struct {
	done   chan struct{}
	status atomic.Int32
	val    R
	err    error
	mu     sync.Mutex
	pre    []func() // run before the outcome is done (AsyncResult callbacks)
	cbs    []func() // run after (Future done callbacks)
	pool   *Pool
	jobs   []*job // for Cancel and for a cancelled Map
}

func newOutcome[R any](p *Pool) *outcome[R] {
	return &outcome[R]{done: make(chan struct{}), pool: p}
}

func (o *outcome[R]) started() { o.status.CompareAndSwap(outPending, outRunning) }

// complete sets the outcome (once; later calls are ignored) and runs the
// callbacks in this goroutine.
func (o *outcome[R]) complete(v R, err error) {
	o.mu.Lock()
	if st := o.status.Load(); st == outDone || st == outSettling {
		o.mu.Unlock()
		return
	}
	o.val, o.err = v, err
	// As CPython's ApplyResult, an AsyncResult's callbacks run before the
	// result is ready, so that a Get that returns finds them run; as
	// concurrent.futures, a Future's done callbacks run after.
	o.status.Store(outSettling)
	pre := o.pre
	o.pre = nil
	o.mu.Unlock()
	for _, f := range pre {
		runCallback(f)
	}
	o.mu.Lock()
	o.status.Store(outDone)
	close(o.done)
	cbs := o.cbs
	o.cbs = nil
	o.mu.Unlock()
	for _, f := range cbs {
		runCallback(f)
	}
}

// runCallback runs a done callback. A panic in it is written to standard
// error with its stack and otherwise ignored, as concurrent.futures logs and
// ignores a callback's exception: the other callbacks still run, and the
// pool goroutine that completed the call goes on.
func runCallback(f func()) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(stdFiles[1], "proc: panic in a done callback: %v\n%s", v, debug.Stack())
		}
	}()
	f()
}

// onDone runs f once the outcome is done, at once if it already is.
func (o *outcome[R]) onDone(f func()) {
	o.mu.Lock()
	if o.status.Load() != outDone {
		o.cbs = append(o.cbs, f)
		o.mu.Unlock()
		return
	}
	o.mu.Unlock()
	runCallback(f)
}

// onReady runs f once the outcome's value is set and before it is done
// (so before a Get returns), at once if the value is already set.
func (o *outcome[R]) onReady(f func()) {
	o.mu.Lock()
	if st := o.status.Load(); st != outDone && st != outSettling {
		o.pre = append(o.pre, f)
		o.mu.Unlock()
		return
	}
	o.mu.Unlock()
	runCallback(f)
}

func (o *outcome[R]) wait(ctx context.Context) error {
	select {
	case <-o.done:
		return nil
	default:
	}
	select {
	case <-o.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (o *outcome[R]) get(ctx context.Context) (R, error) {
	if err := o.wait(ctx); err != nil {
		var zero R
		return zero, err
	}
	return o.val, o.err
}

func (o *outcome[R]) isDone() bool { return o.status.Load() == outDone }

// cancel cancels every job of the outcome still queued; it reports whether
// all of them were.
func (o *outcome[R]) cancel() bool {
	all := true
	for _, j := range o.jobs {
		if !o.pool.cancel(j) {
			all = false
		}
	}
	return all && len(o.jobs) > 0
}

// Future is the result of TaskFunc.Submit, as concurrent.futures.Future: one
// call's value or error, set once.
type Future[R any] struct{ o *outcome[R] }

// Result waits for the call and returns its value and error, or ctx.Err()
// if ctx ends first (the call goes on). A cancelled future returns
// ErrCancelled; a call whose worker died, ErrWorkerDied.
func (f *Future[R]) Result(ctx context.Context) (R, error) { return f.o.get(ctx) }

// Err waits for the call and returns its error (nil on success), or
// ctx.Err() if ctx ends first (Future.exception).
func (f *Future[R]) Err(ctx context.Context) error {
	if err := f.o.wait(ctx); err != nil {
		return err
	}
	return f.o.err
}

// Done reports whether the call finished, failed or was cancelled.
func (f *Future[R]) Done() bool { return f.o.isDone() }

// Running reports whether a worker has taken the call and it is not done.
func (f *Future[R]) Running() bool { return f.o.status.Load() == outRunning }

// Cancel cancels the call if no worker has taken it yet and reports whether
// it did (true also when it was cancelled before). A running or finished
// call cannot be cancelled.
func (f *Future[R]) Cancel() bool {
	if f.Cancelled() {
		return true
	}
	return f.o.cancel()
}

// Cancelled reports whether Cancel cancelled the call.
func (f *Future[R]) Cancelled() bool {
	return f.o.isDone() && errors.Is(f.o.err, ErrCancelled)
}

// AddDoneCallback arranges for fn(f) to run when the future is done, in
// the pool goroutine that completes it (keep it short), or at once in this
// goroutine if it is done already. A panic in fn is written to standard
// error and ignored, as CPython logs a callback's exception; the other
// callbacks still run.
func (f *Future[R]) AddDoneCallback(fn func(*Future[R])) { f.o.onDone(func() { fn(f) }) }

func (f *Future[R]) doneCh() <-chan struct{} { return f.o.done }
func (f *Future[R]) addDone(fn func())       { f.o.onDone(fn) }
func (f *Future[R]) failed() bool            { return f.o.isDone() && f.o.err != nil && !f.Cancelled() }

// AsyncResult is the result of ApplyAsync and MapAsync, as
// multiprocessing.pool.AsyncResult.
type AsyncResult[R any] struct{ o *outcome[R] }

// Get waits for the result and returns it with the call's error, or
// ctx.Err() when ctx ends first (CPython's get(timeout) raising
// TimeoutError). For MapAsync the error is the first failed item's (by
// index) and the slice holds every item that succeeded.
func (r *AsyncResult[R]) Get(ctx context.Context) (R, error) { return r.o.get(ctx) }

// Wait waits until the result is ready, or returns ctx.Err().
func (r *AsyncResult[R]) Wait(ctx context.Context) error { return r.o.wait(ctx) }

// Ready reports whether the call has completed.
func (r *AsyncResult[R]) Ready() bool { return r.o.isDone() }

// Successful reports whether the call completed without error; before it
// is ready it returns ErrNotReady.
func (r *AsyncResult[R]) Successful() (bool, error) {
	if !r.o.isDone() {
		return false, ErrNotReady
	}
	return r.o.err == nil, nil
}

// OnSuccess arranges for fn(value) to run when the call succeeds
// (apply_async's callback), in the pool goroutine that completes it and,
// as in CPython, before the result is ready (a Get that returns the value
// finds fn run), or at once if it already has. A panic in fn is written to standard error and
// ignored (see Future.AddDoneCallback).
func (r *AsyncResult[R]) OnSuccess(fn func(R)) {
	r.o.onReady(func() {
		if r.o.err == nil {
			fn(r.o.val)
		}
	})
}

// OnError arranges for fn(err) to run when the call fails
// (apply_async's error_callback), as OnSuccess.
func (r *AsyncResult[R]) OnError(fn func(error)) {
	r.o.onReady(func() {
		if r.o.err != nil {
			fn(r.o.err)
		}
	})
}

func (r *AsyncResult[R]) doneCh() <-chan struct{} { return r.o.done }
func (r *AsyncResult[R]) addDone(fn func())       { r.o.onDone(fn) }
func (r *AsyncResult[R]) failed() bool            { return r.o.isDone() && r.o.err != nil }

// Awaitable is what AsCompleted and Wait accept: *Future and *AsyncResult
// of any type.
type Awaitable interface {
	doneCh() <-chan struct{}
	addDone(func())
	failed() bool
}

// WaitMode says when Wait returns (concurrent.futures' return_when).
type WaitMode int

const (
	// AllCompleted: when every future is done.
	AllCompleted WaitMode = iota
	// FirstCompleted: when any future is done.
	FirstCompleted
	// FirstException: when any future fails (cancelled ones do not count),
	// or when all are done.
	FirstException
)

// Wait waits for the futures as mode says and returns those done and those
// not, in the order given, each once (a future given twice counts once, as
// in CPython's sets). If ctx ends first it returns the two sets as they
// are then, with ctx.Err() (CPython's wait returns them at its timeout).
func Wait[F Awaitable](ctx context.Context, fs []F, mode WaitMode) (done, notDone []F, err error) {
	fs = unique(fs)
	ch := make(chan int, len(fs))
	for i, f := range fs {
		f.addDone(func() { ch <- i })
	}
	isDone := make([]bool, len(fs))
	n := 0
	satisfied := func(i int) bool {
		switch mode {
		case FirstCompleted:
			return true
		case FirstException:
			return fs[i].failed() || n == len(fs)
		}
		return n == len(fs)
	}
	stop := len(fs) == 0
	for !stop {
		select {
		case i := <-ch:
			isDone[i] = true
			n++
			stop = satisfied(i)
		case <-ctx.Done():
			err = ctx.Err()
			stop = true
		}
	}
	for i, f := range fs {
		select {
		case <-f.doneCh():
			isDone[i] = true
		default:
		}
		if isDone[i] {
			done = append(done, f)
		} else {
			notDone = append(notDone, f)
		}
	}
	return done, notDone, err
}

// AsCompleted yields the futures as they complete (each once, also when
// given twice; finished ones first). If ctx ends first it yields ctx.Err()
// (with a zero F) and stops (as_completed's TimeoutError).
func AsCompleted[F Awaitable](ctx context.Context, fs []F) iter.Seq2[F, error] {
	fs = unique(fs)
	return func(yield func(F, error) bool) {
		ch := make(chan int, len(fs))
		for i, f := range fs {
			f.addDone(func() { ch <- i })
		}
		for range fs {
			// A future already done is yielded even when ctx has ended too
			// (select would pick at random): as_completed yields the
			// finished futures before it raises TimeoutError.
			select {
			case i := <-ch:
				if !yield(fs[i], nil) {
					return
				}
				continue
			default:
			}
			select {
			case i := <-ch:
				if !yield(fs[i], nil) {
					return
				}
			case <-ctx.Done():
				var zero F
				yield(zero, ctx.Err())
				return
			}
		}
	}
}

// unique returns fs without its repeats, in order of first appearance
// (futures are pointers: equal means the same future).
func unique[F Awaitable](fs []F) []F {
	seen := make(map[Awaitable]bool, len(fs))
	out := make([]F, 0, len(fs))
	for _, f := range fs {
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}
