package benchkit_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/internal/benchkit"
)

// The sizes every suite covers, as benchmark names and tables write them.
func ExampleSizeLabel() {
	for _, n := range benchkit.Sizes {
		fmt.Print(benchkit.SizeLabel(n), " ")
	}
	fmt.Println()
	// Output: 8B 64B 512B 4KiB 64KiB 1MiB
}

// The ablations: each knob's settings, shmkit's choice first, and the
// transport that measures each.
func ExampleKnobs() {
	for _, k := range benchkit.Knobs() {
		fmt.Print(k.Name, ":")
		for _, s := range k.Settings {
			fmt.Print(" ", s.Name, "=", s.Transport)
		}
		fmt.Println()
	}
	// Output:
	// wait: hybrid=shm-spsc spin=shm-spsc-spin yield=shm-spsc-yield futex=shm-spsc-futex hybrid-noyield=shm-spsc-noyield
	// batch: off=shm-spsc on=shm-batch
	// padding: on=lab off=lab-nopad
	// cached-index: on=lab off=lab-nocache
	// checksum: off=lab on=lab-checksum
	// wake: parked=lab always=lab-wakealways
	// sleep: futex=bell-futex futex-timed=bell-futex-timed eventfd=bell-eventfd pipe=bell-pipe netpoll=bell-netpoll
}

// One measurement: 1000 round trips of 64-byte messages with a child
// process over a Unix stream socket, the two pinned to different CPUs.
// (The figures vary, so the example prints only what is certain.)
func ExampleRun() {
	t, err := benchkit.Lookup("unix")
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := benchkit.Run(context.Background(), t, benchkit.PingPong, benchkit.Options{Size: 64, N: 1000, Placement: benchkit.Pair})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Msgs, "round trips;", "median under a second:", res.RTTMedian < time.Second)
	// Output: 1000 round trips; median under a second: true
}
