package testseg

import (
	"runtime"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/shm"
)

// GatesFreed creates at least n objects, a segment at a time: fill creates
// objects in the segment it is given (up to 100, a megabyte) and returns
// their handles and how many it made; then the segment is closed and the
// handles dropped. It fails t unless the per-process gate registry grew
// while the handles lived and went back to (at most) its size before once
// they were gone.
func GatesFreed(t *testing.T, n int, fill func(seg *shm.Segment) (handles []any, objects int)) {
	t.Helper()
	base := gate.Len()
	for made := 0; made < n; {
		seg, err := shm.AnonymousWith(1<<20, &shm.Options{Objects: 128})
		if err != nil {
			t.Fatal(err)
		}
		handles, k := fill(seg)
		if gate.Len() <= base {
			t.Fatalf("gate registry has %d entries with objects open; want more than %d", gate.Len(), base)
		}
		runtime.KeepAlive(handles)
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		made += k
	}
	if got := gate.Settle(base, 30*time.Second); got > base {
		t.Fatalf("gate registry has %d entries after the objects went; want at most %d, as before", got, base)
	}
}
