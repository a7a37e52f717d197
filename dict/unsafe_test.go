package dict_test

import (
	"testing"

	"github.com/shmkit/shmkit/internal/testseg"
)

// TestUnsafeConfined: of the package's own files only layout.go imports
// unsafe.
func TestUnsafeConfined(t *testing.T) { testseg.UnsafeConfined(t) }
