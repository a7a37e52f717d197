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

// Probe is the parent's side of the spin ping-pong probe for harnesses that
// start their own children (bench's lock and wake-up suites): hand File to
// the child, which calls AnswerProbe, and call Run once the child says it
// is about to.
type Probe struct {
	f   *os.File
	mem []byte
}

// NewProbe makes the shared page.
func NewProbe() (*Probe, error) {
	f, mem, err := newProbePage()
	if err != nil {
		return nil, err
	}
	return &Probe{f: f, mem: mem}, nil
}

// File is the descriptor to hand to the child.
func (p *Probe) File() *os.File { return p.f }

// Run bounces the word with the child (about a millisecond, at most 200 ms)
// and returns the median round trip, 0 if the child never answered.
func (p *Probe) Run() time.Duration { return probeParent(p.mem) }

// Close unmaps the page and closes the descriptor.
func (p *Probe) Close() error {
	unix.Munmap(p.mem)
	return p.f.Close()
}

// AnswerProbe is the child's side: it maps the page in f and answers the
// parent's Run until it ends (or about a second passes without one).
func AnswerProbe(f *os.File) error {
	mem, err := mapProbe(int(f.Fd()))
	if err != nil {
		return fmt.Errorf("benchkit: probe page: %w", err)
	}
	probeChild(mem)
	return unix.Munmap(mem)
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
