package benchkit

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Placement says where a run puts the parent's and the child's hot threads.
type Placement string

// Placements.
const (
	// Free leaves both to the scheduler (often the same core, on a
	// 2-vCPU VM, for ping-pong).
	Free Placement = ""
	// Pair pins them to two different CPUs: the cross-core figures.
	Pair Placement = "pair"
	// Shared pins both to the same CPU: the one-shared-core figures.
	Shared Placement = "shared"
)

// ParsePlacement reads "pair", "shared" or "free".
func ParsePlacement(s string) (Placement, error) {
	switch s {
	case "pair", "shared":
		return Placement(s), nil
	case "free", "":
		return Free, nil
	}
	return Free, fmt.Errorf("benchkit: placement %q: want pair, shared or free", s)
}

// cpus returns the CPUs for the parent and the child and whether to pin;
// Pair without two allowed CPUs does not pin.
func (p Placement) cpus() (parent, child int, ok bool) {
	switch p {
	case Pair:
		return PinPair()
	case Shared:
		a, _, ok := PinPair()
		if !ok {
			return firstCPU()
		}
		return a, a, true
	}
	return -1, -1, false
}

func firstCPU() (int, int, bool) {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return -1, -1, false
	}
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			return i, i, true
		}
	}
	return -1, -1, false
}

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
// cpu, and reports whether the affinity took (a container may forbid it);
// the goroutine stays locked either way, until restore.
func pinThread(cpu int) (restore func(), pinned bool) {
	runtime.LockOSThread()
	var old unix.CPUSet
	haveOld := unix.SchedGetaffinity(0, &old) == nil
	var set unix.CPUSet
	set.Set(cpu)
	pinned = unix.SchedSetaffinity(0, &set) == nil
	return func() {
		if pinned && haveOld {
			unix.SchedSetaffinity(0, &old)
		}
		runtime.UnlockOSThread()
	}, pinned
}

// pin pins the hot goroutine's thread to cpu (pinThread) or, unlocked,
// every thread of the process (pinProcess).
func pin(cpu int, unlocked bool) (restore func(), pinned bool) {
	if unlocked {
		return pinProcess(cpu)
	}
	return pinThread(cpu)
}

// pinProcess pins every thread of the process to cpu and sets GOMAXPROCS
// to 1, as taskset does for a program it starts, and locks no goroutine:
// threads started later inherit the affinity from the thread that starts
// them. restore puts back GOMAXPROCS and the affinity the calling thread
// had, on every thread.
func pinProcess(cpu int) (restore func(), pinned bool) {
	procs := runtime.GOMAXPROCS(1)
	var old, set unix.CPUSet
	haveOld := unix.SchedGetaffinity(0, &old) == nil
	set.Set(cpu)
	setAll := func(s *unix.CPUSet) bool {
		ok := true
		// Twice: a thread started during the first pass from one not yet
		// pinned is caught by the second.
		for range 2 {
			tasks, err := os.ReadDir("/proc/self/task")
			if err != nil {
				return false
			}
			for _, t := range tasks {
				if tid, err := strconv.Atoi(t.Name()); err == nil {
					if err := unix.SchedSetaffinity(tid, s); err != nil && err != unix.ESRCH {
						ok = false
					}
				}
			}
		}
		return ok
	}
	pinned = setAll(&set)
	return func() {
		if haveOld {
			setAll(&old)
		}
		runtime.GOMAXPROCS(procs)
	}, pinned
}

// CPUs returns the CPUs the placement puts the parent and the child on, and
// whether it pins at all.
func (p Placement) CPUs() (parent, child int, ok bool) { return p.cpus() }

// Pin locks the calling goroutine to its thread and the thread to cpu, for
// harnesses that run their own children; call the returned function to undo.
func Pin(cpu int) (restore func()) {
	restore, _ = pinThread(cpu)
	return restore
}

// AllowedCPUs lists the CPUs this process may run on, in order.
func AllowedCPUs() []int {
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		return nil
	}
	var cpus []int
	for i := 0; i < len(set)*64; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	return cpus
}

// Counts are the process counts a scaling benchmark runs at: 1, 2, 4, …
// up to max, and max itself when it is not a power of two.
func Counts(max int) []int {
	var out []int
	for n := 1; n < max; n *= 2 {
		out = append(out, n)
	}
	return append(out, max)
}
