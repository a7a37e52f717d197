package futex

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmkit/shmkit/shm"
)

// A gate lets at most one goroutine per process park in the kernel on one
// primitive (docs/robustness.md V7, F23): a goroutine blocked in FUTEX_WAIT pins an OS
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
// context and the liveness of whoever it waits for (docs/robustness.md D3), so a dead
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

// A relay lets one goroutine per process park in the kernel on a primitive
// whose waiters wait for different things (a Barrier's generations, a
// Condition's notifications, which only waiters registered before them may
// take), where a gate would queue a goroutine whose wait is over behind one
// that waits for something later. The parker broadcasts to the others, who
// wait in Go, each time it wakes; they re-check their own condition.
type relay struct {
	mu     sync.Mutex
	parked bool
	val    uint32        // the value the parker sleeps on
	ch     chan struct{} // closed when the parker wakes
}

var relays struct {
	sync.Mutex
	m map[gateKey]*relay
}

func relayFor(seg *shm.Segment, off int) *relay {
	relays.Lock()
	defer relays.Unlock()
	if relays.m == nil {
		relays.m = make(map[gateKey]*relay)
	}
	k := gateKey{seg.CreationID(), off}
	r := relays.m[k]
	if r == nil {
		r = &relay{ch: make(chan struct{})}
		relays.m[k] = r
	}
	return r
}

// wait returns after this goroutine slept on addr (while it holds val) for
// at most slice, or after the goroutine that sleeps there woke. A caller
// whose val is stale returns at once to re-check.
func (r *relay) wait(ctx context.Context, addr *uint32, val uint32, slice time.Duration, sleepers *uint32) (bool, error) {
	r.mu.Lock()
	if r.parked {
		ch, same := r.ch, r.val == val
		r.mu.Unlock()
		if !same {
			return false, ctx.Err()
		}
		select {
		case <-ch:
			return false, nil
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
	r.parked, r.val = true, val
	r.mu.Unlock()
	atomic.AddUint32(sleepers, 1)
	timedOut, err := park(ctx, addr, val, slice)
	atomic.AddUint32(sleepers, ^uint32(0))
	r.mu.Lock()
	r.parked = false
	close(r.ch)
	r.ch = make(chan struct{})
	r.mu.Unlock()
	return timedOut, err
}
