package dict

import (
	"github.com/shmkit/shmkit/shm"
)

// The handle-passing contract: proc hands a handle to a child process as
// (segment, desc) and the child calls AttachShare on a zero value of the
// same type. desc is the object name: the root object records everything
// else (stripes, limits, the current table).

// ShareDesc returns the segment m lives in and a descriptor that reopens it
// in another process.
func (m *Map) ShareDesc() (seg *shm.Segment, desc string) { return m.c.seg, m.c.name }

// AttachShare makes the zero value m a handle on the Map desc in seg (a
// child process's side).
func (m *Map) AttachShare(seg *shm.Segment, desc string) error {
	o, err := OpenMap(seg, desc)
	if err != nil {
		return err
	}
	*m = *o
	return nil
}

// ShareDesc returns the segment l lives in and a descriptor that reopens it.
func (l *List) ShareDesc() (seg *shm.Segment, desc string) { return l.c.seg, l.c.name }

// AttachShare makes the zero value l a handle on the List desc in seg.
func (l *List) AttachShare(seg *shm.Segment, desc string) error {
	o, err := OpenList(seg, desc)
	if err != nil {
		return err
	}
	*l = *o
	return nil
}

// ShareDesc returns the segment n lives in and a descriptor that reopens it.
func (n *Namespace) ShareDesc() (seg *shm.Segment, desc string) { return n.c.seg, n.c.name }

// AttachShare makes the zero value n a handle on the Namespace desc in seg.
func (n *Namespace) AttachShare(seg *shm.Segment, desc string) error {
	o, err := OpenNamespace(seg, desc)
	if err != nil {
		return err
	}
	*n = *o
	return nil
}

// ShareDesc returns the segment of the underlying Map and its descriptor.
func (t *TypedMap[V]) ShareDesc() (seg *shm.Segment, desc string) { return t.M.ShareDesc() }

// AttachShare makes the zero value t a view of the Map desc in seg, with
// ring.DefaultCodec[V] unless t.Codec is already set.
func (t *TypedMap[V]) AttachShare(seg *shm.Segment, desc string) error {
	m := new(Map)
	if err := m.AttachShare(seg, desc); err != nil {
		return err
	}
	*t = *NewTypedMap(m, t.Codec)
	return nil
}

// ShareDesc returns the segment of the underlying List and its descriptor.
func (t *TypedList[V]) ShareDesc() (seg *shm.Segment, desc string) { return t.L.ShareDesc() }

// AttachShare makes the zero value t a view of the List desc in seg, with
// ring.DefaultCodec[V] unless t.Codec is already set.
func (t *TypedList[V]) AttachShare(seg *shm.Segment, desc string) error {
	l := new(List)
	if err := l.AttachShare(seg, desc); err != nil {
		return err
	}
	*t = *NewTypedList(l, t.Codec)
	return nil
}

// ShareDesc returns the segment of the underlying Namespace and its
// descriptor.
func (s *Struct[T]) ShareDesc() (seg *shm.Segment, desc string) { return s.NS.ShareDesc() }

// AttachShare makes the zero value s a view of the Namespace desc in seg.
func (s *Struct[T]) AttachShare(seg *shm.Segment, desc string) error {
	n := new(Namespace)
	if err := n.AttachShare(seg, desc); err != nil {
		return err
	}
	v, err := NewStruct[T](n)
	if err != nil {
		return err
	}
	*s = *v
	return nil
}

// Every handle travels in a child's arguments (package proc).
var (
	_ shm.Handle = (*Map)(nil)
	_ shm.Handle = (*List)(nil)
	_ shm.Handle = (*Namespace)(nil)
	_ shm.Handle = (*TypedMap[int])(nil)
	_ shm.Handle = (*TypedList[int])(nil)
	_ shm.Handle = (*Struct[struct{}])(nil)
)
