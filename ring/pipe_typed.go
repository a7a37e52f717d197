package ring

import (
	"bytes"
	"context"
	"encoding/gob"
)

// Send sends v as one message encoded with encoding/gob, as CPython's
// Connection.send(obj) pickles obj: any value gob can encode (not a nil
// pointer or a func or chan). Each message is a self-contained gob stream,
// so any process decodes it on its own, with Recv into a variable of a
// compatible type or with a TypedConn using the Gob codec. Errors are
// SendBytes's, and ErrCodec for a value gob cannot encode (nothing sent).
// For raw bytes use SendBytes; for a fixed type without gob's cost, a
// TypedConn (Plain codec for pointer-free fixed-size types).
func (c *Conn) Send(ctx context.Context, v any) error {
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	if err := gob.NewEncoder(buf).Encode(v); err != nil {
		return errorf(ErrCodec, "pipe %q: gob encode %T: %v", c.name, v, err)
	}
	*bp = buf.Bytes()
	return c.SendBytes(ctx, *bp)
}

// Recv receives the next message and decodes it with encoding/gob into v,
// a non-nil pointer, as CPython's Connection.recv() unpickles: the
// counterpart of Send. Errors are RecvBytes's, and ErrCodec when the
// message does not decode into v (the message is consumed, as an
// unpickling error consumes it in CPython).
func (c *Conn) Recv(ctx context.Context, v any) error {
	if c.g.isChecked() {
		return c.g.run(func() error { return c.recv1(ctx, v) })
	}
	return c.recv1(ctx, v)
}

func (c *Conn) recv1(ctx context.Context, v any) error {
	if err := c.enterRecv(ctx); err != nil {
		return err
	}
	defer c.leaveRecv()
	b, inPlace, err := c.next(ctx, true)
	if err != nil {
		return err
	}
	err = gob.NewDecoder(bytes.NewReader(b)).Decode(v)
	c.done(inPlace)
	if err != nil {
		return errorf(ErrCodec, "pipe %q: gob decode into %T: %v", c.name, v, err)
	}
	return nil
}

// TypedConn carries values of T through a Conn with a Codec: the typed
// counterpart of Conn.Send and Conn.Recv. With a FixedCodec (such as
// Plain) small values are encoded straight into the ring and decoded
// straight out of it. Like a Conn, it may be used by several goroutines
// and processes at once.
type TypedConn[T any] struct {
	C     *Conn
	Codec Codec[T]
}

// NewTypedConn wraps c. A nil codec means DefaultCodec[T](): Plain for a
// fixed-size pointer-free T, Gob otherwise (whose messages Conn.Recv
// decodes too).
func NewTypedConn[T any](c *Conn, codec Codec[T]) *TypedConn[T] {
	if codec == nil {
		codec = DefaultCodec[T]()
	}
	return &TypedConn[T]{C: c, Codec: codec}
}

// Send encodes v and sends it as one message (see Conn.SendBytes).
func (t *TypedConn[T]) Send(ctx context.Context, v T) error {
	if t.C.g.isChecked() {
		return t.C.g.run(func() error { return t.send(ctx, v) })
	}
	return t.send(ctx, v)
}

func (t *TypedConn[T]) send(ctx context.Context, v T) error {
	c := t.C
	if fc, ok := t.Codec.(FixedCodec[T]); ok && fc.FixedSize() <= c.frag {
		if err := c.beginSend(ctx); err != nil {
			return err
		}
		defer c.endSend()
		b, err := c.send.reserve(ctx, fc.FixedSize())
		if err != nil {
			return err
		}
		fc.Put(b, &v)
		return c.send.stage(len(b), recData)
	}
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	b, err := t.Codec.Append((*bp)[:0], &v)
	if err != nil {
		return err
	}
	*bp = b
	return c.sendBytes(ctx, b)
}

// Recv receives a message and decodes it in place (see Conn.RecvBytes).
func (t *TypedConn[T]) Recv(ctx context.Context) (T, error) {
	if t.C.g.isChecked() {
		return run1(&t.C.g, func() (T, error) { return t.recv(ctx) })
	}
	return t.recv(ctx)
}

func (t *TypedConn[T]) recv(ctx context.Context) (T, error) {
	var v T
	c := t.C
	if err := c.enterRecv(ctx); err != nil {
		return v, err
	}
	defer c.leaveRecv()
	b, inPlace, err := c.next(ctx, true)
	if err != nil {
		return v, err
	}
	err = t.Codec.Decode(b, &v)
	c.done(inPlace)
	return v, err
}
