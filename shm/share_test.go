package shm_test

import (
	"testing"

	"github.com/shmkit/shmkit/shm"
)

// TestSegmentOf finds a segment from a pointer into its mapping, and
// nothing for memory outside every mapping or after Close.
func TestSegmentOf(t *testing.T) {
	a, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	b, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	oa, err := a.CreateObject("x", shm.MakeKind("TEST"), 1, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	ob, err := b.CreateObject("x", shm.MakeKind("TEST"), 1, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := shm.SegmentOf(&oa.Bytes()[8]); got != a {
		t.Errorf("SegmentOf(a's object) = %p; want %p", got, a)
	}
	if got := shm.SegmentOf(ob.Bytes()); got != b {
		t.Errorf("SegmentOf(b's object) = %p; want %p", got, b)
	}
	if got := shm.SegmentOf(new(int)); got != nil {
		t.Errorf("SegmentOf(heap) = %p; want nil", got)
	}
	if got := shm.SegmentOf(42); got != nil {
		t.Errorf("SegmentOf(42) = %p; want nil", got)
	}
	p := &oa.Bytes()[8]
	a.Close()
	if got := shm.SegmentOf(p); got != nil {
		t.Errorf("SegmentOf after Close = %p; want nil", got)
	}
}
