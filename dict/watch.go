package dict

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/shmkit/shmkit/futex"
)

// watchSlice bounds one park on the notify word: after it the parker wakes
// the process's watchers anyway, so that they re-check their condition
// (and the liveness of writers that hold Revision back).
const watchSlice = 50 * time.Millisecond

// hub multiplexes one handle's Watch callers onto at most one OS thread
// parked in FUTEX_WAIT: the parker goroutine runs while callers wait and
// closes the current channel after each wake-up or slice.
type hub struct {
	mu      sync.Mutex
	waiters int
	running bool
	ch      chan struct{}
	seen    uint32        // the notify value when ch was made
	exited  chan struct{} // closed when the running parker returns
}

// register adds a waiter and returns the channel closed at the next change.
func (c *core) register() chan struct{} {
	h := &c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil {
		h.ch = make(chan struct{})
		h.seen = atomic.LoadUint32(&c.root.notify)
	}
	h.waiters++
	if !h.running {
		h.running = true
		h.exited = make(chan struct{})
		go c.park()
	}
	return h.ch
}

// unregister removes a waiter. The last one out waits for the parker to
// return (waking it with FUTEX_WAKE until it does), so that no goroutine
// touches the mapping after Watch returns: the caller may Close the segment
// next.
func (c *core) unregister() {
	h := &c.hub
	h.mu.Lock()
	h.waiters--
	last := h.waiters == 0 && h.running
	exited := h.exited
	h.mu.Unlock()
	if !last {
		return
	}
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		// A wake that comes before the parker sleeps is lost; the next
		// tick repeats it.
		futex.Wake(&c.root.notify, 1<<30)
		select {
		case <-exited:
			return
		case <-tick.C:
		}
		h.mu.Lock()
		taken := h.waiters > 0 // a new waiter keeps the parker
		h.mu.Unlock()
		if taken {
			return
		}
	}
}

// park is the hub's parker goroutine.
func (c *core) park() {
	h := &c.hub
	for {
		h.mu.Lock()
		if h.waiters == 0 {
			h.running = false
			close(h.exited)
			h.mu.Unlock()
			return
		}
		seen := h.seen
		h.mu.Unlock()
		if atomic.LoadUint32(&c.root.notify) == seen {
			atomic.AddUint32(&c.root.watchers, 1)
			_ = futex.Wait(&c.root.notify, seen, watchSlice)
			atomic.AddUint32(&c.root.watchers, ^uint32(0))
		}
		h.mu.Lock()
		close(h.ch)
		h.ch = make(chan struct{})
		h.seen = atomic.LoadUint32(&c.root.notify)
		h.mu.Unlock()
	}
}

// watch waits until Revision is above since, or ctx is done.
func (c *core) watch(ctx context.Context, since uint64) (uint64, error) {
	for stale := 0; ; stale++ {
		if r := c.revision(); r > since {
			return r, nil
		}
		if err := ctx.Err(); err != nil {
			return since, err
		}
		ch := c.register()
		if stale > 0 {
			c.clearDeadInflight()
		}
		if r := c.revision(); r > since {
			c.unregister()
			return r, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
		}
		c.unregister()
	}
}
