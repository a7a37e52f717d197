package futex

import (
	"errors"
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func TestMain(m *testing.M) { testproc.Main(m) }

// newSegment creates a named segment unique to t, removed when t ends.
func newSegment(t testing.TB) (*shm.Segment, string) {
	t.Helper()
	name := testproc.Name(t)
	s, err := shm.Create(name, 1<<20)
	if err != nil {
		t.Fatalf("Create(%q): %v", name, err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := shm.Unlink(name); err != nil && !errors.Is(err, shm.ErrNotExist) {
			t.Errorf("Unlink: %v", err)
		}
	})
	return s, name
}

// openSegment attaches a helper to segment name or exits.
func openSegment(name string) *shm.Segment {
	s, err := shm.Open(name)
	if err != nil {
		testproc.Fatalf("open %s: %v", name, err)
	}
	return s
}
