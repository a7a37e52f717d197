package futex

import (
	"sync/atomic"
	"testing"
)

// TestBarrierUnwrittenSlot puts the barrier in the state between a party's
// counting CAS and the store of its arrival slot, in generation 0 (the slot
// holds 0, never written) and in generation 1 (the slot holds generation
// 0's arrival), and checks that a waiter's liveness check takes neither for
// an arrival: no error, barrier not broken. Before the fix, generation 0's
// empty slot read as "generation 0, token 0" and the check returned
// "token -1/0 names no slot": ErrCorrupt.
func TestBarrierUnwrittenSlot(t *testing.T) {
	seg, _ := newSegment(t)
	b, err := NewBarrier(seg, "b", 3)
	if err != nil {
		t.Fatal(err)
	}
	for gen := uint64(0); gen < 2; gen++ {
		atomic.AddUint64(&b.st.state, 1) // counted, slot 0 not written
		if err := b.checkParties(gen); err != nil {
			t.Fatalf("generation %d: checkParties with an unwritten slot = %v; want nil", gen, err)
		}
		if b.Broken() {
			t.Fatalf("generation %d: an unwritten slot broke the barrier", gen)
		}
		// The party writes its slot; the generation then completes.
		atomic.StoreUint64(&b.slots[0], gen<<32|uint64(seg.Token()))
		if err := b.checkParties(gen); err != nil || b.Broken() {
			t.Fatalf("generation %d: checkParties with a live arrival = %v, broken %v; want nil, false", gen, err, b.Broken())
		}
		s := atomic.LoadUint64(&b.st.state)
		atomic.StoreUint64(&b.st.state, barrierNext(s, false))
	}
}
