package dict_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// TestHandlesAfterSegmentClose: a Map, List or Namespace used after its
// Segment was closed answers shm.ErrClosed instead of touching memory that
// used to be unmapped at Close, on an anonymous segment and a named one.
func TestHandlesAfterSegmentClose(t *testing.T) {
	for _, named := range []bool{false, true} {
		var seg *shm.Segment
		if named {
			seg, _ = testseg.Named(t, 1<<20, nil)
		} else {
			seg = testseg.Anon(t, 1<<20)
		}
		m, err := dict.NewMap(seg, "m", nil)
		if err != nil {
			t.Fatal(err)
		}
		l, err := dict.NewList(seg, "l", nil)
		if err != nil {
			t.Fatal(err)
		}
		ns, err := dict.NewNamespace(seg, "n", nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if _, err := m.Set(ctx, "k", []byte("v")); err != nil {
			t.Fatal(err)
		}
		if err := seg.Close(); err != nil {
			t.Fatal(err)
		}
		_, mapGet := m.Get("k")
		_, mapSet := m.Set(ctx, "k", []byte("w"))
		_, mapLen := m.Len()
		_, listAppend := l.Append(ctx, []byte("x"))
		_, nsGet := ns.Get("a")
		for what, err := range map[string]error{
			"Map.Get":       mapGet,
			"Map.Set":       mapSet,
			"Map.Len":       mapLen,
			"List.Append":   listAppend,
			"Namespace.Set": ns.Set(ctx, "a", 1),
			"Namespace.Get": nsGet,
		} {
			if !errors.Is(err, shm.ErrClosed) {
				t.Errorf("named %v: %s after Close = %v; want shm.ErrClosed", named, what, err)
			}
		}
	}
}
