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
// Call it from a goroutine locked to its thread, or with unlocked (the hot
// goroutine moves between threads) for all the process's threads together.
func runqWait(unlocked bool) time.Duration {
	if unlocked {
		return schedstatSum("/proc/self/task", 1)
	}
	ns, _ := schedstatField("/proc/thread-self/schedstat", 1)
	return ns
}

// schedstatField reads field i of a schedstat file (0: nanoseconds on a
// CPU, 1: nanoseconds runnable, waiting for one).
func schedstatField(path string, i int) (time.Duration, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	f := bytes.Fields(b)
	if len(f) <= i {
		return 0, false
	}
	ns, err := strconv.ParseInt(string(f[i]), 10, 64)
	if err != nil {
		return 0, false
	}
	return time.Duration(ns), true
}

// schedstatSum sums field i of the schedstat of every thread under dir
// (/proc/PID/task); 0 when the process is gone or the kernel keeps none.
func schedstatSum(dir string, i int) time.Duration {
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0
	}
	var sum time.Duration
	for _, t := range tasks {
		ns, _ := schedstatField(dir+"/"+t.Name()+"/schedstat", i) // 0: the thread exited since ReadDir
		sum += ns
	}
	return sum
}
