package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync/atomic"

	"github.com/shmkit/shmkit/shm"
)

// Pipe limits.
const (
	// DefaultPipeCapacity is each direction's ring capacity for Pipe.
	DefaultPipeCapacity = 1 << 20
	// MaxMessage is the largest message a Conn sends or accepts. Messages
	// larger than a quarter of the ring travel as fragments.
	MaxMessage = 1 << 30
)

// Pipe creates the pipe name in seg with DefaultPipeCapacity per direction
// and returns its two ends, like multiprocessing.Pipe: duplex, both ends send
// and receive; one-way, c0 only receives and c1 only sends. Another process
// takes over an end with OpenPipe(seg, name, 1, nil) (or 0).
func Pipe(seg *shm.Segment, name string, duplex bool) (c0, c1 *Conn, err error) {
	return PipeWith(seg, name, duplex, DefaultPipeCapacity, nil)
}

// PipeWith is Pipe with a ring capacity per direction (a power of two) and
// wait options.
func PipeWith(seg *shm.Segment, name string, duplex bool, capacity int, o *Options) (c0, c1 *Conn, err error) {
	if err := checkCapacity(capacity); err != nil {
		return nil, nil, err
	}
	if _, err := o.cfg(); err != nil {
		return nil, nil, err
	}
	rings := 1
	if duplex {
		rings = 2
	}
	region := spscRegionSize(capacity)
	_, err = seg.CreateObject(name, kindPipe, pipeVersion, pipeHdrSize+rings*region, func(b []byte) error {
		h := pipeHdrAt(b)
		h.ringSize = uint64(region)
		if duplex {
			h.duplex = 1
		}
		for i := 0; i < rings; i++ {
			initSPSC(b[pipeHdrSize+i*region:], capacity)
		}
		atomic.StoreUint32(&h.magic, pipeMagic)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("ring: new pipe %q: %w", name, err)
	}
	if c0, err = OpenPipe(seg, name, 0, o); err != nil {
		return nil, nil, err
	}
	if c1, err = OpenPipe(seg, name, 1, o); err != nil {
		return nil, nil, err
	}
	return c0, c1, nil
}

// OpenPipe attaches to end 0 or 1 of the pipe name, recording this
// process's participant token as that end's, so that the other end learns
// of this process's death. Each end is used by one process at a time.
func OpenPipe(seg *shm.Segment, name string, end int, o *Options) (*Conn, error) {
	if end != 0 && end != 1 {
		return nil, fmt.Errorf("ring: pipe %q: end %d: %w", name, end, ErrInvalid)
	}
	if _, err := o.cfg(); err != nil {
		return nil, err
	}
	obj, err := seg.OpenObject(name, kindPipe, pipeVersion)
	if err != nil {
		return nil, fmt.Errorf("ring: open pipe %q: %w", name, err)
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
		return nil, fmt.Errorf("ring: pipe %q: header: %w", name, ErrCorrupt)
	}
	ringAt := func(i int) (*Ring, error) {
		off := pipeHdrSize + i*int(region)
		r, err := attachSPSC(seg, fmt.Sprintf("%s[%d]", name, i), b[off:off+int(region)], obj.Offset()+off)
		if err != nil {
			return nil, err
		}
		return &Ring{r: r, opt: o}, nil
	}
	c := &Conn{name: name}
	// Ring 0 carries end 1 -> end 0; ring 1 (duplex only) end 0 -> end 1.
	r0, err := ringAt(0)
	if err != nil {
		return nil, err
	}
	var r1 *Ring
	if duplex == 1 {
		if r1, err = ringAt(1); err != nil {
			return nil, err
		}
	}
	in, out := r0, r1
	if end == 1 {
		in, out = r1, r0
	}
	if in != nil {
		if c.recv, err = in.Consumer(); err != nil {
			return nil, err
		}
	}
	if out != nil {
		if c.send, err = out.Producer(); err != nil {
			return nil, err
		}
		c.frag = out.Cap() / 4
	}
	return c, nil
}

// Conn is one end of a Pipe: messages (Send, Recv, SendBytes, RecvBytes,
// RecvBytesInto, Poll) and, through Read and Write, a byte stream
// (io.ReadWriteCloser). Messages keep their boundaries; a message larger than
// a quarter of the ring is sent as fragments and reassembled. The sending
// and receiving directions may be used by two goroutines at once, each
// direction by one at a time. The zero value is not usable.
type Conn struct {
	_      noCopy
	name   string
	send   *Producer // nil on a receive-only end
	recv   *Consumer // nil on a send-only end
	frag   int       // largest single record a message is sent as
	cut    bool      // a fragmented send was cancelled: terminate it first
	closed bool

	partial []byte // a fragmented message being assembled (buffer reused)
	inMsg   bool   // partial holds the start of a message
	dst     []byte // RecvBytesInto's buffer, lent while it waits
	lent    bool   // partial aliases dst
	want    uint64 // its announced length
	full    bool   // partial is complete and not yet delivered
	rbuf    []byte // Read: the rest of the current message
}

func (c *Conn) sender() error {
	if c.closed {
		return fmt.Errorf("ring: pipe %q: %w", c.name, ErrClosed)
	}
	if c.send == nil {
		return fmt.Errorf("ring: pipe %q: %w", c.name, ErrReadOnly)
	}
	return nil
}

func (c *Conn) receiver() error {
	if c.closed {
		return fmt.Errorf("ring: pipe %q: %w", c.name, ErrClosed)
	}
	if c.recv == nil {
		return fmt.Errorf("ring: pipe %q: %w", c.name, ErrWriteOnly)
	}
	return nil
}

// Send sends msg as one message, waiting for room: ctx.Err() if ctx ends
// first, ErrBrokenPipe if the peer closed its end, ErrPeerDead if it died.
// See SendBytes.
func (c *Conn) Send(ctx context.Context, msg []byte) error { return c.SendBytes(ctx, msg) }

// SendBytes sends msg as one message. A message of up to a quarter of the
// ring's capacity is one record and is sent entirely or not at all. A larger
// one goes as fragments; if ctx ends between fragments the message is cut
// and the receiver gets io.ErrUnexpectedEOF for it, as CPython's "got end of
// file during message". Messages larger than MaxMessage give ErrTooLarge.
func (c *Conn) SendBytes(ctx context.Context, msg []byte) error {
	if err := c.sender(); err != nil {
		return err
	}
	if c.cut {
		// End the message an earlier cancelled send cut short.
		if _, err := c.send.Reserve(ctx, 0); err != nil {
			return err
		}
		c.send.stage(0, recLast)
		c.cut = false
	}
	if len(msg) <= c.frag {
		return c.send.Write(ctx, msg)
	}
	if len(msg) > MaxMessage {
		return fmt.Errorf("ring: pipe %q: message of %d bytes, max %d: %w", c.name, len(msg), MaxMessage, ErrTooLarge)
	}
	first := c.frag - 8
	b, err := c.send.Reserve(ctx, c.frag)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(b, uint64(len(msg)))
	copyChunked(b[8:], msg[:first])
	c.send.stage(c.frag, recFirst)
	c.send.Flush()
	for rest := msg[first:]; len(rest) > 0; {
		n, kind := min(len(rest), c.frag), uint32(recMiddle)
		if n == len(rest) {
			kind = recLast
		}
		b, err := c.send.Reserve(ctx, n)
		if err != nil {
			// Cut the message: the receiver gets io.ErrUnexpectedEOF for it
			// once the terminator is sent (now if there is room, else by
			// the next send).
			c.cut = true
			if _, err2 := c.send.tryReserve(0); err2 == nil {
				c.send.stage(0, recLast)
				c.send.Flush()
				c.cut = false
			}
			return err
		}
		copyChunked(b, rest[:n])
		c.send.stage(n, kind)
		c.send.Flush()
		rest = rest[n:]
	}
	return nil
}

// next makes the next message available: in place (release with done) or
// assembled in c.partial. It never consumes a message it does not return.
func (c *Conn) next(ctx context.Context, wait bool) ([]byte, bool, error) {
	if c.full {
		return c.partial, false, nil
	}
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
				return nil, false, io.ErrUnexpectedEOF
			}
			return nil, false, err
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
				return nil, false, io.ErrUnexpectedEOF
			}
			return nil, false, io.EOF
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
		case recMiddle, recLast:
			if !c.inMsg || uint64(len(c.partial)+len(b)) > c.want {
				return nil, false, c.recv.r.corrupt("misplaced fragment")
			}
			c.partial = append(c.partial, b...)
		}
		c.recv.Release()
		if kind == recLast {
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
		c.recv.Release()
		return
	}
	c.partial, c.want, c.full, c.inMsg = c.partial[:0], 0, false, false
}

// Recv returns the next message (a copy), waiting for one: io.EOF once the
// peer closed and everything was read, ErrPeerDead once the peer died and
// everything was read, ctx.Err() if ctx ends first.
func (c *Conn) Recv(ctx context.Context) ([]byte, error) { return c.RecvBytes(ctx) }

// RecvBytes is Recv.
func (c *Conn) RecvBytes(ctx context.Context) ([]byte, error) {
	if err := c.receiver(); err != nil {
		return nil, err
	}
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
// ErrBufferTooShort, and the message stays in the pipe: a retry with a
// buffer of that length gets it.
func (c *Conn) RecvBytesInto(ctx context.Context, buf []byte) (int, error) {
	if err := c.receiver(); err != nil {
		return 0, err
	}
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
		return len(b), fmt.Errorf("ring: pipe %q: message of %d bytes, buffer %d: %w", c.name, len(b), len(buf), ErrBufferTooShort)
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
	if err := c.receiver(); err != nil {
		return false, err
	}
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
	if len(c.rbuf) > 0 {
		n := copy(p, c.rbuf)
		c.rbuf = c.rbuf[n:]
		return n, nil
	}
	if err := c.receiver(); err != nil {
		return 0, err
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

// Close closes this end: the peer drains what was sent and then gets
// io.EOF; the peer's sends get ErrBrokenPipe once its ring is full. Every
// later call on this end gives ErrClosed.
func (c *Conn) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.send != nil {
		c.send.Close()
	}
	if c.recv != nil {
		c.recv.Close()
	}
	return nil
}
