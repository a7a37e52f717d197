package compat_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// putArgs is what the consumer of TestQueuePut gets.
type putArgs struct {
	Q      *ring.TypedQueue[int]
	Go     *futex.Event
	Out    *ring.TypedQueue[int]
	Expect int
}

var drain = proc.Func("compat-queue-drain", func(ctx context.Context, a putArgs) error {
	if _, err := a.Go.Wait(ctx); err != nil {
		return err
	}
	for range a.Expect {
		v, err := a.Q.Get(ctx)
		if err != nil {
			return err
		}
		if err := a.Out.Put(ctx, v); err != nil {
			return err
		}
	}
	return nil
})

// TestQueuePut ports _TestQueue.test_put: a queue of maxsize 6 fills with
// put, put_nowait and put(timeout); then put_nowait raises Full and
// put(timeout) raises Full at the timeout; full()/qsize() follow; a child
// process drains it in order.
func TestQueuePut(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	const maxsize = 6
	q := proc.Must(proc.NewQueue[int](m, &ring.QueueOptions{MaxSize: maxsize}))
	a := putArgs{Q: q, Go: proc.Event(m), Out: proc.Queue[int](m), Expect: maxsize}
	p := drain.Start(ctx, a)
	if !q.Queue().Empty() || q.Len() != 0 {
		t.Fatalf("new queue: empty %v qsize %d", q.Queue().Empty(), q.Len())
	}
	for i := range maxsize {
		var err error
		switch i % 3 {
		case 0:
			err = q.Put(ctx, i)
		case 1:
			err = q.TryPut(i)
		case 2:
			err = q.Put(ctxShort(t), i)
		}
		if err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if !q.Queue().Full() || q.Len() != maxsize || q.Queue().MaxSize() != maxsize {
		t.Fatalf("after %d puts: full %v qsize %d maxsize %d", maxsize, q.Queue().Full(), q.Len(), q.Queue().MaxSize())
	}
	if err := q.TryPut(99); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("put_nowait on a full queue: %v; want ErrFull", err)
	}
	if err := q.Put(ctxShort(t), 99); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("put(timeout) on a full queue: %v; want DeadlineExceeded", err)
	}
	a.Go.Set()
	var got []int
	for range maxsize {
		v, err := a.Out.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int{0, 1, 2, 3, 4, 5}) {
		t.Fatalf("child got %v", got)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if !q.Queue().Empty() || q.Len() != 0 {
		t.Fatalf("drained queue: empty %v qsize %d", q.Queue().Empty(), q.Len())
	}
}

var fill = proc.Func("compat-queue-fill", func(ctx context.Context, q *ring.TypedQueue[int]) error {
	for i := range 4 {
		if err := q.Put(ctx, i*10); err != nil {
			return err
		}
	}
	return nil
})

// TestQueueGet ports _TestQueue.test_get: a child puts four items; get,
// get(True), get_nowait and get(timeout) return them in order; then
// get_nowait raises Empty and get(timeout) raises Empty at the timeout.
func TestQueueGet(t *testing.T) {
	ctx := ctxT(t)
	q := proc.Queue[int](manager(t))
	if err := fill.Start(ctx, q).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if q.Len() != 4 {
		t.Fatalf("qsize %d; want 4", q.Len())
	}
	var got []int
	for i := range 4 {
		var v int
		var err error
		switch i {
		case 0, 1:
			v, err = q.Get(ctx)
		case 2:
			v, err = q.TryGet()
		case 3:
			v, err = q.Get(ctxShort(t))
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if !slices.Equal(got, []int{0, 10, 20, 30}) {
		t.Fatalf("got %v", got)
	}
	if _, err := q.TryGet(); !errors.Is(err, ring.ErrEmpty) {
		t.Fatalf("get_nowait on an empty queue: %v; want ErrEmpty", err)
	}
	if _, err := q.Get(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get(timeout) on an empty queue: %v; want DeadlineExceeded", err)
	}
}

// TestQueueQsize ports _TestQueue.test_qsize, and the "put then empty()"
// quirk of CPython's feeder thread, which a shm ring does not have: a put
// is visible at once.
func TestQueueQsize(t *testing.T) {
	ctx := ctxT(t)
	q := proc.Queue[int](manager(t))
	steps := []struct {
		put  bool
		want int
	}{{true, 1}, {true, 2}, {false, 1}, {false, 0}}
	for _, s := range steps {
		if s.put {
			if err := q.Put(ctx, 5); err != nil {
				t.Fatal(err)
			}
			if q.Queue().Empty() {
				t.Fatal("empty() right after put")
			}
		} else if _, err := q.Get(ctx); err != nil {
			t.Fatal(err)
		}
		if q.Len() != s.want {
			t.Fatalf("qsize %d; want %d", q.Len(), s.want)
		}
	}
}

// TestQueueDefaultMaxsize ports the maxsize=0 case of Queue(): CPython's is
// unbounded; shmkit's documented default is a bounded ring of
// ring.DefaultQueueSize messages, and put_nowait beyond it is Full.
func TestQueueDefaultMaxsize(t *testing.T) {
	q := proc.Must(proc.NewQueue[int](manager(t), &ring.QueueOptions{MaxSize: 0}))
	if q.Queue().MaxSize() != ring.DefaultQueueSize {
		t.Fatalf("maxsize %d; want %d", q.Queue().MaxSize(), ring.DefaultQueueSize)
	}
	for i := range ring.DefaultQueueSize {
		if err := q.TryPut(i); err != nil {
			t.Fatalf("put %d: %v", i, err)
		}
	}
	if err := q.TryPut(-1); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("put beyond the default size: %v", err)
	}
}

// TestClosedQueue ports _TestQueue.test_closed_queue: put after close()
// raises (ValueError "Queue ... is closed"; ErrClosed). shmkit's close is
// for every process (documented): gets drain what is left, then ErrClosed.
func TestClosedQueue(t *testing.T) {
	ctx := ctxT(t)
	q := proc.Queue[int](manager(t))
	if err := q.Put(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(ctx, 2); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("put after close: %v; want ErrClosed", err)
	}
	if v, err := q.Get(ctx); v != 1 || err != nil {
		t.Fatalf("get of the message left: %d %v", v, err)
	}
	if _, err := q.Get(ctx); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("get from a closed, drained queue: %v; want ErrClosed", err)
	}
}

// jqArgs is what each JoinableQueue worker gets.
type jqArgs struct {
	Q   *ring.TypedJoinableQueue[int]
	Sum *ring.TypedQueue[int]
}

var jqWorker = proc.Func("compat-jq-worker", func(ctx context.Context, a jqArgs) error {
	for {
		v, err := a.Q.Get(ctx)
		if err != nil {
			return err
		}
		if v < 0 { // CPython's None sentinel
			return a.Q.TaskDone()
		}
		if err := a.Sum.Put(ctx, v); err != nil {
			return err
		}
		if err := a.Q.TaskDone(); err != nil {
			return err
		}
	}
})

// TestTaskDone ports _TestQueue.test_task_done: four worker processes get
// and task_done() ten items; join() returns once all are done; a None
// (here -1) per worker stops them.
func TestTaskDone(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	a := jqArgs{Q: proc.JoinableQueue[int](m), Sum: proc.Queue[int](m)}
	const workers, items = 4, 10
	var ps []*proc.Process
	for range workers {
		ps = append(ps, jqWorker.Start(ctx, a))
	}
	want := 0
	for i := range items {
		want += i
		if err := a.Q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Q.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if a.Q.Unfinished() != 0 || a.Sum.Len() != items {
		t.Fatalf("after join: unfinished %d, %d results", a.Q.Unfinished(), a.Sum.Len())
	}
	got := 0
	for range items {
		v, _ := a.Sum.Get(ctx)
		got += v
	}
	if got != want {
		t.Errorf("sum %d; want %d", got, want)
	}
	for range workers {
		a.Q.Put(ctx, -1)
	}
	if err := proc.JoinAll(ctx, ps...); err != nil {
		t.Fatal(err)
	}
	if err := a.Q.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestTaskDoneTooManyTimes ports the ValueError of JoinableQueue.task_done
// ("task_done() called too many times"), and join() with a timeout while a
// task is unfinished (CPython's join has no timeout; ctx.Err() here).
// shmkit documents that a task is done by the process that got it.
func TestTaskDoneTooManyTimes(t *testing.T) {
	ctx := ctxT(t)
	q := proc.JoinableQueue[string](manager(t))
	if err := q.TaskDone(); !errors.Is(err, ring.ErrTaskDone) {
		t.Fatalf("task_done on a new queue: %v", err)
	}
	q.Put(ctx, "a")
	if err := q.Join(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("join with an unfinished task: %v", err)
	}
	if _, err := q.Get(ctx); err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, ring.ErrTaskDone) {
		t.Fatalf("second task_done: %v", err)
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
}

var simplePut = proc.Func("compat-simple-put", func(ctx context.Context, q *ring.TypedSimpleQueue[string]) error {
	return q.Put(ctx, "from child")
})

// TestSimpleQueueEmpty ports _TestSimpleQueue.test_empty and test_close:
// empty() before, after a child's put and after get; close() then put
// fails.
func TestSimpleQueueEmpty(t *testing.T) {
	ctx := ctxT(t)
	q := proc.SimpleQueue[string](manager(t))
	if !q.Empty() {
		t.Fatal("new SimpleQueue not empty")
	}
	if err := simplePut.Start(ctx, q).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if q.Empty() {
		t.Fatal("empty() after the child's put")
	}
	if s, err := q.Get(ctx); s != "from child" || err != nil {
		t.Fatalf("get: %q %v", s, err)
	}
	if !q.Empty() {
		t.Fatal("not empty after get")
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.Put(ctx, "x"); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("put after close: %v", err)
	}
}

// TestTaskDoneAfterManyGets ports the JoinableQueue pattern of getting many
// items before calling task_done() for each, which CPython allows without
// limit. shmkit documents a limit: a got-but-not-done task holds a lease
// entry (QueueOptions.Leases, ring.DefaultLeases by default), so with the
// default the Get after DefaultLeases outstanding tasks waits; with Leases
// sized for the pattern it behaves as CPython's.
func TestTaskDoneAfterManyGets(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	const n = 100
	q := proc.Must(proc.NewJoinableQueue[int](m, &ring.QueueOptions{MaxSize: n, Leases: n}))
	for i := range n {
		if err := q.Put(ctx, i); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		if _, err := q.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if q.Unfinished() != n {
		t.Fatalf("unfinished %d; want %d", q.Unfinished(), n)
	}
	for range n {
		if err := q.TaskDone(); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
	d := proc.JoinableQueue[int](m)
	for i := range ring.DefaultLeases + 1 {
		d.Put(ctx, i)
	}
	for range ring.DefaultLeases {
		if _, err := d.Get(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Get(ctxShort(t)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("get with every lease held: %v; want it to wait (DeadlineExceeded)", err)
	}
	d.TaskDone()
	if v, err := d.Get(ctx); v != ring.DefaultLeases || err != nil {
		t.Fatalf("get once a lease is free: %d %v", v, err)
	}
}

// mpArgs is what the producers and consumers of TestQueueManyProcesses get.
type mpArgs struct {
	Q   *ring.TypedQueue[int]
	Out *ring.TypedQueue[[2]int] // a consumer's (sum, count), in one message
	ID  int
	N   int
}

var (
	produce = proc.Func("compat-produce", func(ctx context.Context, a mpArgs) error {
		for i := range a.N {
			if err := a.Q.Put(ctx, a.ID*a.N+i); err != nil {
				return err
			}
		}
		return nil
	})
	consume = proc.Func("compat-consume", func(ctx context.Context, a mpArgs) error {
		sum, n := 0, 0
		for {
			v, err := a.Q.Get(ctx)
			if errors.Is(err, ring.ErrClosed) {
				break
			}
			if err != nil {
				return err
			}
			sum += v
			n++
		}
		return a.Out.Put(ctx, [2]int{sum, n})
	})
)

// TestQueueManyProcesses ports _TestQueue.test_fork's producer/consumer use
// with several processes on each side: 3 producers × 300 items through a
// queue of 16 slots to 2 consumers; after the producers are joined, close()
// lets the consumers drain and stop (shmkit's close is for every process,
// as documented). Every item arrives exactly once.
func TestQueueManyProcesses(t *testing.T) {
	ctx := ctxT(t)
	m := manager(t)
	q := proc.Must(proc.NewQueue[int](m, &ring.QueueOptions{MaxSize: 16}))
	out := proc.Queue[[2]int](m)
	const producers, consumers, n = 3, 2, 300
	var prods, cons []*proc.Process
	for id := range consumers {
		cons = append(cons, consume.Start(ctx, mpArgs{Q: q, Out: out, ID: id}))
	}
	for id := range producers {
		prods = append(prods, produce.Start(ctx, mpArgs{Q: q, ID: id, N: n}))
	}
	if err := proc.JoinAll(ctx, prods...); err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := proc.JoinAll(ctx, cons...); err != nil {
		t.Fatal(err)
	}
	sum, count := 0, 0
	for range consumers {
		r, err := out.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		sum += r[0]
		count += r[1]
	}
	total := producers * n
	if count != total || sum != total*(total-1)/2 {
		t.Fatalf("consumers got %d items summing %d; want %d summing %d", count, sum, total, total*(total-1)/2)
	}
}
