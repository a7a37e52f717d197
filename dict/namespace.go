package dict

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"strings"

	"github.com/shmkit/shmkit/shm"
)

// Namespace is a record of named attributes in shared memory, the
// counterpart of Manager().Namespace(): ns.Set(ctx, "a", 10) in one process,
// ns.Get("a") in another. Attribute values are scalars (bool, the integer
// and float kinds), strings and byte slices, stored with their Go kind so
// Get returns the type Set stored. As in CPython, names starting with "_"
// are not shared (ErrInvalid). Each attribute is one entry of a map, so
// every Get sees a whole value and the Map's guarantees hold per attribute.
// The zero value is not usable: create with NewNamespace, attach with
// OpenNamespace. See Struct for a typed view.
type Namespace struct {
	c *core
}

// NewNamespace creates an empty Namespace named name in seg. o may be nil.
func NewNamespace(seg *shm.Segment, name string, o *Options) (*Namespace, error) {
	c, err := create(seg, name, KindNamespace, o)
	if err != nil {
		return nil, err
	}
	return &Namespace{c: c}, nil
}

// OpenNamespace attaches to the Namespace named name in seg.
func OpenNamespace(seg *shm.Segment, name string) (*Namespace, error) {
	c, err := open(seg, name, KindNamespace)
	if err != nil {
		return nil, err
	}
	return &Namespace{c: c}, nil
}

// Name returns the Namespace's object name.
func (n *Namespace) Name() string { return n.c.name }

func (n *Namespace) checkAttr(attr string) error {
	if attr == "" || strings.HasPrefix(attr, "_") {
		return n.c.fail(ErrInvalid, "attribute %q: empty or private (leading _)", attr)
	}
	return nil
}

// Set stores v as attribute attr. v must be a bool, an integer or float of
// any size, a string or a []byte (ErrInvalid otherwise).
func (n *Namespace) Set(ctx context.Context, attr string, v any) error {
	if err := n.checkAttr(attr); err != nil {
		return err
	}
	b, err := encodeScalar(nil, reflect.ValueOf(v))
	if err != nil {
		return n.c.fail(ErrInvalid, "attribute %q: %v", attr, err)
	}
	_, _, err = n.c.set(ctx, attr, b, setAlways, 0)
	return err
}

// Get returns attribute attr with the type it was stored with, or
// ErrNotFound (CPython's AttributeError).
func (n *Namespace) Get(attr string) (any, error) {
	if err := n.checkAttr(attr); err != nil {
		return nil, err
	}
	b, _, ok, err := n.c.get(nil, attr)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, n.c.fail(ErrNotFound, "attribute %q", attr)
	}
	v, err := decodeScalar(b)
	if err != nil {
		return nil, n.c.fail(ErrCorrupt, "attribute %q: %v", attr, err)
	}
	return v.Interface(), nil
}

// Delete removes attribute attr and reports whether it was present.
func (n *Namespace) Delete(ctx context.Context, attr string) (bool, error) {
	if err := n.checkAttr(attr); err != nil {
		return false, err
	}
	return n.c.del(ctx, attr, false, 0)
}

// Attrs returns a copy of every attribute (Map.Range's consistency).
func (n *Namespace) Attrs() (map[string]any, error) {
	out := map[string]any{}
	var derr error
	err := n.c.rangeEntries(func(e entry) bool {
		v, err := decodeScalar(e.value)
		if err != nil {
			derr = n.c.fail(ErrCorrupt, "attribute %q: %v", e.key, err)
			return false
		}
		out[string(e.key)] = v.Interface()
		return true
	})
	if err == nil {
		err = derr
	}
	return out, err
}

// Revision returns the namespace's revision (see Map.Revision).
func (n *Namespace) Revision() uint64 { return n.c.revisionOr0() }

// Watch waits until the namespace's Revision is above since (see Map.Watch).
func (n *Namespace) Watch(ctx context.Context, since uint64) (uint64, error) {
	return n.c.watch(ctx, since)
}

// Stats returns the namespace's figures.
func (n *Namespace) Stats() (Stats, error) { return n.c.stats() }

// RecoveredWriters returns how many dead writers were recovered.
func (n *Namespace) RecoveredWriters() uint64 { return n.c.recoveredOr0() }

// encodeScalar appends a value's encoding: its reflect.Kind byte, then 8
// little-endian bytes for scalars or the bytes of a string or []byte.
func encodeScalar(dst []byte, v reflect.Value) ([]byte, error) {
	if !v.IsValid() {
		return nil, fmt.Errorf("nil value")
	}
	k := v.Kind()
	dst = append(dst, byte(k))
	switch {
	case k == reflect.Bool:
		var x uint64
		if v.Bool() {
			x = 1
		}
		return binary.LittleEndian.AppendUint64(dst, x), nil
	case v.CanInt():
		return binary.LittleEndian.AppendUint64(dst, uint64(v.Int())), nil
	case v.CanUint():
		return binary.LittleEndian.AppendUint64(dst, v.Uint()), nil
	case v.CanFloat():
		return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v.Float())), nil
	case k == reflect.String:
		return append(dst, v.String()...), nil
	case k == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
		return append(dst, v.Bytes()...), nil
	}
	return nil, fmt.Errorf("type %v is not a scalar, string or []byte", v.Type())
}

// scalarTypes maps a stored kind to the type Get returns.
var scalarTypes = map[reflect.Kind]reflect.Type{
	reflect.Bool: reflect.TypeFor[bool](), reflect.Int: reflect.TypeFor[int](),
	reflect.Int8: reflect.TypeFor[int8](), reflect.Int16: reflect.TypeFor[int16](),
	reflect.Int32: reflect.TypeFor[int32](), reflect.Int64: reflect.TypeFor[int64](),
	reflect.Uint: reflect.TypeFor[uint](), reflect.Uint8: reflect.TypeFor[uint8](),
	reflect.Uint16: reflect.TypeFor[uint16](), reflect.Uint32: reflect.TypeFor[uint32](),
	reflect.Uint64: reflect.TypeFor[uint64](), reflect.Uintptr: reflect.TypeFor[uintptr](),
	reflect.Float32: reflect.TypeFor[float32](), reflect.Float64: reflect.TypeFor[float64](),
	reflect.String: reflect.TypeFor[string](), reflect.Slice: reflect.TypeFor[[]byte](),
}

// decodeScalar decodes what encodeScalar wrote, as a new value of the
// stored kind.
func decodeScalar(b []byte) (reflect.Value, error) {
	if len(b) == 0 {
		return reflect.Value{}, fmt.Errorf("empty encoding")
	}
	k := reflect.Kind(b[0])
	t, ok := scalarTypes[k]
	if !ok {
		return reflect.Value{}, fmt.Errorf("unknown kind %d", b[0])
	}
	v := reflect.New(t).Elem()
	return v, setScalar(v, k, b[1:])
}

// setScalar stores the payload p of a value of stored kind k into v, which
// must be of a compatible kind.
func setScalar(v reflect.Value, k reflect.Kind, p []byte) error {
	num := func() (uint64, error) {
		if len(p) != 8 {
			return 0, fmt.Errorf("%v encoded in %d bytes", k, len(p))
		}
		return binary.LittleEndian.Uint64(p), nil
	}
	mismatch := fmt.Errorf("stored %v, field is %v", k, v.Type())
	switch {
	case k == reflect.String || k == reflect.Slice:
		switch {
		case v.Kind() == reflect.String:
			v.SetString(string(p))
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
			v.SetBytes(append([]byte(nil), p...))
		default:
			return mismatch
		}
		return nil
	}
	x, err := num()
	if err != nil {
		return err
	}
	switch {
	case k == reflect.Bool && v.Kind() == reflect.Bool:
		v.SetBool(x != 0)
	case k >= reflect.Int && k <= reflect.Int64 && v.CanInt():
		v.SetInt(int64(x))
	case k >= reflect.Uint && k <= reflect.Uintptr && v.CanUint():
		v.SetUint(x)
	case (k == reflect.Float32 || k == reflect.Float64) && v.CanFloat():
		v.SetFloat(math.Float64frombits(x))
	default:
		return mismatch
	}
	return nil
}

// Struct is a typed view of a Namespace: the exported fields of the struct
// type T (bool, integers, floats, strings, []byte) are attributes of the
// same names. Load and Store are atomic per field, not for the struct as a
// whole (as attribute access on a CPython Namespace).
type Struct[T any] struct {
	NS *Namespace
}

// NewStruct returns the view of ns as T; ErrInvalid if T is not a struct
// of supported fields.
func NewStruct[T any](ns *Namespace) (*Struct[T], error) {
	if err := checkStruct(reflect.TypeFor[T]()); err != nil {
		return nil, ns.c.fail(ErrInvalid, "%v", err)
	}
	return &Struct[T]{NS: ns}, nil
}

func checkStruct(t reflect.Type) error {
	if t.Kind() != reflect.Struct {
		return fmt.Errorf("%v is not a struct", t)
	}
	for f := range t.Fields() {
		if !f.IsExported() {
			continue
		}
		if _, err := encodeScalar(nil, reflect.New(f.Type).Elem()); err != nil {
			return fmt.Errorf("field %s: %v", f.Name, err)
		}
	}
	return nil
}

// Store sets every exported field of v as an attribute.
func (s *Struct[T]) Store(ctx context.Context, v T) error {
	rv := reflect.ValueOf(v)
	for _, f := range reflect.VisibleFields(rv.Type()) {
		if !f.IsExported() || len(f.Index) != 1 {
			continue
		}
		if err := s.NS.Set(ctx, f.Name, rv.Field(f.Index[0]).Interface()); err != nil {
			return err
		}
	}
	return nil
}

// Load reads every exported field of T from its attribute; a field with
// no attribute keeps its zero value.
func (s *Struct[T]) Load() (T, error) {
	var v T
	rv := reflect.ValueOf(&v).Elem()
	for _, f := range reflect.VisibleFields(rv.Type()) {
		if !f.IsExported() || len(f.Index) != 1 {
			continue
		}
		b, _, ok, err := s.NS.c.get(nil, f.Name)
		if err != nil {
			return v, err
		}
		if !ok {
			continue
		}
		if len(b) == 0 {
			return v, s.NS.c.fail(ErrCorrupt, "attribute %q: empty", f.Name)
		}
		if err := setScalar(rv.Field(f.Index[0]), reflect.Kind(b[0]), b[1:]); err != nil {
			return v, s.NS.c.fail(ErrInvalid, "attribute %q: %v", f.Name, err)
		}
	}
	return v, nil
}
