package ring

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/futex"
)

// A sleeper parks in FUTEX_WAIT with no timeout: a timed wait arms and
// cancels a kernel timer on every sleep, which cost 10-16% of a futex
// round trip here. What a timeout used to notice is woken instead:
//
//   - a message, a close or a released lock: the peer changes the word and
//     wakes it;
//   - a dead peer, a truncated segment, anything else the periodic check
//     of waitSpec.peer finds: a per-process heartbeat goroutine, running
//     only while some goroutine of this process sleeps, wakes every
//     registered word each MaxSlice, and the sleeper runs its checks and
//     sleeps again;
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
// that cannot see /proc/self/task sleeps on a segment that can be
// truncated in timed slices of MaxSlice instead.

// urgentSlice is the heartbeat's period while a cancelled sleeper has not
// left yet.
const urgentSlice = time.Millisecond

// sleeper is one registered sleep: the word and whether ctx has ended.
// One lives in each waitSpec; the gate lets at most one goroutine per word
// and process sleep, so it is never registered twice at once.
type sleeper struct {
	word *uint32
	// Under heartbeat.mu:
	prev, next *sleeper // the registered sleepers' list
	registered bool
	urgent     bool
	misses     int // heartbeat wake-ups in a row that woke no one
}

var heartbeat struct {
	mu      sync.Mutex
	head    *sleeper // registered sleepers
	running bool
	urgent  int           // registered sleepers marked urgent
	kick    chan struct{} // room for one: an urgent sleeper appeared
}

// sleep parks on word while it holds val, until woken (by the peer, the
// heartbeat or ctx's end: the caller re-checks everything). hasDeadline
// without a Done channel (a context that never fires) sleeps with a
// timeout up to the deadline instead. bounded sleeps at most MaxSlice (a
// word that no wake-up may reach and no rescue either: waitSpec.state).
func (sl *sleeper) sleep(ctx context.Context, word *uint32, val uint32, deadline time.Time, hasDeadline, bounded bool) {
	sl.word = word
	sl.register()
	var stop func() bool
	timeout := time.Duration(-1)
	if ctx.Done() != nil {
		stop = context.AfterFunc(ctx, sl.hurry)
	} else if hasDeadline {
		timeout = max(time.Until(deadline), 0)
	}
	if bounded && (timeout < 0 || timeout > MaxSlice) {
		timeout = MaxSlice
	}
	_ = futex.Wait(word, val, timeout) // nil or ErrTimeout: both mean "re-check"
	sl.unregister()
	if stop != nil {
		stop()
	}
}

func (sl *sleeper) register() {
	h := &heartbeat
	h.mu.Lock()
	if h.kick == nil {
		h.kick = make(chan struct{}, 1)
	}
	sl.urgent, sl.misses, sl.registered = false, 0, true
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

func (sl *sleeper) unregister() {
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
	h.mu.Unlock()
}

// hurry runs when ctx ends: it wakes the sleeper now and asks the
// heartbeat to keep waking it until it has left.
func (sl *sleeper) hurry() {
	h := &heartbeat
	h.mu.Lock()
	if sl.registered && !sl.urgent {
		sl.urgent = true
		h.urgent++
		futex.Wake(sl.word, 1<<30)
		select {
		case h.kick <- struct{}{}:
		default:
		}
	}
	h.mu.Unlock()
}

// beat wakes every registered word each MaxSlice (urgentSlice while a
// sleeper is urgent) and returns once none is registered.
func beat() {
	h := &heartbeat
	t := time.NewTimer(MaxSlice)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-h.kick:
		}
		h.mu.Lock()
		if h.head == nil {
			h.running = false
			h.mu.Unlock()
			return
		}
		for sl := h.head; sl != nil; sl = sl.next {
			if futex.Wake(sl.word, 1<<30) > 0 {
				sl.misses = 0
			} else if sl.misses++; sl.misses >= 2 {
				rescue(sl.word)
			}
		}
		d := MaxSlice
		if h.urgent > 0 {
			d = urgentSlice
		}
		h.mu.Unlock()
		t.Reset(d)
	}
}

// canRescue reports whether rescue can find threads: whether this process
// sees its /proc/self/task.
var canRescue = sync.OnceValue(func() bool {
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
