package ring

import (
	"errors"
	"fmt"

	"github.com/shmkit/shmkit/internal/share"
	"github.com/shmkit/shmkit/shm"
)

// This file implements shm.Handle for the queue, pipe and ring handles, so
// that one passed in a child process's arguments (package proc) arrives
// open. The descriptor is the object name, with the end for a Conn and the
// codec for typed handles; the receiver gets default wait Options.

var (
	_ shm.Handle = (*Queue)(nil)
	_ shm.Handle = (*SimpleQueue)(nil)
	_ shm.Handle = (*JoinableQueue)(nil)
	_ shm.Handle = (*TypedQueue[int])(nil)
	_ shm.Handle = (*TypedSimpleQueue[int])(nil)
	_ shm.Handle = (*TypedJoinableQueue[int])(nil)
	_ shm.Handle = (*Conn)(nil)
	_ shm.Handle = (*TypedConn[int])(nil)

	_ shm.Releaser = (*Conn)(nil)
	_ shm.Releaser = (*TypedConn[int])(nil)

	_ shm.Reclaimer = (*Conn)(nil)
	_ shm.Reclaimer = (*TypedConn[int])(nil)
	_ shm.Handle    = (*Ring)(nil)
)

// ShareDesc returns the segment q lives in and a descriptor that reopens it in another process.
func (q *Queue) ShareDesc() (*shm.Segment, string) { return q.q.seg, q.q.name }

// AttachShare makes the zero value q a handle on the Queue desc in seg (a child process's side).
func (q *Queue) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(q, func() (*Queue, error) { return OpenQueue(seg, desc, nil) })
}

// ShareDesc returns the segment s lives in and a descriptor that reopens it in another process.
func (s *SimpleQueue) ShareDesc() (*shm.Segment, string) { return s.q.ShareDesc() }

// AttachShare makes the zero value s a handle on the SimpleQueue desc in seg (a child process's side).
func (s *SimpleQueue) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(s, func() (*SimpleQueue, error) { return OpenSimpleQueue(seg, desc, nil) })
}

// ShareDesc returns the segment j lives in and a descriptor that reopens it in another process.
func (j *JoinableQueue) ShareDesc() (*shm.Segment, string) { return j.q.ShareDesc() }

// AttachShare makes the zero value j a handle on the JoinableQueue desc in seg (a child process's side).
func (j *JoinableQueue) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(j, func() (*JoinableQueue, error) { return OpenJoinableQueue(seg, desc, nil) })
}

// Codec names in descriptors: only the codecs of this package can travel,
// since the receiver must build its own.
const (
	codecPlain = "plain"
	codecGob   = "gob"
)

// codecName names c for a descriptor, or "" for a codec that cannot travel.
func codecName[T any](c Codec[T]) string {
	switch c.(type) {
	case *Plain[T]:
		return codecPlain
	case Gob[T], *Gob[T]:
		return codecGob
	}
	return ""
}

// codecNamed builds the codec a descriptor names.
func codecNamed[T any](name string) (Codec[T], error) {
	switch name {
	case codecPlain:
		return NewPlain[T]()
	case codecGob:
		return Gob[T]{}, nil
	}
	return nil, fmt.Errorf("ring: codec %q: %w", name, ErrCodec)
}

// typedDesc is the ShareDesc of a typed handle over inner with codec c.
func typedDesc[T any](inner shm.Sharer, c Codec[T]) (*shm.Segment, string) {
	name := codecName(c)
	if name == "" {
		return nil, "" // a codec of the caller's own cannot be rebuilt
	}
	seg, desc := inner.ShareDesc()
	return seg, share.Join(desc, name)
}

// ShareDesc returns the segment t lives in and a descriptor that reopens it
// in another process. Only the Plain and Gob codecs travel: with another
// codec the segment is nil.
func (t *TypedQueue[T]) ShareDesc() (*shm.Segment, string) { return typedDesc(t.q, t.codec) }

// AttachShare makes the zero value t a handle on the TypedQueue desc in seg (a child process's side).
func (t *TypedQueue[T]) AttachShare(seg *shm.Segment, desc string) error {
	return attachTyped(seg, desc, &t.typed, &t.q)
}

// ShareDesc returns the segment t lives in and a descriptor that reopens it
// in another process (see TypedQueue.ShareDesc).
func (t *TypedSimpleQueue[T]) ShareDesc() (*shm.Segment, string) { return typedDesc(t.q, t.codec) }

// AttachShare makes the zero value t a handle on the TypedSimpleQueue desc in seg (a child process's side).
func (t *TypedSimpleQueue[T]) AttachShare(seg *shm.Segment, desc string) error {
	return attachTyped(seg, desc, &t.typed, &t.q)
}

// ShareDesc returns the segment t lives in and a descriptor that reopens it
// in another process (see TypedQueue.ShareDesc).
func (t *TypedJoinableQueue[T]) ShareDesc() (*shm.Segment, string) { return typedDesc(t.q, t.codec) }

// AttachShare makes the zero value t a handle on the TypedJoinableQueue desc in seg (a child process's side).
func (t *TypedJoinableQueue[T]) AttachShare(seg *shm.Segment, desc string) error {
	return attachTyped(seg, desc, &t.typed, &t.q)
}

// attachTyped attaches the queue handle *q (a *Queue, *SimpleQueue or
// *JoinableQueue) and the codec of a typed queue's descriptor.
func attachTyped[T any, H any, PH interface {
	*H
	shm.Handle
}](seg *shm.Segment, desc string, t *typed[T], q *PH) error {
	name, f, err := share.Split(desc, 1)
	if err != nil {
		return fmt.Errorf("ring: attach %q: %w", desc, err)
	}
	c, err := codecNamed[T](f[0])
	if err != nil {
		return err
	}
	h := PH(new(H))
	if err := h.AttachShare(seg, name); err != nil {
		return err
	}
	*q, t.codec = h, c
	return nil
}

// ShareDesc returns the segment c lives in and a descriptor that opens a
// handle on the same end of the pipe in another process. As with CPython's
// Connection, the parent and the child then both hold that end. The
// descriptor carries a ticket (Conn.Reserve): the end counts the child's
// handle from this call on, so the parent may close its own copy right
// after starting the child. The segment is nil when c is closed or its end
// has no free holder entry.
func (c *Conn) ShareDesc() (*shm.Segment, string) {
	ticket, err := c.Reserve()
	if err != nil {
		return nil, ""
	}
	return c.v.seg, share.Join(c.name, fmt.Sprint(c.end), fmt.Sprint(ticket))
}

// AttachShare makes the zero value c a handle on the pipe end desc in seg (a child process's side).
func (c *Conn) AttachShare(seg *shm.Segment, desc string) error {
	name, f, err := share.Split(desc, 2)
	if err != nil {
		return fmt.Errorf("ring: attach %q: %w", desc, err)
	}
	end, err := share.Int(f[0])
	if err != nil {
		return fmt.Errorf("ring: attach pipe %q: %w", name, err)
	}
	ticket, err := share.Int(f[1])
	if err != nil {
		return fmt.Errorf("ring: attach pipe %q: %w", name, err)
	}
	return share.Attach(c, func() (*Conn, error) { return OpenPipe(seg, name, end, &PipeOptions{Ticket: ticket}) })
}

// ReclaimShare gives back the holder entry that ShareDesc reserved with
// desc, once the process it was passed to has exited: if that process
// never took it (killed before it attached), the entry is taken over and
// closed, so the other end sees the end closed when no other handle holds
// it; if it did, a fresh handle is opened and closed, which changes
// nothing while another handle holds the end. An end already closed by
// every handle is left alone.
func (c *Conn) ReclaimShare(desc string) error {
	name, f, err := share.Split(desc, 2)
	if err != nil {
		return fmt.Errorf("ring: reclaim %q: %w", desc, err)
	}
	end, err := share.Int(f[0])
	if err != nil {
		return fmt.Errorf("ring: reclaim pipe %q: %w", name, err)
	}
	ticket, err := share.Int(f[1])
	if err != nil {
		return fmt.Errorf("ring: reclaim pipe %q: %w", name, err)
	}
	h, err := OpenPipe(c.v.seg, name, end, &PipeOptions{Ticket: ticket})
	if errors.Is(err, ErrClosed) {
		return nil
	}
	if err != nil {
		return err
	}
	return h.Close()
}

// ReclaimShare is Conn.ReclaimShare for t's Conn.
func (t *TypedConn[T]) ReclaimShare(desc string) error {
	inner, _, err := share.Split(desc, 1)
	if err != nil {
		return fmt.Errorf("ring: reclaim %q: %w", desc, err)
	}
	return t.C.ReclaimShare(inner)
}

// ReleaseShare closes c (this handle only), as the exit of a CPython
// process closes its copy of a Connection: proc calls it when a child's
// target ends.
func (c *Conn) ReleaseShare() error { return c.Close() }

// ReleaseShare closes t's Conn (this handle only; see Conn.ReleaseShare).
func (t *TypedConn[T]) ReleaseShare() error { return t.C.Close() }

// ShareDesc returns the segment t lives in and a descriptor that reopens it
// in another process. Only the Plain and Gob codecs travel: with another
// codec the segment is nil.
func (t *TypedConn[T]) ShareDesc() (*shm.Segment, string) { return typedDesc(t.C, t.Codec) }

// AttachShare makes the zero value t a handle on the TypedConn desc in seg (a child process's side).
func (t *TypedConn[T]) AttachShare(seg *shm.Segment, desc string) error {
	name, f, err := share.Split(desc, 1)
	if err != nil {
		return fmt.Errorf("ring: attach %q: %w", desc, err)
	}
	codec, err := codecNamed[T](f[0])
	if err != nil {
		return err
	}
	var c Conn
	if err := c.AttachShare(seg, name); err != nil {
		return err
	}
	share.Assign(t, NewTypedConn(&c, codec))
	return nil
}

// ShareDesc returns the segment r lives in and a descriptor that reopens it in another process.
func (r *Ring) ShareDesc() (*shm.Segment, string) { return r.r.seg, r.r.name }

// AttachShare makes the zero value r a handle on the Ring desc in seg (a child process's side).
func (r *Ring) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(r, func() (*Ring, error) { return OpenRing(seg, desc, nil) })
}
