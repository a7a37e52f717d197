package park

import (
	"time"

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
	futexWait = 0
	futexWake = 1
)

// Wait sleeps while *addr == val, for at most d (d < 0: no limit). It
// returns 0 when woken, when *addr != val on entry, or on a spurious
// wake-up; unix.ETIMEDOUT when d elapsed; the kernel's error otherwise
// (EFAULT: the word's page is gone; EINVAL: a misaligned word). EINTR is
// retried with the time left, so signal storms (SIGURG preemption) neither
// shorten nor lengthen the wait.
func Wait(addr *uint32, val uint32, d time.Duration) unix.Errno {
	if d < 0 {
		for {
			switch _, e := futexSyscall(addr, futexWait, uintptr(val), nil); e {
			case unix.EINTR:
			case unix.EAGAIN:
				return 0
			default:
				return e
			}
		}
	}
	deadline := time.Now().Add(d)
	for {
		ts := unix.NsecToTimespec(int64(d))
		switch _, e := futexSyscall(addr, futexWait, uintptr(val), &ts); e {
		case unix.EAGAIN:
			return 0
		case unix.EINTR:
			if d = time.Until(deadline); d <= 0 {
				return unix.ETIMEDOUT
			}
		default:
			return e
		}
	}
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
	r, e := futexSyscall(addr, futexWake, uintptr(n), nil)
	if e != 0 {
		return 0
	}
	return int(r)
}
