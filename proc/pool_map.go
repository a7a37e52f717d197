package proc

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"sync/atomic"
)

// chunk is a job's typed side: consecutive items of one call of task t.
type chunk[A, R any] struct {
	t       *TaskFunc[A, R]
	in      []A
	out     []R
	errs    []error
	onStart func()
	onDone  func()
}

func (c *chunk[A, R]) runLocal(ctx context.Context) func() {
	if len(c.in) == 1 {
		r, err := c.t.call(ctx, c.in[0])
		return func() { c.out[0], c.errs[0] = r, err }
	}
	res, errs := make([]R, len(c.in)), make([]error, len(c.in))
	for i := range c.in {
		res[i], errs[i] = c.t.call(ctx, c.in[i])
	}
	return func() {
		copy(c.out, res)
		copy(c.errs, errs)
	}
}

func (c *chunk[A, R]) appendArgs(dst []byte) ([]byte, error) { return c.t.appendArgs(dst, c.in) }
func (c *chunk[A, R]) decode(b []byte) error                 { return c.t.decodeResults(b, c.out, c.errs) }

func (c *chunk[A, R]) started() {
	if c.onStart != nil {
		c.onStart()
	}
}

func (c *chunk[A, R]) finish(err error) {
	if err != nil {
		for i := range c.errs {
			c.errs[i] = err
		}
	}
	c.onDone()
}

// CallOption tunes one Map, MapAsync, Imap or ImapUnordered call.
type CallOption func(*callOpts)

type callOpts struct{ chunk int }

// Chunksize sends the items to the workers in chunks of n (the chunksize
// argument; n < 1 makes the call fail with ErrChunksize). Map's default is
// ceil(len/(4·workers)) as CPython's; Imap's and ImapUnordered's is 1.
func Chunksize(n int) CallOption { return func(o *callOpts) { o.chunk = n } }

func chunksize(opts []CallOption, def int) (int, error) {
	o := callOpts{chunk: def}
	for _, f := range opts {
		f(&o)
	}
	if o.chunk < 1 {
		return 0, fmt.Errorf("%w, not %d", ErrChunksize, o.chunk)
	}
	return o.chunk, nil
}

// one is a single-item call's storage, allocated together.
type one[A, R any] struct {
	chunk[A, R]
	job job
	a   [1]A
	r   [1]R
	e   [1]error
}

func (t *TaskFunc[A, R]) single(p *Pool, a A) *outcome[R] {
	o := newOutcome[R](p)
	s := &one[A, R]{a: [1]A{a}}
	s.chunk = chunk[A, R]{t: t, in: s.a[:], out: s.r[:], errs: s.e[:], onStart: o.started,
		onDone: func() { o.complete(s.r[0], s.e[0]) }}
	s.job = job{task: t.name, w: &s.chunk}
	o.jobs = []*job{&s.job}
	if err := p.submit(&s.job); err != nil {
		var zero R
		o.complete(zero, err)
	}
	return o
}

// Submit schedules t(a) in the pool and returns its Future
// (Executor.submit). On a closed pool the future fails with ErrNotRunning.
func (t *TaskFunc[A, R]) Submit(p *Pool, a A) *Future[R] { return &Future[R]{t.single(p, a)} }

// ApplyAsync schedules t(a) in the pool and returns its AsyncResult
// (apply_async). On a closed pool the result fails with ErrNotRunning.
func (t *TaskFunc[A, R]) ApplyAsync(p *Pool, a A) *AsyncResult[R] {
	return &AsyncResult[R]{t.single(p, a)}
}

// Apply runs t(a) in a worker and waits for the result (apply). If ctx ends
// first it returns ctx.Err() and cancels the call if no worker has taken it.
func (t *TaskFunc[A, R]) Apply(ctx context.Context, p *Pool, a A) (R, error) {
	o := t.single(p, a)
	r, err := o.get(ctx)
	if err != nil && ctx.Err() != nil && !o.isDone() {
		o.cancel()
	}
	return r, err
}

// MapAsync schedules t over xs in chunks and returns an AsyncResult of the
// results in order (map_async). xs must not change until it is ready.
func (t *TaskFunc[A, R]) MapAsync(p *Pool, xs []A, opts ...CallOption) *AsyncResult[[]R] {
	o := newOutcome[[]R](p)
	def := (len(xs) + 4*p.n - 1) / (4 * p.n)
	cs, err := chunksize(opts, max(def, 1))
	if err != nil {
		o.complete(nil, err)
		return &AsyncResult[[]R]{o}
	}
	out, errs := make([]R, len(xs)), make([]error, len(xs))
	nch := (len(xs) + cs - 1) / cs
	var left atomic.Int64
	left.Store(int64(nch))
	done := func() {
		if left.Add(-1) == 0 {
			o.complete(out, firstErr(errs))
		}
	}
	cs1 := make([]chunk[A, R], nch)
	js := make([]job, nch)
	o.jobs = make([]*job, nch)
	for k := range nch {
		lo, hi := k*cs, min(k*cs+cs, len(xs))
		cs1[k] = chunk[A, R]{t: t, in: xs[lo:hi], out: out[lo:hi], errs: errs[lo:hi], onDone: done}
		js[k] = job{task: t.name, w: &cs1[k]}
		o.jobs[k] = &js[k]
	}
	if err := p.submit(o.jobs...); err != nil {
		o.complete(nil, err)
	} else if nch == 0 {
		o.complete(out, nil)
	}
	return &AsyncResult[[]R]{o}
}

func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Map runs t over xs in the pool and returns the results in order (map).
// The error is the first failed item's (by index); the slice then still
// holds every result that succeeded. If ctx ends first Map returns
// ctx.Err() and cancels the chunks no worker has taken.
func (t *TaskFunc[A, R]) Map(ctx context.Context, p *Pool, xs []A, opts ...CallOption) ([]R, error) {
	r := t.MapAsync(p, xs, opts...)
	out, err := r.o.get(ctx)
	if err != nil && ctx.Err() != nil && !r.o.isDone() {
		r.o.cancel()
	}
	return out, err
}

// Imap runs t over the items of xs and yields the results in order as they
// become available (imap): it takes items from xs only as the pool keeps up
// (at most a window of 32 chunks per worker ahead of the consumer), so xs
// may be endless. xs is read from another goroutine. A failed item yields
// its error and the iteration goes on; if ctx ends, Imap yields ctx.Err()
// and stops. Breaking out of the loop cancels the chunks not yet taken.
func (t *TaskFunc[A, R]) Imap(ctx context.Context, p *Pool, xs iter.Seq[A], opts ...CallOption) iter.Seq2[R, error] {
	return t.imap(ctx, p, xs, true, opts)
}

// ImapUnordered is Imap yielding each chunk's results as soon as it is done
// (imap_unordered).
func (t *TaskFunc[A, R]) ImapUnordered(ctx context.Context, p *Pool, xs iter.Seq[A], opts ...CallOption) iter.Seq2[R, error] {
	return t.imap(ctx, p, xs, false, opts)
}

// ichunk is a chunk of an Imap, numbered.
type ichunk[A, R any] struct {
	chunk[A, R]
	job job
	idx int
}

func (t *TaskFunc[A, R]) imap(ctx context.Context, p *Pool, xs iter.Seq[A], ordered bool, opts []CallOption) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) {
		var zero R
		cs, err := chunksize(opts, 1)
		if err != nil {
			yield(zero, err)
			return
		}
		ctx, cancel := context.WithCancel(ctx)
		window := 32 * p.n
		slots := make(chan struct{}, window) // one per chunk between submit and yield
		done := make(chan *ichunk[A, R], window)
		var mu sync.Mutex
		live := map[*job]struct{}{}
		var feedErr error
		total := make(chan int, 1)
		defer func() {
			cancel()
			mu.Lock()
			for j := range live {
				p.cancel(j)
			}
			mu.Unlock()
		}()
		go func() {
			n := 0
			flush := func(in []A) bool {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return false
				}
				c := &ichunk[A, R]{idx: n}
				c.chunk = chunk[A, R]{t: t, in: in, out: make([]R, len(in)), errs: make([]error, len(in)),
					onDone: func() { done <- c }}
				c.job = job{task: t.name, w: &c.chunk}
				mu.Lock()
				live[&c.job] = struct{}{}
				mu.Unlock()
				if err := p.submit(&c.job); err != nil {
					feedErr = err
					return false
				}
				n++
				return true
			}
			buf := make([]A, 0, cs)
			ok := true
			for a := range xs {
				if buf = append(buf, a); len(buf) == cs {
					if ok = flush(buf); !ok {
						break
					}
					buf = make([]A, 0, cs)
				}
			}
			if ok && len(buf) > 0 {
				flush(buf)
			}
			total <- n
		}()
		pending := map[int]*ichunk[A, R]{}
		next, got, want := 0, 0, -1
		emit := func(c *ichunk[A, R]) bool {
			mu.Lock()
			delete(live, &c.job)
			mu.Unlock()
			<-slots
			for i := range c.out {
				if !yield(c.out[i], c.errs[i]) {
					return false
				}
			}
			return true
		}
		for want < 0 || got < want {
			select {
			case c := <-done:
				got++
				if !ordered {
					if !emit(c) {
						return
					}
					continue
				}
				pending[c.idx] = c
				for c := pending[next]; c != nil; c = pending[next] {
					delete(pending, next)
					next++
					if !emit(c) {
						return
					}
				}
			case want = <-total:
			case <-ctx.Done():
				yield(zero, ctx.Err())
				return
			}
		}
		if feedErr != nil {
			yield(zero, feedErr)
		}
	}
}
