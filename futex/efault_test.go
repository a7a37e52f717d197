package futex_test

import (
	"errors"
	"testing"
	"time"
	"unsafe"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// TestWaitOnMissingPage: a futex word whose page is gone (its file was
// truncated under the mapping) makes Wait return an error wrapping
// shm.ErrSegmentTruncated and Wake wake nobody; neither panics.
func TestWaitOnMissingPage(t *testing.T) {
	mem, truncate := testseg.Page(t)
	truncate()
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
