package ring

import "context"

// TypedConn carries values of T through a Conn with a Codec. With a
// FixedCodec (such as Plain) small values are encoded straight into the
// ring and decoded straight out of it. Like Conn, its sends may be used
// by several goroutines and processes at once.
type TypedConn[T any] struct {
	C     *Conn
	Codec Codec[T]
}

// NewTypedConn wraps c.
func NewTypedConn[T any](c *Conn, codec Codec[T]) *TypedConn[T] {
	return &TypedConn[T]{C: c, Codec: codec}
}

// Send encodes v and sends it as one message (see Conn.SendBytes).
func (t *TypedConn[T]) Send(ctx context.Context, v T) error {
	c := t.C
	if fc, ok := t.Codec.(FixedCodec[T]); ok && fc.FixedSize() <= c.frag {
		if err := c.beginSend(ctx); err != nil {
			return err
		}
		defer c.endSend()
		b, err := c.send.Reserve(ctx, fc.FixedSize())
		if err != nil {
			return err
		}
		fc.Put(b, &v)
		return c.send.Stage(len(b))
	}
	bp := scratch.Get().(*[]byte)
	defer scratch.Put(bp)
	b, err := t.Codec.Append((*bp)[:0], &v)
	if err != nil {
		return err
	}
	*bp = b
	return c.SendBytes(ctx, b)
}

// Recv receives a message and decodes it in place (see Conn.RecvBytes).
func (t *TypedConn[T]) Recv(ctx context.Context) (T, error) {
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
