package dict_test

import (
	"errors"
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func TestMain(m *testing.M) { testproc.Main(m) }

// newSegment creates a named segment unique to t, removed when t ends.
func newSegment(t testing.TB, size int) (*shm.Segment, string) {
	t.Helper()
	name := testproc.Name(t)
	s, err := shm.Create(name, size)
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

// openSegment opens a segment by name in a helper process, exiting on error.
func openSegment(name string) *shm.Segment {
	s, err := shm.Open(name)
	if err != nil {
		testproc.Fatalf("open %s: %v", name, err)
	}
	return s
}
