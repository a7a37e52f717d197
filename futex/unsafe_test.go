package futex

import (
	"testing"

	"github.com/shmkit/shmkit/internal/testseg"
)

// TestUnsafeFenced: of the package's own files only layout.go imports
// unsafe.
func TestUnsafeFenced(t *testing.T) { testseg.UnsafeConfined(t) }
