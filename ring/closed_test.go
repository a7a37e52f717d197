package ring_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// TestQueueAfterSegmentClose: a Queue used after its Segment was closed
// answers shm.ErrClosed (TryPut used to die of SIGSEGV on the unmapped
// ring), on an anonymous segment and on a named one.
func TestQueueAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		var seg *shm.Segment
		var err error
		if named {
			name := fmt.Sprintf("shmkit-test.closed.%s.%d", t.Name(), os.Getpid())
			seg, err = shm.Create(name, 1<<20)
			t.Cleanup(func() { shm.Unlink(name) })
		} else {
			seg, err = shm.Anonymous(1 << 20)
		}
		if err != nil {
			t.Fatal(err)
		}
		q, err := ring.NewQueue(seg, "q", nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := q.TryPut([]byte("before")); err != nil {
			t.Fatal(err)
		}
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		_, getErr := q.Get(ctx)
		_, tryGetErr := q.TryGet()
		_, intoErr := q.GetInto(ctx, make([]byte, 16))
		for what, err := range map[string]error{
			"TryPut":  q.TryPut([]byte("after")),
			"Put":     q.Put(ctx, []byte("after")),
			"Get":     getErr,
			"TryGet":  tryGetErr,
			"GetInto": intoErr,
		} {
			if !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: Queue.%s after Close = %v; want shm.ErrClosed", named, what, err)
			}
		}
	}
}
