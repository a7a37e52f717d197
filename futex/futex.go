package futex

import (
	"fmt"
	"time"

	"github.com/shmkit/shmkit/shm"
	"golang.org/x/sys/unix"
)

// The futex contract, stated once (futex(2)):
//
//	FUTEX_WAIT: atomically, if *addr == val, sleep until FUTEX_WAKE on addr,
//	            the timeout, or a signal; may wake spuriously.
//	FUTEX_WAKE: wake at most n sleepers on addr.
//
// Both use the shared (non-private) operations: the word lives in a mapping
// that other processes share, and the kernel keys shared futexes by the
// backing page, not by this process's address. FUTEX_PRIVATE_FLAG would make
// a wake in one process invisible to sleepers in another.
const (
	_FUTEX_WAIT = 0
	_FUTEX_WAKE = 1
)

// Wait sleeps while *addr == val, for at most d (d < 0 waits without a
// limit, which only the primitives' sliced waits should use). It returns nil
// when woken, when *addr != val on entry, or on a spurious wake-up; callers
// re-check their condition in a loop. It returns ErrTimeout when d elapsed.
// EINTR is retried with the time left, so signal storms (SIGURG preemption)
// neither shorten nor lengthen the wait. A word the kernel cannot reach
// (EFAULT: its page is gone, as when a peer truncated a named segment's
// file) gives an error wrapping shm.ErrSegmentTruncated, a misaligned one
// (EINVAL) the system error; Wait never panics.
func Wait(addr *uint32, val uint32, d time.Duration) error {
	if d < 0 {
		for {
			switch _, e := futexSyscall(addr, _FUTEX_WAIT, uintptr(val), nil); e {
			case unix.EINTR:
			case 0, unix.EAGAIN:
				return nil
			default:
				return waitError(e)
			}
		}
	}
	deadline := time.Now().Add(d)
	for {
		ts := unix.NsecToTimespec(int64(d))
		_, e := futexSyscall(addr, _FUTEX_WAIT, uintptr(val), &ts)
		switch e {
		case 0, unix.EAGAIN:
			return nil
		case unix.ETIMEDOUT:
			return ErrTimeout
		case unix.EINTR:
			d = time.Until(deadline)
			if d <= 0 {
				return ErrTimeout
			}
		default:
			return waitError(e)
		}
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
func Wake(addr *uint32, n int) int {
	if n <= 0 {
		return 0
	}
	if n > 1<<31-1 {
		n = 1<<31 - 1
	}
	r, e := futexSyscall(addr, _FUTEX_WAKE, uintptr(n), nil)
	if e != 0 {
		return 0
	}
	return int(r)
}
