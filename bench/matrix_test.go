package bench

// What a plain `go test -bench . ./bench/` runs, and what -bench.full adds.
//
// By default the transport suites measure the transports and sizes the
// README quotes (the Unix socket and pipe baselines and shmkit's SPSC ring,
// its futex-only twin, Queue, Pipe, batch, at 64 B and 64 KiB) and the
// ablations only the wait knob at 64 B: a few minutes in all. -bench.full
// runs every transport, size, knob and setting (the matrix behind
// `shmkit bench -transports all -sizes …`), about 10 minutes on a 2-vCPU VM.

import (
	"flag"
	"runtime"
	"slices"

	"github.com/shmkit/shmkit/internal/benchkit"
)

var full = flag.Bool("bench.full", false, "run the whole benchmark matrix (every transport, size, knob and setting) instead of the figures that matter")

var (
	// coreTransports are the transports measured without -bench.full.
	// (The futex-only wait is the ablation knob=wait/set=futex.)
	coreTransports = []string{"unix", "pipe", "shm-spsc", "shm-batch", "shm-queue", "shm-pipe"}
	// coreSizes are the sizes measured without -bench.full.
	coreSizes = []int{64, 64 << 10}
)

// matrixSizes are the sizes a transport suite runs transport at (none:
// the transport is left out).
func matrixSizes(transport string) []int {
	switch {
	case *full:
		return benchkit.Sizes
	case slices.Contains(coreTransports, transport):
		return coreSizes
	}
	return nil
}

// ablationSizes are the sizes the ablation suite runs knob at.
func ablationSizes(knob string) []int {
	switch {
	case *full:
		return benchkit.Sizes
	case knob == "wait":
		return []int{64}
	}
	return nil
}

// procCounts are the process counts the contention and scaling suites run
// at: 1, 2, 4, … up to the CPUs of the host (runtime.NumCPU).
func procCounts() []int { return procCountsUpTo(runtime.NumCPU()) }

// procCountsUpTo is 1, 2, 4, … up to n.
func procCountsUpTo(n int) []int { return benchkit.Counts(n) }
