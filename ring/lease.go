package ring

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Lease protocol. A queue has a table of lease entries after its slots, each
// with a 64-bit state word (state<<29 | owner token in the low half, a
// generation in the high half), the holder's token, the ring position being
// taken and room for one message. A leased take:
//
//  1. reserves a free entry: CAS free -> taking|me (generation + 1);
//  2. stores the position it is about to claim in the entry, publishes the
//     claim in its pending words and claims the slot (CAS of the dequeue
//     index), as every Get does;
//  3. copies the message into the entry (and out), then stores held|me;
//  4. releases the slot.
//
// Done is one CAS held|me -> free. So at every instruction the message is in
// the ring (before 2's CAS), in a slot claimed by a taking entry (2-3), or in
// a held entry (after 3), and the state word says which. Whoever finds an
// entry whose owner is dead (shm.Segment.Alive: never a timeout) takes it
// over by CAS (taking -> salvage|me, held -> reclaim|me, and a dead
// reclaimer's salvage or reclaim the same way) and finishes the job: a
// salvager copies the message out of the claimed slot if the dead holder did
// claim it (the slot is still full and claimed, no live participant has the
// claim in its pending words, and no other entry holds that position; the
// slot is then taken by CAS of its sequence to pos+1-2·slots, as a
// tombstone's recoverer does), else frees the entry; a reclaimer releases the
// slot if the holder died before releasing it. The message, now in a
// reclaim entry, is then counted lost (the entry freed) or redelivered: the
// entry becomes an orphan, which the next Get takes over with one CAS
// orphan -> held|taker. A redelivered message is therefore never in the ring
// twice and never duplicated by a crash.
const (
	leaseFree    = iota // no message
	leaseTaking         // owner is claiming the position in pos
	leaseHeld           // owner holds the message (after Get, before Done)
	leaseOrphan         // a dead holder's message, waiting for the next Get
	leaseReclaim        // a reclaimer (owner) decides the fate of the message
	leaseSalvage        // a reclaimer (owner) salvages a dead taker's claim
	leaseStates
)

// testHookLease, when set (by tests only), runs at the steps of a leased
// take: 1 after reserving the entry, 3 after storing held, 4 after
// releasing the slot (step 2, the claim, is testHookClaimed's); and of a
// reclaim: 6 after a salvager took a dead taker's slot, 7 after a reclaimer
// took a dead holder's unreleased slot.
var testHookLease func(step int)

// errRetry is a wait's "something to take besides the ring" (an orphan): the
// caller loops instead of reporting it.
var errRetry = errors.New("ring: retry")

func leaseWord(state uint32, owner shm.Token, gen uint32) uint64 {
	return uint64(gen)<<32 | uint64(state<<segcore.TokenBits|uint32(owner)&segcore.TokenMask)
}

func leaseState(w uint64) uint32    { return uint32(w) >> segcore.TokenBits }
func leaseOwner(w uint64) shm.Token { return shm.Token(uint32(w) & segcore.TokenMask) }
func leaseGen(w uint64) uint32      { return uint32(w >> 32) }
func leaseEntrySize(maxMsg int) int {
	return (leaseHdrSize + maxMsg + cacheLine - 1) &^ (cacheLine - 1)
}
func (q *mpmc) me() shm.Token      { return q.seg.Token() }
func (q *mpmc) policy() DeadHolder { return DeadHolder(atomic.LoadUint32(&q.h.flags) >> 1 & 3) }
func (q *mpmc) orphans() bool      { return atomic.LoadUint32(&q.h.orphans) != 0 }

// markerSeq is the sequence with which lease entry i's reclaimer takes the
// slot of position pos: bit 63 set (read as "not ready" by everyone, since
// positions stay below 2^62), then the entry and the low 47 bits of pos+1,
// so that it names one entry and one position (another lap's position of
// the same slot gives another value) and a reclaimer that takes over entry
// i from a dead one knows the slot is that entry's to finish.
func (q *mpmc) markerSeq(pos uint64, i int) uint64 {
	return 1<<63 | uint64(i)<<47 | (pos+1)&(1<<47-1)
}

func (q *mpmc) lease(i int) (*leaseEntry, []byte) {
	off := uint64(i) * q.leaseSize
	return leaseAt(q.leasesB, int(off)), q.leasesB[off+leaseHdrSize : off+q.leaseSize]
}

// take is the lease entry a Get copies its message into.
type take struct {
	e   *leaseEntry
	p   []byte
	gen uint32
}

// reserve takes a free lease entry for this process (step 1).
func (q *mpmc) reserve() (take, bool) {
	me := q.me()
	for i := 0; i < q.nleases; i++ {
		e, p := q.lease(i)
		w := atomic.LoadUint64(&e.state)
		if leaseState(w) != leaseFree {
			continue
		}
		gen := leaseGen(w) + 1
		if atomic.CompareAndSwapUint64(&e.state, w, leaseWord(leaseTaking, me, gen)) {
			atomic.StoreUint32(&e.holder, uint32(me))
			return take{e: e, p: p, gen: gen}, true
		}
	}
	return take{}, false
}

// free ends the lease of entry e (generation gen) and wakes Join and the
// getters waiting for a free entry.
func (q *mpmc) free(e *leaseEntry, gen uint32) {
	atomic.StoreUint64(&e.state, leaseWord(leaseFree, 0, gen))
	q.ended()
}

func (q *mpmc) ended() {
	atomic.AddUint32(&q.h.ended, 1)
	wake(&q.h.ended, &q.h.joinWait)
}

// done ends the lease (i, gen) this process holds: one CAS is the commit.
func (q *mpmc) done(e *leaseEntry, gen uint32) error {
	if !atomic.CompareAndSwapUint64(&e.state, leaseWord(leaseHeld, q.me(), gen), leaseWord(leaseFree, 0, gen)) {
		return q.errf(ErrTaskDone, "lease already done")
	}
	q.ended()
	return nil
}

// doneAny ends one lease this process holds (TaskDone names no message).
func (q *mpmc) doneAny() error {
	me := q.me()
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		w := atomic.LoadUint64(&e.state)
		if leaseState(w) == leaseHeld && leaseOwner(w) == me &&
			atomic.CompareAndSwapUint64(&e.state, w, leaseWord(leaseFree, 0, leaseGen(w))) {
			q.ended()
			return nil
		}
	}
	return q.errf(ErrTaskDone, "no task held by this process")
}

// takeOrphan takes over a redelivered message, if any, as a held lease.
// Unless forced it trusts the orphans hint when that says none.
func (q *mpmc) takeOrphan(force bool) (take, []byte, bool, error) {
	if !force && !q.orphans() {
		return take{}, nil, false, nil
	}
	me := q.me()
	for i := 0; i < q.nleases; i++ {
		e, p := q.lease(i)
		w := atomic.LoadUint64(&e.state)
		if leaseState(w) != leaseOrphan {
			continue
		}
		gen := leaseGen(w) + 1
		if !atomic.CompareAndSwapUint64(&e.state, w, leaseWord(leaseHeld, me, gen)) {
			continue
		}
		race.Acquire(q.anchor)
		for o := atomic.LoadUint32(&q.h.orphans); o > 0 && !atomic.CompareAndSwapUint32(&q.h.orphans, o, o-1); {
			o = atomic.LoadUint32(&q.h.orphans)
		}
		atomic.StoreUint32(&e.holder, uint32(me))
		n := e.len
		if int(n) > q.maxMsg {
			atomic.AddUint64(&q.h.lost, 1)
			q.free(e, gen)
			return take{}, nil, false, q.corrupt("lease %d: message length %d", i, n)
		}
		msg := make([]byte, n)
		copyChunked(msg, p[:n])
		return take{e: e, p: p, gen: gen}, msg, true, nil
	}
	return take{}, nil, false, nil
}

// tryGetLease takes the next message under a lease: a redelivered one first,
// then the ring's oldest. ErrEmpty when there is none; errNoLease when every
// entry is in use.
func (q *mpmc) tryGetLease() (take, []byte, error) {
	if t, msg, ok, err := q.takeOrphan(false); ok || err != nil {
		return t, msg, err
	}
	if ok, _ := q.getReady(); !ok {
		return take{}, nil, ErrEmpty
	}
	t, ok := q.reserve()
	if !ok {
		if t, msg, ok, err := q.takeOrphan(true); ok || err != nil {
			return t, msg, err
		}
		if q.nleases == 0 {
			return take{}, nil, q.errf(ErrInvalid, "queue has no lease entries")
		}
		return take{}, nil, q.errf(ErrNoLease, "%d leases in use", q.nleases)
	}
	if testHookLease != nil {
		testHookLease(1)
	}
	msg, _, err := q.tryGet(nil, true, &t)
	if err != nil {
		q.free(t.e, t.gen)
		return take{}, nil, err
	}
	if testHookLease != nil {
		testHookLease(4)
	}
	return t, msg, nil
}

// getLease is tryGetLease, waiting for a message or a free entry.
func (q *mpmc) getLease(ctx context.Context, cfg *waitCfg) (take, []byte, error) {
	for {
		t, msg, err := q.tryGetLease()
		switch {
		case err == ErrEmpty:
			err = q.waitGet(ctx, cfg)
		case errors.Is(err, ErrNoLease) && q.nleases > 0:
			err = cfg.wait(ctx, &q.leaseWS)
		default:
			return t, msg, err
		}
		if err != nil && err != errRetry {
			return take{}, nil, err
		}
	}
}

// orphan hands a taken orphan back (a Get whose buffer was too short).
func (q *mpmc) orphan(t take) {
	atomic.AddUint32(&q.h.orphans, 1)
	atomic.StoreUint64(&t.e.state, leaseWord(leaseOrphan, 0, t.gen))
}

// leaseReady reports whether a leased Get that found every entry in use
// may now succeed: an entry is free, or holds a message to redeliver
// (leaseWS's condition).
func (q *mpmc) leaseReady() (bool, error) {
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		if st := leaseState(atomic.LoadUint64(&e.state)); st == leaseFree || st == leaseOrphan {
			return true, nil
		}
	}
	return false, nil
}

// hasOrphan reports whether an entry holds a message for redelivery.
func (q *mpmc) hasOrphan() bool {
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		if leaseState(atomic.LoadUint64(&e.state)) == leaseOrphan {
			return true
		}
	}
	return false
}

// leaseHolds reports whether an entry other than skip is at ring position
// pos: one that holds its message (held, reclaim) or, with claims set,
// also one that may be claiming it (taking, salvage).
func (q *mpmc) leaseHolds(pos uint64, skip *leaseEntry, claims bool) bool {
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		if e == skip {
			continue
		}
		switch leaseState(atomic.LoadUint64(&e.state)) {
		case leaseHeld, leaseReclaim:
		case leaseTaking, leaseSalvage:
			if !claims {
				continue
			}
		default:
			continue
		}
		if atomic.LoadUint64(&e.pos) == pos {
			return true
		}
	}
	return false
}

// reclaim ends the leases of dead holders. decide says whether a message is
// redelivered (true) or counted lost; nil applies the queue's policy (and
// does nothing under Supervised). It returns how many leases it ended.
func (q *mpmc) reclaim(decide func(msg []byte, holder shm.Token) bool, auto bool) (int, error) {
	pol := q.policy()
	if auto && pol == Supervised {
		return 0, nil
	}
	me := q.me()
	n := 0
	for i := 0; i < q.nleases; i++ {
		e, p := q.lease(i)
		w := atomic.LoadUint64(&e.state)
		st, owner, gen := leaseState(w), leaseOwner(w), leaseGen(w)
		if st == leaseFree || st == leaseOrphan || owner == me {
			continue
		}
		if st >= leaseStates {
			return n, q.corrupt("lease %d: state word %#x", i, w)
		}
		if alive, err := q.seg.Alive(owner); err != nil || alive {
			if err != nil {
				return n, errorf(err, "queue %q: lease %d: owner %v", q.name, i, owner)
			}
			continue
		}
		next := uint32(leaseReclaim)
		if st == leaseTaking || st == leaseSalvage {
			next = leaseSalvage
		}
		if !atomic.CompareAndSwapUint64(&e.state, w, leaseWord(next, me, gen)) {
			continue
		}
		race.Acquire(q.anchor)
		if st == leaseTaking || st == leaseHeld {
			atomic.StoreUint32(&e.holder, uint32(owner))
		}
		if next == leaseSalvage {
			switch q.salvage(i, e, p, gen) {
			case salvageNone:
				q.free(e, gen) // the dead taker held no message
				continue
			case salvageLater:
				atomic.StoreUint64(&e.state, w) // the next reclaim looks again
				continue
			}
		}
		q.releaseClaim(i, e)
		ln := e.len
		if int(ln) > q.maxMsg {
			q.free(e, gen)
			atomic.AddUint64(&q.h.lost, 1)
			return n + 1, q.corrupt("lease %d: message length %d", i, ln)
		}
		redeliver := pol == Redeliver
		if decide != nil {
			msg := make([]byte, ln)
			copyChunked(msg, p[:ln])
			redeliver = decide(msg, shm.Token(atomic.LoadUint32(&e.holder)))
		}
		n++
		if redeliver {
			atomic.AddUint32(&q.h.orphans, 1)
			atomic.AddUint64(&q.h.redelivered, 1)
			race.ReleaseMerge(q.anchor)
			atomic.StoreUint64(&e.state, leaseWord(leaseOrphan, 0, gen))
			q.ended()                           // wakes leased Gets waiting for an entry
			wake(low32(&q.h.enq), &q.h.getWait) // and Gets waiting for a message
		} else {
			atomic.AddUint64(&q.h.lost, 1)
			q.free(e, gen)
		}
	}
	return n, nil
}

// Outcomes of salvage.
const (
	salvaged     = iota // the message is in the entry
	salvageNone         // the dead taker had claimed no message
	salvageLater        // a live consumer shows a claim of the position: look again later
)

// salvage copies the message of the slot a dead taker claimed into its
// entry i, which this process owns, and releases the slot.
func (q *mpmc) salvage(i int, e *leaseEntry, p []byte, gen uint32) int {
	pos := atomic.LoadUint64(&e.pos)
	s, payload := q.slot(pos)
	mark := q.markerSeq(pos, i)
	switch seq := atomic.LoadUint64(&s.seq); {
	case seq == mark: // a dead salvager of this entry took the slot
	case seq != pos+1 || int64(atomic.LoadUint64(&q.h.deq)-pos) <= 0:
		return salvageNone // not claimed, or released
	case q.leaseHolds(pos, e, false):
		return salvageNone // another entry has the message
	case q.claimedByLive(opConsume, pos):
		// Its claim, or its failed attempt (its pending words show the
		// position for a few instructions after a failed CAS).
		return salvageLater
	case !atomic.CompareAndSwapUint64(&s.seq, pos+1, mark):
		return salvageNone // another dead taker's entry won the slot
	}
	if testHookLease != nil {
		testHookLease(6)
	}
	race.Acquire(q.anchor)
	n, flags := s.len, s.flags
	ok := flags == mpmcSlotPublished && int(n) <= q.maxMsg
	if ok {
		copyChunked(p, payload[:n])
		e.len = n
		race.ReleaseMerge(q.anchor)
		atomic.StoreUint64(&e.state, leaseWord(leaseReclaim, q.me(), gen))
	}
	s.flags = 0
	race.ReleaseMerge(q.anchor)
	atomic.StoreUint64(&s.seq, pos+q.slots)
	wake(low32(&q.h.deq), &q.h.putWait)
	if !ok {
		return salvageNone
	}
	return salvaged
}

// releaseClaim releases the slot of entry i's position if its holder died
// after copying the message but before releasing the slot (or a reclaimer
// of entry i died while releasing it).
func (q *mpmc) releaseClaim(i int, e *leaseEntry) {
	pos := atomic.LoadUint64(&e.pos)
	s, _ := q.slot(pos)
	mark := q.markerSeq(pos, i)
	switch seq := atomic.LoadUint64(&s.seq); {
	case seq == mark:
	case seq != pos+1 || int64(atomic.LoadUint64(&q.h.deq)-pos) <= 0:
		return
	case !atomic.CompareAndSwapUint64(&s.seq, pos+1, mark):
		return
	}
	if testHookLease != nil {
		testHookLease(7)
	}
	s.flags = 0
	race.ReleaseMerge(q.anchor)
	atomic.StoreUint64(&s.seq, pos+q.slots)
	wake(low32(&q.h.deq), &q.h.putWait)
}

// joinReady reports whether no task is left: the ring is empty (no position
// claimed by a producer and not taken) and no lease entry is in use, with no
// lease ended in between (a worker may put a new task and then end its own
// lease while the entries are read).
func (q *mpmc) joinReady() (bool, error) {
	v := atomic.LoadUint32(&q.h.ended)
	if atomic.LoadUint64(&q.h.enq) != atomic.LoadUint64(&q.h.deq) {
		return false, nil
	}
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		if leaseState(atomic.LoadUint64(&e.state)) != leaseFree {
			return false, nil
		}
	}
	return atomic.LoadUint32(&q.h.ended) == v, nil
}

// unfinished counts the messages in the ring (claimed positions included)
// and the lease entries in use: a snapshot.
func (q *mpmc) unfinished() int {
	n := q.length()
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		if leaseState(atomic.LoadUint64(&e.state)) != leaseFree {
			n++
		}
	}
	return n
}

// skipTombstone consumes a tombstone at the head of the ring, so that Join
// does not wait for a Get to skip what a dead producer left.
func (q *mpmc) skipTombstone() {
	pos := atomic.LoadUint64(&q.h.deq)
	s, _ := q.slot(pos)
	if atomic.LoadUint64(&s.seq) != pos+1 || s.flags != mpmcSlotTombstone {
		return
	}
	pair, ok := q.claims.begin(q.tag|opConsume, pos)
	if !ok {
		return // our pending words are corrupt: the next Get reports it
	}
	if atomic.CompareAndSwapUint64(&q.h.deq, pos, pos+1) {
		s.flags = 0
		race.ReleaseMerge(q.anchor)
		atomic.StoreUint64(&s.seq, pos+q.slots)
		wake(low32(&q.h.deq), &q.h.putWait)
	}
	q.claims.end(pair)
}
