package testseg

import (
	"testing"

	"golang.org/x/sys/unix"
)

// Page maps one page of a fresh memfd, shared, for tests of futex words
// whose page goes away: truncate shrinks the file to nothing, after which
// the kernel finds no page behind the mapping (FUTEX_WAIT and FUTEX_WAKE
// fail with EFAULT, a load faults). The mapping and the descriptor go when
// t ends; t is skipped where memfd_create is missing.
func Page(t testing.TB) (mem []byte, truncate func()) {
	t.Helper()
	fd, err := unix.MemfdCreate("shmkit-page", unix.MFD_CLOEXEC)
	if err != nil {
		t.Skip("memfd_create:", err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	page := unix.Getpagesize()
	if err := unix.Ftruncate(fd, int64(page)); err != nil {
		t.Fatal(err)
	}
	mem, err = unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return mem, func() { unix.Ftruncate(fd, 0) }
}
