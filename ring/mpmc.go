package ring

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Pending-word protocol (docs/robustness.md D5). Before the CAS that claims position
// pos of an MPMC ring, a participant stores a tag (ring offset << 2 | op)
// and pos into one of the two pairs of its participant slot's pending
// words (claims.begin), and clears the tag after it published (producer) or
// released (consumer) the slot. Whoever finds a position stuck (claimed, not
// published or not released) between wait slices scans the pending words
// of every participant: if no live participant holds that claim, the
// claimant is dead, and the slot is turned into a tombstone (producer died:
// the slot is published empty and skipped) or freed (consumer died: its
// message is lost), counted in the ring header's tombstoned word.
const (
	opProduce = 1
	opConsume = 2
	maxSteps  = 1 << 16 // CAS retries before a ring is judged corrupt
)

// testHookClaimed, when set (by tests only), runs right after a claim CAS
// succeeds: a crash point between claiming and publishing or releasing.
var testHookClaimed func(op int)

// claims is this process's two pending-word pairs of a segment, which
// concurrent claims in different goroutines share. A Segment's participant
// token is fixed when it is attached, so the words are looked up once, here,
// rather than per message.
type claims struct {
	words *[segcore.PendingWords]uint64 // nil: the segment has no slot of ours
}

var claimsBySeg sync.Map // *shm.Segment -> *claims

func claimsFor(seg *shm.Segment) *claims {
	if c, ok := claimsBySeg.Load(seg); ok {
		return c.(*claims)
	}
	c := &claims{}
	if words, err := segcore.Of(seg).Pending(uint32(seg.Token())); err == nil {
		c.words = words // else a segment without our slot: nothing to publish
	}
	v, _ := claimsBySeg.LoadOrStore(seg, c)
	return v.(*claims)
}

// begin publishes a claim in a free pair and returns the pair's index for
// end (-1: the segment has no slot of ours, nothing published).
//
// A pair is taken by a CAS of its tag word from 0: only this process writes
// its slot's words (a new owner resets them once it is dead), so the tag
// word itself says whether a goroutine of ours holds the pair, and a claim
// costs that CAS and a store, its end one store. The position follows the
// tag: a reader that sees the tag beside the pair's previous position may
// take a dead claim for a live one for a wait slice, never a live claim for
// a dead one, since both are written before the claim CAS. Both pairs held
// for maxSteps turns means a peer wrote our words: ok is false.
func (c *claims) begin(tag, pos uint64) (pair int, ok bool) {
	words := c.words
	if words == nil {
		return -1, true
	}
	for step := 0; step < maxSteps; step++ {
		for i := 0; i < segcore.PendingWords/2; i++ {
			if atomic.CompareAndSwapUint64(&words[2*i], 0, tag) {
				atomic.StoreUint64(&words[2*i+1], pos)
				return i, true
			}
		}
		runtime.Gosched()
	}
	return -1, false
}

// end withdraws the claim begin published in pair i, which frees the pair.
func (c *claims) end(i int) {
	if i >= 0 {
		atomic.StoreUint64(&c.words[2*i], 0)
	}
}

// mpmc is one process's view of an MPMC ring, validated at attach.
type mpmc struct {
	name      string
	seg       *shm.Segment
	g         guard // closed and truncation checks (closed.go)
	h         *mpmcHdr
	slotsB    []byte
	slots     uint64
	mask      uint64
	slotSize  uint64
	maxMsg    int
	maxSize   uint64
	leasesB   []byte
	nleases   int
	leaseSize uint64
	tag       uint64 // object offset << 2, for pending words
	anchor    anchor
	claims    *claims
	// The wait specs, built once at attach: a wait allocates nothing.
	putWS, getWS, joinWS, leaseWS waitSpec
}

func mpmcSlotSize(maxMsg int) int {
	return (mpmcSlotHdrSize + maxMsg + cacheLine - 1) &^ (cacheLine - 1)
}

func initMPMC(b []byte, g geometry) {
	h := mpmcHdrAt(b)
	slots, maxMsg := g.slots, g.maxMsg
	ss := mpmcSlotSize(maxMsg)
	h.slotSize, h.slots, h.maxMsg, h.maxSize = uint32(ss), uint64(slots), uint32(maxMsg), uint32(g.maxSize)
	h.leases, h.leaseSize, h.flags = uint32(g.leases), uint32(leaseEntrySize(maxMsg)), g.flags
	for i := 0; i < slots; i++ {
		mpmcSlotAt(b, mpmcHdrSize+i*ss).seq = uint64(i)
	}
	atomic.StoreUint32(&h.magic, mpmcMagic)
}

func attachMPMC(seg *shm.Segment, name string, obj shm.Object) (*mpmc, error) {
	b := obj.Bytes()
	bad := func(what string) error { return errorf(ErrCorrupt, "queue %q: %s", name, what) }
	if len(b) < mpmcHdrSize {
		return nil, bad("short object")
	}
	h := mpmcHdrAt(b)
	if atomic.LoadUint32(&h.magic) != mpmcMagic {
		return nil, bad("magic")
	}
	slots, ss, maxMsg, maxSize := h.slots, uint64(h.slotSize), int(h.maxMsg), uint64(h.maxSize)
	nl, ls := uint64(h.leases), uint64(h.leaseSize)
	if slots < 2 || slots&(slots-1) != 0 || slots > 1<<30 || maxSize < 1 || maxSize > slots ||
		maxMsg < 0 || maxMsg > mpmcMaxSlotPayload || ss != uint64(mpmcSlotSize(maxMsg)) ||
		nl > maxLeases || ls != uint64(leaseEntrySize(maxMsg)) || atomic.LoadUint32(&h.flags) > mpmcFlagsMask ||
		slots*ss+nl*ls > uint64(len(b)-mpmcHdrSize) {
		return nil, bad(fmt.Sprintf("geometry %d slots of %d bytes, max message %d, max size %d, %d leases", slots, ss, maxMsg, maxSize, nl))
	}
	end := mpmcHdrSize + int(slots*ss)
	q := &mpmc{
		name: name, seg: seg, h: h,
		slotsB:  b[mpmcHdrSize:end],
		leasesB: b[end : end+int(nl*ls)], nleases: int(nl), leaseSize: ls,
		slots: slots, mask: slots - 1, slotSize: ss, maxMsg: maxMsg, maxSize: maxSize,
		tag: uint64(obj.Offset()) << 2, anchor: segcore.Of(seg).Anchor(obj.Offset()), claims: claimsFor(seg),
	}
	q.g = guardOf(seg, "queue", name)
	q.putWS = waitSpec{
		state:  q.g.state,
		ready:  q.putReady,
		word:   low32(&q.h.deq),
		parked: &q.h.putWait,
		peer:   q.putPeer,
		gate:   gateOf(seg, obj.Offset(), q.h, low32(&q.h.deq)),
	}
	q.getWS = waitSpec{
		state:  q.g.state,
		ready:  q.getReady,
		word:   low32(&q.h.enq),
		parked: &q.h.getWait,
		peer:   q.getPeer,
		gate:   gateOf(seg, obj.Offset(), q.h, low32(&q.h.enq)),
	}
	joinGate := gateOf(seg, obj.Offset(), q.h, &q.h.ended)
	q.joinWS = waitSpec{
		state:  q.g.state,
		ready:  q.joinReady,
		word:   &q.h.ended,
		parked: &q.h.joinWait,
		peer:   q.joinPeer,
		gate:   joinGate,
	}
	q.leaseWS = waitSpec{
		state:  q.g.state,
		ready:  q.leaseReady,
		word:   &q.h.ended,
		parked: &q.h.joinWait,
		peer:   q.leasePeer,
		gate:   joinGate,
	}
	return q, nil
}

func (q *mpmc) slot(pos uint64) (*mpmcSlot, []byte) {
	off := (pos & q.mask) * q.slotSize
	return mpmcSlotAt(q.slotsB, int(off)), q.slotsB[off+mpmcSlotHdrSize : off+q.slotSize]
}

// putPeer is a Put's check between wait slices: the segment closed, dead
// holders' leases, dead consumers' claims.
func (q *mpmc) putPeer() error {
	if err := q.g.usable(); err != nil {
		return err
	}
	q.reclaim(nil, true)
	q.recoverConsumer()
	return nil
}

// joinPeer is Join's: the segment closed, dead holders' leases, dead
// producers' claims and a tombstone at the head.
func (q *mpmc) joinPeer() error {
	if err := q.g.usable(); err != nil {
		return err
	}
	q.reclaim(nil, true)
	q.recoverProducer()
	q.skipTombstone()
	return nil
}

// leasePeer is that of a leased Get waiting for a free entry: the segment
// closed, dead holders' leases.
func (q *mpmc) leasePeer() error {
	if err := q.g.usable(); err != nil {
		return err
	}
	q.reclaim(nil, true)
	return nil
}

// getPeer is a Get's check between wait slices: the segment closed, dead
// holders' leases (which may become orphans to take), dead producers'
// claims.
func (q *mpmc) getPeer() error {
	if err := q.g.usable(); err != nil {
		return err
	}
	q.reclaim(nil, true)
	q.recoverProducer()
	if q.orphans() && q.hasOrphan() { // the hint alone could be stale
		return errRetry
	}
	return nil
}

func (q *mpmc) closed() bool { return atomic.LoadUint32(&q.h.closed) != 0 }

func (q *mpmc) corrupt(what string, args ...any) error {
	return q.errf(ErrCorrupt, what, args...)
}

// errf wraps a sentinel with the queue's name and a detail.
func (q *mpmc) errf(sentinel error, what string, args ...any) error {
	return errorf(sentinel, "queue %q: %s", q.name, fmt.Sprintf(what, args...))
}

// tryPut claims a free slot, copies msg in and publishes it; ErrFull when
// the queue holds maxSize messages.
func (q *mpmc) tryPut(msg []byte) error {
	if len(msg) > q.maxMsg {
		return q.errf(ErrTooLarge, "message of %d bytes, max %d", len(msg), q.maxMsg)
	}
	if q.closed() {
		return errorf(ErrClosed, "queue %q", q.name)
	}
	pos := atomic.LoadUint64(&q.h.enq)
	for step := 0; step < maxSteps; step++ {
		if q.maxSize < q.slots && int64(pos-atomic.LoadUint64(&q.h.deq)) >= int64(q.maxSize) {
			return ErrFull
		}
		s, payload := q.slot(pos)
		seq := atomic.LoadUint64(&s.seq)
		switch dif := int64(seq - pos); {
		case dif == 0:
			pair, ok := q.claims.begin(q.tag|opProduce, pos)
			if !ok {
				return q.corrupt("pending words held for %d turns", maxSteps)
			}
			if atomic.CompareAndSwapUint64(&q.h.enq, pos, pos+1) {
				if testHookClaimed != nil {
					testHookClaimed(opProduce)
				}
				copyChunked(payload, msg)
				s.len, s.flags = uint32(len(msg)), mpmcSlotPublished
				race.ReleaseMerge(q.anchor)
				atomic.StoreUint64(&s.seq, pos+1)
				q.claims.end(pair)
				wake(low32(&q.h.enq), &q.h.getWait)
				return nil
			}
			q.claims.end(pair)
			pos = atomic.LoadUint64(&q.h.enq)
		case dif < 0:
			return ErrFull
		default:
			pos = atomic.LoadUint64(&q.h.enq)
		}
	}
	return q.corrupt("no progress claiming a slot to put after %d steps", maxSteps)
}

// tryGet claims the oldest published slot and copies its message into buf
// (allocating when buf is nil). A message longer than a non-nil buf gives
// ErrBufferTooShort with its length, unclaimed. Tombstones are skipped. With
// a lease entry lt (reserved, taking), the position is recorded in it before
// the claim and the message copied into it before the slot is released.
func (q *mpmc) tryGet(buf []byte, alloc bool, lt *take) ([]byte, int, error) {
	pos := atomic.LoadUint64(&q.h.deq)
	for step := 0; step < maxSteps; step++ {
		s, payload := q.slot(pos)
		seq := atomic.LoadUint64(&s.seq)
		switch dif := int64(seq - (pos + 1)); {
		case dif == 0:
			n, flags := s.len, s.flags
			if flags == mpmcSlotPublished && (n > uint32(q.maxMsg)) {
				return nil, 0, q.corrupt("slot %d: message length %d", pos&q.mask, n)
			}
			if flags == mpmcSlotPublished && !alloc && int(n) > len(buf) {
				// Re-check that the slot is still this position's.
				if atomic.LoadUint64(&s.seq) == seq && atomic.LoadUint64(&q.h.deq) == pos {
					return nil, int(n), q.errf(ErrBufferTooShort, "message of %d bytes, buffer %d", n, len(buf))
				}
				pos = atomic.LoadUint64(&q.h.deq)
				continue
			}
			if lt != nil {
				atomic.StoreUint64(&lt.e.pos, pos)
			}
			pair, ok := q.claims.begin(q.tag|opConsume, pos)
			if !ok {
				return nil, 0, q.corrupt("pending words held for %d turns", maxSteps)
			}
			if !atomic.CompareAndSwapUint64(&q.h.deq, pos, pos+1) {
				q.claims.end(pair)
				pos = atomic.LoadUint64(&q.h.deq)
				continue
			}
			race.Acquire(q.anchor)
			if testHookClaimed != nil {
				testHookClaimed(opConsume)
			}
			n, flags = s.len, s.flags // ours now: read once more, validate
			var out []byte
			var err error
			switch {
			case flags == mpmcSlotTombstone:
			case flags != mpmcSlotPublished || n > uint32(q.maxMsg):
				err = q.corrupt("slot %d: flags %#x, length %d", pos&q.mask, flags, n)
			case alloc:
				out = make([]byte, n)
				copyChunked(out, payload[:n])
			case int(n) > len(buf):
				err = q.corrupt("slot %d: length changed under a claim", pos&q.mask)
			default:
				out = buf[:copyChunked(buf, payload[:n])]
			}
			if lt != nil && err == nil && flags == mpmcSlotPublished {
				copyChunked(lt.p, out)
				lt.e.len = n
				race.ReleaseMerge(q.anchor)
				atomic.StoreUint64(&lt.e.state, leaseWord(leaseHeld, q.me(), lt.gen))
				if testHookLease != nil {
					testHookLease(3)
				}
			}
			s.flags = 0
			race.ReleaseMerge(q.anchor)
			atomic.StoreUint64(&s.seq, pos+q.slots)
			q.claims.end(pair)
			wake(low32(&q.h.deq), &q.h.putWait)
			if err != nil {
				return nil, 0, err
			}
			if flags == mpmcSlotTombstone {
				pos = atomic.LoadUint64(&q.h.deq)
				continue
			}
			return out, int(n), nil
		case dif < 0:
			if q.closed() && atomic.LoadUint64(&q.h.enq) == pos {
				return nil, 0, errorf(ErrClosed, "queue %q", q.name)
			}
			return nil, 0, ErrEmpty
		default:
			pos = atomic.LoadUint64(&q.h.deq)
		}
	}
	return nil, 0, q.corrupt("no progress claiming a slot to get after %d steps", maxSteps)
}

// claimedBy reports whether a live participant has published the claim
// (op, pos) of this ring in its pending words.
func (q *mpmc) claimedByLive(op, pos uint64) bool {
	for _, p := range q.seg.Participants() {
		if !p.Alive {
			continue
		}
		words, err := segcore.Of(q.seg).Pending(uint32(p.Token))
		if err != nil {
			continue
		}
		for i := 0; i < segcore.PendingWords/2; i++ {
			t1 := atomic.LoadUint64(&words[2*i])
			at := atomic.LoadUint64(&words[2*i+1])
			if t1 == q.tag|op && at == pos && atomic.LoadUint64(&words[2*i]) == t1 {
				return true
			}
		}
	}
	return false
}

// recoverProducer tombstones the slot at the consumers' position if a
// producer claimed it and died before publishing. Slow path only.
func (q *mpmc) recoverProducer() {
	pos := atomic.LoadUint64(&q.h.deq)
	s, _ := q.slot(pos)
	if atomic.LoadUint64(&s.seq) != pos || int64(atomic.LoadUint64(&q.h.enq)-pos) <= 0 {
		return // not claimed, or already published
	}
	if q.claimedByLive(opProduce, pos) || atomic.LoadUint64(&s.seq) != pos {
		return
	}
	// The claimant is dead (a live one keeps its claim visible until it has
	// published, and the slot is still unpublished). Take the slot with a
	// CAS to pos - 2·slots, a value outside the live window [pos-slots+1,
	// pos+slots] that consumers read as "empty" and producers as "full",
	// so that of several recoverers exactly one writes the tombstone, and
	// only before the slot moves on. (A recoverer killed inside these few instructions
	// leaves the slot marked: a documented limitation.)
	if !atomic.CompareAndSwapUint64(&s.seq, pos, pos-2*q.slots) {
		return
	}
	s.len, s.flags = 0, mpmcSlotTombstone
	race.ReleaseMerge(q.anchor)
	atomic.StoreUint64(&s.seq, pos+1)
	atomic.AddUint64(&q.h.tombstoned, 1)
	wake(low32(&q.h.enq), &q.h.getWait)
}

// recoverConsumer frees the slot at the producers' position if a consumer
// claimed it one lap earlier and died before releasing it (its message is
// lost and counted). Slow path only.
func (q *mpmc) recoverConsumer() {
	pos := atomic.LoadUint64(&q.h.enq)
	prev := pos - q.slots
	s, _ := q.slot(pos)
	if atomic.LoadUint64(&s.seq) != prev+1 || int64(atomic.LoadUint64(&q.h.deq)-prev) <= 0 {
		return // full of unclaimed messages, or already released
	}
	if q.claimedByLive(opConsume, prev) || q.leaseHolds(prev, nil, true) || atomic.LoadUint64(&s.seq) != prev+1 {
		return // a live claim, or a lease's (reclaim handles it)
	}
	// Only the sequence changes: the flags are rewritten by the next
	// producer, and a plain write here could land on its message.
	if atomic.CompareAndSwapUint64(&s.seq, prev+1, pos) {
		atomic.AddUint64(&q.h.tombstoned, 1)
		wake(low32(&q.h.deq), &q.h.putWait)
	}
}

func (q *mpmc) length() int {
	d := atomic.LoadUint64(&q.h.deq)
	e := atomic.LoadUint64(&q.h.enq)
	n := int64(e - d)
	if n < 0 {
		return 0
	}
	return int(min(uint64(n), q.maxSize))
}

// putReady reports whether a Put may find room (or the queue closed).
func (q *mpmc) putReady() (bool, error) {
	if q.closed() {
		return true, nil
	}
	pos := atomic.LoadUint64(&q.h.enq)
	if q.maxSize < q.slots && int64(pos-atomic.LoadUint64(&q.h.deq)) >= int64(q.maxSize) {
		return false, nil
	}
	s, _ := q.slot(pos)
	return int64(atomic.LoadUint64(&s.seq)-pos) >= 0, nil
}

// getReady reports whether a Get may find a message (or the queue closed
// and drained).
func (q *mpmc) getReady() (bool, error) {
	pos := atomic.LoadUint64(&q.h.deq)
	if q.closed() && atomic.LoadUint64(&q.h.enq) == pos {
		return true, nil
	}
	s, _ := q.slot(pos)
	return int64(atomic.LoadUint64(&s.seq)-(pos+1)) >= 0, nil
}

func (q *mpmc) waitPut(ctx context.Context, cfg *waitCfg) error { return cfg.wait(ctx, &q.putWS) }

func (q *mpmc) waitGet(ctx context.Context, cfg *waitCfg) error { return cfg.wait(ctx, &q.getWS) }
