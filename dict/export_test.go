package dict

import (
	"context"

	"github.com/cespare/xxhash/v2"
)

// Geometry exposes a table's word layout to the tests: the word index of
// bucket 0 and of slot 0, and the words per slot.
func Geometry(slots, stripes, keyMax, valueMax int) (bucketsW, slotsW, slotWords int) {
	t := newGeometry(slots, stripes, keyMax, valueMax)
	return t.bucketsW, t.slotsW, t.slotWords
}

// BeginWrite takes key's stripe lock and announces a write on it, as a
// writer does before it fills a cell, and returns: a helper process that
// calls it and is killed plays a writer dead in the middle of a Set.
func BeginWrite(m *Map, key string) error {
	s := Stripe(m, key)
	if err := m.c.lockStripe(context.Background(), s); err != nil {
		return err
	}
	m.c.begin(s)
	return nil
}

// Stripe returns the stripe of key.
func Stripe(m *Map, key string) int {
	return int(xxhash.Sum64String(key) & uint64(m.c.stripes-1))
}
