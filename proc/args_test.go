package proc_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// Inner nests handles one struct deeper, behind a pointer.
type Inner struct {
	V     *ctypes.Value[int64]
	Label string
}

// All holds one handle of every kind proc does not test elsewhere, in
// every position the walk visits, next to plain values.
type All struct {
	RL     *futex.RLock
	Sem    *futex.Semaphore
	BSem   *futex.BoundedSemaphore
	Cond   *futex.Condition
	SQ     *ring.TypedSimpleQueue[string]
	JQ     *ring.TypedJoinableQueue[string]
	Raw    *ctypes.RawValue[int32]
	RawA   *ctypes.RawArray[float64]
	AV     *ctypes.AnyValue
	AA     *ctypes.AnyArray
	TC     *ring.TypedConn[string]
	R      *ring.Ring
	Named  *futex.Event // in a named segment: travels by name
	Nil    *futex.Lock  // nil stays nil
	Locks  []*futex.Lock
	Arr    [2]*ctypes.Value[int64]
	In     *Inner
	When   time.Time // a plain value with an encoding of its own
	Plain  map[string]int
	hidden int // unexported: does not travel, as with gob
}

var useAll = proc.Func("use-all", func(ctx context.Context, a All) error {
	if a.Nil != nil || a.hidden != 0 || a.Plain["x"] != 1 || !a.When.Equal(time.Unix(1e9, 0)) || a.In.Label != "in" {
		return fmt.Errorf("plain values: nil %v hidden %d plain %v when %v label %q", a.Nil, a.hidden, a.Plain, a.When, a.In.Label)
	}
	steps := []func() error{
		func() error { return a.RL.Acquire(ctx) },
		a.RL.Release,
		a.Sem.Release,
		func() error { return a.BSem.Acquire(ctx) },
		func() error { return a.Cond.Acquire(ctx) },
		a.Cond.Release,
		func() error { return a.SQ.Put(ctx, "sq") },
		func() error { _, err := a.JQ.Get(ctx); return err },
		a.JQ.TaskDone,
		func() error { a.Raw.Store(7); return nil },
		func() error { a.RawA.Set(1, 2.5); return nil },
		func() error { return a.AV.Set(int32(9)) },
		func() error { return a.AA.Set(2, int64(3)) },
		func() error { return a.TC.Send(ctx, "tc") },
		func() error {
			p, err := a.R.Producer()
			if err != nil {
				return err
			}
			return p.Write(ctx, []byte("ring"))
		},
		func() error { a.Named.Set(); return nil },
		func() error { return a.Locks[1].Release() },
		func() error { a.Arr[0].Add(1); a.Arr[1].Add(2); a.In.V.Add(3); return nil },
	}
	for i, f := range steps {
		if err := f(); err != nil {
			return fmt.Errorf("step %d: %w", i, err)
		}
	}
	return nil
})

// TestEveryHandleTravels passes a handle of every futex, ctypes and ring
// kind, from a Manager, a segment of the caller's own and a named segment,
// in fields, slices, arrays and nested pointers, and checks each is the
// parent's object.
func TestEveryHandleTravels(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	own, err := shm.Anonymous(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	name := testproc.Name(t)
	named, err := shm.Create(name, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { named.Close(); shm.Unlink(name) })
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	a := All{
		RL: proc.RLock(m), Sem: proc.Semaphore(m, 0), BSem: proc.BoundedSemaphore(m, 2), Cond: proc.Condition(m, nil),
		SQ: proc.SimpleQueue[string](m), JQ: proc.JoinableQueue[string](m),
		Locks: []*futex.Lock{proc.Lock(m), proc.Lock(m)},
		Arr:   [2]*ctypes.Value[int64]{proc.Value[int64](m, 0), proc.Value[int64](m, 0)},
		In:    &Inner{V: proc.Value[int64](m, 0), Label: "in"},
		When:  time.Unix(1e9, 0), Plain: map[string]int{"x": 1}, hidden: 5,
	}
	a.Raw, err = ctypes.NewRawValue[int32](own, "raw", 0, nil)
	check(err)
	a.RawA, err = ctypes.NewRawArray[float64](own, "rawa", 3, nil)
	check(err)
	a.AV, err = ctypes.NewValueOf(own, "av", ctypes.Int32, 0, nil)
	check(err)
	a.AA, err = ctypes.NewRawArrayOf(own, "aa", ctypes.Int64, 4)
	check(err)
	c0, c1, err := ring.NewPipe(own, "tc", &ring.PipeOptions{OneWay: true, Capacity: 1 << 12})
	check(err)
	a.TC = ring.NewTypedConn(c1, ring.Codec[string](ring.Gob[string]{}))
	a.R, err = ring.NewRing(own, "ring", 1<<12, nil)
	check(err)
	a.Named, err = futex.NewEvent(named, "named")
	check(err)
	check(a.JQ.Put(ctx, "job"))
	check(a.Locks[1].Acquire(ctx))

	if err := useAll.Start(ctx, a).Join(ctx); err != nil {
		t.Fatal(err)
	}
	if got := a.Sem.Value(); got != 1 {
		t.Errorf("semaphore: got %d; want 1", got)
	}
	if got := a.BSem.Value(); got != 1 {
		t.Errorf("bounded semaphore: got %d; want 1", got)
	}
	if msg, err := a.SQ.Get(ctx); err != nil || msg != "sq" {
		t.Errorf("simple queue: got %q, %v; want sq", msg, err)
	}
	if got := a.JQ.Unfinished(); got != 0 {
		t.Errorf("joinable queue: %d unfinished; want 0", got)
	}
	if got := a.Raw.Load(); got != 7 {
		t.Errorf("raw value: got %d; want 7", got)
	}
	if got := a.RawA.Get(1); got != 2.5 {
		t.Errorf("raw array: got %v; want 2.5", got)
	}
	if got := a.AV.Int64(); got != 9 {
		t.Errorf("any value: got %d; want 9", got)
	}
	if got := a.AA.Int64(2); got != 3 {
		t.Errorf("any array: got %d; want 3", got)
	}
	if got, err := ring.NewTypedConn(c0, ring.Codec[string](ring.Gob[string]{})).Recv(ctx); err != nil || got != "tc" {
		t.Errorf("typed conn: got %q, %v; want tc", got, err)
	}
	cons, err := a.R.Consumer()
	check(err)
	if got, err := cons.ReadBytes(ctx); err != nil || string(got) != "ring" {
		t.Errorf("ring: got %q, %v; want ring", got, err)
	}
	if !a.Named.IsSet() {
		t.Error("named event not set")
	}
	if ok, err := a.Locks[1].TryAcquire(); !ok || err != nil {
		t.Errorf("lock released by the child: TryAcquire = %v, %v", ok, err)
	}
	if x, y, z := a.Arr[0].Load(), a.Arr[1].Load(), a.In.V.Load(); x != 1 || y != 2 || z != 3 {
		t.Errorf("values in an array and behind a pointer: %d %d %d; want 1 2 3", x, y, z)
	}
}

// customCodec is a codec a child could not rebuild.
type customCodec struct{ ring.Gob[int] }

var takesQueue = proc.Func("takes-queue", func(ctx context.Context, q *ring.TypedQueue[int]) error { return nil })

var takesMap = proc.Func("takes-map", func(ctx context.Context, m map[string]*futex.Lock) error { return nil })

// TestArgsRefused checks that arguments that cannot travel fail Start with
// ErrArgs, before any child runs.
func TestArgsRefused(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	q := proc.Queue[int](m)
	custom := ring.NewTypedQueue(q.Queue(), ring.Codec[int](customCodec{}))
	if err := takesQueue.Start(ctx, custom).Join(ctx); !errors.Is(err, proc.ErrArgs) {
		t.Errorf("custom codec: got %v; want ErrArgs", err)
	}
	if err := takesMap.Start(ctx, map[string]*futex.Lock{"l": proc.Lock(m)}).Join(ctx); !errors.Is(err, proc.ErrArgs) {
		t.Errorf("handle in a map: got %v; want ErrArgs", err)
	}
	closed := proc.NewManager()
	cq := proc.Queue[int](closed)
	closed.Close()
	if err := takesQueue.Start(ctx, cq).Join(ctx); !errors.Is(err, proc.ErrArgs) {
		t.Errorf("closed segment: got %v; want ErrArgs", err)
	}
}

// List is a recursive type with a handle further down.
type List struct {
	Next *List
	V    *ctypes.Value[int64]
}

var sumList = proc.Func("sum-list", func(ctx context.Context, l *List) error {
	for ; l != nil; l = l.Next {
		l.V.Add(1)
	}
	return nil
})

// TestRecursiveArgs passes a linked list whose nodes each hold a handle,
// from several goroutines at once (the type analysis is shared).
func TestRecursiveArgs(t *testing.T) {
	ctx := ctxT(t)
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	v := proc.Value[int64](m, 0)
	l := &List{V: v, Next: &List{V: v, Next: &List{V: v}}}
	errc := make(chan error)
	for range 4 {
		go func() { errc <- sumList.Start(ctx, l).Join(ctx) }()
	}
	for range 4 {
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	}
	if got := v.Load(); got != 12 {
		t.Errorf("value: got %d; want 12 (3 nodes × 4 children)", got)
	}
}
