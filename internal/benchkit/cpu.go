package benchkit

import (
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the user plus system CPU time the calling process has
// used so far, all of its threads together (getrusage RUSAGE_SELF); 0 where
// the call fails. The difference across a run is the run's CPU bill on this
// side, spinning included.
func processCPU() time.Duration {
	var ru unix.Rusage
	if unix.Getrusage(unix.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// CPUMeter measures the CPU time the calling process uses between New and
// Stop, for harnesses that run their own children (each child measures
// itself the same way and reports the figure).
type CPUMeter struct{ t0 time.Duration }

// NewCPUMeter starts a meter on the calling process.
func NewCPUMeter() CPUMeter { return CPUMeter{processCPU()} }

// Used is the process CPU time (user + system) since the meter started.
func (m CPUMeter) Used() time.Duration { return processCPU() - m.t0 }

// ProcCPU returns the CPU time process pid has used so far, all of its
// threads together: the sum of /proc/PID/task/*/schedstat's first field
// (nanoseconds on a CPU, user and system alike). It reads a running child
// that reports nothing itself (a benchmark's hammer loop); 0 when the
// process is gone or the kernel keeps no schedstat.
func ProcCPU(pid int) time.Duration {
	return schedstatSum("/proc/"+strconv.Itoa(pid)+"/task", 0)
}
