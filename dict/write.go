package dict

import (
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/race"
)

// The writer side of a table. Every function here runs under the lock of
// the stripe it touches (migrate: under all of them), so the chains and free
// list of that stripe change only here; the stores that readers may observe
// mid-way (sequence words, links, bucket heads) are atomic, and each
// sequence of them leaves every chain valid at every instruction.

// find walks stripe s's chain for key and returns its slot (0 if absent)
// and the word that points at it (the bucket or the previous slot's link).
func (t *table) find(s int, h uint64, key string) (n uint64, ref int, err error) {
	w := t.w
	ref = t.bucket(h)
	n = atomic.LoadUint64(&w[ref])
	for steps := 0; n != 0; steps++ {
		if !t.inStripe(n, s) || steps > t.per {
			return 0, 0, fmt.Errorf("%w: table %q: chain of bucket %d: slot %d", ErrCorrupt, t.name, ref-t.bucketsW, n)
		}
		sw := t.slotW(n)
		cw := t.cellW(sw, atomic.LoadUint64(&w[sw+slotSeqW]))
		meta := atomic.LoadUint64(&w[cw+cellMetaW])
		if meta&0xff == cellLive && atomic.LoadUint64(&w[cw+cellHashW]) == h &&
			int(meta>>metaKlenSh&0xffffff) == len(key) && t.keyEqual(cw, key) {
			return n, ref, nil
		}
		ref = sw + slotNextW
		n = atomic.LoadUint64(&w[ref])
	}
	return 0, ref, nil
}

// popFree takes a slot off stripe s's free list; ok is false when it is
// empty.
func (t *table) popFree(s int) (n uint64, ok bool, err error) {
	fw := t.stripeW(s) + stripeFreeW
	n = atomic.LoadUint64(&t.w[fw])
	if n == 0 {
		return 0, false, nil
	}
	if !t.inStripe(n, s) {
		return 0, false, fmt.Errorf("%w: table %q: free list of stripe %d: slot %d", ErrCorrupt, t.name, s, n)
	}
	next := atomic.LoadUint64(&t.w[t.slotW(n)+slotNextW])
	if next != 0 && !t.inStripe(next, s) {
		return 0, false, fmt.Errorf("%w: table %q: free list of stripe %d: slot %d", ErrCorrupt, t.name, s, next)
	}
	atomic.StoreUint64(&t.w[fw], next)
	return n, true, nil
}

// publish makes the cell just written the one slot n shows: one atomic
// store, the commit point of every write. Before it readers see the old
// cell whole, after it the new one.
func (t *table) publish(anchor raceAnchor, n uint64) {
	sw := t.slotW(n)
	race.Release(anchor)
	atomic.StoreUint64(&t.w[sw+slotSeqW], atomic.LoadUint64(&t.w[sw+slotSeqW])+1)
}

// remove deletes slot n of stripe s, which ref points at: unlink it (the
// commit point), publish a deleted cell so that readers standing on it
// restart, and only then reuse its link for the free list.
func (t *table) remove(anchor raceAnchor, s int, n uint64, ref int, rev uint64) {
	w := t.w
	sw := t.slotW(n)
	atomic.StoreUint64(&w[ref], atomic.LoadUint64(&w[sw+slotNextW]))
	t.writeTombstone(sw, rev)
	t.publish(anchor, n)
	t.pushFree(s, n)
	atomic.AddUint64(&w[t.stripeW(s)+stripeCountW], ^uint64(0))
}

func (t *table) pushFree(s int, n uint64) {
	fw := t.stripeW(s) + stripeFreeW
	atomic.StoreUint64(&t.w[t.slotW(n)+slotNextW], atomic.LoadUint64(&t.w[fw]))
	atomic.StoreUint64(&t.w[fw], n)
}

// live sums the stripes' entry counts.
func (t *table) live() int {
	n := 0
	for s := 0; s < t.stripes; s++ {
		c := atomic.LoadUint64(&t.w[t.stripeW(s)+stripeCountW])
		if c > uint64(t.per) {
			c = uint64(t.per) // a count a peer scribbled on
		}
		n += int(c)
	}
	return n
}

// migrate copies every live entry of t into nt, which is not yet published
// (plain stores), keeping hashes and revisions. The caller holds every
// stripe lock, so t does not change.
func (t *table) migrate(nt *table) error {
	w := t.w
	for b := 0; b < t.nb; b++ {
		s := b & (t.stripes - 1)
		n := atomic.LoadUint64(&w[t.bucketsW+b])
		for steps := 0; n != 0; steps++ {
			if !t.inStripe(n, s) || steps > t.per {
				return fmt.Errorf("%w: table %q: bucket %d: slot %d", ErrCorrupt, t.name, b, n)
			}
			sw := t.slotW(n)
			cw := t.cellW(sw, atomic.LoadUint64(&w[sw+slotSeqW]))
			if w[cw+cellMetaW]&0xff == cellLive {
				h := w[cw+cellHashW]
				m, ok, err := nt.popFree(int(h & uint64(nt.stripes-1)))
				if err != nil || !ok {
					return fmt.Errorf("%w: table %q: no slot left in its successor", ErrCorrupt, t.name)
				}
				nsw := nt.slotW(m)
				copy(nt.w[nsw+slotHdrW:nsw+slotHdrW+nt.cellWords], w[cw:cw+t.cellWords])
				bw := nt.bucket(h)
				nt.w[nsw+slotNextW] = nt.w[bw]
				nt.w[bw] = m
				nt.w[nt.stripeW(int(h&uint64(nt.stripes-1)))+stripeCountW]++
			}
			n = atomic.LoadUint64(&w[sw+slotNextW])
		}
	}
	return nil
}

// recover repairs stripe s after a writer died holding its lock, at any
// instruction of a set, delete, clear or growth. It keeps each chain's
// prefix of valid live slots that belong to the chain's bucket (cutting
// links that leave the stripe's range or loop, dropping slots that a
// half-done delete left deleted), then rebuilds the free list from every
// slot of the stripe no chain holds (publishing a deleted cell first on any
// that still shows a live one: a half-done insert or delete) and the
// count. A half-written cell is never shown: the dead writer did not
// publish it, or it did and the cell is whole.
func (t *table) recover(anchor raceAnchor, s int) error {
	w := t.w
	held := make([]bool, t.per)
	count := 0
	for b := s; b < t.nb; b += t.stripes {
		ref := t.bucketsW + b
		n := atomic.LoadUint64(&w[ref])
		for n != 0 {
			if !t.inStripe(n, s) || held[n-1-uint64(s*t.per)] {
				atomic.StoreUint64(&w[ref], 0)
				break
			}
			sw := t.slotW(n)
			cw := t.cellW(sw, atomic.LoadUint64(&w[sw+slotSeqW]))
			next := atomic.LoadUint64(&w[sw+slotNextW])
			if w[cw+cellMetaW]&0xff != cellLive || int(w[cw+cellHashW]&t.bmask) != b {
				atomic.StoreUint64(&w[ref], next)
				n = next
				continue
			}
			held[n-1-uint64(s*t.per)] = true
			count++
			ref = sw + slotNextW
			n = next
		}
	}
	atomic.StoreUint64(&w[t.stripeW(s)+stripeFreeW], 0)
	for i := t.per - 1; i >= 0; i-- {
		if held[i] {
			continue
		}
		n := uint64(s*t.per + i + 1)
		sw := t.slotW(n)
		if w[t.cellW(sw, atomic.LoadUint64(&w[sw+slotSeqW]))+cellMetaW]&0xff == cellLive {
			t.writeTombstone(sw, 0)
			t.publish(anchor, n)
		}
		t.pushFree(s, n)
	}
	atomic.StoreUint64(&w[t.stripeW(s)+stripeCountW], uint64(count))
	return nil
}

// walkBucket reads bucket b's whole chain lock-free into batch. Like
// lookup, any change under it asks for a retry.
func (t *table) walkBucket(b int, batch []entry) ([]entry, int) {
	w := t.w
	n := atomic.LoadUint64(&w[t.bucketsW+b])
	for steps := 0; n != 0; steps++ {
		if !t.valid(n) {
			return batch, readCorrupt
		}
		if steps > t.ns {
			return batch, readCycle
		}
		sw := t.slotW(n)
		s1 := atomic.LoadUint64(&w[sw+slotSeqW])
		cw := t.cellW(sw, s1)
		meta := atomic.LoadUint64(&w[cw+cellMetaW])
		if meta&0xff != cellLive || int(atomic.LoadUint64(&w[cw+cellHashW])&t.bmask) != b {
			return batch, readRetry
		}
		klen, vlen := int(meta>>metaKlenSh&0xffffff), int(meta>>metaVlenSh)
		key, ok := t.readKey(cw, klen)
		if !ok || vlen > t.valueMax {
			if atomic.LoadUint64(&w[sw+slotSeqW]) != s1 {
				return batch, readRetry
			}
			return batch, readCorrupt
		}
		e := entry{key: key, rev: atomic.LoadUint64(&w[cw+cellRevW])}
		e.value = t.loadValue(nil, cw, vlen)
		next := atomic.LoadUint64(&w[sw+slotNextW])
		if atomic.LoadUint64(&w[sw+slotSeqW]) != s1 {
			return batch, readRetry
		}
		batch = append(batch, e)
		n = next
	}
	return batch, readMissing
}
