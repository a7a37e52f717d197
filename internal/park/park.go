// Package park is the sleeping path of every shmkit waiter (ring's queue
// and pipe waiters, futex's locks, semaphores, events, conditions and
// barriers): FUTEX_WAIT with no timeout, woken by whoever changes the word,
// by a per-process heartbeat, or by the waiter's context.
//
// A timed wait arms and cancels a kernel timer on every sleep, which cost
// 10-16% of a futex round trip here. What a timeout used to notice is
// woken instead:
//
//   - a message, a close or a released lock: the peer changes the word and
//     wakes it;
//   - a dead peer or holder, a truncated segment, anything else the
//     caller's periodic checks find: a per-process heartbeat goroutine,
//     running only while some goroutine of this process sleeps, wakes
//     every registered word each Heartbeat, and Sleep reports that it did,
//     so that the caller runs its checks and sleeps again;
//   - ctx's cancellation or deadline: context.AfterFunc marks the sleeper
//     urgent and wakes its word; the heartbeat then wakes it every
//     urgentSlice until it has left, which covers a wake-up that lands
//     between the sleeper's last check of ctx and its FUTEX_WAIT.
//
// A word is woken only while its sleeper is registered, under the
// registry's lock, so a wake-up never touches a segment that its sleeper
// has already left (and may have unmapped).
//
// One sleeper no FUTEX_WAKE can reach: one whose page was truncated away
// under it (a named segment's file shrunk by another process). The kernel
// finds a futex by its page, so every wake-up fails with EFAULT while the
// sleeper stays queued. When the heartbeat's wake-ups of a registered
// sleeper find no one twice in a row, it looks in /proc/self/task for the
// thread blocked in futex(2) on that address and sends it SIGURG (the
// signal the Go runtime already uses for preemption and ignores otherwise):
// the kernel restarts the wait, which now fails with EFAULT, and the
// sleeper returns to its checks, which report the truncation. A process
// that cannot see /proc/self/task (CanRescue) sleeps on a segment that can
// be truncated in timed slices of Heartbeat instead (Sleep's bounded).
package park

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// Heartbeat is the heartbeat's period: a sleeper is woken, and its caller's
// checks run, at least this often. The owner-death budget D of
// docs/robustness.md is one Heartbeat plus one liveness check.
const Heartbeat = 50 * time.Millisecond

// urgentSlice is the heartbeat's period while a cancelled sleeper has not
// left yet.
const urgentSlice = time.Millisecond

// A Sleeper is the registration of one goroutine's sleep: the word, and
// whether ctx has ended. A waiter keeps one for the length of its wait (a
// ring's waitSpec keeps one for good); it is never registered twice at
// once, which the callers' gates ensure (at most one goroutine per word
// and process sleeps). The zero value is ready to use.
type Sleeper struct {
	word *uint32
	// Under heartbeat.mu:
	prev, next *Sleeper // the registered sleepers' list
	registered bool
	urgent     bool
	beat       bool // the heartbeat woke this sleep
	misses     int  // heartbeat wake-ups in a row that woke no one
}

var heartbeat = struct {
	mu      sync.Mutex
	head    *Sleeper // registered sleepers
	running bool
	urgent  int           // registered sleepers marked urgent
	kick    chan struct{} // room for one: an urgent sleeper appeared
}{kick: make(chan struct{}, 1)}

// Sleep parks on word while it holds val, until woken: by whoever changes
// the word, by the heartbeat or by ctx's end (the caller re-checks
// everything, ctx included). deadline and hasDeadline are ctx.Deadline():
// a deadline without a Done channel (a context that never fires) sleeps
// with a timeout up to the deadline instead. bounded sleeps at most
// Heartbeat (a word on a segment that can be truncated, where the rescue
// cannot work: !CanRescue()). Sleep reports whether the heartbeat woke the
// word during this sleep, or a bounded sleep ran out: the sleep lasted
// about a Heartbeat, and the caller's slow checks (liveness) are due. It
// reports false after a wake-up by the word's peer or by ctx.
func (sl *Sleeper) Sleep(ctx context.Context, word *uint32, val uint32, deadline time.Time, hasDeadline, bounded bool) (beat bool) {
	sl.word = word
	sl.register()
	var stop func() bool
	timeout := time.Duration(-1)
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, sl.hurry)
	} else if hasDeadline {
		timeout = max(time.Until(deadline), 0)
	}
	if bounded && (timeout < 0 || timeout > Heartbeat) {
		timeout = Heartbeat
	}
	// Every outcome means "re-check": a wake-up, a timeout, and EFAULT (the
	// page is gone; the caller's next access of the word reports it).
	e := Wait(word, val, timeout)
	beat = sl.unregister() || (e == unix.ETIMEDOUT && bounded)
	if stop != nil {
		stop()
	}
	return beat
}

func (sl *Sleeper) register() {
	h := &heartbeat
	h.mu.Lock()
	sl.urgent, sl.beat, sl.misses, sl.registered = false, false, 0, true
	sl.prev, sl.next = nil, h.head
	if h.head != nil {
		h.head.prev = sl
	}
	h.head = sl
	if !h.running {
		h.running = true
		go beat()
	}
	h.mu.Unlock()
}

// unregister takes sl off the list and reports whether the heartbeat woke
// it while it was on.
func (sl *Sleeper) unregister() bool {
	h := &heartbeat
	h.mu.Lock()
	if sl.prev != nil {
		sl.prev.next = sl.next
	} else {
		h.head = sl.next
	}
	if sl.next != nil {
		sl.next.prev = sl.prev
	}
	sl.prev, sl.next, sl.registered = nil, nil, false
	if sl.urgent {
		sl.urgent = false
		h.urgent--
	}
	beat := sl.beat
	h.mu.Unlock()
	return beat
}

// hurry runs when ctx ends: it wakes the sleeper now and asks the
// heartbeat to keep waking it until it has left.
func (sl *Sleeper) hurry() {
	h := &heartbeat
	h.mu.Lock()
	if sl.registered && !sl.urgent {
		sl.urgent = true
		h.urgent++
		Wake(sl.word, 1<<30)
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
}

// beat wakes every registered word each Heartbeat (a full round: their
// callers' checks are due) and, while a sleeper is urgent, the urgent ones
// every urgentSlice between; it returns once none is registered.
func beat() {
	h := &heartbeat
	next := time.Now().Add(Heartbeat) // the next full round
	t := time.NewTimer(Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-h.kick:
		}
		now := time.Now()
		full := !now.Before(next)
		if full {
			next = now.Add(Heartbeat)
		}
		h.mu.Lock()
		if h.head == nil {
			h.running = false
			h.mu.Unlock()
			return
		}
		for sl := h.head; sl != nil; sl = sl.next {
			if !full && !sl.urgent {
				continue
			}
			sl.beat = sl.beat || full
			if Wake(sl.word, 1<<30) > 0 {
				sl.misses = 0
			} else if sl.misses++; sl.misses >= 2 {
				rescue(sl.word)
			}
		}
		d := next.Sub(now)
		if h.urgent > 0 {
			d = min(d, urgentSlice)
		}
		h.mu.Unlock()
		t.Reset(d)
	}
}

// CanRescue reports whether the heartbeat can rescue a sleeper whose page
// was truncated away: whether this process sees its /proc/self/task.
var CanRescue = sync.OnceValue(func() bool {
	_, err := os.Stat("/proc/self/task")
	return err == nil
})

// rescue sends SIGURG to the threads of this process blocked in futex(2)
// on word (see above). Without /proc it does nothing: the sleeper then
// waits for its context.
func rescue(word *uint32) {
	want := fmt.Sprintf("%d %#x ", unix.SYS_FUTEX, addrOf(word))
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return
	}
	pid := os.Getpid()
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/syscall")
		if err == nil && strings.HasPrefix(string(b), want) {
			unix.Tgkill(pid, tid, unix.SIGURG)
		}
	}
}
