package compat_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/proc"
)

// The tasks of _test_multiprocessing.py (sqr, raising, ...), registered at
// package level so every worker process has them.
var (
	sqr = proc.Task("compat-sqr", func(ctx context.Context, x int) (int, error) { return x * x, nil })
	// sqrSlow is sqr(x, wait): it sleeps Ms milliseconds first.
	sqrSlow = proc.Task("compat-sqr-slow", func(ctx context.Context, a slowArg) (int, error) {
		select {
		case <-time.After(time.Duration(a.Ms) * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		return a.X * a.X, nil
	})
	raising = proc.Task("compat-raising", func(ctx context.Context, x int) (int, error) {
		return 0, errKey
	})
	failAt5 = proc.Task("compat-fail-at-5", func(ctx context.Context, x int) (int, error) {
		if x == 5 {
			return 0, fmt.Errorf("bad item %d", x)
		}
		return x * x, nil
	})
	panicking = proc.Task("compat-panicking", func(ctx context.Context, x int) (int, error) {
		panic(fmt.Sprintf("panic %d", x))
	})
	getpid = proc.Task("compat-getpid", func(ctx context.Context, _ int) (int, error) { return os.Getpid(), nil })
	killMe = proc.Task("compat-kill-me", func(ctx context.Context, sig int) (int, error) {
		syscall.Kill(os.Getpid(), syscall.Signal(sig))
		select {}
	})
	badCode = proc.Task("compat-unencodable", func(ctx context.Context, _ int) (chan int, error) { return make(chan int), nil })
	getInit = proc.Task("compat-get-init", func(ctx context.Context, _ int) (string, error) { return initValue, nil })
	mul     = proc.Task("compat-mul", func(ctx context.Context, a pair) (int, error) { return a.X * a.Y, nil })
	setInit = proc.Initializer("compat-init", func(ctx context.Context, s string) error { initValue = s; return nil })
	badInit = proc.Initializer("compat-bad-init", func(ctx context.Context, _ int) error { return errors.New("init failed") })
)

// errKey is raising()'s KeyError.
var errKey = errors.New("KeyError: 'key'")

// initValue is what the pool initializer sets in each worker.
var initValue string

// pair is mul(x, y)'s arguments: starmap's tuples.
type pair struct{ X, Y int }

// slowArg is sqr(x, wait)'s arguments.
type slowArg struct{ X, Ms int }

// newPool starts a pool terminated and joined when the test ends.
func newPool(t *testing.T, n int, o *proc.PoolOptions) *proc.Pool {
	t.Helper()
	p, err := proc.NewPool(n, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Terminate()
		p.Join(context.Background())
	})
	return p
}

// bothPools runs f on a process pool and on an in-process one, as CPython
// runs _TestPool for processes and for threads (multiprocessing.dummy).
func bothPools(t *testing.T, n int, f func(t *testing.T, p *proc.Pool)) {
	for _, in := range []bool{false, true} {
		name := "processes"
		if in {
			name = "threads"
		}
		t.Run(name, func(t *testing.T) { f(t, newPool(t, n, &proc.PoolOptions{InProcess: in})) })
	}
}

func squares(n int) []int {
	var out []int
	for i := range n {
		out = append(out, i*i)
	}
	return out
}

func upto(n int) []int {
	var out []int
	for i := range n {
		out = append(out, i)
	}
	return out
}

// TestPoolApply ports _TestPool.test_apply: apply(sqr, (5,)) == 25.
func TestPoolApply(t *testing.T) {
	bothPools(t, 2, func(t *testing.T, p *proc.Pool) {
		if v, err := sqr.Apply(ctxT(t), p, 5); v != 25 || err != nil {
			t.Fatalf("apply: %d %v", v, err)
		}
	})
}

// TestPoolMap ports _TestPool.test_map: results in order, with the default
// chunksize and with chunksize=20.
func TestPoolMap(t *testing.T) {
	bothPools(t, 3, func(t *testing.T, p *proc.Pool) {
		ctx := ctxT(t)
		if got, err := sqr.Map(ctx, p, upto(10)); !slices.Equal(got, squares(10)) || err != nil {
			t.Fatalf("map: %v %v", got, err)
		}
		if got, err := sqr.Map(ctx, p, upto(100), proc.Chunksize(20)); !slices.Equal(got, squares(100)) || err != nil {
			t.Fatalf("map chunksize=20: %v %v", got, err)
		}
	})
}

// TestPoolMapAsyncCallbacks ports _TestPool.test_map_async and
// test_map_async_callbacks: map_async's result, its callback with the
// list on success, its error_callback (and not callback) on failure.
func TestPoolMapAsyncCallbacks(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	r := sqr.MapAsync(p, upto(10))
	got := make(chan []int, 1)
	r.OnSuccess(func(v []int) { got <- v })
	r.OnError(func(err error) { t.Errorf("error_callback on success: %v", err) })
	if v, err := r.Get(ctx); !slices.Equal(v, squares(10)) || err != nil {
		t.Fatalf("map_async get: %v %v", v, err)
	}
	if v := <-got; !slices.Equal(v, squares(10)) {
		t.Fatalf("callback got %v", v)
	}
	bad := failAt5.MapAsync(p, upto(10))
	errc := make(chan error, 1)
	bad.OnError(func(err error) { errc <- err })
	bad.OnSuccess(func([]int) { t.Error("callback on failure") })
	if err := bad.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "bad item 5") {
		t.Fatalf("error_callback got %v", err)
	}
	if ok, err := bad.Successful(); ok || err != nil {
		t.Fatalf("successful() of a failed map: %v %v", ok, err)
	}
}

// TestPoolMapChunksize ports _TestPool.test_map_chunksize (map_async of an
// empty list with chunksize=1 does not stall) and the chunksize checks of
// imap/imap_unordered ("Chunksize must be 1+"); shmkit checks it for map
// too.
func TestPoolMapChunksize(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	if v, err := sqr.MapAsync(p, nil, proc.Chunksize(1)).Get(ctx); len(v) != 0 || err != nil {
		t.Fatalf("map_async([], chunksize=1): %v %v", v, err)
	}
	if _, err := sqr.Map(ctx, p, upto(3), proc.Chunksize(0)); !errors.Is(err, proc.ErrChunksize) {
		t.Errorf("map chunksize=0: %v", err)
	}
	for _, f := range []func() error{
		func() error {
			for _, err := range sqr.Imap(ctx, p, slices.Values(upto(3)), proc.Chunksize(0)) {
				return err
			}
			return nil
		},
		func() error {
			for _, err := range sqr.ImapUnordered(ctx, p, slices.Values(upto(3)), proc.Chunksize(-1)) {
				return err
			}
			return nil
		},
	} {
		if err := f(); !errors.Is(err, proc.ErrChunksize) {
			t.Errorf("imap chunksize<1: %v", err)
		}
	}
}

// TestPoolEmptyIterable ports _TestPool.test_empty_iterable: map, imap,
// imap_unordered and map_async of nothing give nothing.
func TestPoolEmptyIterable(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	if v, err := sqr.Map(ctx, p, nil); len(v) != 0 || err != nil {
		t.Errorf("map([]): %v %v", v, err)
	}
	n := 0
	for range sqr.Imap(ctx, p, slices.Values([]int{})) {
		n++
	}
	for range sqr.ImapUnordered(ctx, p, slices.Values([]int{})) {
		n++
	}
	if n != 0 {
		t.Errorf("imap of nothing yielded %d", n)
	}
	if v, err := sqr.MapAsync(p, []int{}).Get(ctx); len(v) != 0 || err != nil {
		t.Errorf("map_async([]): %v %v", v, err)
	}
}

// TestPoolAsync ports _TestPool.test_async and test_async_timeout:
// apply_async's get; get(timeout) on a call still running raises
// TimeoutError (ctx.Err()), and ready()/successful()/wait(timeout) tell it
// is not done.
func TestPoolAsync(t *testing.T) {
	bothPools(t, 2, func(t *testing.T, p *proc.Pool) {
		ctx := ctxT(t)
		if v, err := sqrSlow.ApplyAsync(p, slowArg{7, 10}).Get(ctx); v != 49 || err != nil {
			t.Fatalf("apply_async get: %d %v", v, err)
		}
		r := sqrSlow.ApplyAsync(p, slowArg{6, 2000})
		if _, err := r.Get(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("get(timeout): %v; want DeadlineExceeded", err)
		}
		if err := r.Wait(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("wait(timeout): %v", err)
		}
		if r.Ready() {
			t.Fatal("ready() while running")
		}
		if _, err := r.Successful(); !errors.Is(err, proc.ErrNotReady) {
			t.Fatalf("successful() while running: %v; want ErrNotReady", err)
		}
	})
}

// TestPoolImap ports _TestPool.test_imap (ordered, also with
// chunksize=100 over 1000 items) and IMapIterator.next re-raising a failed
// item at its position while the others still arrive.
func TestPoolImap(t *testing.T) {
	bothPools(t, 3, func(t *testing.T, p *proc.Pool) {
		ctx := ctxT(t)
		collect := func(it func(func(int, error) bool)) (out []int, errs []int) {
			i := 0
			for v, err := range it {
				if err != nil {
					errs = append(errs, i)
				}
				out = append(out, v)
				i++
			}
			return
		}
		if got, errs := collect(sqr.Imap(ctx, p, slices.Values(upto(10)))); !slices.Equal(got, squares(10)) || errs != nil {
			t.Fatalf("imap: %v errors at %v", got, errs)
		}
		if got, errs := collect(sqr.Imap(ctx, p, slices.Values(upto(1000)), proc.Chunksize(100))); !slices.Equal(got, squares(1000)) || errs != nil {
			t.Fatalf("imap chunksize=100: %d results, errors at %v", len(got), errs)
		}
		got, errs := collect(failAt5.Imap(ctx, p, slices.Values(upto(10))))
		want := squares(10)
		want[5] = 0
		if !slices.Equal(got, want) || !slices.Equal(errs, []int{5}) {
			t.Fatalf("imap with a failing item: %v errors at %v", got, errs)
		}
	})
}

// TestPoolImapUnordered ports _TestPool.test_imap_unordered: every result
// arrives once, in any order (sorted here), also with chunksize=53.
func TestPoolImapUnordered(t *testing.T) {
	bothPools(t, 3, func(t *testing.T, p *proc.Pool) {
		ctx := ctxT(t)
		for _, cs := range []int{1, 53} {
			var got []int
			for v, err := range sqr.ImapUnordered(ctx, p, slices.Values(upto(200)), proc.Chunksize(cs)) {
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			slices.Sort(got)
			if !slices.Equal(got, squares(200)) {
				t.Fatalf("imap_unordered chunksize=%d: %d results", cs, len(got))
			}
		}
	})
}

// TestPoolErrors ports _TestPool.test_traceback and
// _TestPoolWorkerErrors.test_async_error_callback: a task's exception
// reaches apply, apply_async's get and its error_callback, with the text
// (RemoteError; a panic is a PanicError with the worker's stack, CPython's
// RemoteTraceback); the worker goes on.
func TestPoolErrors(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, nil)
	_, err := raising.Apply(ctx, p, 0)
	var re *proc.RemoteError
	if !errors.As(err, &re) || !strings.Contains(re.Msg, "KeyError") {
		t.Fatalf("apply(raising): %v; want a RemoteError with the text", err)
	}
	r := raising.ApplyAsync(p, 0)
	errc := make(chan error, 1)
	r.OnError(func(err error) { errc <- err })
	if _, err := r.Get(ctx); !errors.As(err, &re) {
		t.Fatalf("apply_async get: %v", err)
	}
	if err := <-errc; !errors.As(err, &re) {
		t.Fatalf("error_callback got %v", err)
	}
	if ok, err := r.Successful(); ok || err != nil {
		t.Fatalf("successful(): %v %v", ok, err)
	}
	_, err = panicking.Apply(ctx, p, 3)
	var pe *proc.PanicError
	if !errors.As(err, &pe) || pe.Value != "panic 3" || !strings.Contains(pe.Stack, "goroutine") {
		t.Fatalf("apply(panicking): %#v", err)
	}
	if v, err := sqr.Apply(ctx, p, 4); v != 16 || err != nil {
		t.Fatalf("the worker after the failures: %d %v", v, err)
	}
}

// TestPoolMapNoFailfast ports _TestPool.test_map_no_failfast: a failing
// item does not stop the map; the others are all computed.
func TestPoolMapNoFailfast(t *testing.T) {
	bothPools(t, 2, func(t *testing.T, p *proc.Pool) {
		got, err := failAt5.Map(ctxT(t), p, upto(10), proc.Chunksize(1))
		if err == nil || !strings.Contains(err.Error(), "bad item 5") {
			t.Fatalf("map: %v", err)
		}
		want := squares(10)
		want[5] = 0
		if !slices.Equal(got, want) {
			t.Fatalf("results %v; want %v", got, want)
		}
	})
}

// TestMakePool ports _TestPool.test_make_pool: Pool(-1) and Pool(0) raise
// ValueError; Pool(3) has three workers.
func TestMakePool(t *testing.T) {
	for _, n := range []int{-1, 0} {
		if _, err := proc.NewPool(n, nil); !errors.Is(err, proc.ErrWorkers) {
			t.Errorf("Pool(%d): %v", n, err)
		}
	}
	if _, err := proc.NewPool(1, &proc.PoolOptions{MaxTasksPerChild: -1}); !errors.Is(err, proc.ErrInvalidOption) {
		t.Errorf("maxtasksperchild=-1: %v", err)
	}
	if p := newPool(t, 3, nil); p.Workers() != 3 {
		t.Errorf("workers %d", p.Workers())
	}
}

// TestPoolTerminate ports _TestPool.test_terminate: terminate() with a
// long map_async queued returns promptly and join() then succeeds; the
// unfinished result fails with ErrTerminated (in CPython it never becomes
// ready).
func TestPoolTerminate(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	args := make([]slowArg, 1000)
	for i := range args {
		args[i] = slowArg{i, 100}
	}
	r := sqrSlow.MapAsync(p, args, proc.Chunksize(1))
	if err := p.Terminate(); err != nil {
		t.Fatal(err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx); !errors.Is(err, proc.ErrTerminated) {
		t.Fatalf("map_async after terminate: %v; want ErrTerminated", err)
	}
	if _, err := sqr.Apply(ctx, p, 1); !errors.Is(err, proc.ErrNotRunning) {
		t.Fatalf("apply after terminate: %v; want ErrNotRunning", err)
	}
}

// TestPoolCloseJoin ports _TestPool.test_close/test_context and the
// ValueErrors of pool.py: join() before close() ("Pool is still running"),
// work submitted after close() ("Pool not running"); work submitted before
// close() still completes.
func TestPoolCloseJoin(t *testing.T) {
	bothPools(t, 2, func(t *testing.T, p *proc.Pool) {
		ctx := ctxT(t)
		if err := p.Join(ctx); !errors.Is(err, proc.ErrStillRunning) {
			t.Fatalf("join before close: %v", err)
		}
		var rs []*proc.AsyncResult[int]
		for i := range 4 {
			rs = append(rs, sqrSlow.ApplyAsync(p, slowArg{i, 20}))
		}
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := sqr.ApplyAsync(p, 1).Get(ctx); !errors.Is(err, proc.ErrNotRunning) {
			t.Fatalf("apply_async after close: %v", err)
		}
		if _, err := sqr.Map(ctx, p, upto(3)); !errors.Is(err, proc.ErrNotRunning) {
			t.Fatalf("map after close: %v", err)
		}
		if err := p.Join(ctx); err != nil {
			t.Fatal(err)
		}
		for i, r := range rs {
			if v, err := r.Get(ctx); v != i*i || err != nil {
				t.Errorf("task %d submitted before close: %d %v", i, v, err)
			}
		}
	})
}

// TestPoolWorkerLifetime ports _TestPoolWorkerLifetime.test_pool_worker_lifetime:
// with maxtasksperchild=2 no worker process runs more than two tasks, so
// ten tasks see at least five pids, and every result is right.
func TestPoolWorkerLifetime(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, &proc.PoolOptions{MaxTasksPerChild: 2})
	count := map[int]int{}
	for range 10 {
		pid, err := getpid.Apply(ctx, p, 0)
		if err != nil {
			t.Fatal(err)
		}
		count[pid]++
	}
	for pid, n := range count {
		if n > 2 {
			t.Errorf("worker %d ran %d tasks", pid, n)
		}
	}
	if len(count) < 5 {
		t.Errorf("%d distinct workers for 10 tasks", len(count))
	}
	if got, err := sqr.Map(ctx, p, upto(6), proc.Chunksize(1)); !slices.Equal(got, squares(6)) || err != nil {
		t.Fatalf("map across replacements: %v %v", got, err)
	}
}

// TestPoolWorkerLifetimeEarlyClose ports
// _TestPoolWorkerLifetime.test_pool_worker_lifetime_early_close: Pool(1,
// maxtasksperchild=1), six apply_async, close() and join() at once: every
// result arrives.
func TestPoolWorkerLifetimeEarlyClose(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, &proc.PoolOptions{MaxTasksPerChild: 1})
	var rs []*proc.AsyncResult[int]
	for i := range 6 {
		rs = append(rs, sqrSlow.ApplyAsync(p, slowArg{i, 10}))
	}
	p.Close()
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	for i, r := range rs {
		if v, err := r.Get(ctx); v != i*i || err != nil {
			t.Errorf("result %d: %d %v", i, v, err)
		}
	}
}

// TestPoolInitializer ports _TestInitializers.test_pool_initializer: the
// initializer runs with its initargs in every worker before its tasks.
func TestPoolInitializer(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, &proc.PoolOptions{Initializer: setInit.With("initialized")})
	got, err := getInit.Map(ctx, p, upto(8), proc.Chunksize(1))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if s != "initialized" {
			t.Fatalf("a worker's value: %q", s)
		}
	}
}

// TestPoolWorkerKilled ports the case CPython's Pool hangs on (gh-66587)
// and test_process_pool's test_killed_child (BrokenProcessPool), as shmkit
// deliberately differs: the task whose worker was killed fails with
// ErrWorkerDied (exit code -SIGKILL), the worker is replaced, and the other
// tasks and later work succeed.
func TestPoolWorkerKilled(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	others := sqrSlow.MapAsync(p, []slowArg{{1, 20}, {2, 20}, {3, 20}, {4, 20}}, proc.Chunksize(1))
	_, err := killMe.Apply(ctx, p, int(syscall.SIGKILL))
	var we *proc.WorkerError
	if !errors.Is(err, proc.ErrWorkerDied) || !errors.As(err, &we) || we.ExitCode != -int(syscall.SIGKILL) || we.Signal != syscall.SIGKILL {
		t.Fatalf("task whose worker was killed: %#v", err)
	}
	if v, err := others.Get(ctx); !slices.Equal(v, []int{1, 4, 9, 16}) || err != nil {
		t.Fatalf("other tasks: %v %v", v, err)
	}
	if got, err := sqr.Map(ctx, p, upto(10)); !slices.Equal(got, squares(10)) || err != nil {
		t.Fatalf("map after the kill: %v %v", got, err)
	}
}

// TestPoolUnpickleableResult ports
// _TestPoolWorkerErrors.test_unpickleable_result: a result that cannot be
// encoded (a channel, as CPython's lambda) fails that call with an error
// (MaybeEncodingError) and the pool goes on.
func TestPoolUnpickleableResult(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, nil)
	for range 2 {
		if _, err := badCode.Apply(ctx, p, 0); err == nil {
			t.Fatal("an unencodable result succeeded")
		}
	}
	if v, err := sqr.Apply(ctx, p, 3); v != 9 || err != nil {
		t.Fatalf("the pool after the failure: %d %v", v, err)
	}
}

// TestPoolCallbackOrder ports _TestPool.test_async's callback use: the
// callbacks of many apply_async calls each run once with their own value.
func TestPoolCallbackOrder(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 3, nil)
	var sum atomic.Int64
	var rs []*proc.AsyncResult[int]
	for i := range 30 {
		r := sqr.ApplyAsync(p, i)
		r.OnSuccess(func(v int) { sum.Add(int64(v)) })
		rs = append(rs, r)
	}
	for _, r := range rs {
		r.Wait(ctx)
	}
	want := 0
	for _, v := range squares(30) {
		want += v
	}
	if sum.Load() != int64(want) {
		t.Fatalf("callbacks summed %d; want %d", sum.Load(), want)
	}
}

// TestPoolStarmap ports _TestPool.test_starmap and test_starmap_async:
// starmap(mul, tuples) is a map of a task taking a struct.
func TestPoolStarmap(t *testing.T) {
	bothPools(t, 2, func(t *testing.T, p *proc.Pool) {
		ctx := ctxT(t)
		var in []pair
		var want []int
		for i := range 10 {
			in = append(in, pair{i, i * 2})
			want = append(want, i*i*2)
		}
		if got, err := mul.Map(ctx, p, in); !slices.Equal(got, want) || err != nil {
			t.Fatalf("starmap: %v %v", got, err)
		}
		if got, err := mul.MapAsync(p, in, proc.Chunksize(3)).Get(ctx); !slices.Equal(got, want) || err != nil {
			t.Fatalf("starmap_async: %v %v", got, err)
		}
	})
}

// TestPoolImapBreak ports the early exit from an imap loop (CPython:
// dropping the IMapIterator; test_release_task_refs's concern that nothing
// is left behind): breaking out cancels the chunks no worker took, and the
// pool serves the next call.
func TestPoolImapBreak(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	args := make([]slowArg, 100)
	for i := range args {
		args[i] = slowArg{i, 20}
	}
	n := 0
	for v, err := range sqrSlow.Imap(ctx, p, slices.Values(args)) {
		if v != 0 || err != nil {
			t.Fatalf("first result: %d %v", v, err)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("%d results before the break", n)
	}
	if got, err := sqr.Map(ctx, p, upto(10)); !slices.Equal(got, squares(10)) || err != nil {
		t.Fatalf("map after a broken-off imap: %v %v", got, err)
	}
}

// TestPoolFailingInitializer ports test_concurrent_futures/test_init.py's
// FailingInitializerMixin.test_initializer: when the initializer fails the
// executor is broken (BrokenExecutor on every submitted call). shmkit
// reports it earlier, as documented: NewPool waits for each worker's
// initializer and fails with ErrInitializer, on process and in-process
// pools alike, so no call can hang on it.
func TestPoolFailingInitializer(t *testing.T) {
	for _, in := range []bool{false, true} {
		p, err := proc.NewPool(2, &proc.PoolOptions{Initializer: badInit.With(0), InProcess: in})
		if !errors.Is(err, proc.ErrInitializer) || !strings.Contains(fmt.Sprint(err), "init failed") {
			t.Errorf("in-process %v: NewPool: %v; want ErrInitializer with the reason", in, err)
		}
		if p != nil {
			p.Terminate()
		}
	}
}

// TestThreadPoolErrorIdentity ports the ThreadPool (multiprocessing.dummy)
// half of _TestPool.test_wrapped_exception: in-process the task's own
// error comes back (errors.Is holds); from a worker process only its text
// does (a *RemoteError), as documented.
func TestThreadPoolErrorIdentity(t *testing.T) {
	ctx := ctxT(t)
	in := newPool(t, 1, &proc.PoolOptions{InProcess: true})
	if _, err := raising.Apply(ctx, in, 0); !errors.Is(err, errKey) {
		t.Errorf("in-process: %v is not the task's error", err)
	}
	out := newPool(t, 1, nil)
	_, err := raising.Apply(ctx, out, 0)
	var re *proc.RemoteError
	if !errors.As(err, &re) || re.Msg != errKey.Error() || re.Task != raising.Name() {
		t.Errorf("worker process: %#v", err)
	}
}

// TestPoolTerminateDuringImap ports test_terminate for a consumer inside an
// imap loop over an endless iterable: terminate() from another goroutine
// ends the loop with ErrTerminated instead of leaving it waiting (CPython's
// IMapIterator would wait for ever).
func TestPoolTerminateDuringImap(t *testing.T) {
	bothPools(t, 2, func(t *testing.T, p *proc.Pool) {
		endless := func(yield func(slowArg) bool) {
			for i := 0; yield(slowArg{i, 10}); i++ {
			}
		}
		n := 0
		var last error
		for _, err := range sqrSlow.Imap(ctxT(t), p, endless) {
			if n++; n == 3 {
				go p.Terminate()
			}
			if err != nil {
				last = err
				break
			}
		}
		if !errors.Is(last, proc.ErrTerminated) {
			t.Fatalf("imap after terminate: %v after %d items", last, n)
		}
	})
}
