package futex

import (
	"context"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/park"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// KindBarrier tags Barrier objects.
var KindBarrier = shm.MakeKind("BARR")

// Barrier state word, bit by bit:
//
//	bits 0-15   parties arrived in the current generation
//	bit 16      barrierBroken: aborted, or a party timed out or died
//	bits 17-31  how the last 15 generations ended: bit 17+i set when the
//	            generation i+1 before the current one ended by Reset rather
//	            than by its last party arriving
//	bits 32-63  generation, bumped when the last party arrives or on Reset
//
// A waiter remembers its generation and, once the generation has moved on,
// reads from the history whether its own ended by Reset (ErrBrokenBarrier)
// or by the last arrival (its index), also when later generations have
// passed before it looked (a slow waiter, a stopped process).
//
// Arrival slots hold gen<<32 | token of the party that took that index, so
// that waiting parties can check the liveness of the others who arrived. A
// party counts its arrival (the CAS on the state) before it knows its index
// and so before it can write its slot: between the two, its slot still holds
// what an earlier generation wrote, or 0 if none ever did. A slot is read as
// an arrival of generation g only if it is tagged g and its token is not 0
// (no participant has token 0), so neither a stale slot nor a never-written
// one (0, which is also "generation 0, token 0") passes for an arrival. A
// party that dies inside that window is, like one that dies before
// arriving, not seen: the others wait until their contexts end.
const (
	barrierCount     = 1<<16 - 1
	barrierBroken    = 1 << 16
	barrierHistShift = 17
	barrierHistLen   = 15
	barrierHistMask  = 1<<barrierHistLen - 1
)

// barrierNext is the state after generation s>>32 ends, by Reset or by its
// last arrival: the next generation, empty and unbroken, with the ending
// recorded in the history.
func barrierNext(s uint64, reset bool) uint64 {
	h := s >> barrierHistShift << 1 & barrierHistMask
	if reset {
		h |= 1
	}
	return (s>>32+1)<<32 | h<<barrierHistShift
}

// Barrier makes a fixed number of parties wait for each other, the
// counterpart of threading.Barrier (multiprocessing.Barrier). Wait returns
// a distinct index in 0..parties-1 to each party of a generation. A party
// whose ctx ends while it waits, or that is found dead while others wait
// for it, breaks the barrier for everyone (ErrBrokenBarrier) until Reset.
// A party that dies before it arrives cannot be told from a slow one: the
// others wait until their ctx ends, which then breaks the barrier. The zero
// value is not usable; create with NewBarrier, attach with OpenBarrier.
//
// Memory model: everything a party did before its Wait happens before every
// party's return from that generation's Wait.
//
// Closed and truncated segments: after Segment.Close, Wait, Abort and
// Reset return an error wrapping shm.ErrClosed; on a named segment whose
// file a peer truncated, one wrapping shm.ErrSegmentTruncated, never a
// fatal fault of the process. NWaiting and Broken, which have no error
// result, panic with that error instead (a Go panic the caller may
// recover).
type Barrier struct {
	_       noCopy
	core    *segcore.Core // closed and truncation checks (closed.go)
	state   *uint32       // core.State(): non-zero takes the checked path
	seg     *shm.Segment
	name    string
	st      *barrierState
	slots   []uint64
	parties int
	anchor  anchor
	relay   *gate.Gate
}

// NewBarrier creates a Barrier named name for parties parties
// (1..1024).
func NewBarrier(seg *shm.Segment, name string, parties int) (*Barrier, error) {
	if parties < 1 || parties > barrierMaxParties {
		return nil, errtext.Errorf("futex: new barrier %q: %d parties: %w", name, parties, ErrInvalidArgument)
	}
	size := barrierHdrSize + barrierSlotSize*parties
	o, err := seg.CreateObject(name, KindBarrier, barrierVersion, size, func(b []byte) error {
		barrierAt(b).parties = uint32(parties)
		return nil
	})
	if err != nil {
		return nil, errtext.Errorf("futex: new barrier %q: %w", name, err)
	}
	return newBarrier(seg, o, parties), nil
}

// OpenBarrier attaches to the Barrier named name.
func OpenBarrier(seg *shm.Segment, name string) (*Barrier, error) {
	o, err := seg.OpenObject(name, KindBarrier, barrierVersion)
	if err != nil {
		return nil, errtext.Errorf("futex: open barrier %q: %w", name, err)
	}
	if o.Size() < barrierHdrSize {
		return nil, errtext.Errorf("futex: open barrier %q: payload %d bytes: %w", name, o.Size(), shm.ErrCorrupt)
	}
	p := int(atomic.LoadUint32(&barrierAt(o.Bytes()).parties))
	if p < 1 || p > barrierMaxParties || o.Size() < barrierHdrSize+barrierSlotSize*p {
		return nil, errtext.Errorf("futex: open barrier %q: %d parties in %d bytes: %w", name, p, o.Size(), shm.ErrCorrupt)
	}
	return newBarrier(seg, o, p), nil
}

func newBarrier(seg *shm.Segment, o shm.Object, parties int) *Barrier {
	core := segcore.Of(seg)
	return &Barrier{
		core: core, state: core.State(),
		seg: seg, name: o.Name(), st: barrierAt(o.Bytes()), slots: barrierSlots(o.Bytes(), parties),
		parties: parties, anchor: core.Anchor(o.Offset()), relay: gateFor(seg, o.Offset()),
	}
}

// Name returns the barrier's object name.
func (b *Barrier) Name() string { return b.name }

// Parties returns the number of parties.
func (b *Barrier) Parties() int { return b.parties }

// NWaiting returns the number of parties waiting in the current generation
// (0 when broken). It panics with an error wrapping shm.ErrClosed or
// shm.ErrSegmentTruncated on a closed or truncated segment.
func (b *Barrier) NWaiting() int {
	if b.checked() {
		return query(b.core, b.errorf, b.nWaiting)
	}
	return b.nWaiting()
}

func (b *Barrier) nWaiting() int {
	s := atomic.LoadUint64(&b.st.state)
	if s&barrierBroken != 0 {
		return 0
	}
	return int(s & barrierCount)
}

// Broken reports whether the barrier is broken. It panics as NWaiting does.
func (b *Barrier) Broken() bool {
	if b.checked() {
		return query(b.core, b.errorf, b.broken)
	}
	return b.broken()
}

func (b *Barrier) broken() bool { return atomic.LoadUint64(&b.st.state)&barrierBroken != 0 }

// checked reports whether the segment is closed or guarded.
func (b *Barrier) checked() bool { return atomic.LoadUint32(b.state) != 0 }

func (b *Barrier) errorf(err error) error {
	return errtext.Errorf("futex: barrier %q: %w", b.name, err)
}

// wake tells every waiter, in every process, that the state changed.
func (b *Barrier) wake() {
	atomic.AddUint32(&b.st.seq, 1)
	if atomic.LoadUint32(&b.st.sleepers) != 0 {
		Wake(&b.st.seq, 1<<31-1)
	}
}

// Wait arrives at the barrier and waits for the other parties. It returns
// this party's index in 0..Parties()-1 (the last to arrive gets
// Parties()-1), or ErrBrokenBarrier when the barrier is or becomes broken
// or is Reset. If ctx ends first, Wait breaks the barrier and returns an
// error matching both ErrBrokenBarrier and ctx.Err(). A ctx already done
// on entry returns ctx.Err() without arriving. A closed or truncated
// segment gives an error (see Barrier).
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if b.checked() {
		return b.waitChecked(ctx)
	}
	return b.wait(ctx)
}

func (b *Barrier) waitChecked(ctx context.Context) (idx int, err error) {
	err = b.core.Guard(b.errorf, func() error { idx, err = b.wait(ctx); return err })
	return idx, err
}

func (b *Barrier) wait(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err // not arrived: nothing changes
	}
	race.ReleaseMerge(b.anchor)
	var gen uint64
	var idx int
	for {
		s := atomic.LoadUint64(&b.st.state)
		if s&barrierBroken != 0 {
			return 0, b.errorf(ErrBrokenBarrier)
		}
		count := int(s & barrierCount)
		if count >= b.parties {
			return 0, b.errorf(errtext.Errorf("%d of %d parties arrived: %w", count, b.parties, shm.ErrCorrupt))
		}
		gen = s >> 32
		if count+1 == b.parties {
			if atomic.CompareAndSwapUint64(&b.st.state, s, barrierNext(s, false)) {
				race.Acquire(b.anchor)
				b.wake()
				return count, nil
			}
			continue
		}
		if atomic.CompareAndSwapUint64(&b.st.state, s, s+1) {
			idx = count
			break
		}
	}
	atomic.StoreUint64(&b.slots[idx], gen<<32|uint64(b.seg.Token()))
	var sl park.Sleeper
	for {
		seq := atomic.LoadUint32(&b.st.seq)
		if done, err := b.outcome(gen); done {
			return idx, err
		}
		beat, err := relayWait(ctx, b.relay, &sl, &b.st.seq, seq, &b.st.sleepers, b.state)
		if err != nil {
			b.breakGen(gen)
			if done, oerr := b.outcome(gen); done && oerr == nil {
				return idx, nil
			}
			return 0, b.errorf(errtext.Errorf("%w: %w", ErrBrokenBarrier, err))
		}
		if beat {
			if err := b.checkParties(gen); err != nil {
				return 0, err
			}
		}
	}
}

// outcome reports whether generation gen is over for a waiter, and how.
// A waiter that finds more generations passed than the history holds
// counts its own as completed: a Reset followed by 15 full generations, all
// before the waiter ran again, is the one case it cannot tell.
func (b *Barrier) outcome(gen uint64) (bool, error) {
	s := atomic.LoadUint64(&b.st.state)
	d := uint32(s>>32) - uint32(gen) // generations passed since gen
	switch {
	case d == 0:
		if s&barrierBroken != 0 {
			return true, b.errorf(ErrBrokenBarrier)
		}
		return false, nil
	case d <= barrierHistLen && s>>(barrierHistShift+d-1)&1 != 0:
		return true, b.errorf(ErrBrokenBarrier) // gen ended by Reset
	}
	race.Acquire(b.anchor)
	return true, nil
}

// checkParties breaks generation gen if a party that arrived in it died.
func (b *Barrier) checkParties(gen uint64) error {
	s := atomic.LoadUint64(&b.st.state)
	if s>>32 != gen {
		return nil
	}
	n := min(int(s&barrierCount), b.parties)
	for i := 0; i < n; i++ {
		v := atomic.LoadUint64(&b.slots[i])
		tok := shm.Token(uint32(v) & segcore.TokenMask)
		if v>>32 != gen || tok == 0 {
			continue // no arrival of gen (yet): see "Arrival slots" above
		}
		alive, err := b.seg.Alive(tok)
		if err != nil {
			return b.errorf(err)
		}
		if !alive {
			b.breakGen(gen)
			return nil
		}
	}
	return nil
}

// breakGen marks generation gen broken, unless it is over.
func (b *Barrier) breakGen(gen uint64) {
	for {
		s := atomic.LoadUint64(&b.st.state)
		if s>>32 != gen || s&barrierBroken != 0 {
			return
		}
		if atomic.CompareAndSwapUint64(&b.st.state, s, s|barrierBroken) {
			b.wake()
			return
		}
	}
}

// Abort breaks the barrier: current and future Waits return
// ErrBrokenBarrier until Reset. Its error reports a closed or truncated
// segment (see Barrier).
func (b *Barrier) Abort() error {
	if b.checked() {
		return b.core.Guard(b.errorf, b.abort)
	}
	return b.abort()
}

func (b *Barrier) abort() error {
	for {
		s := atomic.LoadUint64(&b.st.state)
		if s&barrierBroken != 0 || atomic.CompareAndSwapUint64(&b.st.state, s, s|barrierBroken) {
			break
		}
	}
	b.wake()
	return nil
}

// Reset returns the barrier to its empty, unbroken state; parties waiting
// in the current generation return ErrBrokenBarrier. Its error reports a
// closed or truncated segment (see Barrier).
func (b *Barrier) Reset() error {
	if b.checked() {
		return b.core.Guard(b.errorf, b.reset)
	}
	return b.reset()
}

func (b *Barrier) reset() error {
	for {
		s := atomic.LoadUint64(&b.st.state)
		if atomic.CompareAndSwapUint64(&b.st.state, s, barrierNext(s, true)) {
			break
		}
	}
	b.wake()
	return nil
}
