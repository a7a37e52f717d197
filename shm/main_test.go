package shm_test

import (
	"errors"
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func TestMain(m *testing.M) { testproc.Main(m) }

// newSegment creates a named segment unique to t, removed when t ends.
func newSegment(t testing.TB, size int, o *shm.Options) (*shm.Segment, string) {
	t.Helper()
	name := testproc.Name(t)
	s, err := shm.CreateWith(name, size, o)
	if err != nil {
		t.Fatalf("Create(%q, %d): %v", name, size, err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := shm.Unlink(name); err != nil && !errors.Is(err, shm.ErrNotExist) {
			t.Errorf("Unlink: %v", err)
		}
	})
	return s, name
}
