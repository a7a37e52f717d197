package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/shmkit/shmkit/internal/poolbench"
	"github.com/shmkit/shmkit/proc"
)

// poolTasks is how many tasks one round of each op runs on the Go pool,
// enough for the pool's fixed costs to drop out and short enough to
// interleave a few rounds in well under a minute.
var poolTasks = map[string]int{"map": 200000, "map-chunk1": 20000, "apply-async": 20000, "apply": 2000, "submit": 20000}

// cmdBenchPool is `shmkit bench pool`: proc's Pool against CPython's
// multiprocessing.Pool / ProcessPoolExecutor and a Go Unix-socket worker
// loop, the rounds interleaved (Go, CPython, socket, Go, ...), medians of
// the time per task, ratios within the run.
func cmdBenchPool(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench pool", flag.ContinueOnError)
	fs.SetOutput(stderr)
	workers := fs.Int("workers", 2, "pool workers (CPython's pool gets as many)")
	rounds := fs.Int("rounds", 3, "measurements per op and implementation, interleaved")
	scale := fs.Float64("scale", 1, "multiplies every op's task count (CPython runs at least its own minimum)")
	noPython := fs.Bool("no-python", false, "skip CPython even when python3 is present")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit bench pool [flags]\n\nMeasures proc.Pool's time per task of a trivial function for each op\n(%v) beside CPython 3 and a Go Unix-socket worker loop, in one run (about a minute).\n\n", poolbench.Ops)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *workers < 1 || *rounds < 1 || *scale <= 0 {
		fmt.Fprintln(stderr, "shmkit bench pool: -workers, -rounds and -scale must be positive")
		return 2
	}
	pool, err := proc.NewPool(*workers, nil)
	if err != nil {
		fmt.Fprintf(stderr, "shmkit bench pool: %v\n", err)
		return 1
	}
	defer pool.Terminate()
	n := func(op string) int { return max(1, int(float64(poolTasks[op])**scale)) }
	goT, pyT, sockT := map[string][]time.Duration{}, map[string][]time.Duration{}, []time.Duration{}
	python := !*noPython
	for r := 0; r < *rounds; r++ {
		for _, op := range poolbench.Ops {
			if ctx.Err() != nil {
				return 1
			}
			d, err := poolbench.Run(ctx, pool, op, n(op))
			if err != nil {
				fmt.Fprintf(stderr, "shmkit bench pool: %s: %v\n", op, err)
				return 1
			}
			goT[op] = append(goT[op], d/time.Duration(n(op)))
			if python {
				per, err := poolbench.CPython(op, *workers, max(n(op), poolbench.CPythonTasks[op]))
				if errors.Is(err, poolbench.ErrNoPython) {
					fmt.Fprintln(stderr, "shmkit bench pool: no python3 on the PATH: CPython skipped")
					python = false
				} else if err != nil {
					fmt.Fprintf(stderr, "shmkit bench pool: %v\n", err)
					return 1
				} else {
					pyT[op] = append(pyT[op], per)
				}
			}
		}
		d, err := poolbench.Socket(ctx, n("apply"))
		if err != nil {
			fmt.Fprintf(stderr, "shmkit bench pool: socket loop: %v\n", err)
			return 1
		}
		sockT = append(sockT, d/time.Duration(n("apply")))
	}
	sock := median(sockT)
	fmt.Fprintf(stdout, "proc.Pool with %d worker processes; time per task of x*x, median of %d interleaved rounds\n", *workers, *rounds)
	fmt.Fprintf(stdout, "socket: a Go worker process answering one request per task over a Unix socket: %v per task\n\n", sock)
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "op\tshmkit\tCPython\t×CPython\t×socket\t")
	for _, op := range poolbench.Ops {
		g := median(goT[op])
		py, xpy := "-", "-"
		if len(pyT[op]) > 0 {
			p := median(pyT[op])
			py, xpy = p.String(), fmt.Sprintf("%.1f×", float64(p)/float64(g))
		}
		fmt.Fprintf(tw, "%s\t%v\t%s\t%s\t%.1f×\t\n", op, g, py, xpy, float64(sock)/float64(g))
	}
	tw.Flush()
	return 0
}

// median returns the median of ds (the lower middle of an even count).
func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)/2]
}
