package dict

import (
	"context"
	"fmt"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/internal/view"
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

// CheckWordCopies writes cells with keys and values of every length up to
// 24 bytes into a scratch table and compares the two ways readers copy
// them (keyEqual/loadBytes of this architecture and the atomic-word ones).
func CheckWordCopies() error {
	t := newGeometry(8, 1, 24, 24)
	t.format(view.Bytes(make([]uint64, t.bytes()/8)))
	for n := 0; n <= 24; n++ {
		key := string("abcdefghijklmnopqrstuvwx"[:n])
		value := []byte("ABCDEFGHIJKLMNOPQRSTUVWX"[:n])
		sw := t.slotW(1)
		t.writeCell(sw, 1, 1, key, value)
		t.publish(nil, 1)
		cw := t.cellW(sw, t.w[sw+slotSeqW])
		if !t.keyEqual(cw, key) || !t.keyEqualWords(cw, key) {
			return fmt.Errorf("key of %d bytes: keyEqual %v, keyEqualWords %v", n, t.keyEqual(cw, key), t.keyEqualWords(cw, key))
		}
		if n > 0 && (t.keyEqual(cw, key[:n-1]+"?") || t.keyEqualWords(cw, key[:n-1]+"?")) {
			return fmt.Errorf("key of %d bytes: a different key compared equal", n)
		}
		a := t.loadValue(nil, cw, n)
		b := t.loadBytesWords(nil, cw+cellHdrW+t.keyWords, n)
		if string(a) != string(value) || string(b) != string(value) {
			return fmt.Errorf("value of %d bytes: loadBytes %q, loadBytesWords %q", n, a, b)
		}
	}
	return nil
}
