package proc_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/poolbench"
	"github.com/shmkit/shmkit/proc"
)

// TestAsyncResultCallbackBeforeGet: as CPython's ApplyResult, an
// AsyncResult's callback runs before the result is ready, so a Get that
// returns finds it run (the pool example prints the callbacks, then the
// results); a Future's done callback may run after Result returns.
func TestAsyncResultCallbackBeforeGet(t *testing.T) {
	for _, in := range []bool{false, true} {
		p, err := proc.NewPool(2, &proc.PoolOptions{InProcess: in})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for i := range 20 {
			var ran atomic.Bool
			r := poolbench.Square.ApplyAsync(p, i)
			r.OnSuccess(func(int) {
				time.Sleep(time.Millisecond) // a slow callback
				ran.Store(true)
			})
			if v, err := r.Get(ctx); err != nil || v != i*i {
				t.Fatalf("in-process %v: Get = %d, %v", in, v, err)
			}
			if !ran.Load() {
				t.Fatalf("in-process %v, task %d: Get returned before the OnSuccess callback had run", in, i)
			}
			if !r.Ready() {
				t.Fatalf("in-process %v: not Ready after Get", in)
			}
		}
		cancel()
		p.Terminate()
	}
}
