package futex_test

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
	"golang.org/x/sys/unix"
)

// TestWaitOnMissingPage: a futex word whose page is gone (its file was
// truncated under the mapping) makes Wait return an error wrapping
// shm.ErrSegmentTruncated and Wake wake nobody; neither panics.
func TestWaitOnMissingPage(t *testing.T) {
	fd, err := unix.MemfdCreate("shmkit-efault", 0)
	if err != nil {
		t.Skip("memfd_create:", err)
	}
	defer unix.Close(fd)
	page := unix.Getpagesize()
	if err := unix.Ftruncate(fd, int64(page)); err != nil {
		t.Fatal(err)
	}
	mem, err := unix.Mmap(fd, 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	if err := unix.Ftruncate(fd, 0); err != nil {
		t.Fatal(err)
	}
	word := (*uint32)(unsafe.Pointer(&mem[0]))
	for _, d := range []time.Duration{-1, time.Second} {
		if err := futex.Wait(word, 0, d); !errors.Is(err, shm.ErrSegmentTruncated) {
			t.Errorf("Wait(d=%v) on a truncated page = %v; want ErrSegmentTruncated", d, err)
		}
	}
	if n := futex.Wake(word, 1); n != 0 {
		t.Errorf("Wake on a truncated page = %d; want 0", n)
	}
}
