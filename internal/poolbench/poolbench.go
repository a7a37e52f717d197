// Package poolbench holds the pool workloads that proc's BenchmarkPool and
// `shmkit bench pool` both measure, so that the two report the same thing:
// tasks of a trivial function (x*x) on a proc.Pool, the same operations in
// CPython's multiprocessing.Pool and ProcessPoolExecutor (pool_bench.py,
// embedded, run when python3 is present), and the always-available
// baseline, a Go worker process answering one request per task over a Unix
// socket.
//
// Operations (Ops):
//
//	map          Map with the default chunk size, ceil(n/(4·workers))
//	map-chunk1   Map with Chunksize(1)
//	apply-async  ApplyAsync of every task, then Get of each
//	apply        synchronous Apply, one task at a time
//	submit       Submit of every task, then Result of each
//
// A binary that uses it must call proc.Main first in main (or TestMain).
package poolbench

import (
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/shmkit/shmkit/proc"
)

// Ops are the operations Run measures, in the order tables list them.
var Ops = []string{"map", "map-chunk1", "apply-async", "apply", "submit"}

// Square is the task every operation runs.
var Square = proc.Task("poolbench.square", func(_ context.Context, x int) (int, error) { return x * x, nil })

// Run runs n tasks of op on p, already started, and returns the time they
// took. Every result is checked.
func Run(ctx context.Context, p *proc.Pool, op string, n int) (time.Duration, error) {
	xs := make([]int, n)
	for i := range xs {
		xs[i] = i
	}
	start := time.Now()
	var err error
	switch op {
	case "map", "map-chunk1":
		var opts []proc.CallOption
		if op == "map-chunk1" {
			opts = append(opts, proc.Chunksize(1))
		}
		var out []int
		if out, err = Square.Map(ctx, p, xs, opts...); err == nil {
			err = check(out)
		}
	case "apply-async", "submit":
		gets := make([]func(context.Context) (int, error), n)
		for i := range gets {
			if op == "submit" {
				gets[i] = Square.Submit(p, i).Result
			} else {
				gets[i] = Square.ApplyAsync(p, i).Get
			}
		}
		out := make([]int, n)
		for i, get := range gets {
			if out[i], err = get(ctx); err != nil {
				break
			}
		}
		if err == nil {
			err = check(out)
		}
	case "apply":
		for i := 0; i < n && err == nil; i++ {
			var v int
			if v, err = Square.Apply(ctx, p, i); err == nil && v != i*i {
				err = fmt.Errorf("poolbench: apply(%d) = %d", i, v)
			}
		}
	default:
		return 0, fmt.Errorf("poolbench: unknown op %q", op)
	}
	return time.Since(start), err
}

func check(out []int) error {
	for i, v := range out {
		if v != i*i {
			return fmt.Errorf("poolbench: result %d is %d, want %d", i, v, i*i)
		}
	}
	return nil
}

//go:embed pool_bench.py
var script []byte

// ErrNoPython is CPython's error when python3 is not on the PATH.
var ErrNoPython = errors.New("poolbench: no python3 on the PATH")

// CPythonTasks is how many tasks CPython should run at least per op,
// for its pool's start to drop out of the figure (about a second each).
var CPythonTasks = map[string]int{"map": 1000000, "map-chunk1": 20000, "apply-async": 20000, "apply": 5000, "submit": 10000}

// CPython runs n tasks of op on a CPython pool of workers processes and
// returns CPython's own time per task (pool start excluded).
func CPython(op string, workers, n int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "poolbench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "pool_bench.py")
	if err := os.WriteFile(path, script, 0o600); err != nil {
		return 0, err
	}
	return Python(path, op, strconv.Itoa(workers), strconv.Itoa(n))
}

// Python runs the python3 script at path with args and returns the time
// per operation it prints (seconds, as a float, alone on its output): the
// protocol of every CPython comparison script of the repository.
// ErrNoPython when python3 is not on the PATH.
func Python(path string, args ...string) (time.Duration, error) {
	py, err := exec.LookPath("python3")
	if err != nil {
		return 0, ErrNoPython
	}
	out, err := exec.Command(py, append([]string{path}, args...)...).Output()
	if err != nil {
		return 0, fmt.Errorf("poolbench: python3 %s %v: %w", filepath.Base(path), args, err)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("poolbench: python3 %s said %q", filepath.Base(path), out)
	}
	return time.Duration(sec * 1e9), nil
}

// socketWorker answers 8-byte requests x with x*x on a Unix socket.
var socketWorker = proc.Func("poolbench.socket-worker", func(ctx context.Context, path string) error {
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

// Socket starts a Go worker process and runs n tasks as request/response
// round trips over a Unix socket, returning the time the n tasks took
// (the worker's start excluded).
func Socket(ctx context.Context, n int) (time.Duration, error) {
	dir, err := os.MkdirTemp("", "poolbench-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		return 0, err
	}
	defer l.Close()
	w := socketWorker.Start(ctx, path)
	c, err := l.Accept()
	if err != nil {
		w.Kill()
		w.Join(ctx)
		return 0, err
	}
	var buf [8]byte
	start := time.Now()
	for i := uint64(0); i < uint64(n) && err == nil; i++ {
		binary.LittleEndian.PutUint64(buf[:], i)
		if _, err = c.Write(buf[:]); err == nil {
			if _, err = io.ReadFull(c, buf[:]); err == nil && binary.LittleEndian.Uint64(buf[:]) != i*i {
				err = fmt.Errorf("poolbench: socket answered %d for %d", binary.LittleEndian.Uint64(buf[:]), i)
			}
		}
	}
	d := time.Since(start)
	c.Close()
	if jerr := w.Join(ctx); err == nil {
		err = jerr
	}
	return d, err
}
