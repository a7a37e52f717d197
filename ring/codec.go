package ring

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
)

// Codec turns values of type T into messages and back.
type Codec[T any] interface {
	// Append appends the encoding of *v to dst.
	Append(dst []byte, v *T) ([]byte, error)
	// Decode decodes b into *v. b may alias shared memory and is valid
	// only during the call: Decode must copy what it keeps.
	Decode(b []byte, v *T) error
}

// FixedCodec is a Codec whose encodings all have FixedSize bytes, so typed
// senders can encode straight into a reserved record (zero copies besides
// the encoding itself).
type FixedCodec[T any] interface {
	Codec[T]
	FixedSize() int
	// Put encodes *v into dst, which has FixedSize bytes.
	Put(dst []byte, v *T)
}

// Plain is the zero-copy codec for fixed-size types without pointers
// (numbers, bools, arrays and structs of them): a message is the value's
// memory, native little-endian layout included padding. Create it with
// NewPlain, which checks T.
type Plain[T any] struct{ size int }

// NewPlain returns the Plain codec for T, or ErrCodec if T holds a pointer,
// slice, string, map, channel, function or interface (anything whose bytes
// mean nothing in another process).
func NewPlain[T any]() (*Plain[T], error) {
	t := reflect.TypeFor[T]()
	if err := plainType(t); err != nil {
		return nil, errorf(ErrCodec, "plain codec for %v: %v", t, err)
	}
	return &Plain[T]{size: int(t.Size())}, nil
}

func plainType(t reflect.Type) error {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return nil
	case reflect.Array:
		return plainType(t.Elem())
	case reflect.Struct:
		for i := 0; i < t.NumField(); i++ {
			if err := plainType(t.Field(i).Type); err != nil {
				return fmt.Errorf("field %s: %w", t.Field(i).Name, err)
			}
		}
		return nil
	}
	return fmt.Errorf("%v is not plain data", t)
}

// FixedSize returns the size of T.
func (p *Plain[T]) FixedSize() int { return p.size }

// Append appends the bytes of *v.
func (p *Plain[T]) Append(dst []byte, v *T) ([]byte, error) {
	return append(dst, plainBytes(v)...), nil
}

// Put copies the bytes of *v into dst.
func (p *Plain[T]) Put(dst []byte, v *T) { copy(dst, plainBytes(v)) }

// Decode copies b into *v; a message of another size is ErrCodec.
func (p *Plain[T]) Decode(b []byte, v *T) error {
	if len(b) != p.size {
		return errorf(ErrCodec, "plain codec: message of %d bytes for a %d-byte value", len(b), p.size)
	}
	copy(plainBytes(v), b)
	return nil
}

// DefaultCodec returns the codec typed queues use when given none: Plain
// for a fixed-size pointer-free T (zero-copy), Gob otherwise.
func DefaultCodec[T any]() Codec[T] {
	if p, err := NewPlain[T](); err == nil {
		return p
	}
	return Gob[T]{}
}

// Gob is the general codec: each message is a self-contained encoding/gob
// stream of one value (type information included, so any process can
// decode any message on its own). The zero value is ready to use.
type Gob[T any] struct{}

// Append appends the gob encoding of *v.
func (Gob[T]) Append(dst []byte, v *T) ([]byte, error) {
	buf := bytes.NewBuffer(dst)
	if err := gob.NewEncoder(buf).Encode(v); err != nil {
		return dst, errorf(ErrCodec, "gob encode: %v", err)
	}
	return buf.Bytes(), nil
}

// Decode decodes a gob message into *v.
func (Gob[T]) Decode(b []byte, v *T) error {
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(v); err != nil {
		return errorf(ErrCodec, "gob decode: %v", err)
	}
	return nil
}
