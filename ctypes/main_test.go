package ctypes_test

import (
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

func TestMain(m *testing.M) { testproc.Main(m) }

// newSegment creates a named segment unique to t, removed when t ends
// (testseg.Named).
func newSegment(t testing.TB, size int) (*shm.Segment, string) {
	return testseg.Named(t, size, nil)
}

// openSegment attaches a helper process to segment name, or ends the
// helper (testseg.Open).
var openSegment = testseg.Open
