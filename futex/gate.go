package futex

import (
	"context"
	"sync"
	"time"

	"github.com/shmkit/shmkit/shm"
)

// A gate lets at most one goroutine per process park in the kernel on one
// primitive (FAULTS V7/F23): a goroutine blocked in FUTEX_WAIT pins an OS
// thread, and 10,000 of them exceed the runtime's thread limit. Every
// goroutine that must sleep first takes the primitive's gate, a channel
// with room for one; the others queue on the channel, which costs no thread,
// and take their turn when the parker leaves. Every handle to the same
// object in this process shares the gate, keyed like seg.Anchor by the
// segment's identity and the object's offset.
type gate struct{ ch chan struct{} }

type gateKey struct {
	id  uint64
	off int
}

var gates struct {
	sync.Mutex
	m map[gateKey]*gate
}

// gateFor returns the process-wide gate of the object at off in seg. Gates
// live as long as the process: one small channel per object ever opened.
func gateFor(seg *shm.Segment, off int) *gate {
	gates.Lock()
	defer gates.Unlock()
	if gates.m == nil {
		gates.m = make(map[gateKey]*gate)
	}
	k := gateKey{seg.CreationID(), off}
	g := gates.m[k]
	if g == nil {
		g = &gate{ch: make(chan struct{}, 1)}
		gates.m[k] = g
	}
	return g
}

// enter takes the gate, or returns ctx.Err().
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.ch <- struct{}{}:
		return nil
	default:
	}
	select {
	case g.ch <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave hands the gate to the next goroutine.
func (g *gate) leave() { <-g.ch }

// Wait slices: a parked thread wakes at least this often to re-check its
// context and the liveness of whoever it waits for (FAULTS c2.4), so a dead
// holder is noticed within maxSlice plus one liveness check.
const (
	minSlice = time.Millisecond
	maxSlice = 50 * time.Millisecond
)

// park sleeps on addr while it holds val, for at most slice and never past
// ctx's deadline. It reports whether the slice elapsed without a wake-up,
// and returns ctx.Err() once ctx is done.
func park(ctx context.Context, addr *uint32, val uint32, slice time.Duration) (timedOut bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	d := slice
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return false, context.DeadlineExceeded
		}
		d = min(d, left)
	}
	if Wait(addr, val, d) == ErrTimeout {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		return true, nil
	}
	return false, nil
}

// nextSlice doubles a wait slice up to maxSlice.
func nextSlice(d time.Duration) time.Duration { return min(2*d, maxSlice) }

// spinRounds bounds the spinning before a goroutine parks: four rounds of
// 2^i*32 loads with a yield between, a few microseconds in all. On a 2-core
// machine with more processes than cores a longer spin would steal the
// holder's CPU.
const spinRounds = 4
