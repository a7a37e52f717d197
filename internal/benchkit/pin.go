package benchkit

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// PinPair returns two distinct CPUs this process may run on, for the parent
// and the child, and ok false when fewer than two are allowed (then nothing
// is pinned).
func PinPair() (parent, child int, ok bool) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return -1, -1, false
	}
	var cpus []int
	for i := 0; i < len(set)*64 && len(cpus) < 2; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		return -1, -1, false
	}
	return cpus[0], cpus[1], true
}

// pinThread locks the calling goroutine to its OS thread and that thread to
// cpu. It reports whether the affinity took; the goroutine stays locked
// either way (for the child's lifetime, or until unpin).
func pinThread(cpu int) (restore func()) {
	runtime.LockOSThread()
	var old unix.CPUSet
	haveOld := unix.SchedGetaffinity(0, &old) == nil
	var set unix.CPUSet
	set.Set(cpu)
	pinned := unix.SchedSetaffinity(0, &set) == nil
	return func() {
		if pinned && haveOld {
			unix.SchedSetaffinity(0, &old)
		}
		runtime.UnlockOSThread()
	}
}
