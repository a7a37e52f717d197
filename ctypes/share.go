package ctypes

import (
	"github.com/shmkit/shmkit/internal/share"
	"github.com/shmkit/shmkit/shm"
)

// This file implements shm.Handle for the value and array handles, so that
// one passed in a child process's arguments (package proc) arrives open,
// with its lock. The descriptor is the object name; the receiver checks
// the typecode against its type parameter as the Open functions do, and
// accepts any length.

var (
	_ shm.Handle = (*Value[int64])(nil)
	_ shm.Handle = (*Array[int64])(nil)
	_ shm.Handle = (*RawValue[int64])(nil)
	_ shm.Handle = (*RawArray[int64])(nil)
	_ shm.Handle = (*AnyValue)(nil)
	_ shm.Handle = (*AnyArray)(nil)
)

// desc is the ShareDesc of every ctypes handle.
func (o *object) desc() (*shm.Segment, string) { return o.obj.Segment(), o.obj.Name() }

// ShareDesc returns the segment v lives in and a descriptor that reopens it in another process.
func (v *Value[T]) ShareDesc() (*shm.Segment, string) { return v.obj.desc() }

// AttachShare makes the zero value v a handle on the Value desc in seg, with its lock (a child process's side).
func (v *Value[T]) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(v, func() (*Value[T], error) { return OpenValue[T](seg, desc) })
}

// ShareDesc returns the segment a lives in and a descriptor that reopens it in another process.
func (a *Array[T]) ShareDesc() (*shm.Segment, string) { return a.obj.desc() }

// AttachShare makes the zero value a a handle on the Array desc in seg, with its lock (a child process's side).
func (a *Array[T]) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(a, func() (*Array[T], error) { return OpenArray[T](seg, desc, AnyLen) })
}

// ShareDesc returns the segment v lives in and a descriptor that reopens it in another process.
func (v *RawValue[T]) ShareDesc() (*shm.Segment, string) { return v.obj.desc() }

// AttachShare makes the zero value v a handle on the RawValue desc in seg (a child process's side).
func (v *RawValue[T]) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(v, func() (*RawValue[T], error) { return OpenRawValue[T](seg, desc) })
}

// ShareDesc returns the segment a lives in and a descriptor that reopens it in another process.
func (a *RawArray[T]) ShareDesc() (*shm.Segment, string) { return a.obj.desc() }

// AttachShare makes the zero value a a handle on the RawArray desc in seg (a child process's side).
func (a *RawArray[T]) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(a, func() (*RawArray[T], error) { return OpenRawArray[T](seg, desc, AnyLen) })
}

// ShareDesc returns the segment v lives in and a descriptor that reopens it in another process.
func (v *AnyValue) ShareDesc() (*shm.Segment, string) { return v.obj.desc() }

// AttachShare makes the zero value v a handle on the AnyValue desc in seg, with its lock if it has one (a child process's side).
func (v *AnyValue) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(v, func() (*AnyValue, error) { return OpenValueOf(seg, desc, 0) })
}

// ShareDesc returns the segment a lives in and a descriptor that reopens it in another process.
func (a *AnyArray) ShareDesc() (*shm.Segment, string) { return a.obj.desc() }

// AttachShare makes the zero value a a handle on the AnyArray desc in seg, with its lock if it has one (a child process's side).
func (a *AnyArray) AttachShare(seg *shm.Segment, desc string) error {
	return share.Attach(a, func() (*AnyArray, error) { return OpenArrayOf(seg, desc, 0, AnyLen) })
}
