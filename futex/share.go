package futex

import (
	"github.com/shmkit/shmkit/internal/share"
	"github.com/shmkit/shmkit/shm"
)

// This file implements shm.Handle for every futex primitive, so that a
// primitive passed in a child process's arguments (package proc) arrives
// open. The descriptor is the object name.

var (
	_ shm.Handle = (*Lock)(nil)
	_ shm.Handle = (*RLock)(nil)
	_ shm.Handle = (*Semaphore)(nil)
	_ shm.Handle = (*BoundedSemaphore)(nil)
	_ shm.Handle = (*Event)(nil)
	_ shm.Handle = (*Condition)(nil)
	_ shm.Handle = (*Barrier)(nil)
)

// ShareDesc returns the segment l lives in and a descriptor that reopens it in another process.
func (l *Lock) ShareDesc() (*shm.Segment, string) { return l.c.seg, l.c.name }

// AttachShare makes the zero value l a handle on the Lock desc in seg (a child process's side).
func (l *Lock) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(l, func() (*Lock, error) { return OpenLock(seg, desc) })
}

// ShareDesc returns the segment r lives in and a descriptor that reopens it
// in another process. The receiver gets its own Owner, as a new OpenRLock.
func (r *RLock) ShareDesc() (*shm.Segment, string) { return r.c.seg, r.c.name }

// AttachShare makes the zero value r a handle on the RLock desc in seg (a child process's side).
func (r *RLock) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(r, func() (*RLock, error) { return OpenRLock(seg, desc) })
}

// ShareDesc returns the segment s lives in and a descriptor that reopens it in another process.
func (s *Semaphore) ShareDesc() (*shm.Segment, string) { return shm.SegmentOf(s.c.st), s.c.name }

// AttachShare makes the zero value s a handle on the Semaphore desc in seg (a child process's side).
func (s *Semaphore) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(s, func() (*Semaphore, error) { return OpenSemaphore(seg, desc) })
}

// ShareDesc returns the segment s lives in and a descriptor that reopens it in another process.
func (s *BoundedSemaphore) ShareDesc() (*shm.Segment, string) {
	return shm.SegmentOf(s.c.st), s.c.name
}

// AttachShare makes the zero value s a handle on the BoundedSemaphore desc in seg (a child process's side).
func (s *BoundedSemaphore) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(s, func() (*BoundedSemaphore, error) { return OpenBoundedSemaphore(seg, desc) })
}

// ShareDesc returns the segment e lives in and a descriptor that reopens it in another process.
func (e *Event) ShareDesc() (*shm.Segment, string) { return shm.SegmentOf(e.st), e.name }

// AttachShare makes the zero value e a handle on the Event desc in seg (a child process's side).
func (e *Event) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(e, func() (*Event, error) { return OpenEvent(seg, desc) })
}

// ShareDesc returns the segment c lives in and a descriptor that reopens it
// in another process, together with its lock.
func (c *Condition) ShareDesc() (*shm.Segment, string) { return shm.SegmentOf(c.st), c.name }

// AttachShare makes the zero value c a handle on the Condition desc in seg, and on its lock (a child process's side).
func (c *Condition) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(c, func() (*Condition, error) { return OpenCondition(seg, desc) })
}

// ShareDesc returns the segment b lives in and a descriptor that reopens it in another process.
func (b *Barrier) ShareDesc() (*shm.Segment, string) { return b.seg, b.name }

// AttachShare makes the zero value b a handle on the Barrier desc in seg (a child process's side).
func (b *Barrier) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(b, func() (*Barrier, error) { return OpenBarrier(seg, desc) })
}
