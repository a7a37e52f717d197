// Package testseg makes the segments that tests use, in one place for every
// package: named segments unique to a test and removed when it ends,
// anonymous ones closed when it ends, and the helper-process side that
// attaches to a named one.
package testseg

import (
	"errors"
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

// Named creates a named segment of size bytes (options o, nil for the
// defaults) with a name unique to t and this process, and closes and
// removes it when t ends. It returns the segment and its name.
func Named(t testing.TB, size int, o *shm.Options) (*shm.Segment, string) {
	t.Helper()
	name := testproc.Name(t)
	s, err := shm.CreateWith(name, size, o)
	if err != nil {
		t.Fatalf("Create(%q, %d): %v", name, size, err)
	}
	t.Cleanup(func() {
		s.Close()
		if err := shm.Unlink(name); err != nil && !errors.Is(err, shm.ErrNotExist) {
			t.Errorf("Unlink(%q): %v", name, err)
		}
	})
	return s, name
}

// Anon creates an anonymous segment of size bytes, closed when t ends.
func Anon(t testing.TB, size int) *shm.Segment {
	t.Helper()
	s, err := shm.Anonymous(size)
	if err != nil {
		t.Fatalf("Anonymous(%d): %v", size, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Open attaches a helper process to the segment name, or ends the helper
// with testproc.Fatalf.
func Open(name string) *shm.Segment {
	s, err := shm.Open(name)
	if err != nil {
		testproc.Fatalf("Open(%q): %v", name, err)
	}
	return s
}
