// Package gate keeps at most one goroutine per process asleep in the kernel
// on one futex word. A goroutine blocked in FUTEX_WAIT pins an OS thread,
// and 10,000 of them exceed the runtime's thread limit; the others wait in
// Go (on a channel), which costs no thread.
//
// A Gate belongs to one futex word of one shared object, not to a handle:
// For returns the same Gate to every handle on that word in this process
// (keyed by the segment's creation ID and the word's offset), however many
// handles and attachments there are. The registry holds Gates weakly: an
// entry goes when the last handle holding its Gate is gone, so a process
// that creates and closes many objects does not accumulate entries.
//
// A Gate offers two disciplines, for two kinds of waiters:
//   - Enter and Leave pass one turn (a lock or semaphore: every waiter
//     wants the same thing, so one at a time contends and the others queue
//     behind it in Go);
//   - BeginRound and EndRound elect one sleeper, and the others wait until
//     its sleep ends and then re-check their own condition (events,
//     barriers, conditions, queues and pipes: waiters may wait for
//     different things, or all be satisfied by one wake-up).
package gate

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/shmkit/shmkit/internal/weakreg"
)

// Key identifies one futex word: the creation ID of its segment and the
// word's offset in the segment.
type Key struct {
	ID  uint64
	Off int
}

// A Gate admits goroutines of this process to the kernel wait on one word.
type Gate struct {
	turn chan struct{} // room for one: the turn of Enter/Leave

	mu       sync.Mutex
	sleeping bool
	val      uint32        // the value the sleeper sleeps on
	ended    chan struct{} // closed when the sleeper's round ends; nil until someone waits
}

var registry weakreg.Registry[Key, Gate]

// For returns this process's Gate for the word k. The caller keeps the
// Gate (in its handle) for as long as it may wait on the word.
func For(k Key) *Gate {
	return registry.Get(k, func() *Gate { return &Gate{turn: make(chan struct{}, 1)} })
}

// Len returns the number of entries in the registry: Gates still held by
// some handle, and collected ones whose cleanup has not run yet.
func Len() int { return registry.Len() }

// Enter takes the Gate's turn, waiting in Go while another goroutine holds
// it, or returns ctx.Err().
func (g *Gate) Enter(ctx context.Context) error {
	select {
	case g.turn <- struct{}{}:
		return nil
	default:
	}
	select {
	case g.turn <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Leave passes the turn to the next goroutine.
func (g *Gate) Leave() { <-g.turn }

// BeginRound makes the caller this process's sleeper on the word if there
// is none: it returns sleeper true, and the caller sleeps (once, on val)
// and then calls EndRound. Otherwise it returns a channel closed when the
// current sleeper's round ends, and whether that sleeper sleeps on val too
// (if not, the word has changed since, and the caller re-checks at once).
func (g *Gate) BeginRound(val uint32) (sleeper bool, ended <-chan struct{}, sameVal bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.sleeping {
		g.sleeping, g.val = true, val
		return true, nil, true
	}
	if g.ended == nil {
		g.ended = make(chan struct{})
	}
	return false, g.ended, g.val == val
}

// EndRound ends the sleeper's round and releases every goroutine waiting
// for it.
func (g *Gate) EndRound() {
	g.mu.Lock()
	g.sleeping = false
	if g.ended != nil {
		close(g.ended)
		g.ended = nil
	}
	g.mu.Unlock()
}

// Settle runs the garbage collector until the registry holds at most max
// entries or d has passed, and returns its size then. The entries of Gates
// that no handle holds go only after a collection, when their cleanups
// have run on their own goroutine; tests use Settle to check that they go.
func Settle(max int, d time.Duration) int {
	deadline := time.Now().Add(d)
	for {
		n := Len()
		if n <= max || time.Now().After(deadline) {
			return n
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
}
