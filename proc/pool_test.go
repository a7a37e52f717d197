package proc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ring"
)

// Tasks used by the pool tests, registered in every process of the test
// binary.
var (
	square = Task("test.square", func(_ context.Context, x int) (int, error) { return x * x, nil })
	sleepy = Task("test.sleep", func(ctx context.Context, d time.Duration) (int, error) {
		select {
		case <-time.After(d):
			return os.Getpid(), nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	// awaitFile blocks until the file exists: a gate the test opens.
	awaitFile = Task("test.awaitFile", func(ctx context.Context, path string) (int, error) {
		for {
			if _, err := os.Stat(path); err == nil {
				return os.Getpid(), nil
			}
			select {
			case <-time.After(time.Millisecond):
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	})
	panicky = Task("test.panic", func(_ context.Context, x int) (int, error) {
		if x < 0 {
			panic("negative " + strings.Repeat("!", -x))
		}
		return x, nil
	})
	failing  = Task("test.fail", func(_ context.Context, msg string) (int, error) { return 0, errors.New(msg) })
	workerID = Task("test.pid", func(context.Context, int) (int, error) { return os.Getpid(), nil })
	// noArgs takes a type of size 0: its items take no bytes in a message.
	noArgs   = Task("test.noArgs", func(context.Context, struct{}) (int, error) { return 7, nil })
	initSeen = Task("test.initSeen", func(context.Context, int) (string, error) { return *initValue.Load(), nil })
	setInit  = Initializer("test.setInit", func(_ context.Context, v string) error {
		initValue.Store(&v) // in-process, every worker goroutine runs it
		initCount.Add(1)
		return nil
	})
	initValue atomic.Pointer[string]
	initCount atomic.Int64
)

// backends runs fn once per pool kind: worker processes and in-process.
func backends(t *testing.T, fn func(t *testing.T, inProcess bool)) {
	for _, in := range []bool{false, true} {
		name := "backend=process"
		if in {
			name = "backend=inprocess"
		}
		t.Run(name, func(t *testing.T) { fn(t, in) })
	}
}

func newTestPool(t *testing.T, n int, o PoolOptions) *Pool {
	t.Helper()
	p, err := NewPool(n, &o)
	if err != nil {
		t.Fatalf("NewPool(%d): %v", n, err)
	}
	t.Cleanup(func() {
		p.Terminate()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.Join(ctx); err != nil {
			t.Errorf("Join after Terminate: %v", err)
		}
	})
	return p
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func ints(n int) []int {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	return xs
}

func TestPoolMapSquare(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		for _, n := range []int{1, 2, 4} {
			p := newTestPool(t, n, PoolOptions{InProcess: in})
			ctx := testCtx(t, 2*time.Minute)
			for _, opts := range [][]CallOption{nil, {Chunksize(1)}, {Chunksize(333)}} {
				got, err := square.Map(ctx, p, ints(10000), opts...)
				if err != nil {
					t.Fatalf("workers=%d: Map: %v", n, err)
				}
				if len(got) != 10000 {
					t.Fatalf("workers=%d: %d results; want 10000", n, len(got))
				}
				for i, v := range got {
					if v != i*i {
						t.Fatalf("workers=%d: result %d = %d; want %d", n, i, v, i*i)
					}
				}
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			if err := p.Join(ctx); err != nil {
				t.Fatalf("Join: %v", err)
			}
		}
	})
}

func TestPoolImapUnordered(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 3, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		for _, cs := range []int{1, 7} {
			var got []int
			for v, err := range square.ImapUnordered(ctx, p, slices.Values(ints(10000)), Chunksize(cs)) {
				if err != nil {
					t.Fatalf("chunksize %d: %v", cs, err)
				}
				got = append(got, v)
			}
			slices.Sort(got)
			for i, v := range got {
				if v != i*i {
					t.Fatalf("chunksize %d: sorted result %d = %d; want %d (%d results)", cs, i, v, i*i, len(got))
				}
			}
			if len(got) != 10000 {
				t.Fatalf("chunksize %d: %d results; want 10000", cs, len(got))
			}
		}
	})
}

func TestPoolImapStreams(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 2, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		const total = 10000
		var fed atomic.Int64
		xs := func(yield func(int) bool) {
			for i := range total {
				fed.Add(1)
				if !yield(i) {
					return
				}
			}
		}
		i := 0
		for v, err := range square.Imap(ctx, p, xs) {
			if err != nil || v != i*i {
				t.Fatalf("item %d: %d, %v; want %d", i, v, err, i*i)
			}
			if i == 0 {
				if f := fed.Load(); f >= total {
					t.Fatalf("first result after all %d items were taken; want streaming", f)
				}
			}
			i++
		}
		if i != total {
			t.Fatalf("%d results; want %d", i, total)
		}
		// Breaking out early stops the feeding.
		for range square.Imap(ctx, p, xs) {
			break
		}
	})
}

func TestPoolApplyAsync(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 2, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		gate := filepath.Join(t.TempDir(), "gate")
		r := awaitFile.ApplyAsync(p, gate)
		if ok, err := r.Successful(); ok || !errors.Is(err, ErrNotReady) {
			t.Fatalf("Successful before ready: %v, %v; want ErrNotReady", ok, err)
		}
		if r.Ready() {
			t.Fatal("Ready before the gate opened")
		}
		short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
		if _, err := r.Get(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get with a short deadline: %v; want DeadlineExceeded", err)
		}
		cancel()
		okCh, errCh := make(chan int, 1), make(chan error, 1)
		r.OnSuccess(func(v int) { okCh <- v })
		r.OnError(func(err error) { errCh <- err })
		if err := os.WriteFile(gate, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := r.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		if ok, err := r.Successful(); !ok || err != nil {
			t.Fatalf("Successful: %v, %v", ok, err)
		}
		pid, err := r.Get(ctx)
		if err != nil || (in && pid != os.Getpid()) || (!in && pid == os.Getpid()) {
			t.Fatalf("Get: pid %d, %v (parent %d, in-process %v)", pid, err, os.Getpid(), in)
		}
		if v := <-okCh; v != pid {
			t.Fatalf("success callback got %d; want %d", v, pid)
		}
		// A failing call runs the error callback, also when registered late.
		f := failing.ApplyAsync(p, "boom")
		if _, err := f.Get(ctx); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("failing task: %v; want boom", err)
		}
		f.OnError(func(err error) { errCh <- err })
		if err := <-errCh; !strings.Contains(err.Error(), "boom") {
			t.Fatalf("error callback: %v", err)
		}
		select {
		case err := <-errCh:
			t.Fatalf("error callback of a successful call: %v", err)
		default:
		}
		if ok, err := f.Successful(); ok || err != nil {
			t.Fatalf("Successful of a failed call: %v, %v", ok, err)
		}
		if v, err := square.Apply(ctx, p, 12); v != 144 || err != nil {
			t.Fatalf("Apply: %d, %v; want 144", v, err)
		}
		got, err := square.MapAsync(p, ints(100)).Get(ctx)
		if err != nil || len(got) != 100 || got[99] != 99*99 {
			t.Fatalf("MapAsync: %v, %v", got, err)
		}
	})
}

func TestPoolPanic(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 1, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		_, err := panicky.Apply(ctx, p, -3)
		var pe *PanicError
		if !errors.As(err, &pe) || pe.Value != "negative !!!" || !strings.Contains(pe.Stack, "panic") {
			t.Fatalf("panicking task: %v; want *PanicError with value and stack", err)
		}
		got, err := panicky.Map(ctx, p, []int{1, 2, -1, 4})
		if !errors.As(err, &pe) || pe.Value != "negative !" || got[0] != 1 || got[3] != 4 {
			t.Fatalf("Map with a panicking item: %v, %v", got, err)
		}
		if v, err := panicky.Apply(ctx, p, 5); v != 5 || err != nil {
			t.Fatalf("after a panic: %d, %v; want the worker to go on", v, err)
		}
	})
}

func TestPoolTaskTimeout(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 1, PoolOptions{InProcess: in, TaskTimeout: 300 * time.Millisecond})
		ctx := testCtx(t, time.Minute)
		_, err := sleepy.Apply(ctx, p, time.Hour)
		var we *WorkerError
		if !errors.Is(err, ErrTimeout) || !errors.As(err, &we) {
			t.Fatalf("task past the timeout: %v; want ErrTimeout", err)
		}
		if !in && we.Signal == 0 {
			t.Fatalf("timed-out worker: %+v; want killed by a signal", we)
		}
		for i := range 3 {
			if v, err := square.Apply(ctx, p, i); v != i*i || err != nil {
				t.Fatalf("after a timeout: %d, %v; want %d", v, err, i*i)
			}
		}
	})
}

func TestPoolErrors(t *testing.T) {
	if _, err := NewPool(0, nil); !errors.Is(err, ErrWorkers) {
		t.Fatalf("NewPool(0): %v; want ErrWorkers", err)
	}
	if _, err := NewPool(1, &PoolOptions{Retries: -1}); !errors.Is(err, ErrInvalidOption) {
		t.Fatalf("Retries -1: %v; want ErrInvalidOption", err)
	}
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 2, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		if _, err := square.Map(ctx, p, ints(10), Chunksize(0)); !errors.Is(err, ErrChunksize) {
			t.Fatalf("Chunksize(0): %v; want ErrChunksize", err)
		}
		for _, err := range square.Imap(ctx, p, slices.Values(ints(3)), Chunksize(-1)) {
			if !errors.Is(err, ErrChunksize) {
				t.Fatalf("Imap Chunksize(-1): %v; want ErrChunksize", err)
			}
		}
		if err := p.Join(ctx); !errors.Is(err, ErrStillRunning) {
			t.Fatalf("Join while running: %v; want ErrStillRunning", err)
		}
		if got, err := square.Map(ctx, p, nil); err != nil || len(got) != 0 {
			t.Fatalf("Map of nothing: %v, %v", got, err)
		}
		if got, err := noArgs.Map(ctx, p, make([]struct{}, 50), Chunksize(25)); err != nil || len(got) != 50 || got[49] != 7 {
			t.Fatalf("Map of a zero-size argument type: %v, %v", got, err)
		}
		p.Close()
		if _, err := square.Apply(ctx, p, 1); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Apply after Close: %v; want ErrNotRunning", err)
		}
		if _, err := square.Submit(p, 1).Result(ctx); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Submit after Close: %v; want ErrNotRunning", err)
		}
		if _, err := square.Map(ctx, p, ints(5)); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Map after Close: %v; want ErrNotRunning", err)
		}
		if f := square.Submit(p, 2); f.Cancel() || f.Cancelled() {
			t.Fatal("a future refused by a closed pool was cancelled")
		}
		if err := p.Join(ctx); err != nil {
			t.Fatalf("Join after Close: %v", err)
		}
	})
}

func TestPoolInitializer(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 2, PoolOptions{InProcess: in, Initializer: setInit.With("ready")})
		ctx := testCtx(t, time.Minute)
		got, err := initSeen.Map(ctx, p, ints(20), Chunksize(1))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range got {
			if v != "ready" {
				t.Fatalf("task %d saw %q; want the initializer's value", i, v)
			}
		}
	})
}

func TestPoolMaxTasksPerChild(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		before := initCount.Load()
		p := newTestPool(t, 2, PoolOptions{InProcess: in, MaxTasksPerChild: 10, Initializer: setInit.With("x")})
		ctx := testCtx(t, 2*time.Minute)
		pids, err := workerID.Map(ctx, p, ints(100), Chunksize(1))
		if err != nil {
			t.Fatal(err)
		}
		if in {
			// One incarnation per ten tasks, each running the initializer.
			if n := initCount.Load() - before; n < 10 {
				t.Fatalf("%d worker incarnations over 100 tasks; want >= 10", n)
			}
			return
		}
		slices.Sort(pids)
		if n := len(slices.Compact(pids)); n < 10 {
			t.Fatalf("%d distinct worker pids over 100 tasks; want >= 10", n)
		}
	})
}

func TestFutureCancel(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 1, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		gate := filepath.Join(t.TempDir(), "gate")
		f1 := awaitFile.Submit(p, gate)
		f2 := square.Submit(p, 3)
		for !f1.Running() {
			if ctx.Err() != nil {
				t.Fatal("first future never started")
			}
			time.Sleep(time.Millisecond)
		}
		if f2.Running() || f2.Done() {
			t.Fatal("second future started on a busy single worker")
		}
		if !f2.Cancel() || !f2.Cancelled() || !f2.Done() {
			t.Fatalf("Cancel of a queued future: cancelled %v done %v", f2.Cancelled(), f2.Done())
		}
		if _, err := f2.Result(ctx); !errors.Is(err, ErrCancelled) {
			t.Fatalf("Result of a cancelled future: %v; want ErrCancelled", err)
		}
		if f1.Cancel() || f1.Cancelled() {
			t.Fatal("Cancel of a running future succeeded")
		}
		var calls atomic.Int64
		f1.AddDoneCallback(func(*Future[int]) { calls.Add(1) })
		os.WriteFile(gate, nil, 0o600)
		if err := f1.Err(ctx); err != nil {
			t.Fatal(err)
		}
		f1.AddDoneCallback(func(*Future[int]) { calls.Add(1) }) // runs at once
		for calls.Load() != 2 {
			if ctx.Err() != nil {
				t.Fatalf("%d done callbacks; want 2", calls.Load())
			}
			time.Sleep(time.Millisecond)
		}
		if f1.Running() || f1.Cancel() {
			t.Fatal("finished future still running or cancellable")
		}
	})
}

func TestAsCompletedAndWait(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 2, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		var fs []*Future[int]
		for i := range 50 {
			fs = append(fs, square.Submit(p, i))
		}
		seen := map[*Future[int]]bool{}
		for f, err := range AsCompleted(ctx, fs) {
			if err != nil {
				t.Fatal(err)
			}
			if seen[f] || !f.Done() {
				t.Fatalf("AsCompleted yielded a future twice or not done")
			}
			seen[f] = true
		}
		if len(seen) != len(fs) {
			t.Fatalf("AsCompleted yielded %d futures; want %d", len(seen), len(fs))
		}

		gate := filepath.Join(t.TempDir(), "gate")
		slow := awaitFile.Submit(p, gate)
		fast := square.Submit(p, 4)
		bad := failing.Submit(p, "bad")
		all := []Awaitable{slow, fast, bad}
		done, notDone, err := Wait(ctx, all, FirstCompleted)
		if err != nil || len(done) == 0 || slices.Contains(done, Awaitable(slow)) || len(done)+len(notDone) != 3 {
			t.Fatalf("FirstCompleted: done %d, not done %d, %v", len(done), len(notDone), err)
		}
		done, notDone, err = Wait(ctx, all, FirstException)
		if err != nil || !slices.Contains(done, Awaitable(bad)) || !slices.Contains(notDone, Awaitable(slow)) {
			t.Fatalf("FirstException: done %d, not done %d, %v", len(done), len(notDone), err)
		}
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		done, notDone, err = Wait(short, all, AllCompleted)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || len(notDone) != 1 || notDone[0] != Awaitable(slow) {
			t.Fatalf("AllCompleted at a deadline: done %d, not done %d, %v", len(done), len(notDone), err)
		}
		for _, err := range AsCompleted(short, []Awaitable{slow}) {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("AsCompleted at a deadline: %v", err)
			}
		}
		os.WriteFile(gate, nil, 0o600)
		done, notDone, err = Wait(ctx, all, AllCompleted)
		if err != nil || len(done) != 3 || len(notDone) != 0 {
			t.Fatalf("AllCompleted: done %d, not done %d, %v", len(done), len(notDone), err)
		}
	})
}

// NewPool starts its workers at once, from as many goroutines: each must
// see that the worker's argument type holds handles (a provisional cache
// entry once said it did not, and the start failed).
func TestHoldsHandleConcurrent(t *testing.T) {
	for i := range 200 {
		// A type no one has looked at yet, with the handle after many
		// fields, so that the walk takes a while.
		var fs []reflect.StructField
		for k := range 64 {
			fs = append(fs, reflect.StructField{Name: "F" + strconv.Itoa(k) + "_" + strconv.Itoa(i), Type: reflect.TypeFor[[4]int]()})
		}
		typ := reflect.StructOf(append(fs, reflect.StructField{Name: "Conn", Type: reflect.TypeFor[*ring.Conn]()}))
		var wg sync.WaitGroup
		start := make(chan struct{})
		var wrong atomic.Int64
		for range 4 {
			wg.Go(func() {
				<-start
				if !holdsHandle(typ) {
					wrong.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		if n := wrong.Load(); n != 0 {
			t.Fatalf("%d of 4 goroutines found no handle in %v", n, typ)
		}
	}
}

func TestPoolShutdown(t *testing.T) {
	backends(t, func(t *testing.T, in bool) {
		p := newTestPool(t, 1, PoolOptions{InProcess: in})
		ctx := testCtx(t, time.Minute)
		gate := filepath.Join(t.TempDir(), "gate")
		first := awaitFile.Submit(p, gate)
		for !first.Running() {
			if ctx.Err() != nil {
				t.Fatal("first future never started")
			}
			time.Sleep(time.Millisecond)
		}
		queued := []*Future[int]{square.Submit(p, 2), square.Submit(p, 3)}
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if err := p.Shutdown(short, true); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Shutdown while a task runs, short deadline: %v; want DeadlineExceeded", err)
		}
		for i, f := range queued {
			if !f.Cancelled() {
				t.Fatalf("queued future %d not cancelled by Shutdown(cancelQueued)", i)
			}
		}
		if _, err := square.Apply(ctx, p, 1); !errors.Is(err, ErrNotRunning) {
			t.Fatalf("Apply after Shutdown: %v; want ErrNotRunning", err)
		}
		os.WriteFile(gate, nil, 0o600)
		if err := p.Shutdown(ctx, false); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		if _, err := first.Result(ctx); err != nil {
			t.Fatalf("the running task after Shutdown: %v", err)
		}
	})
}

func TestPoolErrorTexts(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&WorkerError{Task: "sq", Pid: 12, ExitCode: -9, Signal: syscall.SIGKILL, Err: ErrWorkerDied},
			`proc: task "sq": worker 12: worker died (signal killed)`},
		{&WorkerError{Task: "sq", Pid: 12, ExitCode: 3, Err: ErrWorkerDied}, `proc: task "sq": worker 12: worker died (exit status 3)`},
		{&WorkerError{Task: "sq", Pid: 12, ExitCode: -9, Signal: syscall.SIGKILL, Err: ErrTimeout},
			`proc: task "sq": worker 12: task timed out (signal killed)`},
		{&WorkerError{Task: "sq", Err: ErrTimeout}, `proc: task "sq": task timed out (in-process worker goroutine abandoned)`},
		{&RemoteError{Task: "sq", Msg: "boom"}, `proc: task "sq": boom`},
		{fmt.Errorf("%w, not %d", ErrChunksize, 0), "proc: chunksize must be 1+, not 0"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("got %q; want %q", got, tc.want)
		}
	}
	if !errors.Is(&WorkerError{Err: ErrTimeout}, ErrTimeout) || errors.Is(&WorkerError{Err: ErrTimeout}, ErrWorkerDied) {
		t.Error("WorkerError does not unwrap to its Err")
	}
}

// Chunks larger than a worker's rings travel as fragments both ways, while
// the next chunk is sent ahead: the parent must go on reading results while
// it sends (a parent blocked sending to a worker blocked sending was a
// deadlock).
func TestPoolLargeChunks(t *testing.T) {
	p := newTestPool(t, 2, PoolOptions{})
	ctx := testCtx(t, time.Minute)
	xs := ints(400000) // chunks of 50,000 ints: 400 KB messages, 256 KiB rings
	got, err := square.Map(ctx, p, xs)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range got {
		if v != i*i {
			t.Fatalf("result %d = %d; want %d", i, v, i*i)
		}
	}
}
