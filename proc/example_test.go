package proc_test

import (
	"context"
	"fmt"
	"slices"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// HelloArgs are the arguments of hello: two shared objects and a number.
type HelloArgs struct {
	Q  *ring.TypedQueue[string]
	Mu *futex.Lock
	I  int
}

// hello is registered at init; the child runs it.
var hello = proc.Func("hello", func(ctx context.Context, a HelloArgs) error {
	if err := a.Mu.Acquire(ctx); err != nil {
		return err
	}
	defer a.Mu.Release()
	return a.Q.Put(ctx, fmt.Sprintf("hello from %d", a.I))
})

// Three children put a greeting each into a shared queue. (The test
// binary's TestMain calls proc.Main, as main must.)
func Example() {
	ctx := context.Background()
	m := proc.NewManager()
	defer m.Close()
	q, mu := proc.Queue[string](m), proc.Lock(m)
	var ps []*proc.Process
	for i := range 3 {
		ps = append(ps, hello.Start(ctx, HelloArgs{q, mu, i}))
	}
	for _, p := range ps {
		if err := p.Join(ctx); err != nil {
			fmt.Println(err)
		}
	}
	var got []string
	for range 3 {
		s, _ := q.Get(ctx)
		got = append(got, s)
	}
	slices.Sort(got)
	fmt.Println(got)
	// Output: [hello from 0 hello from 1 hello from 2]
}

// Counter is a Runner, CPython's Process subclass: its fields are its
// arguments, its Run method the child's body.
type Counter struct {
	Total *ctypes.Value[int64]
	N     int
}

// Run adds 1 to Total N times under Total's lock.
func (c *Counter) Run(ctx context.Context) error {
	for range c.N {
		if _, err := c.Total.Update(ctx, func(v int64) int64 { return v + 1 }); err != nil {
			return err
		}
	}
	return nil
}

func init() { proc.Register[*Counter]("counter") }

// Two Counter processes add to one shared Value.
func ExampleRegister() {
	ctx := context.Background()
	total := proc.Value[int64](nil, 0) // nil: the default Manager
	a := proc.Start(ctx, &Counter{Total: total, N: 1000})
	b := proc.Start(ctx, &Counter{Total: total, N: 1000})
	a.Join(ctx)
	b.Join(ctx)
	fmt.Println(total.Load())
	// Output: 2000
}

var fail = proc.Func("fail", func(ctx context.Context, code int) error {
	return fmt.Errorf("failed with %d", code)
})

// The child's error comes back with its exit code.
func ExampleProcess_Join() {
	ctx := context.Background()
	p := fail.Start(ctx, 7)
	err := p.Join(ctx)
	code, _ := p.ExitCode()
	fmt.Println(code, err.(*proc.ExitError).Err)
	// Output: 1 failed with 7
}
