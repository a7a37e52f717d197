package park

// This file encapsulates usage of unsafe: the futex system call takes a
// word's address, and the rescue looks a sleeper's thread up by it.

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// futexSyscall issues futex(2) on addr. The pointer conversions sit in the
// call expression itself, as unix.Syscall6 requires for ts to stay valid.
func futexSyscall(addr *uint32, op, val uintptr, ts *unix.Timespec) (uintptr, unix.Errno) {
	r, _, e := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), op, val, uintptr(unsafe.Pointer(ts)), 0, 0)
	return r, e
}

// addrOf returns p's address, to find a thread blocked in futex(2) on it.
func addrOf(p *uint32) uintptr { return uintptr(unsafe.Pointer(p)) }
