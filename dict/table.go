package dict

import (
	"fmt"
	"sync/atomic"
)

// table is this process's view of one table object: its geometry, read once
// and validated when the table is opened (a peer rewriting the header later
// changes nothing here), and the words of its payload.
type table struct {
	id        uint64
	name      string
	w         []uint64
	b         []byte // the same payload as bytes (loadBytes, keyEqual on amd64)
	nb, ns    int    // buckets, slots
	stripes   int
	per       int // slots per stripe
	bmask     uint64
	keyMax    int
	valueMax  int
	keyWords  int
	cellWords int
	slotWords int
	bucketsW  int // word index of bucket 0
	slotsW    int // word index of slot 0
}

// geometry fills the derived fields from nb, ns, stripes, keyMax, valueMax.
func (t *table) geometry() {
	t.per = t.ns / t.stripes
	t.bmask = uint64(t.nb - 1)
	t.keyWords = wordsFor(t.keyMax)
	t.cellWords = cellHdrW + t.keyWords + wordsFor(t.valueMax)
	t.slotWords = slotHdrW + 2*t.cellWords
	t.bucketsW = tabHdrWords + lineWords*t.stripes
	t.slotsW = (t.bucketsW + t.nb + lineWords - 1) / lineWords * lineWords
}

// bytes is the payload size the geometry needs.
func (t *table) bytes() int { return 8 * (t.slotsW + t.ns*t.slotWords) }

// newGeometry returns the table geometry for ns slots (rounded up to a power
// of two, at least 4 per stripe).
func newGeometry(ns, stripes, keyMax, valueMax int) *table {
	n := 4 * stripes
	for n < ns {
		n *= 2
	}
	t := &table{nb: n, ns: n, stripes: stripes, keyMax: keyMax, valueMax: valueMax}
	t.geometry()
	return t
}

// openTable validates a table payload against the root's fields.
func openTable(name string, payload []byte, stripes, keyMax, valueMax int) (*table, error) {
	if len(payload) < 8*tabHdrWords {
		return nil, fmt.Errorf("%w: table %q: %d bytes", ErrCorrupt, name, len(payload))
	}
	w := words(payload)
	t := &table{
		name:     name,
		id:       atomic.LoadUint64(&w[tabIDW]),
		nb:       int(atomic.LoadUint64(&w[tabBucketsW]) & (1<<40 - 1)),
		ns:       int(atomic.LoadUint64(&w[tabSlotsW]) & (1<<40 - 1)),
		stripes:  stripes,
		keyMax:   keyMax,
		valueMax: valueMax,
	}
	if atomic.LoadUint64(&w[tabKeyMaxW]) != uint64(keyMax) ||
		atomic.LoadUint64(&w[tabValueMaxW]) != uint64(valueMax) ||
		atomic.LoadUint64(&w[tabStripesW]) != uint64(stripes) ||
		t.nb < stripes || t.nb&(t.nb-1) != 0 || t.ns < stripes || t.ns%stripes != 0 || t.ns >= 1<<31 {
		return nil, fmt.Errorf("%w: table %q: header disagrees with its map", ErrCorrupt, name)
	}
	t.geometry()
	if t.bytes() > len(payload) {
		return nil, fmt.Errorf("%w: table %q: needs %d bytes, has %d", ErrCorrupt, name, t.bytes(), len(payload))
	}
	t.w = w[:t.bytes()/8]
	t.b = payload[:t.bytes()]
	return t, nil
}

// format writes a fresh table into payload: header, free lists holding
// every slot of each stripe's range, empty buckets (the payload is zeroed).
func (t *table) format(payload []byte) {
	w := words(payload)
	t.w, t.b = w, payload
	w[tabIDW] = t.id
	w[tabBucketsW] = uint64(t.nb)
	w[tabSlotsW] = uint64(t.ns)
	w[tabKeyMaxW] = uint64(t.keyMax)
	w[tabValueMaxW] = uint64(t.valueMax)
	w[tabStripesW] = uint64(t.stripes)
	for s := 0; s < t.stripes; s++ {
		head := uint64(0)
		for i := t.per - 1; i >= 0; i-- {
			n := s*t.per + i + 1
			w[t.slotW(uint64(n))+slotNextW] = head
			head = uint64(n)
		}
		w[t.stripeW(s)+stripeFreeW] = head
	}
}

func (t *table) stripeW(s int) int   { return tabHdrWords + lineWords*s }
func (t *table) bucket(h uint64) int { return t.bucketsW + int(h&t.bmask) }

// slotW returns the word index of slot n (1-based, as stored); n must have
// been checked with valid.
func (t *table) slotW(n uint64) int { return t.slotsW + int(n-1)*t.slotWords }

// valid reports whether a slot reference read from shared memory names a
// slot (0 is "none" and not valid).
func (t *table) valid(n uint64) bool { return n-1 < uint64(t.ns) }

// inStripe reports whether slot n belongs to stripe s's range.
func (t *table) inStripe(n uint64, s int) bool {
	return n-1-uint64(s*t.per) < uint64(t.per)
}

// cellW returns the word index of the cell that a slot at sw shows at seq.
func (t *table) cellW(sw int, seq uint64) int { return sw + slotHdrW + int(seq&1)*t.cellWords }

// read outcomes
const (
	readMissing = iota
	readFound
	readRetry
	readCorrupt
	readCycle // a chain longer than the table: a loop, or writers churning under the walk
)

// lookup walks the chain of key's bucket once, lock-free. Each slot is read
// under its sequence word: the cell seq&1 is copied, the next link read, and
// the sequence read again; any change (or a deleted cell, or a cell of
// another bucket, which a reused slot shows) asks the caller to retry.
func (t *table) lookup(h uint64, key string, dst []byte) ([]byte, uint64, int) {
	w := t.w
	n := atomic.LoadUint64(&w[t.bucket(h)])
	for steps := 0; n != 0; steps++ {
		if !t.valid(n) {
			return dst, 0, readCorrupt
		}
		if steps > t.ns {
			return dst, 0, readCycle
		}
		sw := t.slotW(n)
		s1 := atomic.LoadUint64(&w[sw+slotSeqW])
		cw := t.cellW(sw, s1)
		meta := atomic.LoadUint64(&w[cw+cellMetaW])
		ch := atomic.LoadUint64(&w[cw+cellHashW])
		if meta&0xff != cellLive || (ch^h)&t.bmask != 0 {
			return dst, 0, readRetry
		}
		if ch == h && int(meta>>metaKlenSh&0xffffff) == len(key) && t.keyEqual(cw, key) {
			vlen := int(meta >> metaVlenSh)
			if vlen > t.valueMax {
				if atomic.LoadUint64(&w[sw+slotSeqW]) != s1 {
					return dst, 0, readRetry
				}
				return dst, 0, readCorrupt
			}
			rev := atomic.LoadUint64(&w[cw+cellRevW])
			dst = t.loadValue(dst, cw, vlen)
			if atomic.LoadUint64(&w[sw+slotSeqW]) != s1 {
				return dst, 0, readRetry
			}
			return dst, rev, readFound
		}
		next := atomic.LoadUint64(&w[sw+slotNextW])
		if atomic.LoadUint64(&w[sw+slotSeqW]) != s1 {
			return dst, 0, readRetry
		}
		n = next
	}
	return dst, 0, readMissing
}

// loadValue appends the cell's vlen value bytes to dst[:0].
func (t *table) loadValue(dst []byte, cw int, vlen int) []byte {
	return t.loadBytes(dst, cw+cellHdrW+t.keyWords, vlen)
}

// readKey returns a copy of the key a cell holds (for Range), or ok false if
// its length is out of range.
func (t *table) readKey(cw int, klen int) ([]byte, bool) {
	if klen > t.keyMax {
		return nil, false
	}
	return t.loadBytes(nil, cw+cellHdrW, klen), true
}

// writeCell fills the cell that slot sw does not show (the writer holds the
// stripe lock, so nobody else writes it). Plain stores: the publishing
// atomic store of the sequence word orders them before it.
func (t *table) writeCell(sw int, rev, h uint64, key string, value []byte) {
	w := t.w
	cw := t.cellW(sw, atomic.LoadUint64(&w[sw+slotSeqW])+1)
	w[cw+cellRevW] = rev
	w[cw+cellHashW] = h
	w[cw+cellMetaW] = cellLive | uint64(len(key))<<metaKlenSh | uint64(len(value))<<metaVlenSh
	putBytes(t, cw+cellHdrW, key)
	putBytes(t, cw+cellHdrW+t.keyWords, value)
}

// putBytes stores b from word w0 on, zero-padding its last word.
func putBytes[B string | []byte](t *table, w0 int, b B) {
	o := 8 * w0
	copy(t.b[o:o+len(b)], b)
	clear(t.b[o+len(b) : o+8*wordsFor(len(b))])
}

// writeTombstone fills the cell slot sw does not show with a deleted entry.
func (t *table) writeTombstone(sw int, rev uint64) {
	w := t.w
	cw := t.cellW(sw, atomic.LoadUint64(&w[sw+slotSeqW])+1)
	w[cw+cellRevW] = rev
	w[cw+cellHashW] = 0
	w[cw+cellMetaW] = 0
}
