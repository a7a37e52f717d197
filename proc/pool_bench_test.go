package proc_test

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/proc"
)

// Benchmark names: BenchmarkPool/op=<op>/impl=<impl>, ns/op per task of a
// trivial function (x*x) on a pool of 2 workers started beforehand.
//
//	op:   map (default chunking, ceil(n/(4·workers)))
//	      map-chunk1 (Map with Chunksize(1))
//	      apply-async (ApplyAsync of every task, then Get of each)
//	      apply (synchronous Apply, one task at a time)
//	      submit (Submit of every task, then Result of each)
//	impl: go (worker processes), go-inprocess (goroutines),
//	      cpython (testdata/pool_bench.py: multiprocessing.Pool, or
//	      ProcessPoolExecutor for submit; skipped without python3),
//	      socket (op=apply only: a Go worker process answering requests
//	      over a Unix socket, one round trip per task, the baseline that
//	      needs nothing but the standard library)
//
// Ratios compare ns/op of the same op in the same run.

const benchWorkers = 2

var benchSquare = proc.Task("bench.square", func(_ context.Context, x int) (int, error) { return x * x, nil })

func BenchmarkPool(b *testing.B) {
	ops := []struct {
		name string
		run  func(b *testing.B, p *proc.Pool)
	}{
		{"map", func(b *testing.B, p *proc.Pool) { benchMap(b, p) }},
		{"map-chunk1", func(b *testing.B, p *proc.Pool) { benchMap(b, p, proc.Chunksize(1)) }},
		{"apply-async", benchApplyAsync},
		{"apply", benchApply},
		{"submit", benchSubmit},
	}
	for _, op := range ops {
		b.Run("op="+op.name, func(b *testing.B) {
			for _, in := range []bool{false, true} {
				impl := "go"
				if in {
					impl = "go-inprocess"
				}
				b.Run("impl="+impl, func(b *testing.B) {
					p, err := proc.NewPool(benchWorkers, &proc.PoolOptions{InProcess: in})
					if err != nil {
						b.Fatal(err)
					}
					defer func() {
						p.Close()
						p.Join(context.Background())
					}()
					b.ReportAllocs()
					op.run(b, p)
				})
			}
			b.Run("impl=cpython", func(b *testing.B) { cpythonPool(b, op.name) })
			if op.name == "apply" {
				b.Run("impl=socket", benchSocket)
			}
		})
	}
}

func benchMap(b *testing.B, p *proc.Pool, opts ...proc.CallOption) {
	xs := make([]int, b.N)
	for i := range xs {
		xs[i] = i
	}
	b.ResetTimer()
	out, err := benchSquare.Map(context.Background(), p, xs, opts...)
	if err != nil || len(out) != b.N {
		b.Fatal(err)
	}
}

func benchApplyAsync(b *testing.B, p *proc.Pool) {
	benchAsync(b, func(i int) func(context.Context) (int, error) { return benchSquare.ApplyAsync(p, i).Get })
}

func benchSubmit(b *testing.B, p *proc.Pool) {
	benchAsync(b, func(i int) func(context.Context) (int, error) { return benchSquare.Submit(p, i).Result })
}

// benchAsync submits b.N tasks, then waits for each result in turn.
func benchAsync(b *testing.B, submit func(i int) func(context.Context) (int, error)) {
	gets := make([]func(context.Context) (int, error), b.N)
	ctx := context.Background()
	b.ResetTimer()
	for i := range gets {
		gets[i] = submit(i)
	}
	for i, get := range gets {
		if v, err := get(ctx); err != nil || v != i*i {
			b.Fatal(v, err)
		}
	}
}

func benchApply(b *testing.B, p *proc.Pool) {
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		if v, err := benchSquare.Apply(ctx, p, i); err != nil || v != i*i {
			b.Fatal(v, err)
		}
	}
}

// cpythonTasks is how many tasks CPython runs at least, per op: enough for
// its pool's start to drop out of the figure (about a second each).
var cpythonTasks = map[string]int{"map": 1000000, "map-chunk1": 20000, "apply-async": 20000, "apply": 5000, "submit": 10000}

// cpythonPool runs b.N tasks of op in CPython and reports CPython's time
// per task as the benchmark's ns/op.
func cpythonPool(b *testing.B, op string) {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("no python3")
	}
	// The timer runs: the wall time of the whole run (interpreter and pool
	// start included) keeps the framework's choice of b.N in step with
	// CPython's speed. CPython runs at least cpythonTasks tasks whatever
	// b.N, and the reported figure is its own time per task.
	n := max(b.N, cpythonTasks[op])
	out, err := exec.Command(py, "testdata/pool_bench.py", op, strconv.Itoa(benchWorkers), strconv.Itoa(n)).Output()
	if err != nil {
		b.Fatalf("python3: %v", err)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		b.Fatalf("python3 said %q", out)
	}
	b.ReportMetric(sec*1e9, "ns/op")
}

// socketWorker answers 8-byte requests x with x*x on a Unix socket.
var socketWorker = proc.Func("bench.socket-worker", func(ctx context.Context, path string) error {
	c, err := net.Dial("unix", path)
	if err != nil {
		return err
	}
	defer c.Close()
	var buf [8]byte
	for {
		if _, err := io.ReadFull(c, buf[:]); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
		x := binary.LittleEndian.Uint64(buf[:])
		binary.LittleEndian.PutUint64(buf[:], x*x)
		if _, err := c.Write(buf[:]); err != nil {
			return err
		}
	}
})

func benchSocket(b *testing.B) {
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	w := socketWorker.Start(ctx, path)
	c, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		c.Close()
		if err := w.Join(ctx); err != nil {
			b.Error(err)
		}
	}()
	var buf [8]byte
	for i := uint64(0); b.Loop(); i++ {
		binary.LittleEndian.PutUint64(buf[:], i)
		if _, err := c.Write(buf[:]); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf[:]); err != nil || binary.LittleEndian.Uint64(buf[:]) != i*i {
			b.Fatal(err)
		}
	}
}
