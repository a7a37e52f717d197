package compat_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/proc"
)

// fixtures are test_concurrent_futures' module-level futures, made for real
// on a pool of one worker: a SUCCESSFUL_FUTURE (42), an EXCEPTION_FUTURE, a
// RUNNING_FUTURE (a long call holding the only worker, killed by the
// pool's Terminate at the test's end) and a CANCELLED future.
type fixtures struct {
	p                                 *proc.Pool
	successful, failed, running, canc *proc.Future[int]
}

func newFixtures(t *testing.T) fixtures { return newFixturesOn(t, false) }

// newFixturesOn makes the fixtures on a process pool, or on an in-process
// one (ThreadPoolExecutor) when inProcess is set.
func newFixturesOn(t *testing.T, inProcess bool) fixtures {
	t.Helper()
	ctx := ctxT(t)
	f := fixtures{p: newPool(t, 1, &proc.PoolOptions{InProcess: inProcess})}
	f.successful = sqr.Submit(f.p, 42)
	f.failed = raising.Submit(f.p, 0)
	for _, x := range []*proc.Future[int]{f.successful, f.failed} {
		x.Err(ctx)
	}
	f.running = sqrSlow.Submit(f.p, slowArg{1, 60_000})
	for !f.running.Running() {
		if f.running.Done() {
			t.Fatalf("the long call ended: %v", f.running.Err(ctx))
		}
		time.Sleep(time.Millisecond) // polling, not a timing assertion
	}
	f.canc = sqr.Submit(f.p, 1)
	if !f.canc.Cancel() {
		t.Fatal("could not cancel a call queued behind a running one")
	}
	return f
}

// bothExecutors runs f with fixtures on a process pool and on an in-process
// one, as CPython runs the future tests for ProcessPoolExecutor and
// ThreadPoolExecutor.
func bothExecutors(t *testing.T, f func(t *testing.T, fx fixtures)) {
	for _, in := range []bool{false, true} {
		name := "processes"
		if in {
			name = "threads"
		}
		t.Run(name, func(t *testing.T) { f(t, newFixturesOn(t, in)) })
	}
}

// pending submits a call that stays queued behind f.running.
func (f fixtures) pending() *proc.Future[int] { return sqr.Submit(f.p, 7) }

// TestFutureStates ports test_future.py's test_cancel, test_cancelled,
// test_done, test_running, test_result_with_cancel and
// test_exception_with_cancel: cancel() succeeds only on a pending future;
// a cancelled future is done, not running, and its result/exception raise
// CancelledError (ErrCancelled).
func TestFutureStates(t *testing.T) { bothExecutors(t, testFutureStates) }

func testFutureStates(t *testing.T, f fixtures) {
	ctx := ctxT(t)
	pend := f.pending()
	for _, c := range []struct {
		name                       string
		fut                        *proc.Future[int]
		running, done, cancelOK, c bool
	}{
		{"pending", pend, false, false, true, true},
		{"running", f.running, true, false, false, false},
		{"successful", f.successful, false, true, false, false},
		{"failed", f.failed, false, true, false, false},
		{"cancelled", f.canc, false, true, true, true},
	} {
		if c.fut.Running() != c.running || c.fut.Done() != c.done {
			t.Errorf("%s: running %v done %v", c.name, c.fut.Running(), c.fut.Done())
		}
		if ok := c.fut.Cancel(); ok != c.cancelOK {
			t.Errorf("%s: cancel() = %v", c.name, ok)
		}
		if c.fut.Cancelled() != c.c {
			t.Errorf("%s: cancelled() = %v", c.name, c.fut.Cancelled())
		}
	}
	for _, fut := range []*proc.Future[int]{pend, f.canc} {
		if !fut.Done() || fut.Running() {
			t.Errorf("cancelled future: done %v running %v", fut.Done(), fut.Running())
		}
		if _, err := fut.Result(ctx); !errors.Is(err, proc.ErrCancelled) {
			t.Errorf("result() of a cancelled future: %v", err)
		}
		if err := fut.Err(ctx); !errors.Is(err, proc.ErrCancelled) {
			t.Errorf("exception() of a cancelled future: %v", err)
		}
	}
}

// TestFutureResultTimeout ports test_future.py's test_result_with_timeout,
// test_exception_with_timeout, test_result_with_success and
// test_exception_with_success: result(timeout) and exception(timeout) on a
// future not done raise TimeoutError (ctx.Err()); done ones return at once.
func TestFutureResultTimeout(t *testing.T) { bothExecutors(t, testFutureResultTimeout) }

func testFutureResultTimeout(t *testing.T, f fixtures) {
	for _, fut := range []*proc.Future[int]{f.pending(), f.running} {
		if _, err := fut.Result(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("result(timeout): %v", err)
		}
		if err := fut.Err(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("exception(timeout): %v", err)
		}
	}
	if v, err := f.successful.Result(nowait()); v != 42*42 || err != nil {
		t.Errorf("result() of a finished future: %d %v", v, err)
	}
	if err := f.successful.Err(nowait()); err != nil {
		t.Errorf("exception() of a finished future: %v", err)
	}
	// The call's error: a *RemoteError from a worker process, the task's
	// own error in-process (documented); the text either way.
	if _, err := f.failed.Result(nowait()); err == nil || !strings.Contains(err.Error(), "KeyError") {
		t.Errorf("result() of a failed future: %v", err)
	}
	if err := f.failed.Err(nowait()); err == nil || !strings.Contains(err.Error(), "KeyError") {
		t.Errorf("exception() of a failed future: %v", err)
	}
}

// TestFutureDoneCallbacks ports test_future.py's
// test_done_callback_with_result, _with_exception, _with_cancel,
// _already_successful, _already_failed, _already_cancelled and
// test_done_callback_raises: callbacks run once with the future when it
// completes, is cancelled, or at once if it already is; a callback that
// panics (CPython: raises) is logged and the next callback still runs.
func TestFutureDoneCallbacks(t *testing.T) {
	ctx := ctxT(t)
	f := newFixtures(t)
	type seen struct {
		v   int
		err error
	}
	record := func(fut *proc.Future[int]) chan seen {
		ch := make(chan seen, 2)
		fut.AddDoneCallback(func(g *proc.Future[int]) {
			if g != fut {
				t.Error("callback got another future")
			}
			v, err := g.Result(nowait())
			ch <- seen{v, err}
		})
		return ch
	}
	// Already done: called at once, in this goroutine.
	for _, c := range []struct {
		fut  *proc.Future[int]
		want func(seen) bool
	}{
		{f.successful, func(s seen) bool { return s.v == 42*42 && s.err == nil }},
		{f.failed, func(s seen) bool { var re *proc.RemoteError; return errors.As(s.err, &re) }},
		{f.canc, func(s seen) bool { return errors.Is(s.err, proc.ErrCancelled) }},
	} {
		select {
		case s := <-record(c.fut):
			if !c.want(s) {
				t.Errorf("callback on a done future saw %+v", s)
			}
		default:
			t.Error("callback on a done future did not run at once")
		}
	}
	// Not yet done: called when cancelled.
	pend := f.pending()
	ch := record(pend)
	pend.Cancel()
	if s := <-ch; !errors.Is(s.err, proc.ErrCancelled) {
		t.Errorf("callback on cancel saw %+v", s)
	}
	// Not yet done: called when it finishes, on another pool; the first
	// callback panics, the second still runs.
	p := newPool(t, 1, nil)
	slow := sqrSlow.Submit(p, slowArg{3, 20})
	slow.AddDoneCallback(func(*proc.Future[int]) { panic("callback raised") })
	ch = record(slow)
	if s := <-ch; s.v != 9 || s.err != nil {
		t.Errorf("callback with result saw %+v", s)
	}
	if v, err := sqr.Apply(ctx, p, 2); v != 4 || err != nil {
		t.Errorf("the pool after a panicking callback: %d %v", v, err)
	}
	if len(ch) != 0 {
		t.Error("callback ran twice")
	}
}

// TestAsCompleted ports test_as_completed.py's test_no_timeout: finished,
// failed and cancelled futures and two new calls all come out, each once.
func TestAsCompleted(t *testing.T) {
	ctx := ctxT(t)
	f := newFixtures(t)
	p := newPool(t, 2, nil)
	f1, f2 := sqr.Submit(p, 2), sqr.Submit(p, 7)
	in := []*proc.Future[int]{f.canc, f.failed, f.successful, f1, f2}
	var got []*proc.Future[int]
	for fut, err := range proc.AsCompleted(ctx, in) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fut)
	}
	if len(got) != len(in) {
		t.Fatalf("%d futures yielded; want %d", len(got), len(in))
	}
	for _, fut := range in {
		if !slices.Contains(got, fut) {
			t.Error("a future was not yielded")
		}
	}
	// The three already done come first.
	for _, fut := range got[:3] {
		if fut == f1 || fut == f2 {
			t.Error("a new call was yielded before a future already done")
		}
	}
}

// TestAsCompletedTimeout ports test_as_completed.py's test_future_times_out
// (and test_correct_timeout_exception_msg's count): the finished futures
// are yielded, then TimeoutError (ctx.Err()) while the rest are pending.
func TestAsCompletedTimeout(t *testing.T) { bothExecutors(t, testAsCompletedTimeout) }

func testAsCompletedTimeout(t *testing.T, f fixtures) {
	in := []*proc.Future[int]{f.canc, f.pending(), f.running, f.successful}
	var got []*proc.Future[int]
	var last error
	for fut, err := range proc.AsCompleted(ctxShort(t), in) {
		if err != nil {
			last = err
			break
		}
		got = append(got, fut)
	}
	if !errors.Is(last, context.DeadlineExceeded) {
		t.Fatalf("as_completed(timeout): %v", last)
	}
	if len(got) != 2 || !slices.Contains(got, f.canc) || !slices.Contains(got, f.successful) {
		t.Fatalf("yielded %d futures before the timeout; want the 2 done", len(got))
	}
	// timeout=0 (test_correct_timeout_exception_msg): the finished futures
	// still come out first, every time, then TimeoutError for the other two.
	for range 20 {
		got, last = nil, nil
		for fut, err := range proc.AsCompleted(nowait(), in) {
			if err != nil {
				last = err
				break
			}
			got = append(got, fut)
		}
		if len(got) != 2 || !errors.Is(last, context.Canceled) {
			t.Fatalf("as_completed(timeout=0): %d futures, then %v; want 2, then the ctx error", len(got), last)
		}
	}
}

// TestAsCompletedDuplicates ports test_as_completed.py's
// test_duplicate_futures: a future given three times is yielded once.
func TestAsCompletedDuplicates(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, nil)
	fut := sqrSlow.Submit(p, slowArg{2, 10})
	n := 0
	for _, err := range proc.AsCompleted(ctx, []*proc.Future[int]{fut, fut, fut}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	if n != 1 {
		t.Fatalf("a future given 3 times was yielded %d times", n)
	}
}

// TestWaitFirstCompleted ports test_wait.py's test_first_completed and
// test_first_completed_some_already_completed.
func TestWaitFirstCompleted(t *testing.T) {
	ctx := ctxT(t)
	f := newFixtures(t)
	p := newPool(t, 1, nil)
	quick := sqr.Submit(p, 21)
	pend := f.pending()
	done, notDone, err := proc.Wait(ctx, []*proc.Future[int]{quick, pend}, proc.FirstCompleted)
	if err != nil || !slices.Equal(done, []*proc.Future[int]{quick}) || !slices.Equal(notDone, []*proc.Future[int]{pend}) {
		t.Fatalf("first_completed: done %d not done %d, %v", len(done), len(notDone), err)
	}
	done, notDone, err = proc.Wait(ctx, []*proc.Future[int]{f.canc, f.successful, f.running}, proc.FirstCompleted)
	if err != nil || len(done) != 2 || !slices.Equal(notDone, []*proc.Future[int]{f.running}) {
		t.Fatalf("some already completed: done %d not done %d, %v", len(done), len(notDone), err)
	}
}

// TestWaitFirstException ports test_wait.py's test_first_exception,
// test_first_exception_some_already_complete and
// test_first_exception_one_already_failed: FIRST_EXCEPTION returns at the
// first failure (a cancelled future is not one) and otherwise when all
// are done.
func TestWaitFirstException(t *testing.T) {
	ctx := ctxT(t)
	f := newFixtures(t)
	p := newPool(t, 2, nil)
	fail := raising.Submit(p, 0)
	ok := sqr.Submit(p, 3)
	pend := f.pending()
	done, notDone, err := proc.Wait(ctx, []*proc.Future[int]{ok, fail, pend}, proc.FirstException)
	if err != nil || !slices.Contains(done, fail) || !slices.Contains(notDone, pend) {
		t.Fatalf("first_exception: done %d not done %d, %v", len(done), len(notDone), err)
	}
	done, notDone, err = proc.Wait(ctx, []*proc.Future[int]{f.successful, f.canc, f.failed, f.running}, proc.FirstException)
	if err != nil || len(done) != 3 || !slices.Equal(notDone, []*proc.Future[int]{f.running}) {
		t.Fatalf("one already failed: done %d not done %d, %v", len(done), len(notDone), err)
	}
	// Nothing fails: FIRST_EXCEPTION waits for all.
	a, b := sqr.Submit(p, 1), sqrSlow.Submit(p, slowArg{2, 20})
	done, notDone, err = proc.Wait(ctx, []*proc.Future[int]{f.canc, a, b}, proc.FirstException)
	if err != nil || len(done) != 3 || len(notDone) != 0 {
		t.Fatalf("no exception: done %d not done %d, %v", len(done), len(notDone), err)
	}
}

// TestWaitAllCompleted ports test_wait.py's test_all_completed, test_timeout
// and test_20369 (a future given twice is one future in the result).
func TestWaitAllCompleted(t *testing.T) {
	ctx := ctxT(t)
	f := newFixtures(t)
	p := newPool(t, 2, nil)
	a, b := sqr.Submit(p, 2), raising.Submit(p, 0)
	all := []*proc.Future[int]{f.successful, f.canc, f.failed, a, b}
	done, notDone, err := proc.Wait(ctx, all, proc.AllCompleted)
	if err != nil || len(done) != len(all) || len(notDone) != 0 {
		t.Fatalf("all_completed: done %d not done %d, %v", len(done), len(notDone), err)
	}
	done, notDone, err = proc.Wait(ctxShort(t), []*proc.Future[int]{f.successful, f.running}, proc.AllCompleted)
	if !errors.Is(err, context.DeadlineExceeded) || !slices.Equal(done, []*proc.Future[int]{f.successful}) || !slices.Equal(notDone, []*proc.Future[int]{f.running}) {
		t.Fatalf("wait(timeout): done %d not done %d, %v", len(done), len(notDone), err)
	}
	done, notDone, err = proc.Wait(ctx, []*proc.Future[int]{a, a}, proc.AllCompleted)
	if err != nil || !slices.Equal(done, []*proc.Future[int]{a}) || len(notDone) != 0 {
		t.Fatalf("wait([f, f]): done %d not done %d, %v", len(done), len(notDone), err)
	}
}

// TestExecutorMap ports executor.py's test_map, test_map_exception and
// test_map_timeout: ex.map (Imap) yields in order, re-raises a failed
// item's exception at its position, and raises TimeoutError (ctx.Err(),
// then stops) when a result is not ready by the deadline.
func TestExecutorMap(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 2, nil)
	var got []int
	for v, err := range sqr.Imap(ctx, p, slices.Values(upto(10))) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, squares(10)) {
		t.Fatalf("map: %v", got)
	}
	i := 0
	for _, err := range failAt5.Imap(ctx, p, slices.Values(upto(10))) {
		if (err != nil) != (i == 5) {
			t.Fatalf("item %d: %v", i, err)
		}
		i++
	}
	// The deadline is a watchdog for the two quick calls and far too short
	// for the third (a minute, killed by the pool's Terminate at the end).
	tctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var results []int
	var last error
	for v, err := range sqrSlow.Imap(tctx, p, slices.Values([]slowArg{{1, 0}, {2, 0}, {3, 60_000}})) {
		if err != nil {
			last = err
			break
		}
		results = append(results, v)
	}
	if !errors.Is(last, context.DeadlineExceeded) || !slices.Equal(results, []int{1, 4}) {
		t.Fatalf("map(timeout): %v then %v", results, last)
	}
}

// TestExecutorShutdown ports test_shutdown.py's test_run_after_shutdown,
// test_cancel_futures and test_hang_issue12364 (shutdown waits for the
// running and queued calls): after shutdown(cancel_futures=True) every
// future is done, the queued ones cancelled; submit afterwards fails.
func TestExecutorShutdown(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, nil)
	var fs []*proc.Future[int]
	for i := range 8 {
		fs = append(fs, sqrSlow.Submit(p, slowArg{i, 30}))
	}
	for !fs[0].Running() && !fs[0].Done() {
		time.Sleep(time.Millisecond) // polling, not a timing assertion
	}
	if err := p.Shutdown(ctx, true); err != nil {
		t.Fatal(err)
	}
	cancelled := 0
	for i, fut := range fs {
		if !fut.Done() {
			t.Fatalf("future %d not done after shutdown", i)
		}
		if fut.Cancelled() {
			cancelled++
		} else if v, err := fut.Result(ctx); v != i*i || err != nil {
			t.Errorf("future %d: %d %v", i, v, err)
		}
	}
	if cancelled == 0 || fs[0].Cancelled() {
		t.Errorf("%d of %d cancelled, the running one %v; want some, not the running one", cancelled, len(fs), fs[0].Cancelled())
	}
	if _, err := sqr.Submit(p, 1).Result(ctx); !errors.Is(err, proc.ErrNotRunning) {
		t.Fatalf("submit after shutdown: %v; want ErrNotRunning", err)
	}
	// shutdown(wait=True) without cancel_futures runs everything queued.
	q := newPool(t, 2, nil)
	var gs []*proc.Future[int]
	for i := range 6 {
		gs = append(gs, sqrSlow.Submit(q, slowArg{i, 10}))
	}
	if err := q.Shutdown(ctx, false); err != nil {
		t.Fatal(err)
	}
	for i, g := range gs {
		if v, err := g.Result(nowait()); v != i*i || err != nil {
			t.Errorf("after shutdown(wait=True): future %d: %d %v", i, v, err)
		}
	}
}

// TestKilledChild ports test_process_pool.py's test_killed_child as shmkit
// deliberately differs: CPython marks the whole executor broken
// (BrokenProcessPool); here only the future whose worker died fails
// (ErrWorkerDied) and the executor keeps working.
func TestKilledChild(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, nil)
	fut := killMe.Submit(p, int(syscall.SIGKILL))
	if err := fut.Err(ctx); !errors.Is(err, proc.ErrWorkerDied) {
		t.Fatalf("future of the killed worker: %v", err)
	}
	if v, err := sqr.Submit(p, 5).Result(ctx); v != 25 || err != nil {
		t.Fatalf("submit after the kill: %d %v", v, err)
	}
}

// TestMaxTasksPerChild ports test_process_pool.py's test_max_tasks_per_child:
// with one worker and max_tasks_per_child=3 the first three calls run in
// one process and the fourth in a new one.
func TestMaxTasksPerChild(t *testing.T) {
	ctx := ctxT(t)
	p := newPool(t, 1, &proc.PoolOptions{MaxTasksPerChild: 3})
	var pids []int
	for range 4 {
		pid, err := getpid.Submit(p, 0).Result(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pids = append(pids, pid)
	}
	if pids[0] != pids[1] || pids[1] != pids[2] || pids[3] == pids[0] || pids[0] == os.Getpid() {
		t.Fatalf("pids %v: want three equal, then a new one", pids)
	}
}

// TestMaxWorkersNegative ports executor.py's test_max_workers_negative:
// ProcessPoolExecutor(0) and (-1) raise ValueError.
func TestMaxWorkersNegative(t *testing.T) {
	for _, n := range []int{0, -1} {
		if _, err := proc.NewPool(n, &proc.PoolOptions{InProcess: true}); !errors.Is(err, proc.ErrWorkers) {
			t.Errorf("max_workers=%d: %v", n, err)
		}
	}
}
