package ring

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/gate"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// sideLock serialises the handles (in any processes) that share one side
// of a pipe ring: the senders of an end (txLock) or its receivers
// (rxLock). The word holds the holder's participant token, written by the
// acquiring CAS, so "locked" and "holder known" are one event. It is
// robust without an owner-died state: every holder resynchronises the side
// from shared memory after acquiring (tail or head, and the open-message
// flags that a holder interrupted mid-message leaves set), so a holder that
// died at any instruction leaves nothing for the next one to repair except
// what every acquisition repairs anyway. A holder that is found dead (by
// shm.Segment.Alive, between wait slices, never on a timeout alone) is
// replaced by one CAS.
//
// Waiting uses the ring's wait strategy (spin, yield, then park on the
// word): the wait for the lock is as fast as the wait for data.
type sideLock struct {
	word   *uint32
	kept   atomic.Bool // held by this handle between its calls (keep)
	seg    *shm.Segment
	g      *guard // the pipe's, for the segment's closed state
	name   string
	tok    uint32
	anchor anchor
	cfg    waitCfg
	ws     waitSpec
}

// errTookOver ends a lock wait whose holder was dead: the waiter holds the
// lock.
var errTookOver = errors.New("ring: took over a dead holder's lock")

func newSideLock(seg *shm.Segment, sg *guard, name string, word, parked *uint32, g *gate.Gate, a anchor, cfg waitCfg) *sideLock {
	l := &sideLock{word: word, seg: seg, g: sg, name: name, tok: uint32(seg.Token()) & segcore.TokenMask, anchor: a, cfg: cfg}
	l.ws = waitSpec{
		state:  sg.state,
		ready:  func() (bool, error) { return l.try() || l.takeKept(), nil },
		word:   word,
		parked: parked,
		peer:   l.takeOverDead,
		gate:   g,
	}
	return l
}

func (l *sideLock) try() bool {
	if atomic.CompareAndSwapUint32(l.word, 0, l.tok) {
		race.Acquire(l.anchor)
		return true
	}
	return false
}

// lock acquires the side, or takes over the hold this handle kept
// between calls (keep): nil, ctx's error, or ErrCorrupt for a word that
// names no participant. Several goroutines of one handle may wait at once.
func (l *sideLock) lock(ctx context.Context) error {
	if l.try() || l.takeKept() {
		return nil
	}
	if err := l.cfg.wait(ctx, &l.ws); err != errTookOver {
		return err
	}
	return nil
}

// keep ends a call of this handle without releasing the side: the next
// call of the handle, from any goroutine, goes on holding it.
func (l *sideLock) keep() {
	race.Release(l.anchor)
	l.kept.Store(true)
	wake(l.word, l.ws.parked) // the handle's other goroutines may wait for it
}

func (l *sideLock) takeKept() bool {
	if l.kept.Load() && l.kept.CompareAndSwap(true, false) {
		race.Acquire(l.anchor)
		return true
	}
	return false
}

// dropKept releases a hold kept between calls, if any.
func (l *sideLock) dropKept() {
	if l.takeKept() {
		l.unlock()
	}
}

// takeOverDead replaces a dead holder with this participant; it ends the
// wait once the segment was closed.
func (l *sideLock) takeOverDead() error {
	if err := l.g.usable(); err != nil {
		return err
	}
	w := atomic.LoadUint32(l.word)
	if w == 0 {
		return nil
	}
	if w&^segcore.TokenMask != 0 {
		return errorf(ErrCorrupt, "ring %q: lock word %#x", l.name, w)
	}
	alive, err := l.seg.Alive(shm.Token(w))
	if err != nil {
		return errorf(aliveErr(err), "ring %q: lock holder", l.name)
	}
	if alive || !atomic.CompareAndSwapUint32(l.word, w, l.tok) {
		return nil
	}
	race.Acquire(l.anchor)
	return errTookOver
}

// unlock frees the side and wakes parked waiters.
func (l *sideLock) unlock() {
	race.Release(l.anchor)
	atomic.StoreUint32(l.word, 0)
	wake(l.word, l.ws.parked)
}
