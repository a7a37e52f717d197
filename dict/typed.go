package dict

import (
	"context"

	"github.com/shmkit/shmkit/ring"
)

// TypedMap is a view of a Map whose values are Vs, encoded with a ring
// codec: ring.Plain for fixed-size plain types (the value's bytes, no
// encoding cost), ring.Gob for the rest. Keys stay strings. The encoded
// value must fit the map's ValueMax.
type TypedMap[V any] struct {
	M     *Map
	Codec ring.Codec[V]
}

// NewTypedMap returns a typed view of m. A nil codec picks
// ring.DefaultCodec[V]: ring.Plain for a plain fixed-size V, ring.Gob
// otherwise.
func NewTypedMap[V any](m *Map, codec ring.Codec[V]) *TypedMap[V] {
	if codec == nil {
		codec = ring.DefaultCodec[V]()
	}
	return &TypedMap[V]{M: m, Codec: codec}
}

// Get returns the value under key, or ErrNotFound.
func (t *TypedMap[V]) Get(key string) (V, error) {
	v, _, ok, err := t.Lookup(key)
	if err == nil && !ok {
		err = t.M.c.fail(ErrNotFound, "key %q", key)
	}
	return v, err
}

// Lookup returns the value under key and its revision; ok is false if key
// is absent.
func (t *TypedMap[V]) Lookup(key string) (v V, rev uint64, ok bool, err error) {
	var buf [128]byte
	b, rev, ok, err := t.M.c.get(buf[:0], key)
	if err != nil || !ok {
		return v, 0, false, err
	}
	if err := t.Codec.Decode(b, &v); err != nil {
		return v, 0, false, t.M.c.wrap(err)
	}
	return v, rev, true, nil
}

func (t *TypedMap[V]) encode(v V) ([]byte, error) {
	var buf [128]byte
	b, err := t.Codec.Append(buf[:0], &v)
	if err != nil {
		return nil, t.M.c.wrap(err)
	}
	return b, nil
}

// Set stores v under key and returns the entry's revision.
func (t *TypedMap[V]) Set(ctx context.Context, key string, v V) (uint64, error) {
	b, err := t.encode(v)
	if err != nil {
		return 0, err
	}
	return t.M.Set(ctx, key, b)
}

// CompareAndSwap stores v under key if the entry's revision is old (0:
// absent); see Map.CompareAndSwap.
func (t *TypedMap[V]) CompareAndSwap(ctx context.Context, key string, old uint64, v V) (uint64, bool, error) {
	b, err := t.encode(v)
	if err != nil {
		return 0, false, err
	}
	return t.M.CompareAndSwap(ctx, key, old, b)
}

// SetIfAbsent stores v under key only if key is absent (Python's
// setdefault); see Map.SetIfAbsent.
func (t *TypedMap[V]) SetIfAbsent(ctx context.Context, key string, v V) (uint64, bool, error) {
	b, err := t.encode(v)
	if err != nil {
		return 0, false, err
	}
	return t.M.SetIfAbsent(ctx, key, b)
}

// Items returns a Go map copy of the entries (Map.Range's consistency).
func (t *TypedMap[V]) Items() (map[string]V, error) {
	out := map[string]V{}
	err := t.Range(func(k string, v V) bool {
		out[k] = v
		return true
	})
	return out, err
}

// Delete removes key; see Map.Delete.
func (t *TypedMap[V]) Delete(ctx context.Context, key string) (bool, error) {
	return t.M.Delete(ctx, key)
}

// Range calls fn with each key and decoded value (Map.Range's consistency).
func (t *TypedMap[V]) Range(fn func(key string, v V) bool) error {
	var derr error
	err := t.M.Range(func(k string, b []byte, _ uint64) bool {
		var v V
		if derr = t.Codec.Decode(b, &v); derr != nil {
			derr = t.M.c.wrap(derr)
			return false
		}
		return fn(k, v)
	})
	if err == nil {
		err = derr
	}
	return err
}

// Len returns the number of entries.
func (t *TypedMap[V]) Len() (int, error) { return t.M.Len() }

// TypedList is a view of a List whose items are Vs, encoded with a ring
// codec (see TypedMap).
type TypedList[V any] struct {
	L     *List
	Codec ring.Codec[V]
}

// NewTypedList returns a typed view of l. A nil codec picks
// ring.DefaultCodec[V].
func NewTypedList[V any](l *List, codec ring.Codec[V]) *TypedList[V] {
	if codec == nil {
		codec = ring.DefaultCodec[V]()
	}
	return &TypedList[V]{L: l, Codec: codec}
}

// Append adds v at the end and returns its index.
func (t *TypedList[V]) Append(ctx context.Context, v V) (int, error) {
	b, err := t.Codec.Append(nil, &v)
	if err != nil {
		return 0, t.L.c.wrap(err)
	}
	return t.L.Append(ctx, b)
}

// Extend appends vs in order, contiguously; see List.Extend.
func (t *TypedList[V]) Extend(ctx context.Context, vs []V) error {
	bs := make([][]byte, len(vs))
	for i := range vs {
		b, err := t.Codec.Append(nil, &vs[i])
		if err != nil {
			return t.L.c.wrap(err)
		}
		bs[i] = b
	}
	return t.L.Extend(ctx, bs)
}

// Get returns item i (negative counts from the end).
func (t *TypedList[V]) Get(i int) (V, error) {
	var v V
	b, err := t.L.Get(i)
	if err == nil {
		err = t.decode(b, &v)
	}
	return v, err
}

func (t *TypedList[V]) decode(b []byte, v *V) error {
	if err := t.Codec.Decode(b, v); err != nil {
		return t.L.c.wrap(err)
	}
	return nil
}

// Set replaces item i.
func (t *TypedList[V]) Set(ctx context.Context, i int, v V) error {
	b, err := t.Codec.Append(nil, &v)
	if err != nil {
		return t.L.c.wrap(err)
	}
	return t.L.Set(ctx, i, b)
}

// Pop removes and returns the last item.
func (t *TypedList[V]) Pop(ctx context.Context) (V, error) {
	var v V
	b, err := t.L.Pop(ctx)
	if err == nil {
		err = t.decode(b, &v)
	}
	return v, err
}

// Len returns the number of items.
func (t *TypedList[V]) Len() int { return t.L.Len() }

// Range calls fn with each index and item in order (List.Range's
// consistency) until fn returns false.
func (t *TypedList[V]) Range(fn func(i int, v V) bool) error {
	var derr error
	err := t.L.Range(func(i int, b []byte) bool {
		var v V
		if derr = t.decode(b, &v); derr != nil {
			return false
		}
		return fn(i, v)
	})
	if err == nil {
		err = derr
	}
	return err
}

// Copy returns the items as a Go slice.
func (t *TypedList[V]) Copy() ([]V, error) {
	var out []V
	err := t.Range(func(_ int, v V) bool {
		out = append(out, v)
		return true
	})
	return out, err
}
