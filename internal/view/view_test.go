package view_test

import (
	"testing"

	"github.com/shmkit/shmkit/internal/view"
)

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s did not panic", what)
		}
	}()
	f()
}

func TestPtrAndSlice(t *testing.T) {
	words := make([]uint64, 4) // 8-byte aligned backing store
	b := view.Bytes(words)
	if len(b) != 32 {
		t.Fatalf("Bytes of 4 words = %d bytes; want 32", len(b))
	}
	*view.Ptr[uint64](b, 8) = 0x0102030405060708
	if words[1] != 0x0102030405060708 || b[8] != 0x08 {
		t.Errorf("Ptr wrote %#x (first byte %#x); want the word at offset 8, little-endian", words[1], b[8])
	}
	s := view.Slice[uint32](b, 16, 4)
	s[3] = 7
	if len(s) != 4 || b[28] != 7 {
		t.Errorf("Slice: len %d, byte 28 = %d; want 4, 7", len(s), b[28])
	}
	if view.Slice[uint32](b, 32, 0) != nil {
		t.Errorf("empty Slice not nil")
	}
	if view.Addr(b, 8) != view.Addr(b[8:], 0) {
		t.Errorf("Addr(b, 8) != Addr(b[8:], 0)")
	}
	mustPanic(t, "Ptr past the end", func() { view.Ptr[uint64](b, 25) })
	mustPanic(t, "Ptr at a negative offset", func() { view.Ptr[uint64](b, -8) })
	mustPanic(t, "Ptr misaligned", func() { view.Ptr[uint64](b, 4) })
	mustPanic(t, "Slice past the end", func() { view.Slice[uint64](b, 8, 4) })
	mustPanic(t, "Slice with a negative count", func() { view.Slice[uint64](b, 0, -1) })
	mustPanic(t, "Slice misaligned", func() { view.Slice[uint32](b, 2, 1) })
	mustPanic(t, "Addr past the end", func() { view.Addr(b, 32) })
	if view.Bytes[uint64](nil) != nil {
		t.Errorf("Bytes(nil) not nil")
	}
}
