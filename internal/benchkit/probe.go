package benchkit

import (
	"fmt"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

const (
	probeRounds   = 2000
	probeLimit    = 200 * time.Millisecond // a probe never takes longer
	spinsPerYield = 4096                   // give a shared core away now and then
)

// newProbePage makes the shared page the spin probe runs on.
func newProbePage() (*os.File, []byte, error) {
	fd, err := unix.MemfdCreate("shmkit-bench-probe", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, nil, fmt.Errorf("benchkit: probe memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "probe")
	if err := unix.Ftruncate(fd, probeSize); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("benchkit: probe size: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, probeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("benchkit: probe mmap: %w", err)
	}
	return f, mem, nil
}

func mapProbe(fd int) ([]byte, error) {
	return unix.Mmap(fd, 0, probeSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

// probeParent bounces the word probeRounds times (or until probeLimit) and
// returns the median round trip, 0 if not one round completed.
func probeParent(mem []byte) time.Duration {
	seq := probeSeq(mem)
	defer atomic.StoreUint32(seq, probeEnd)
	rtts := make([]time.Duration, 0, probeRounds)
	deadline := time.Now().Add(probeLimit)
	for i := uint32(0); i < probeRounds; i++ {
		ask := 2*i + 1
		t0 := time.Now()
		atomic.StoreUint32(seq, ask)
		for n := 1; atomic.LoadUint32(seq) != ask+1; n++ {
			if n%spinsPerYield == 0 {
				if time.Now().After(deadline) {
					return median(rtts)
				}
				schedYield()
			}
		}
		rtts = append(rtts, time.Since(t0))
	}
	return median(rtts)
}

// probeChild answers the parent until it stores probeEnd (or probeLimit
// passes without it).
func probeChild(mem []byte) {
	seq := probeSeq(mem)
	deadline := time.Now().Add(probeLimit + time.Second)
	for n := 1; ; n++ {
		v := atomic.LoadUint32(seq)
		if v == probeEnd {
			return
		}
		if v%2 == 1 {
			atomic.StoreUint32(seq, v+1)
			continue
		}
		if n%spinsPerYield == 0 {
			if time.Now().After(deadline) {
				return
			}
			schedYield()
		}
	}
}

func median(d []time.Duration) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// schedYield gives the CPU to another runnable thread, which on a shared
// core may be the peer the spin is waiting for.
func schedYield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }
