package proc

import (
	"encoding"
	"encoding/gob"
	"fmt"
	"os"
	"reflect"
	"sync"

	"github.com/shmkit/shmkit/shm"
)

// A child's arguments travel as one gob stream. Every shmkit handle found
// in them (a field, a pointer, a slice or array element, at any depth of
// structs) is replaced by an index into a table of (segment, descriptor)
// pairs; the child attaches each segment once (an anonymous one from the
// descriptor it inherited, a named one by name and creation id) and calls
// AttachShare on a new value of the field's type. Plain values (anything
// without a handle inside) are gob-encoded as they are; as with gob,
// unexported fields do not travel.

var handleType = reflect.TypeFor[shm.Handle]()

// isHandle reports whether t is a pointer to a handle type.
func isHandle(t reflect.Type) bool { return t.Kind() == reflect.Pointer && t.Implements(handleType) }

var holders sync.Map // reflect.Type → bool: whether values of the type can hold a handle

// holdsHandle reports whether a value of type t can hold a handle where the
// walk finds it: in the type itself, behind pointers, in exported struct
// fields, in slice and array elements. Only finished answers go into the
// shared cache: a provisional one (the guard against recursive types) seen
// by another goroutine starting a child at the same time made it gob-encode
// a struct of handles.
func holdsHandle(t reflect.Type) bool {
	if v, ok := holders.Load(t); ok {
		return v.(bool)
	}
	r := holdsHandleIn(t, map[reflect.Type]bool{})
	holders.Store(t, r)
	return r
}

func holdsHandleIn(t reflect.Type, visiting map[reflect.Type]bool) bool {
	if v, ok := holders.Load(t); ok {
		return v.(bool)
	}
	if visiting[t] {
		return false // a recursive type refers back to itself: not through this
	}
	visiting[t] = true
	switch {
	case isHandle(t):
		return true
	case t.Kind() == reflect.Pointer, t.Kind() == reflect.Slice, t.Kind() == reflect.Array:
		return holdsHandleIn(t.Elem(), visiting)
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() && holdsHandleIn(f.Type, visiting) {
				return true
			}
		}
	}
	return false
}

// opaque reports whether a struct type without handles carries nothing gob
// would send: no exported field and no encoding method of its own. Such a
// value (struct{}, a type of only unexported state) is skipped rather than
// refused, as a field of such a type would be inside another struct.
func opaque(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return false
	}
	p := reflect.PointerTo(t)
	for _, m := range []reflect.Type{reflect.TypeFor[gob.GobEncoder](), reflect.TypeFor[encoding.BinaryMarshaler]()} {
		if t.Implements(m) || p.Implements(m) {
			return false
		}
	}
	for i := range t.NumField() {
		if t.Field(i).IsExported() {
			return false
		}
	}
	return true
}

// segRef tells the child how to attach one segment.
type segRef struct {
	Name       string // "" for an anonymous segment, passed as a descriptor
	CreationID uint64
	File       int // index among the anonymous segments' descriptors
}

// handleRef is one handle: a segment index and its descriptor.
type handleRef struct {
	Seg  int
	Desc string
}

// encoder walks a value, gob-encoding its plain parts and collecting its
// handles.
type encoder struct {
	enc     *gob.Encoder
	segs    []segRef
	files   []*os.File // the anonymous segments' descriptors, in order
	segIdx  map[*shm.Segment]int
	handles []handleRef
	reclaim []func() // what to give back once the child has exited
}

func (e *encoder) encode(v reflect.Value) error {
	t := v.Type()
	switch {
	case isHandle(t):
		if v.IsNil() {
			return e.enc.Encode(-1)
		}
		seg, desc := v.Interface().(shm.Sharer).ShareDesc()
		if seg == nil {
			return fmt.Errorf("%w: %v: its segment is closed, or its codec cannot be rebuilt in a child", ErrArgs, t)
		}
		i, ok := e.segIdx[seg]
		if !ok {
			// Closed, truncated, or a named one whose name is gone: the
			// child could not attach it.
			if err := seg.Health(); err != nil {
				return fmt.Errorf("%w: %v: %w", ErrArgs, t, err)
			}
			i = len(e.segs)
			ref := segRef{Name: seg.Name(), CreationID: seg.CreationID()}
			if ref.Name == "" {
				ref.File = len(e.files)
				e.files = append(e.files, seg.File())
			}
			e.segs = append(e.segs, ref)
			e.segIdx[seg] = i
		}
		e.handles = append(e.handles, handleRef{Seg: i, Desc: desc})
		if r, ok := v.Interface().(shm.Reclaimer); ok {
			e.reclaim = append(e.reclaim, func() { r.ReclaimShare(desc) })
		}
		return e.enc.Encode(len(e.handles) - 1)
	case t.Kind() == reflect.Pointer:
		if err := e.enc.Encode(!v.IsNil()); err != nil || v.IsNil() {
			return err
		}
		return e.encode(v.Elem())
	case !holdsHandle(t):
		if opaque(t) {
			return nil
		}
		if err := e.enc.EncodeValue(v); err != nil {
			return fmt.Errorf("%w: %v: %v", ErrArgs, t, err)
		}
		return nil
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				if err := e.encode(v.Field(i)); err != nil {
					return err
				}
			}
		}
		return nil
	default: // a slice or array of handles
		if err := e.enc.Encode(v.Len()); err != nil {
			return err
		}
		for i := range v.Len() {
			if err := e.encode(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
}

// decoder is encoder's mirror in the child.
type decoder struct {
	dec      *gob.Decoder
	segs     []*shm.Segment
	handles  []handleRef
	attached []shm.Releaser // the attached handles to release when the target ends
}

// maxLen bounds a slice length read from the stream: the parent is
// trusted, but a garbled stream must not make the child allocate wildly.
const maxLen = 1 << 24

func (d *decoder) decode(v reflect.Value) error {
	t := v.Type()
	switch {
	case isHandle(t):
		var i int
		if err := d.dec.Decode(&i); err != nil {
			return err
		}
		if i == -1 {
			return nil
		}
		if i < 0 || i >= len(d.handles) || d.handles[i].Seg < 0 || d.handles[i].Seg >= len(d.segs) {
			return fmt.Errorf("%w: handle %d of %d", ErrArgs, i, len(d.handles))
		}
		h := reflect.New(t.Elem())
		ref := d.handles[i]
		if err := h.Interface().(shm.Attacher).AttachShare(d.segs[ref.Seg], ref.Desc); err != nil {
			return fmt.Errorf("proc: attach %v: %w", t, err)
		}
		if r, ok := h.Interface().(shm.Releaser); ok {
			d.attached = append(d.attached, r)
		}
		v.Set(h)
		return nil
	case t.Kind() == reflect.Pointer:
		var present bool
		if err := d.dec.Decode(&present); err != nil || !present {
			return err
		}
		v.Set(reflect.New(t.Elem()))
		return d.decode(v.Elem())
	case !holdsHandle(t):
		if opaque(t) {
			return nil
		}
		return d.dec.DecodeValue(v)
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			if t.Field(i).IsExported() {
				if err := d.decode(v.Field(i)); err != nil {
					return err
				}
			}
		}
		return nil
	default:
		var n int
		if err := d.dec.Decode(&n); err != nil {
			return err
		}
		if t.Kind() == reflect.Slice {
			if n < 0 || n > maxLen {
				return fmt.Errorf("%w: slice of %d", ErrArgs, n)
			}
			v.Set(reflect.MakeSlice(t, n, n))
		} else if n != v.Len() {
			return fmt.Errorf("%w: array of %d, want %d", ErrArgs, n, v.Len())
		}
		for i := range n {
			if err := d.decode(v.Index(i)); err != nil {
				return err
			}
		}
		return nil
	}
}
