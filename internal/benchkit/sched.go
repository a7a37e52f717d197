package benchkit

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// runqWait returns how long the calling OS thread has spent runnable but
// waiting for a CPU (another thread had it) since it started: the second
// field of /proc/thread-self/schedstat. The difference across a run says
// how much of it other load took from the measured thread, on a machine
// shared with other work; 0 where the kernel does not keep the figure.
// Call it from a goroutine locked to its thread.
func runqWait() time.Duration {
	b, err := os.ReadFile("/proc/thread-self/schedstat")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) < 2 {
		return 0
	}
	ns, err := strconv.ParseInt(string(f[1]), 10, 64)
	if err != nil {
		return 0
	}
	return time.Duration(ns)
}
