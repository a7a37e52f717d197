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
// (and the liveness of writers that hold Revision back, and whether the
// segment was closed or truncated).
const watchSlice = 50 * time.Millisecond

// hub multiplexes one handle's Watch callers onto at most one OS thread
// parked in FUTEX_WAIT: the parker goroutine runs while callers wait and
// closes the current channel after each wake-up or slice.
//
// No access to the mapping happens under mu: on a guarded segment such an
// access may fault, and the recovery must not leave mu locked.
type hub struct {
	mu      sync.Mutex
	waiters int
	running bool
	ch      chan struct{}
	seen    uint32        // the notify value when ch was made
	exited  chan struct{} // closed when the running parker returns
}

// loadNotify loads the notify word through guard: an error once the
// segment was closed or truncated.
func (c *core) loadNotify() (n uint32, err error) {
	err = c.guard(func() error {
		n = atomic.LoadUint32(&c.root.notify)
		return nil
	})
	return n, err
}

// register adds a waiter and returns the channel closed at the next change.
func (c *core) register() (chan struct{}, error) {
	seen, err := c.loadNotify()
	if err != nil {
		return nil, err
	}
	h := &c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ch == nil {
		h.ch = make(chan struct{})
		h.seen = seen
	}
	h.waiters++
	if !h.running {
		h.running = true
		h.exited = make(chan struct{})
		go c.park()
	}
	return h.ch, nil
}

// unregister removes a waiter. The last one out waits for the parker to
// return (waking it with FUTEX_WAKE until it does), so that no goroutine
// touches the mapping after Watch returns.
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
		// tick repeats it. (FUTEX_WAKE never faults: on a truncated
		// segment the kernel refuses it.)
		futex.Wake(c.notifyW, 1<<30)
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

// park is the hub's parker goroutine. It returns when no waiter is left,
// or after closing the channel one last time when the segment was closed
// or truncated (the waiters then find the error themselves).
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
		next, err := c.parkOnce(seen)
		h.mu.Lock()
		close(h.ch)
		h.ch = make(chan struct{})
		h.seen = next
		if err != nil {
			h.running = false
			close(h.exited)
			h.mu.Unlock()
			return
		}
		h.mu.Unlock()
	}
}

// parkOnce sleeps on the notify word for at most watchSlice unless it has
// moved past seen, and returns its value afterwards.
func (c *core) parkOnce(seen uint32) (next uint32, err error) {
	err = c.guard(func() error {
		if atomic.LoadUint32(&c.root.notify) == seen {
			atomic.AddUint32(&c.root.watchers, 1)
			werr := futex.Wait(&c.root.notify, seen, watchSlice)
			atomic.AddUint32(&c.root.watchers, ^uint32(0))
			if werr != nil && werr != futex.ErrTimeout {
				return werr // the word's page is gone: truncated
			}
		}
		next = atomic.LoadUint32(&c.root.notify)
		return nil
	})
	return next, err
}

// watch waits until Revision is above since, or ctx is done. On a closed
// or truncated segment it returns the error, also when it finds it parked.
func (c *core) watch(ctx context.Context, since uint64) (uint64, error) {
	for stale := 0; ; stale++ {
		r, err := c.revisionErr()
		if err != nil {
			return since, err
		}
		if r > since {
			return r, nil
		}
		if err := ctx.Err(); err != nil {
			return since, err
		}
		ch, err := c.register()
		if err != nil {
			return since, err
		}
		// One guarded step: dead writers' in-flight marks (once a wait
		// came back with nothing new), then Revision again.
		err = c.guard(func() error {
			if stale > 0 {
				c.clearDeadInflight()
			}
			r = c.revision()
			return nil
		})
		if err != nil {
			c.unregister()
			return since, err
		}
		if r > since {
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
