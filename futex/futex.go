package futex

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/internal/park"
	"github.com/shmkit/shmkit/shm"
)

// The futex contract (futex(2)) and the system call live in internal/park,
// the sleeping path shared with package ring; Wait and Wake expose them.

// Wait sleeps while *addr == val, for at most d (d < 0: no limit, until a
// wake-up on addr). It returns nil when woken, when *addr != val on entry,
// or on a spurious wake-up; callers re-check their condition in a loop. It
// returns ErrTimeout when d elapsed.
// EINTR is retried with the time left, so signal storms (SIGURG preemption)
// neither shorten nor lengthen the wait. A word the kernel cannot reach
// (EFAULT: its page is gone, as when a peer truncated a named segment's
// file) gives an error wrapping shm.ErrSegmentTruncated, a misaligned one
// (EINVAL) the system error; Wait never panics.
func Wait(addr *uint32, val uint32, d time.Duration) error {
	switch e := park.Wait(addr, val, d); e {
	case 0:
		return nil
	case unix.ETIMEDOUT:
		return ErrTimeout
	default:
		return waitError(e)
	}
}

// waitError is the error of a FUTEX_WAIT the kernel refused.
func waitError(e unix.Errno) error {
	if e == unix.EFAULT {
		return fmt.Errorf("futex: FUTEX_WAIT: %w", shm.ErrSegmentTruncated)
	}
	return fmt.Errorf("futex: FUTEX_WAIT: %w", e)
}

// Wake wakes at most n sleepers on addr and returns how many it woke: 0 also
// when the kernel refuses the word (its page gone, as after a peer truncated
// the segment), since nobody can be sleeping on a word that has no page.
func Wake(addr *uint32, n int) int { return park.Wake(addr, n) }
