package futex_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

// TestLockAfterSegmentClose: a Lock or RLock used after its Segment was
// closed answers shm.ErrClosed (it used to die of SIGSEGV on the unmapped
// word), on an anonymous segment and on a named one.
func TestLockAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		seg := closedTestSegment(t, named)
		l, err := futex.NewLock(seg, "l")
		if err != nil {
			t.Fatal(err)
		}
		r, err := futex.NewRLock(seg, "r")
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for what, err := range map[string]error{
			"Lock.TryAcquire":  second(l.TryAcquire()),
			"Lock.Acquire":     l.Acquire(ctx),
			"Lock.Release":     l.Release(),
			"RLock.TryAcquire": second(r.TryAcquire()),
			"RLock.Acquire":    r.Acquire(ctx),
			"RLock.Release":    r.Release(),
		} {
			if !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: %s after Close = %v; want shm.ErrClosed", named, what, err)
			}
		}
	}
}

func second[T any](_ T, err error) error { return err }

// closedTestSegment returns a fresh anonymous or named segment (unlinked
// when t ends).
func closedTestSegment(t *testing.T, named bool) *shm.Segment {
	t.Helper()
	if !named {
		seg, err := shm.Anonymous(1 << 16)
		if err != nil {
			t.Fatal(err)
		}
		return seg
	}
	name := fmt.Sprintf("shmkit-test.closed.%s.%d", t.Name(), os.Getpid())
	seg, err := shm.Create(name, 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shm.Unlink(name) })
	return seg
}
