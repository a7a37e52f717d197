package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Pipe limits.
const (
	// DefaultPipeCapacity is each direction's ring capacity when
	// PipeOptions.Capacity is 0: a duplex pipe with the defaults takes
	// about 513 KiB, so it fits a 1 MiB segment with room to spare.
	DefaultPipeCapacity = 256 << 10
	// MaxMessage is the largest message a Conn sends or accepts. Messages
	// larger than a quarter of the ring travel as fragments.
	MaxMessage = 1 << 30
)

// PipeOptions configures NewPipe and OpenPipe; nil or the zero value gives
// the defaults (duplex, DefaultPipeCapacity, the default wait options).
// OpenPipe uses only Ticket and the wait Options: the rest is the
// creator's, stored in the pipe.
type PipeOptions struct {
	// OneWay makes a one-way pipe, multiprocessing.Pipe(duplex=False): end
	// 0 only receives and end 1 only sends.
	OneWay bool
	// Capacity is each direction's ring capacity in bytes, a power of two
	// in [MinCapacity, MaxCapacity]; 0 means DefaultPipeCapacity.
	Capacity int
	// Ticket, for OpenPipe, takes over the handle that Conn.Reserve
	// reserved on the end (0: open a new handle).
	Ticket int
	// Options are the wait options of the handles.
	Options
}

func (o *PipeOptions) waitCfg() (waitCfg, error) {
	if o == nil {
		return (*Options)(nil).cfg()
	}
	return o.Options.cfg()
}

// NewPipe creates the pipe name in seg and returns its two ends, like
// multiprocessing.Pipe(): duplex by default, both ends sending and
// receiving; with OneWay, c0 only receives and c1 only sends. Other
// processes open handles on an end with OpenPipe(seg, name, end, nil); to
// hand an end to a child and close this process's copy at once, as
// CPython's p.start(); child_conn.close(), see Conn.Reserve.
func NewPipe(seg *shm.Segment, name string, o *PipeOptions) (c0, c1 *Conn, err error) {
	var oo PipeOptions
	if o != nil {
		oo = *o
	}
	if oo.Capacity == 0 {
		oo.Capacity = DefaultPipeCapacity
	}
	if err := checkCapacity(oo.Capacity); err != nil {
		return nil, nil, err
	}
	if oo.Ticket != 0 {
		return nil, nil, errorf(ErrInvalid, "new pipe %q: a ticket is for OpenPipe", name)
	}
	if _, err := oo.waitCfg(); err != nil {
		return nil, nil, err
	}
	rings := 2
	if oo.OneWay {
		rings = 1
	}
	region := spscRegionSize(oo.Capacity)
	_, err = seg.CreateObject(name, kindPipe, pipeVersion, pipeHdrSize+rings*region, func(b []byte) error {
		h := pipeHdrAt(b)
		h.ringSize = uint64(region)
		if !oo.OneWay {
			h.duplex = 1
		}
		for i := 0; i < rings; i++ {
			initSPSC(b[pipeHdrSize+i*region:], oo.Capacity)
		}
		atomic.StoreUint32(&h.magic, pipeMagic)
		return nil
	})
	if err != nil {
		return nil, nil, errorf(err, "new pipe %q", name)
	}
	if c0, err = OpenPipe(seg, name, 0, &oo); err != nil {
		return nil, nil, err
	}
	if c1, err = OpenPipe(seg, name, 1, &oo); err != nil {
		c0.Close()
		return nil, nil, err
	}
	return c0, c1, nil
}

// OpenPipe opens a new handle on end 0 or 1 of the pipe name (or, with
// o.Ticket, takes over the handle a Conn.Reserve reserved). An end may
// have several handles at once, in one process or many (up to 32), as a
// CPython Connection handed to several children: each message sent through
// any of them is appended whole at the shared position, each message
// received is taken by exactly one of them, and the other end sees the end
// closed (io.EOF, or ErrBrokenPipe for its sends) only once every handle
// was closed or its process died. Opening an end that every handle has
// already closed gives ErrClosed.
func OpenPipe(seg *shm.Segment, name string, end int, o *PipeOptions) (*Conn, error) {
	return attach(seg, "pipe", name, func() (*Conn, error) { return openPipe(seg, name, end, o) })
}

func openPipe(seg *shm.Segment, name string, end int, o *PipeOptions) (*Conn, error) {
	if end != 0 && end != 1 {
		return nil, errorf(ErrInvalid, "pipe %q: end %d", name, end)
	}
	cfg, err := o.waitCfg()
	if err != nil {
		return nil, err
	}
	ticket := 0
	if o != nil {
		ticket = o.Ticket
	}
	if ticket < 0 || ticket > pipeHolders {
		return nil, errorf(ErrInvalid, "pipe %q: ticket %d", name, ticket)
	}
	obj, err := seg.OpenObject(name, kindPipe, pipeVersion)
	if err != nil {
		return nil, errorf(err, "open pipe %q", name)
	}
	b := obj.Bytes()
	h := pipeHdrAt(b)
	duplex := atomic.LoadUint32(&h.duplex)
	region := atomic.LoadUint64(&h.ringSize)
	rings := uint64(1)
	if duplex == 1 {
		rings = 2
	}
	if atomic.LoadUint32(&h.magic) != pipeMagic || duplex > 1 || region < spscHdrSize+MinCapacity ||
		region > uint64(len(b)) || rings*region > uint64(len(b)-pipeHdrSize) {
		return nil, errorf(ErrCorrupt, "pipe %q: header", name)
	}
	ringAt := func(i int) (*spsc, error) {
		off := pipeHdrSize + i*int(region)
		return attachSPSC(seg, fmt.Sprintf("%s[%d]", name, i), b[off:off+int(region)], obj.Offset()+off)
	}
	c := &Conn{name: name, v: &pipeView{seg: seg, name: name, h: h}, end: end, g: guardOf(seg, "pipe", name)}
	// Ring 0 carries end 1 -> end 0; ring 1 (duplex only) end 0 -> end 1.
	r0, err := ringAt(0)
	if err != nil {
		return nil, err
	}
	var r1 *spsc
	if duplex == 1 {
		if r1, err = ringAt(1); err != nil {
			return nil, err
		}
	}
	in, out := r0, r1
	if end == 1 {
		in, out = r1, r0
	}
	lockAnchor := func(r *spsc, off int) anchor { return segcore.Of(seg).Anchor(r.base + off) }
	if in != nil {
		c.recv = &Consumer{r: in, cfg: cfg, peer: c.senderGone}
		c.rx = newSideLock(seg, &c.g, in.name, &in.h.rxLock, &in.h.rxPark, gateOf(seg, in.base, in.h, &in.h.rxLock), lockAnchor(in, spscRxLockOff), cfg)
	}
	if out != nil {
		c.send = &Producer{r: out, cfg: cfg, resN: -1, peer: c.receiverGone}
		c.tx = newSideLock(seg, &c.g, out.name, &out.h.txLock, &out.h.txPark, gateOf(seg, out.base, out.h, &out.h.txLock), lockAnchor(out, spscTxLockOff), cfg)
		c.frag = out.maxRecord() / 4 &^ (recAlign - 1)
	}
	// The end's closed state lives in ring 0's flags: bit 0 for end 1 (its
	// producer), bit 1 for end 0 (its consumer).
	c.ring0 = r0
	if c.slot, err = c.v.take(end, ticket); err != nil {
		return nil, err
	}
	if c.endClosed(end) {
		c.v.release(end, c.slot)
		return nil, errorf(ErrClosed, "pipe %q: end %d", name, end)
	}
	return c, nil
}

// Conn is one handle on an end of a pipe: values (Send, Recv, through
// encoding/gob, as CPython's send and recv), messages of bytes (SendBytes,
// RecvBytes, RecvBytesInto, Poll) and, through Read and Write, a byte
// stream (io.ReadWriteCloser). Messages keep their boundaries; a message
// larger than a quarter of the ring is sent as fragments and reassembled.
// Sends are safe for concurrent use by any number of goroutines and
// processes holding the end: each message is appended whole (a lock in the
// ring, robust against a holder's death, orders them). Receives take turns
// the same way; a message is taken by exactly one receiver. Close must not
// be called concurrently with other calls on the same Conn. The zero value
// is not usable.
type Conn struct {
	_      noCopy
	name   string
	v      *pipeView
	end    int
	slot   int       // this handle's entry in the end's holder table
	ring0  *spsc     // holds both ends' closed flags
	send   *Producer // nil on a receive-only end
	recv   *Consumer // nil on a send-only end
	tx, rx *sideLock // the end's send and receive sides, shared by its holders
	frag   int       // largest single record a message is sent as
	closed atomic.Bool
	g      guard // closed and truncation checks (closed.go)

	// Receive state, guarded by the end's receive side (rx).
	skip    bool   // discarding the rest of a message a receiver left open
	partial []byte // a fragmented message being assembled (buffer reused)
	inMsg   bool   // partial holds the start of a message
	dst     []byte // RecvBytesInto's buffer, lent while it waits
	lent    bool   // partial aliases dst
	want    uint64 // its announced length
	full    bool   // partial is complete and not yet delivered
	rbuf    []byte // Read: the rest of the current message
}

func (c *Conn) sender() error {
	if c.closed.Load() {
		return errorf(ErrClosed, "pipe %q", c.name)
	}
	if c.send == nil {
		return errorf(ErrReadOnly, "pipe %q", c.name)
	}
	return nil
}

func (c *Conn) receiver() error {
	if c.closed.Load() {
		return errorf(ErrClosed, "pipe %q", c.name)
	}
	if c.recv == nil {
		return errorf(ErrWriteOnly, "pipe %q", c.name)
	}
	return nil
}

// beginSend takes the end's send side: the shared lock, the tail as the
// other holders left it, and the end of a fragmented message one of them
// left open (cut by its context, or by its death), which the receiver
// reads as io.ErrUnexpectedEOF for that message. On error nothing is held.
func (c *Conn) beginSend(ctx context.Context) error {
	if err := c.sender(); err != nil {
		return err
	}
	if err := c.tx.lock(ctx); err != nil {
		return err
	}
	err := c.send.resync()
	if err == nil && c.send.r.closedBits()&2 != 0 {
		// Nothing sent now could ever be read: CPython's first send to a
		// closed peer raises BrokenPipeError (EPIPE), not only the one
		// that would wait for room.
		err = errorf(ErrBrokenPipe, "pipe %q", c.name)
	}
	if err == nil {
		err = cutOpen(ctx, c.send, true)
	}
	if err != nil {
		c.tx.unlock()
	}
	return err
}

// cutOpen ends a fragmented message left open on p's ring with a cut
// record: waiting for room until ctx ends, or, without wait, only if there
// is room now (else the next sender does it).
func cutOpen(ctx context.Context, p *Producer, wait bool) error {
	if atomic.LoadUint32(&p.r.h.txOpen) == 0 {
		return nil
	}
	var err error
	if wait {
		_, err = p.reserve(ctx, 0)
	} else {
		_, err = p.tryReserve(0)
	}
	if err != nil {
		return err
	}
	p.stage(0, recCut)
	p.flush()
	atomic.StoreUint32(&p.r.h.txOpen, 0)
	return nil
}

// endSend publishes what was staged and lets the next sender in, and tells
// this end's receiving consumer that it has replied (Consumer.sent).
func (c *Conn) endSend() {
	c.send.flush()
	c.tx.unlock()
	if c.recv != nil {
		c.recv.sent()
	}
}

// SendBytes sends msg as one message, waiting for room: ctx.Err() if ctx
// ends first, ErrBrokenPipe if the other end was closed, ErrPeerDead if its
// processes died. A message of up to a quarter of the
// ring's capacity is one record and is sent entirely or not at all. A larger
// one goes as fragments; if ctx ends between fragments the message is cut
// and the receiver gets io.ErrUnexpectedEOF for it, as CPython's "got end of
// file during message" (so it does if the sending process dies mid-message).
// Messages larger than MaxMessage give ErrTooLarge.
func (c *Conn) SendBytes(ctx context.Context, msg []byte) error {
	if c.g.isChecked() {
		return c.g.run(func() error { return c.sendBytes(ctx, msg) })
	}
	return c.sendBytes(ctx, msg)
}

func (c *Conn) sendBytes(ctx context.Context, msg []byte) error {
	if len(msg) > MaxMessage {
		return errorf(ErrTooLarge, "pipe %q: message of %d bytes, max %d", c.name, len(msg), MaxMessage)
	}
	if err := c.beginSend(ctx); err != nil {
		return err
	}
	defer c.endSend()
	if len(msg) <= c.frag {
		return c.send.write(ctx, msg)
	}
	p := c.send
	first := c.frag - 8
	b, err := p.reserve(ctx, c.frag)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(b, uint64(len(msg)))
	copyChunked(b[8:], msg[:first])
	// The flag goes up before the first fragment is published and down
	// after the last: a sender dying in between leaves it up, and the
	// next sender's recCut ends the message (a recCut with no message
	// open is skipped).
	atomic.StoreUint32(&p.r.h.txOpen, 1)
	p.stage(c.frag, recFirst)
	p.flush()
	for rest := msg[first:]; len(rest) > 0; {
		n, kind := min(len(rest), c.frag), uint32(recMiddle)
		if n == len(rest) {
			kind = recLast
		}
		b, err := p.reserve(ctx, n)
		if err != nil {
			// Cut the message now if there is room, else the next send
			// (through any handle on this end) does.
			cutOpen(ctx, p, false)
			return err
		}
		copyChunked(b, rest[:n])
		p.stage(n, kind)
		p.flush()
		rest = rest[n:]
	}
	atomic.StoreUint32(&p.r.h.txOpen, 0)
	return nil
}

// enterRecv takes the end's receive side, which also admits one receiving
// goroutine of this Conn at a time: from another handle, or the one this
// Conn kept from an earlier call that ended inside a message (any
// goroutine of the Conn may go on with it). On error nothing is held.
func (c *Conn) enterRecv(ctx context.Context) error {
	if err := c.receiver(); err != nil {
		return err
	}
	if err := c.rx.lock(ctx); err != nil {
		return err
	}
	// A hold this Conn kept finds head where it left it (resync does
	// nothing) and c.inMsg set (no skip).
	if err := c.recv.resync(); err != nil {
		c.rx.unlock()
		return err
	}
	if !c.inMsg && atomic.LoadUint32(&c.recv.r.h.rxOpen) != 0 {
		// A receiver took the start of a message and stopped (it died,
		// or its handle was closed mid-message): skip the rest.
		c.skip = true
	}
	return nil
}

// leaveRecv ends a receive call. The end's receive side is kept while this
// Conn is inside a fragmented message (its next receive goes on with it)
// and handed on otherwise.
func (c *Conn) leaveRecv() {
	if c.inMsg && !c.full {
		c.rx.keep()
		return
	}
	c.rx.unlock()
}

// next makes the next message available: in place (release with done) or
// assembled in c.partial. It never consumes a message it does not return.
// The caller holds the receive side (enterRecv).
func (c *Conn) next(ctx context.Context, wait bool) ([]byte, bool, error) {
	if c.full {
		return c.partial, false, nil
	}
	open := &c.recv.r.h.rxOpen
	for {
		var b []byte
		var kind uint32
		var err error
		if wait {
			b, kind, err = c.recv.peek(ctx)
		} else {
			b, kind, err = c.recv.next()
		}
		if err != nil {
			if (err == io.EOF || isPeerDead(err)) && c.inMsg {
				// The senders are gone mid-message: report the message
				// once, then the end of the stream.
				c.partial, c.want, c.inMsg = c.partial[:0], 0, false
				atomic.StoreUint32(open, 0)
				return nil, false, io.ErrUnexpectedEOF
			}
			return nil, false, err
		}
		if c.skip {
			if kind == recMiddle || kind == recLast || kind == recCut {
				c.recv.release()
				if kind != recMiddle {
					c.skip = false
					atomic.StoreUint32(open, 0)
				}
				continue
			}
			// The receiver that left the flag up had in fact finished.
			c.skip = false
			atomic.StoreUint32(open, 0)
		}
		switch kind {
		case recData:
			if c.inMsg {
				return nil, false, c.recv.r.corrupt("whole message inside a fragmented one")
			}
			return b, true, nil
		case recEOF:
			c.recv.peekN = 0
			if c.inMsg {
				c.partial, c.want, c.inMsg = c.partial[:0], 0, false
				atomic.StoreUint32(open, 0)
				return nil, false, io.ErrUnexpectedEOF
			}
			return nil, false, io.EOF
		case recCut:
			// A sender cut its message short (context, or death); with
			// no message open here it is nothing.
			c.recv.release()
			atomic.StoreUint32(open, 0)
			if c.inMsg {
				c.partial, c.want, c.inMsg = c.partial[:0], 0, false
				return nil, false, io.ErrUnexpectedEOF
			}
			continue
		case recFirst:
			if c.inMsg || len(b) < 8 {
				return nil, false, c.recv.r.corrupt("misplaced first fragment")
			}
			c.want = binary.LittleEndian.Uint64(b)
			if c.want > MaxMessage {
				return nil, false, c.recv.r.corrupt("message of %d bytes announced", c.want)
			}
			// The buffer is kept between messages; it grows as fragments
			// arrive, never by the announced (untrusted) length alone.
			// RecvBytesInto lends its buffer when the message fits, so
			// the fragments are copied once, straight into it.
			if c.dst != nil && c.want <= uint64(len(c.dst)) {
				c.partial, c.lent = c.dst[:0], true
			}
			c.partial = append(c.partial[:0], b[8:]...)
			c.inMsg = true
			// Up before the first fragment is released, down after the
			// last: a receiver that dies in between leaves it up, and the
			// next one skips the rest of the message.
			atomic.StoreUint32(open, 1)
		case recMiddle, recLast:
			if !c.inMsg || uint64(len(c.partial)+len(b)) > c.want {
				return nil, false, c.recv.r.corrupt("misplaced fragment")
			}
			c.partial = append(c.partial, b...)
		}
		c.recv.release()
		if kind == recLast {
			atomic.StoreUint32(open, 0)
			if uint64(len(c.partial)) != c.want {
				c.partial, c.want, c.inMsg = c.partial[:0], 0, false
				return nil, false, io.ErrUnexpectedEOF
			}
			c.full = true
			return c.partial, false, nil
		}
	}
}

func isPeerDead(err error) bool { return errors.Is(err, ErrPeerDead) }

// done consumes the message next returned.
func (c *Conn) done(inPlace bool) {
	if inPlace {
		c.recv.release()
		return
	}
	c.partial, c.want, c.full, c.inMsg = c.partial[:0], 0, false, false
}

// RecvBytes returns the next message (a copy), waiting for one: io.EOF
// once every handle on the other end was closed (or its process died, with
// at least one closed) and everything was read, ErrPeerDead once the
// processes holding the other end died without closing it and everything
// was read, ctx.Err() if ctx ends first.
func (c *Conn) RecvBytes(ctx context.Context) ([]byte, error) {
	if c.g.isChecked() {
		return run1(&c.g, func() ([]byte, error) { return c.recvBytes(ctx) })
	}
	return c.recvBytes(ctx)
}

func (c *Conn) recvBytes(ctx context.Context) ([]byte, error) {
	if err := c.enterRecv(ctx); err != nil {
		return nil, err
	}
	defer c.leaveRecv()
	b, inPlace, err := c.next(ctx, true)
	if err != nil {
		return nil, err
	}
	out := b
	if inPlace {
		out = make([]byte, len(b))
		copyChunked(out, b)
	} else {
		c.partial = nil // the caller owns the assembled buffer now
	}
	c.done(inPlace)
	return out, nil
}

// RecvBytesInto copies the next message into buf and returns its length.
// If buf is too short it returns the message's length and
// ErrBufferTooShort, and the message is kept for this Conn: a retry with a
// buffer of that length gets it. (A message of one record stays in the
// pipe, for any receiver; a fragmented one has been taken out of the ring
// and waits in this Conn.)
func (c *Conn) RecvBytesInto(ctx context.Context, buf []byte) (int, error) {
	if c.g.isChecked() {
		return run1(&c.g, func() (int, error) { return c.recvBytesInto(ctx, buf) })
	}
	return c.recvBytesInto(ctx, buf)
}

func (c *Conn) recvBytesInto(ctx context.Context, buf []byte) (int, error) {
	if err := c.enterRecv(ctx); err != nil {
		return 0, err
	}
	defer c.leaveRecv()
	c.dst = buf
	b, inPlace, err := c.next(ctx, true)
	c.dst = nil
	if c.lent {
		if err != nil && c.inMsg {
			// Interrupted: keep the fragments received so far in our own
			// memory, not in a buffer the caller gets back.
			c.partial = append([]byte(nil), c.partial...)
		} else {
			c.partial = nil // aliases buf: never append to it later
		}
		c.lent = false
	}
	if err != nil {
		return 0, err
	}
	if len(b) > len(buf) {
		if inPlace {
			c.recv.peekN = 0
		}
		return len(b), errorf(ErrBufferTooShort, "pipe %q: message of %d bytes, buffer %d", c.name, len(b), len(buf))
	}
	n := len(b)
	if n > 0 && &b[0] != &buf[0] {
		copyChunked(buf, b)
	}
	c.done(inPlace)
	return n, nil
}

// Poll reports whether Recv would return at once (a message, or io.EOF or
// ErrPeerDead), waiting until ctx ends; an ended ctx gives false and nil,
// as CPython's poll(timeout) gives False. Use context.Background() to wait
// without a limit and an already-cancelled context for a non-blocking check.
func (c *Conn) Poll(ctx context.Context) (bool, error) {
	if c.g.isChecked() {
		return run1(&c.g, func() (bool, error) { return c.poll(ctx) })
	}
	return c.poll(ctx)
}

func (c *Conn) poll(ctx context.Context) (bool, error) {
	if err := c.enterRecv(ctx); err != nil {
		if isDeadline(err) {
			return false, nil
		}
		return false, err
	}
	defer c.leaveRecv()
	for {
		_, inPlace, err := c.next(ctx, false)
		if inPlace {
			c.recv.peekN = 0
		}
		switch {
		case err == nil, err == io.EOF, err == io.ErrUnexpectedEOF:
			return true, nil
		case err != ErrEmpty:
			return false, err
		}
		if err := c.recv.waitData(ctx); err != nil {
			// The wait reports its own deadline (the clock can pass it
			// before ctx's timer fires, when ctx.Err() is still nil), so
			// the error itself is what tells a timeout from the peer.
			switch {
			case isDeadline(err):
				return false, nil
			case err == io.EOF, isPeerDead(err):
				return true, nil // Recv reports it
			}
			return false, err
		}
	}
}

// Write sends p as one message (io.Writer), waiting without a limit.
func (c *Conn) Write(p []byte) (int, error) {
	if err := c.SendBytes(context.Background(), p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read reads message bytes as a stream (io.Reader): what does not fit in p
// is kept for the next Read. It returns io.EOF once the peer closed and
// everything was read.
func (c *Conn) Read(p []byte) (int, error) {
	if c.g.isChecked() {
		return run1(&c.g, func() (int, error) { return c.read(p) })
	}
	return c.read(p)
}

func (c *Conn) read(p []byte) (int, error) {
	if err := c.enterRecv(context.Background()); err != nil {
		return 0, err
	}
	defer c.leaveRecv()
	if len(c.rbuf) > 0 {
		n := copy(p, c.rbuf)
		c.rbuf = c.rbuf[n:]
		return n, nil
	}
	for {
		b, inPlace, err := c.next(context.Background(), true)
		if err != nil {
			return 0, err
		}
		n := copy(p, b)
		if n < len(b) {
			c.rbuf = append([]byte(nil), b[n:]...)
		}
		c.done(inPlace)
		if n > 0 || len(p) == 0 {
			return n, nil
		}
	}
}

// Reserve reserves a handle on c's end for another process (typically a
// child about to start) and returns its ticket, which that process passes
// as PipeOptions.Ticket to OpenPipe. Until then the reservation holds the
// end open on behalf of this process, so this process may close c at once,
// as CPython's p.start(); child_conn.close(), without the other end seeing
// EOF before the child has opened its copy. A reservation that is never
// taken ends with this process (its participant leaving or dying).
func (c *Conn) Reserve() (ticket int, err error) {
	if c.closed.Load() {
		return 0, errorf(ErrClosed, "pipe %q", c.name)
	}
	if c.g.isChecked() {
		return run1(&c.g, c.reserve)
	}
	return c.reserve()
}

func (c *Conn) reserve() (ticket int, err error) {
	slot, err := c.v.join(c.end, uint32(c.v.seg.Token())|holderReserved)
	if err != nil {
		return 0, err
	}
	return slot + 1, nil
}

// closeWait bounds how long the last Close of an end waits for the send
// side to append the end-of-stream record. Only a sender that is itself
// closing (misuse) or a dead one (taken over within a wait slice) can hold
// it then; without the record the peer still sees the end closed, from the
// ring's flag.
const closeWait = 4 * MaxSlice

// Close closes this handle. The other end sees this end closed (io.EOF
// once it has read everything; ErrBrokenPipe for its sends) only when every
// handle on this end, in every process, has been closed or its process has
// died, as closing a CPython Connection closes only the calling process's
// copy. A fragmented message this handle was receiving is dropped (the next
// receiver skips its rest). Every later call on this handle gives
// ErrClosed. After the Segment's Close it marks only this handle closed
// and returns an error wrapping shm.ErrClosed (the segment left the
// participant table: the other end already counts this process gone).
func (c *Conn) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	if c.g.isChecked() {
		return c.g.run(c.close)
	}
	return c.close()
}

func (c *Conn) close() error {
	if c.rx != nil {
		c.rx.dropKept()
	}
	if !c.v.closing(c.end, c.slot) {
		c.v.release(c.end, c.slot)
		return nil
	}
	// Last handle: close the end. The entry stays (marked closing) until
	// the end is marked closed, so that the other end never sees it with
	// no live holder and not closed, which means the holders died.
	if c.send != nil {
		p := c.send
		ctx, cancel := context.WithTimeout(context.Background(), closeWait)
		if c.tx.lock(ctx) == nil {
			if p.resync() == nil {
				cutOpen(ctx, p, false)
				if p.r.closedBits()&1 == 0 { // another last handle may have closed it
					if _, err := p.tryReserve(0); err == nil {
						p.stage(0, recEOF)
					}
				}
				p.flush()
			}
			c.tx.unlock()
		}
		cancel()
	}
	// The end's closed flags, then the entry, then the wake-ups.
	if c.send != nil {
		atomic.OrUint32(&c.send.r.h.closed, 1)
	}
	if c.recv != nil {
		atomic.OrUint32(&c.recv.r.h.closed, 2)
	}
	c.v.release(c.end, c.slot)
	if c.send != nil {
		futex.Wake(low32(&c.send.r.h.tail), 1<<30)
	}
	if c.recv != nil {
		futex.Wake(low32(&c.recv.r.h.head), 1<<30)
	}
	return nil
}

// endClosed reports whether every handle on end has been closed: ring 0
// carries end 1's sends and end 0's receives.
func (c *Conn) endClosed(end int) bool {
	bit := uint32(2)
	if end == 1 {
		bit = 1
	}
	return c.ring0.closedBits()&bit != 0
}

// senderGone is the receive side's check of the other end between wait
// slices: nil while a handle on it lives; io.EOF once its last handle
// closed; ErrPeerDead once its holders died without closing it.
func (c *Conn) senderGone() error {
	live, err := c.v.live(1-c.end, true)
	if err != nil || live {
		return err
	}
	if c.recv.r.closedBits()&1 != 0 {
		return io.EOF
	}
	return errorf(ErrPeerDead, "pipe %q", c.name)
}

// receiverGone is the send side's check of the other end: ErrBrokenPipe
// once its last handle closed, ErrPeerDead once its holders died.
func (c *Conn) receiverGone() error {
	if c.send.r.closedBits()&2 != 0 {
		return errorf(ErrBrokenPipe, "pipe %q", c.name)
	}
	live, err := c.v.live(1-c.end, true)
	if err != nil || live {
		return err
	}
	if c.send.r.closedBits()&2 != 0 {
		return errorf(ErrBrokenPipe, "pipe %q", c.name)
	}
	return errorf(ErrPeerDead, "pipe %q", c.name)
}

// pipeView is one process's view of a pipe's header: the holder tables.
type pipeView struct {
	seg  *shm.Segment
	name string
	h    *pipeHdr
}

// holderClosing marks the holder entry of a handle that is closing: it
// still counts as a live holder for the other end (which must not take
// the moment between the last handle leaving and the end's closed flag for
// the holders' death), not for the other closing handles of the same end
// (of which at least one must find itself last).
const holderClosing = 1 << 31

// holderReserved marks an entry that Conn.Reserve holds for another
// process: it lives as long as the reserving process, until taken.
const holderReserved = 1 << 30

// take records a new handle on end: in the entry ticket-1 if it is still
// reserved, else in a free one.
func (v *pipeView) take(end, ticket int) (int, error) {
	tok := uint32(v.seg.Token())
	if ticket > 0 {
		e := &v.h.holders[end][ticket-1]
		if w := atomic.LoadUint32(e); w&holderReserved != 0 && atomic.CompareAndSwapUint32(e, w, tok) {
			return ticket - 1, nil
		}
		// The reservation is gone (its process died): open a new handle.
	}
	return v.join(end, tok)
}

// join records tok in a free holder entry of end.
func (v *pipeView) join(end int, tok uint32) (int, error) {
	for try := 0; try < 2; try++ {
		for i := range v.h.holders[end] {
			if atomic.CompareAndSwapUint32(&v.h.holders[end][i], 0, tok) {
				return i, nil
			}
		}
		// live frees the entries of dead processes; try once more.
		if _, err := v.live(end, true); err != nil {
			return 0, err
		}
	}
	return 0, errorf(ErrHolders, "pipe %q: end %d: %d handles open", v.name, end, pipeHolders)
}

// closing marks a handle's entry closing and reports whether no other live
// handle that is not closing holds the end: then this handle closes the
// end (more than one may, concurrently).
func (v *pipeView) closing(end, slot int) bool {
	atomic.OrUint32(&v.h.holders[end][slot], holderClosing)
	others, err := v.live(end, false)
	return err == nil && !others
}

// release frees a handle's entry.
func (v *pipeView) release(end, slot int) { atomic.StoreUint32(&v.h.holders[end][slot], 0) }

// live reports whether a live handle holds end (closing ones too, if
// closing), freeing the entries of dead holders on the way. A token that
// names no participant is ErrCorrupt.
func (v *pipeView) live(end int, closing bool) (bool, error) {
	for i := range v.h.holders[end] {
		w := atomic.LoadUint32(&v.h.holders[end][i])
		if w == 0 || w&holderClosing != 0 && !closing {
			continue
		}
		tok := w &^ (holderClosing | holderReserved)
		if tok&^segcore.TokenMask != 0 {
			return false, errorf(ErrCorrupt, "pipe %q: holder %#x", v.name, w)
		}
		alive, err := v.seg.Alive(shm.Token(tok))
		if err != nil {
			return false, errorf(aliveErr(err), "pipe %q: holder", v.name)
		}
		if alive {
			return true, nil
		}
		atomic.CompareAndSwapUint32(&v.h.holders[end][i], w, 0)
	}
	return false, nil
}
