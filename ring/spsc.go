package ring

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Ring capacity limits, in data bytes (the header adds 256).
const (
	MinCapacity = 64
	MaxCapacity = 1 << 31
)

// Record kinds (the low 16 bits of a record header's high word).
const (
	recData   = 1 // one whole message
	recPad    = 2 // skip to the end of the data area
	recEOF    = 3 // the producer closed; never consumed
	recFirst  = 4 // first fragment of a message larger than a record (pipes)
	recMiddle = 5
	recLast   = 6
	recCut    = 7 // ends a fragmented message cut short, if one is open; else nothing (pipes)

	copyChunk = 256 << 10 // large copies go in pieces that stay in cache

	// publishChunk: batches publish (tail) and release (head) at least
	// every publishChunk bytes (or quarter of the ring, if that is less),
	// so that the two sides overlap, the consumer copying out one piece
	// while the producer fills the next, and a waiting peer never waits
	// for more than a few microseconds of copying.
	publishChunk = 32 << 10
)

func align8(n uint64) uint64 { return (n + recAlign - 1) &^ (recAlign - 1) }

func recWord(n uint64, kind uint32) uint64 {
	return n | uint64(recMagic<<16|kind)<<32
}

// copyChunked copies src into dst in pieces of at most 256 KiB: Go's copy of
// a megabyte or more switches to non-temporal stores on some CPUs, which
// bypass the cache the reader is about to read from.
func copyChunked(dst, src []byte) int {
	n := 0
	for len(src) > copyChunk {
		n += copy(dst[n:], src[:copyChunk])
		src = src[copyChunk:]
	}
	return n + copy(dst[n:], src)
}

// spsc is one process's view of an SPSC ring region: validated once at
// attach, so the hot paths trust only these local copies.
type spsc struct {
	name     string
	seg      *shm.Segment
	h        *spscHdr
	data     []byte
	capacity uint64
	mask     uint64
	chunk    uint64 // batches publish at least every chunk bytes
	base     int    // offset of the region in the segment
	anchor   anchor
	g        guard // closed and truncation checks (closed.go)
}

func spscRegionSize(capacity int) int { return spscHdrSize + capacity }

func checkCapacity(capacity int) error {
	if capacity < MinCapacity || capacity > MaxCapacity || capacity&(capacity-1) != 0 {
		return errorf(ErrInvalid, "capacity %d not a power of two in [%d, %d]", capacity, MinCapacity, MaxCapacity)
	}
	return nil
}

func initSPSC(b []byte, capacity int) {
	h := spscHdrAt(b)
	h.capacity = uint64(capacity)
	atomic.StoreUint32(&h.magic, spscMagic)
}

func attachSPSC(seg *shm.Segment, name string, b []byte, anchorOff int) (*spsc, error) {
	if len(b) < spscHdrSize+MinCapacity {
		return nil, errorf(ErrCorrupt, "ring %q: region of %d bytes", name, len(b))
	}
	h := spscHdrAt(b)
	if m := atomic.LoadUint32(&h.magic); m != spscMagic {
		return nil, errorf(ErrCorrupt, "ring %q: magic %#x", name, m)
	}
	c := atomic.LoadUint64(&h.capacity)
	if c < MinCapacity || c > MaxCapacity || c&(c-1) != 0 || c > uint64(len(b)-spscHdrSize) {
		return nil, errorf(ErrCorrupt, "ring %q: capacity %d in a %d-byte region", name, c, len(b))
	}
	return &spsc{
		name: name, seg: seg, h: h,
		data:     b[spscHdrSize : spscHdrSize+int(c) : spscHdrSize+int(c)],
		capacity: c, mask: c - 1, chunk: min(publishChunk, c/4),
		base: anchorOff, anchor: segcore.Of(seg).Anchor(anchorOff),
		g: guardOf(seg, "ring", name),
	}, nil
}

func (r *spsc) corrupt(format string, args ...any) error {
	return errorf(ErrCorrupt, "ring %q: %s", r.name, fmt.Sprintf(format, args...))
}

// maxRecord is the largest payload one record can carry.
func (r *spsc) maxRecord() int { return int(r.capacity - recHdrSize) }

// indices loads and validates head and tail (for Len and tools).
func (r *spsc) indices() (head, tail uint64, err error) {
	tail = atomic.LoadUint64(&r.h.tail)
	head = atomic.LoadUint64(&r.h.head)
	if int64(tail-head) < 0 || tail-head > r.capacity || head%recAlign != 0 || tail%recAlign != 0 {
		return 0, 0, r.corrupt("head %d, tail %d, capacity %d", head, tail, r.capacity)
	}
	return head, tail, nil
}

func (r *spsc) closedBits() uint32 { return atomic.LoadUint32(&r.h.closed) }

// alive reports the liveness of the participant stored at *tok (0: none
// attached yet, treated as alive).
func (r *spsc) alive(tok *uint32) error {
	t := shm.Token(atomic.LoadUint32(tok))
	if t == 0 {
		return nil
	}
	ok, err := r.seg.Alive(t)
	if err != nil {
		return errorf(aliveErr(err), "ring %q: peer token", r.name)
	}
	if !ok {
		return errorf(ErrPeerDead, "ring %q", r.name)
	}
	return nil
}

// Ring is a single-producer single-consumer ring of variable-length records
// in shared memory. One process (or goroutine) produces through Producer,
// one consumes through Consumer; other processes attach with OpenRing. A
// Ring is safe for concurrent use; Producer and Consumer are not (one
// goroutine each). The zero value is not usable.
type Ring struct {
	_   noCopy
	r   *spsc
	opt *Options
}

type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// NewRing creates the SPSC ring name in seg with capacity data bytes (a
// power of two in [MinCapacity, MaxCapacity]). A record of n payload bytes
// takes 8 + n rounded up to 8 bytes.
func NewRing(seg *shm.Segment, name string, capacity int, o *Options) (*Ring, error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, err
	}
	if _, err := o.cfg(); err != nil {
		return nil, err
	}
	obj, err := seg.CreateObject(name, kindSPSC, spscVersion, spscRegionSize(capacity), func(b []byte) error {
		initSPSC(b, capacity)
		return nil
	})
	if err != nil {
		return nil, errorf(err, "new %q", name)
	}
	return ringFromObject(seg, name, obj, o)
}

// OpenRing attaches to the SPSC ring name created by NewRing.
func OpenRing(seg *shm.Segment, name string, o *Options) (*Ring, error) {
	if _, err := o.cfg(); err != nil {
		return nil, err
	}
	obj, err := seg.OpenObject(name, kindSPSC, spscVersion)
	if err != nil {
		return nil, errorf(err, "open %q", name)
	}
	return ringFromObject(seg, name, obj, o)
}

func ringFromObject(seg *shm.Segment, name string, obj shm.Object, o *Options) (*Ring, error) {
	r, err := attach(seg, "ring", name, func() (*spsc, error) { return attachSPSC(seg, name, obj.Bytes(), obj.Offset()) })
	if err != nil {
		return nil, err
	}
	return &Ring{r: r, opt: o}, nil
}

// Cap returns the data capacity in bytes.
func (r *Ring) Cap() int { return int(r.r.capacity) }

// MaxRecord returns the largest payload a single record can carry:
// capacity - 8.
func (r *Ring) MaxRecord() int { return r.r.maxRecord() }

// Len returns the bytes published and not yet released (record headers and
// padding included): a snapshot.
func (r *Ring) Len() (int, error) {
	if r.r.g.isChecked() {
		return run1(&r.r.g, r.len)
	}
	return r.len()
}

func (r *Ring) len() (int, error) {
	h, t, err := r.r.indices()
	return int(t - h), err
}

// Producer attaches this process as the ring's producer: it records the
// process's participant token in the ring header, so that a consumer blocked
// on an empty ring learns when this process dies. Only one producer may be
// active at a time; a new Producer takes over from a previous one (which must
// no longer write).
func (r *Ring) Producer() (*Producer, error) {
	if r.r.g.isChecked() {
		return run1(&r.r.g, r.producer)
	}
	return r.producer()
}

func (r *Ring) producer() (*Producer, error) {
	cfg, _ := r.opt.cfg()
	_, t, err := r.r.indices()
	if err != nil {
		return nil, err
	}
	atomic.StoreUint32(&r.r.h.prodTok, uint32(r.r.seg.Token()))
	h := atomic.LoadUint64(&r.r.h.head)
	return &Producer{r: r.r, cfg: cfg, tail: t, pub: t, headC: h, resN: -1}, nil
}

// Consumer attaches this process as the ring's consumer, recording its token
// so that a producer blocked on a full ring learns when this process dies.
func (r *Ring) Consumer() (*Consumer, error) {
	if r.r.g.isChecked() {
		return run1(&r.r.g, r.consumer)
	}
	return r.consumer()
}

func (r *Ring) consumer() (*Consumer, error) {
	cfg, _ := r.opt.cfg()
	h, _, err := r.r.indices()
	if err != nil {
		return nil, err
	}
	atomic.StoreUint32(&r.r.h.consTok, uint32(r.r.seg.Token()))
	return &Consumer{r: r.r, cfg: cfg, head: h, pub: h, tailC: h, waitHead: h}, nil
}

// Producer is the writing end of an SPSC ring. Records are written in place
// (Reserve, then Commit or Stage), or copied in (Write, WriteBatch). A
// record becomes visible to the consumer only through the release-store of
// the tail index in Commit or Flush, which happens after the record's bytes
// and header are written: everything written before a Commit happens before
// the consumer's Peek that returns the record. Use from one goroutine.
type Producer struct {
	_      noCopy
	r      *spsc
	cfg    waitCfg
	tail   uint64 // end of the last staged record
	pub    uint64 // tail as last published
	headC  uint64 // cached head: reloaded only when it seems full
	resOff uint64 // index of the reserved record
	resN   int    // reserved payload length; -1 when nothing is reserved
	closed bool
	err    error // sticky ErrCorrupt
	ws     *waitSpec
	waitN  int
	// peer, when set, replaces the check of the consumer's token and
	// closed flag between wait slices (pipes: the other end's holders).
	peer func() error
}

// room reports whether total more bytes fit, reloading head only when the
// cached copy says they do not.
func (p *Producer) room(total uint64) (bool, error) {
	if p.tail+total-p.headC <= p.r.capacity {
		return true, nil
	}
	h := atomic.LoadUint64(&p.r.h.head)
	race.Acquire(p.r.anchor)
	if int64(p.tail-h) < 0 || p.tail-h > p.r.capacity || h%recAlign != 0 {
		p.err = p.r.corrupt("head %d with tail %d", h, p.tail)
		return false, p.err
	}
	p.headC = h
	return p.tail+total-h <= p.r.capacity, nil
}

// fits reports whether a record of n payload bytes (and the padding the
// wrap may need first) could be reserved now.
func (p *Producer) fits(n int) (bool, error) {
	need := recHdrSize + align8(uint64(n))
	toEnd := p.r.capacity - p.tail&p.r.mask
	if need > toEnd {
		return p.room(toEnd) // room for the padding; the record follows
	}
	return p.room(need)
}

func (p *Producer) check(n int) error {
	if p.closed {
		return errorf(ErrClosed, "ring %q", p.r.name)
	}
	if p.err != nil {
		return p.err
	}
	if p.resN >= 0 {
		return errorf(ErrNoReservation, "ring %q: reserve with a reservation pending", p.r.name)
	}
	if n < 0 || n > p.r.maxRecord() {
		return errorf(ErrTooLarge, "ring %q: record of %d bytes, max %d", p.r.name, n, p.r.maxRecord())
	}
	return nil
}

// TryReserve reserves room for a record of n payload bytes and returns the
// slice of shared memory to fill, without blocking: ErrFull when there is no
// room (after publishing staged records, so the consumer can make room). The
// record stays invisible until Commit or Stage and Flush.
func (p *Producer) TryReserve(n int) ([]byte, error) {
	if p.r.g.isChecked() {
		return run1(&p.r.g, func() ([]byte, error) { return p.reserveNow(n) })
	}
	return p.reserveNow(n)
}

func (p *Producer) reserveNow(n int) ([]byte, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	return p.tryReserve(n)
}

func (p *Producer) tryReserve(n int) ([]byte, error) {
	need := recHdrSize + align8(uint64(n))
	off := p.tail & p.r.mask
	toEnd := p.r.capacity - off
	if need > toEnd {
		// The record would cross the end: pad to the end, start at 0.
		ok, err := p.room(toEnd + need)
		if err != nil {
			return nil, err
		}
		if !ok {
			if ok, err := p.room(toEnd); err != nil {
				return nil, err
			} else if ok {
				p.pad(off, toEnd)
			}
			p.flush()
			return nil, ErrFull
		}
		p.pad(off, toEnd)
		off = 0
	} else if ok, err := p.room(need); err != nil || !ok {
		if err == nil {
			p.flush()
			err = ErrFull
		}
		return nil, err
	}
	p.resOff, p.resN = p.tail, n
	return p.r.data[off+recHdrSize : off+recHdrSize+uint64(n) : off+recHdrSize+uint64(n)], nil
}

func (p *Producer) pad(off, toEnd uint64) {
	binary.LittleEndian.PutUint64(p.r.data[off:], recWord(toEnd-recHdrSize, recPad))
	p.tail += toEnd
}

// Reserve is TryReserve that waits for room (publishing staged records
// first). It returns ctx.Err() if ctx ends first, ErrBrokenPipe if the
// consumer closed, ErrPeerDead if it died.
func (p *Producer) Reserve(ctx context.Context, n int) ([]byte, error) {
	if p.r.g.isChecked() {
		return run1(&p.r.g, func() ([]byte, error) { return p.reserve(ctx, n) })
	}
	return p.reserve(ctx, n)
}

func (p *Producer) reserve(ctx context.Context, n int) ([]byte, error) {
	if err := p.check(n); err != nil {
		return nil, err
	}
	for {
		b, err := p.tryReserve(n)
		if err != ErrFull {
			return b, err
		}
		if err := p.waitRoom(ctx, n); err != nil {
			return nil, err
		}
	}
}

func (p *Producer) waitRoom(ctx context.Context, n int) error {
	p.waitN = n
	if p.ws == nil { // built once: a wait allocates nothing
		p.ws = &waitSpec{
			state:  p.r.g.state,
			ready:  func() (bool, error) { return p.fits(p.waitN) },
			word:   low32(&p.r.h.head),
			parked: &p.r.h.prodWait,
			peer: func() error {
				if err := p.r.g.usable(); err != nil {
					return err
				}
				if p.peer != nil {
					return p.peer()
				}
				if p.r.closedBits()&2 != 0 {
					return errorf(ErrBrokenPipe, "ring %q", p.r.name)
				}
				return p.r.alive(&p.r.h.consTok)
			},
			gate: gateOf(p.r.seg, p.r.base, p.r.h, low32(&p.r.h.head)),
		}
	}
	return p.cfg.wait(ctx, p.ws)
}

// resync takes the tail from shared memory, for a producer that shares the
// ring with producers in other processes and has just taken their lock:
// what they published is kept, anything a dead one left unpublished is
// overwritten. Head is reloaded only when someone else moved the tail.
func (p *Producer) resync() error {
	if p.err != nil {
		return p.err
	}
	t := atomic.LoadUint64(&p.r.h.tail)
	if t == p.pub {
		return nil
	}
	h := atomic.LoadUint64(&p.r.h.head)
	if int64(t-h) < 0 || t-h > p.r.capacity || t%recAlign != 0 || h%recAlign != 0 {
		p.err = p.r.corrupt("head %d, tail %d", h, t)
		return p.err
	}
	p.tail, p.pub, p.headC, p.resN = t, t, h, -1
	return nil
}

// Stage finishes the reserved record with n payload bytes (n may be less
// than reserved) without publishing it: Flush publishes every staged record
// with one store of the tail index. Stage itself publishes once 32 KiB (or
// a quarter of a smaller ring) are staged, so that the consumer copies out
// one part of the ring while the producer fills the next (a batch as large
// as the ring would otherwise leave each side idle while the other works).
func (p *Producer) Stage(n int) error {
	if p.r.g.isChecked() {
		return p.r.g.run(func() error { return p.stage(n, recData) })
	}
	return p.stage(n, recData)
}

func (p *Producer) stage(n int, kind uint32) error {
	if p.resN < 0 || n < 0 || n > p.resN {
		return errorf(ErrNoReservation, "ring %q: stage %d bytes, reserved %d", p.r.name, n, p.resN)
	}
	binary.LittleEndian.PutUint64(p.r.data[p.resOff&p.r.mask:], recWord(uint64(n), kind))
	p.tail = p.resOff + recHdrSize + align8(uint64(n))
	p.resN = -1
	if p.tail-p.pub >= p.r.chunk {
		p.flush()
	}
	return nil
}

// Commit is Stage followed by Flush.
func (p *Producer) Commit(n int) error {
	if p.r.g.isChecked() {
		return p.r.g.run(func() error { return p.commit(n) })
	}
	return p.commit(n)
}

func (p *Producer) commit(n int) error {
	if err := p.stage(n, recData); err != nil {
		return err
	}
	p.flush()
	return nil
}

// Flush publishes the staged records (release-store of the tail) and wakes
// the consumer if it is parked. Having no error result, it panics (a plain
// Go panic, which the caller may recover) with an error wrapping
// shm.ErrClosed after the Segment's Close, or shm.ErrSegmentTruncated when
// a peer truncated the segment's file.
func (p *Producer) Flush() {
	if p.r.g.isChecked() {
		p.r.g.must(p.flush)
		return
	}
	p.flush()
}

func (p *Producer) flush() {
	if p.tail == p.pub {
		return
	}
	race.Release(p.r.anchor)
	atomic.StoreUint64(&p.r.h.tail, p.tail)
	p.pub = p.tail
	wake(low32(&p.r.h.tail), &p.r.h.consWait)
}

// TryWrite copies msg into a new record and publishes it, or returns ErrFull.
func (p *Producer) TryWrite(msg []byte) error {
	if p.r.g.isChecked() {
		return p.r.g.run(func() error { return p.tryWrite(msg) })
	}
	return p.tryWrite(msg)
}

func (p *Producer) tryWrite(msg []byte) error {
	b, err := p.reserveNow(len(msg))
	if err != nil {
		return err
	}
	copyChunked(b, msg)
	return p.commit(len(msg))
}

// Write copies msg into a new record and publishes it, waiting for room.
func (p *Producer) Write(ctx context.Context, msg []byte) error {
	if p.r.g.isChecked() {
		return p.r.g.run(func() error { return p.write(ctx, msg) })
	}
	return p.write(ctx, msg)
}

func (p *Producer) write(ctx context.Context, msg []byte) error {
	b, err := p.reserve(ctx, len(msg))
	if err != nil {
		return err
	}
	copyChunked(b, msg)
	return p.commit(len(msg))
}

// WriteBatch copies every message into its own record and publishes them
// with one store of the tail index per 32 KiB (or quarter of a smaller
// ring; one store, when they fit in that), and before any wait for room.
func (p *Producer) WriteBatch(ctx context.Context, msgs [][]byte) error {
	if p.r.g.isChecked() {
		return p.r.g.run(func() error { return p.writeBatch(ctx, msgs) })
	}
	return p.writeBatch(ctx, msgs)
}

func (p *Producer) writeBatch(ctx context.Context, msgs [][]byte) error {
	for _, m := range msgs {
		if err := p.check(len(m)); err != nil {
			p.flush()
			return err
		}
		b, err := p.tryReserve(len(m))
		if err == ErrFull {
			b, err = p.reserve(ctx, len(m))
		}
		if err != nil {
			p.flush()
			return err
		}
		copyChunked(b, m)
		p.stage(len(m), recData)
	}
	p.flush()
	return nil
}

// Close publishes staged records, marks the producer closed and appends an
// end-of-stream record when there is room, so a consumer drains what is left
// and then gets io.EOF. A reservation not committed is dropped.
func (p *Producer) Close() error {
	if p.closed {
		return nil
	}
	if p.r.g.isChecked() {
		return p.r.g.run(p.close)
	}
	return p.close()
}

func (p *Producer) close() error {
	p.resN = -1
	if p.err == nil {
		if _, err := p.tryReserve(0); err == nil {
			p.stage(0, recEOF)
		}
	}
	p.flush()
	p.closed = true
	atomic.OrUint32(&p.r.h.closed, 1)
	futex.Wake(low32(&p.r.h.tail), 1<<30)
	return nil
}

// Consumer is the reading end of an SPSC ring. Peek returns the next record
// in place and Release frees it; ReadInto and ReadBytes copy. Use from one
// goroutine. Peek's slice aliases shared memory that the producer reuses
// after Release: it is for trusted peers (a hostile producer can rewrite
// it while it is read); ReadInto reads each length once and copies.
type Consumer struct {
	_        noCopy
	r        *spsc
	cfg      waitCfg
	head     uint64 // start of the next record (local)
	pub      uint64 // head as last published
	tailC    uint64 // cached tail: reloaded only when it seems empty
	peekN    uint64 // bytes of the peeked record; 0 when none
	closed   bool
	err      error
	ws       *waitSpec
	took     int    // records released since the last wait (settlePause)
	waitHead uint64 // head when the last wait began
	// replied is set by the Conn this consumer receives for when it sends
	// (Conn.endSend) and cleared by the next wait: a receiver that answered
	// since its last wait is in a request and reply exchange, where a pause
	// would only delay the next request, however many records the last one
	// took.
	replied atomic.Bool
	// peer, when set, replaces the check of the producer's token and
	// closed flag between wait slices (pipes: the other end's holders).
	peer func() error
}

// resync takes the head from shared memory, for a consumer that shares
// the ring with consumers in other processes and has just taken their
// lock. The head is validated against the tail by next.
func (c *Consumer) resync() error {
	if c.err != nil {
		return c.err
	}
	h := atomic.LoadUint64(&c.r.h.head)
	if h == c.pub {
		return nil
	}
	if h%recAlign != 0 {
		c.err = c.r.corrupt("head %d", h)
		return c.err
	}
	c.head, c.pub, c.tailC, c.peekN = h, h, h, 0
	return nil
}

// next returns the record at head, skipping a padding record: at most two
// steps, each validated, so a corrupt ring gives ErrCorrupt at once.
func (c *Consumer) next() ([]byte, uint32, error) {
	if c.closed {
		return nil, 0, errorf(ErrClosed, "ring %q", c.r.name)
	}
	if c.err != nil {
		return nil, 0, c.err
	}
	for step := 0; step < 2; step++ {
		if c.head == c.tailC {
			t := atomic.LoadUint64(&c.r.h.tail)
			race.Acquire(c.r.anchor)
			if int64(t-c.head) < 0 || t-c.head > c.r.capacity || t%recAlign != 0 {
				c.err = c.r.corrupt("tail %d with head %d", t, c.head)
				return nil, 0, c.err
			}
			c.tailC = t
			if t == c.head {
				c.publish()
				// The producer publishes, then sets the flag: a tail
				// loaded before the flag may miss the last records.
				if c.r.closedBits()&1 != 0 && atomic.LoadUint64(&c.r.h.tail) == t {
					return nil, 0, io.EOF
				}
				return nil, 0, ErrEmpty
			}
		}
		off := c.head & c.r.mask
		avail := c.tailC - c.head
		w := binary.LittleEndian.Uint64(c.r.data[off:])
		n, kind := w&0xffffffff, uint32(w>>32)
		if kind>>16 != recMagic {
			c.err = c.r.corrupt("record header %#x at %d", w, c.head)
			return nil, 0, c.err
		}
		kind &= 0xffff
		toEnd := c.r.capacity - off
		if kind == recPad {
			if off == 0 || n != toEnd-recHdrSize || avail < toEnd {
				c.err = c.r.corrupt("padding of %d bytes at %d", n, c.head)
				return nil, 0, c.err
			}
			c.head += toEnd
			continue
		}
		size := recHdrSize + align8(n)
		if kind < recData || kind > recCut || n > c.r.capacity-recHdrSize || size > toEnd || size > avail {
			c.err = c.r.corrupt("record kind %d of %d bytes at %d, %d published", kind, n, c.head, avail)
			return nil, 0, c.err
		}
		c.peekN = size
		return c.r.data[off+recHdrSize : off+recHdrSize+n : off+recHdrSize+n], kind, nil
	}
	c.err = c.r.corrupt("padding follows padding at %d", c.head)
	return nil, 0, c.err
}

// publish release-stores head and wakes a parked producer.
func (c *Consumer) publish() {
	if c.head == c.pub {
		return
	}
	race.Release(c.r.anchor)
	atomic.StoreUint64(&c.r.h.head, c.head)
	c.pub = c.head
	wake(low32(&c.r.h.head), &c.r.h.prodWait)
}

func (c *Consumer) waitData(ctx context.Context) error {
	if c.ws == nil { // built once: a wait allocates nothing
		c.ws = &waitSpec{
			state: c.r.g.state,
			ready: func() (bool, error) {
				if c.head != c.tailC {
					return true, nil
				}
				t := atomic.LoadUint64(&c.r.h.tail)
				return t != c.head, nil // validated by next
			},
			word:   low32(&c.r.h.tail),
			parked: &c.r.h.consWait,
			peer: func() error {
				if err := c.r.g.usable(); err != nil {
					return err
				}
				if c.peer != nil {
					return c.peer()
				}
				if c.r.closedBits()&1 != 0 {
					return io.EOF
				}
				return c.r.alive(&c.r.h.prodTok)
			},
			gate: gateOf(c.r.seg, c.r.base, c.r.h, low32(&c.r.h.tail)),
		}
	}
	return c.cfg.waitSettled(ctx, c.ws, c.settleNext())
}

// settleNext reports whether the wait about to begin starts with
// settlePause (backlogged, and no reply sent since the last wait), and
// starts counting afresh for the next one.
func (c *Consumer) settleNext() bool {
	replied := c.replied.Load() && c.replied.Swap(false)
	settle := !replied && c.backlogged()
	c.took, c.waitHead = 0, c.head
	return settle
}

// sent records that the Conn this consumer receives for has sent since the
// consumer's last wait (see replied). It writes the shared flag only when
// it is not already set.
func (c *Consumer) sent() {
	if !c.replied.Load() {
		c.replied.Store(true)
	}
}

// backlogged reports whether the records taken since the last wait make
// the next wait start with settlePause: settleAfter of them or more (the
// producer streams), in less than a quarter of the ring (more, and the
// producer could fill the ring during the pause and wait for room).
func (c *Consumer) backlogged() bool {
	return c.took >= settleAfter && c.head-c.waitHead < c.r.capacity/4
}

// peek returns the next record of any kind, waiting for one.
func (c *Consumer) peek(ctx context.Context) ([]byte, uint32, error) {
	for {
		b, kind, err := c.next()
		if err != ErrEmpty {
			return b, kind, err
		}
		if err := c.waitData(ctx); err != nil {
			return nil, 0, err
		}
	}
}

func (c *Consumer) user(b []byte, kind uint32, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	if kind == recEOF {
		c.peekN = 0
		return nil, io.EOF
	}
	return b, nil
}

// TryPeek returns the next record in place without blocking: ErrEmpty when
// there is none, io.EOF when the producer closed and everything was read.
// The record stays until Release.
func (c *Consumer) TryPeek() ([]byte, error) {
	if c.r.g.isChecked() {
		return run1(&c.r.g, func() ([]byte, error) { return c.user(c.next()) })
	}
	return c.user(c.next())
}

// Peek is TryPeek that waits: ctx.Err() when ctx ends, io.EOF once the
// producer closed and the ring is drained, ErrPeerDead once the producer
// died and the ring is drained.
func (c *Consumer) Peek(ctx context.Context) ([]byte, error) {
	if c.r.g.isChecked() {
		return run1(&c.r.g, func() ([]byte, error) { return c.user(c.peek(ctx)) })
	}
	return c.user(c.peek(ctx))
}

// Release frees the record returned by the last Peek and publishes the new
// head (the release-store that hands its bytes back to the producer).
func (c *Consumer) Release() error {
	if c.r.g.isChecked() {
		return c.r.g.run(c.release)
	}
	return c.release()
}

func (c *Consumer) release() error {
	if c.peekN == 0 {
		return errorf(ErrNoReservation, "ring %q: release without peek", c.r.name)
	}
	c.head += c.peekN
	c.peekN = 0
	c.took++
	c.publish()
	return nil
}

// ReadInto copies the next record into buf and releases it, waiting for one.
// A record longer than buf gives ErrBufferTooShort and stays in the ring.
func (c *Consumer) ReadInto(ctx context.Context, buf []byte) (int, error) {
	if c.r.g.isChecked() {
		return run1(&c.r.g, func() (int, error) { return c.readInto(ctx, buf) })
	}
	return c.readInto(ctx, buf)
}

func (c *Consumer) readInto(ctx context.Context, buf []byte) (int, error) {
	b, err := c.user(c.peek(ctx))
	if err != nil {
		return 0, err
	}
	if len(b) > len(buf) {
		c.peekN = 0
		return len(b), errorf(ErrBufferTooShort, "ring %q: record of %d bytes, buffer %d", c.r.name, len(b), len(buf))
	}
	n := copyChunked(buf, b)
	return n, c.release()
}

// ReadBytes returns a copy of the next record, waiting for one.
func (c *Consumer) ReadBytes(ctx context.Context) ([]byte, error) {
	if c.r.g.isChecked() {
		return run1(&c.r.g, func() ([]byte, error) { return c.readBytes(ctx) })
	}
	return c.readBytes(ctx)
}

func (c *Consumer) readBytes(ctx context.Context) ([]byte, error) {
	b, err := c.user(c.peek(ctx))
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(b))
	copyChunked(out, b)
	return out, c.release()
}

// Consume waits for at least one record, then passes up to max available
// records (in place) to fn and releases them all with one store of the head
// index (one per 32 KiB, or quarter of a smaller ring, for batches that
// large, so that the producer refills the ring while fn works through the
// rest). It returns how many records fn accepted; a record on which fn
// returns an error is not released and the error is returned. On a guarded
// segment fn runs inside the guard: a truncation while it reads a record
// ends Consume with shm.ErrSegmentTruncated.
func (c *Consumer) Consume(ctx context.Context, max int, fn func(rec []byte) error) (int, error) {
	if c.r.g.isChecked() {
		return run1(&c.r.g, func() (int, error) { return c.consume(ctx, max, fn) })
	}
	return c.consume(ctx, max, fn)
}

func (c *Consumer) consume(ctx context.Context, max int, fn func(rec []byte) error) (int, error) {
	if max < 1 {
		return 0, errorf(ErrInvalid, "ring %q: consume %d records", c.r.name, max)
	}
	b, kind, err := c.peek(ctx)
	n := 0
	for err == nil {
		if kind == recEOF {
			c.peekN = 0
			if n == 0 {
				err = io.EOF
			}
			break
		}
		if err = fn(b); err != nil {
			c.peekN = 0
			break
		}
		c.head += c.peekN
		c.peekN = 0
		c.took++
		if c.head-c.pub >= c.r.chunk {
			c.publish()
		}
		if n++; n == max {
			break
		}
		b, kind, err = c.next()
	}
	c.peekN = 0
	c.publish()
	if err == ErrEmpty {
		err = nil
	}
	return n, err
}

// Close marks the consumer closed, so a producer waiting for room gets
// ErrBrokenPipe, and releases nothing further.
func (c *Consumer) Close() error {
	if c.closed {
		return nil
	}
	if c.r.g.isChecked() {
		return c.r.g.run(c.close)
	}
	return c.close()
}

func (c *Consumer) close() error {
	c.peekN = 0
	c.publish()
	c.closed = true
	atomic.OrUint32(&c.r.h.closed, 2)
	futex.Wake(low32(&c.r.h.head), 1<<30)
	return nil
}
