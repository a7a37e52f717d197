// Command shmkit inspects and cleans up shmkit segments and runs the
// benchmark comparison against socket IPC.
//
//	shmkit bench [flags]     shmkit transports vs Unix sockets, pipes, TCP
//	shmkit bench -ablations  each design choice toggled, everything else equal
//	shmkit ls [-json]        segments under /dev/shm with creator and liveness
//	shmkit inspect [-json] NAME
//	                         header, participants, object directory and the
//	                         state of every object (lock holders and their
//	                         liveness, semaphore values, queue counters, pipe
//	                         ends, values and arrays, maps)
//	shmkit rm NAME...        remove named segments
//	shmkit gc [-n] [-v] [-f] remove segments whose creator is dead and that
//	                         no live process has attached; -f also those of
//	                         a layout version this shmkit does not know
//
// `shmkit bench` re-executes its own binary as the peer process; with the
// defaults it takes a little over two minutes on a 2-core machine (945
// measurements: 9 transports, 3 sizes, throughput and round trip, in three
// placements, free, a pinned pair and one shared CPU, plus an idle waiter
// at 64 B, 5 interleaved rounds), prints a table per placement with the
// CPU both processes used (-markdown: the README's tables) and writes
// bench-results/bench.json and bench-results/bench.svg. Ctrl-C stops it: the peer is killed, nothing
// is written, and nothing is left behind (every transport lives in
// anonymous memory, abstract sockets or descriptors).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/shmkit/shmkit/internal/benchkit"
)

func main() {
	// A re-executed benchmark peer runs its role and exits here.
	benchkit.Main()
	os.Exit(run(interruptible(), os.Args[1:], os.Stdout, os.Stderr))
}

// interruptible returns a context that the first SIGINT (Ctrl-C) or
// SIGTERM cancels, so the command stops its children and cleans up; a
// second signal kills the process at once.
func interruptible() context.Context {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	return ctx
}

const usage = `usage: shmkit COMMAND [ARGS]

commands:
  bench     compare shmkit with Unix sockets, pipes and TCP (table, JSON, SVG);
            'bench pool': proc.Pool against CPython's Pool and a socket loop
  ls        list shmkit segments with creator and liveness
  inspect   print a segment's header, participants, objects and their state (-json)
  rm        remove named segments
  gc        remove segments whose creator is dead and that nobody has attached

Run 'shmkit COMMAND -h' for a command's flags.
`

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "bench":
		if len(args) > 1 && args[1] == "pool" {
			return cmdBenchPool(ctx, args[2:], stdout, stderr)
		}
		return cmdBench(ctx, args[1:], stdout, stderr)
	case "ls":
		return cmdLs(args[1:], stdout, stderr)
	case "inspect":
		return cmdInspect(args[1:], stdout, stderr)
	case "rm":
		return cmdRm(args[1:], stdout, stderr)
	case "gc":
		return cmdGc(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "shmkit: unknown command %q\n\n%s", args[0], usage)
	return 2
}
