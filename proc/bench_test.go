package proc_test

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/shmkit/shmkit/internal/poolbench"
	"github.com/shmkit/shmkit/proc"
)

// Benchmark names: BenchmarkStartJoin/impl=go/args=<what the child gets>
// and BenchmarkStartJoin/impl=cpython/method=<start method>.
//
// CPython 3.11 on a 2-vCPU machine, for reference: Process start+join
// 2.8 ms with fork, 60 ms with spawn. The impl=cpython runs measure it
// here, with testdata/process_bench.py, when python3 is on the PATH.

var nop = proc.Func("nop", func(ctx context.Context, _ struct{}) error { return nil })

var nopShared = proc.Func("nop-shared", func(ctx context.Context, a HelloArgs) error { return nil })

// BenchmarkStartJoin measures starting a child and joining it: one
// re-execution of the test binary, its Go runtime start, and the exit.
func BenchmarkStartJoin(b *testing.B) {
	ctx := context.Background()
	b.Run("impl=go/args=none", func(b *testing.B) {
		for b.Loop() {
			if err := nop.Start(ctx, struct{}{}).Join(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("impl=go/args=queue+lock", func(b *testing.B) {
		m := proc.NewManager()
		defer m.Close()
		a := HelloArgs{Q: proc.Queue[string](m), Mu: proc.Lock(m)}
		for b.Loop() {
			if err := nopShared.Start(ctx, a).Join(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, method := range []string{"fork", "spawn"} {
		b.Run("impl=cpython/method="+method, func(b *testing.B) { cpythonStartJoin(b, method) })
	}
}

// cpythonStartJoin runs b.N start+joins in CPython and reports CPython's
// time per operation as the benchmark's ns/op.
func cpythonStartJoin(b *testing.B, method string) {
	b.StopTimer()
	per, err := poolbench.Python("testdata/process_bench.py", method, strconv.Itoa(b.N))
	if errors.Is(err, poolbench.ErrNoPython) {
		b.Skip(err)
	} else if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(per.Nanoseconds()), "ns/op")
}
