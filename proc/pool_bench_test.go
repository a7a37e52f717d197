package proc_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/benchkit"
	"github.com/shmkit/shmkit/internal/poolbench"
	"github.com/shmkit/shmkit/proc"
)

// Benchmark names: BenchmarkPool/op=<op>/workers=<N>/impl=<impl>, ns/op
// per task of a trivial function (x*x) on a pool of N workers started
// beforehand. The workloads live in internal/poolbench, which `shmkit bench
// pool` runs too.
//
//	workers: 1, 2, 4, … up to runtime.NumCPU() (a pool wider than the host
//	      only adds scheduling noise)
//	op:   map (default chunking, ceil(n/(4·workers)))
//	      map-chunk1 (Map with Chunksize(1))
//	      apply-async (ApplyAsync of every task, then Get of each)
//	      apply (synchronous Apply, one task at a time)
//	      submit (Submit of every task, then Result of each)
//	impl: go (worker processes), go-inprocess (goroutines),
//	      cpython (multiprocessing.Pool, or ProcessPoolExecutor for
//	      submit; skipped without python3),
//	      socket (BenchmarkPool/op=apply/impl=socket, no workers key: one
//	      Go worker process answering requests over a Unix socket, one
//	      round trip per task, the baseline that needs nothing but the
//	      standard library)
//
// Ratios compare ns/op of the same op in the same run.

func BenchmarkPool(b *testing.B) {
	for _, op := range poolbench.Ops {
		b.Run("op="+op, func(b *testing.B) {
			for _, n := range benchkit.Counts(runtime.NumCPU()) {
				b.Run(fmt.Sprintf("workers=%d", n), func(b *testing.B) { benchPoolImpls(b, op, n) })
			}
			if op == "apply" {
				// One worker answers every request whatever the pool's
				// width: measured once per run, not per width.
				b.Run("impl=socket", func(b *testing.B) {
					d, err := poolbench.Socket(context.Background(), b.N)
					if err != nil {
						b.Fatal(err)
					}
					reportPerTask(b, d, b.N)
				})
			}
		})
	}
}

// benchPoolImpls runs op on a pool of n workers of every impl.
func benchPoolImpls(b *testing.B, op string, n int) {
	ctx := context.Background()
	for _, in := range []bool{false, true} {
		impl := "go"
		if in {
			impl = "go-inprocess"
		}
		b.Run("impl="+impl, func(b *testing.B) {
			p, err := proc.NewPool(n, &proc.PoolOptions{InProcess: in})
			if err != nil {
				b.Fatal(err)
			}
			defer func() {
				p.Close()
				p.Join(ctx)
			}()
			b.ReportAllocs()
			b.ResetTimer()
			d, err := poolbench.Run(ctx, p, op, b.N)
			if err != nil {
				b.Fatal(err)
			}
			reportPerTask(b, d, b.N)
		})
	}
	b.Run("impl=cpython", func(b *testing.B) {
		// The timer runs: the wall time of the whole run keeps
		// the framework's choice of b.N in step with CPython's
		// speed; the figure is CPython's own time per task.
		per, err := poolbench.CPython(op, n, max(b.N, poolbench.CPythonTasks[op]))
		if errors.Is(err, poolbench.ErrNoPython) {
			b.Skip(err)
		} else if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(per.Nanoseconds()), "ns/op")
	})
}

// reportPerTask reports the measured time per task as ns/op (the start of
// pools and workers excluded).
func reportPerTask(b *testing.B, d time.Duration, n int) {
	b.ReportMetric(float64(d.Nanoseconds())/float64(n), "ns/op")
}
