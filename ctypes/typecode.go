package ctypes

import (
	"fmt"
	"reflect"

	"github.com/shmkit/shmkit/internal/errtext"
)

// Typecode is one of Python's array/multiprocessing type codes, with the C
// sizes of Linux/amd64. It is stored in shared memory as one ASCII byte.
//
//	code  C type              Go type  size
//	b     signed char         int8     1
//	B     unsigned char       uint8    1
//	h     short               int16    2
//	H     unsigned short      uint16   2
//	i     int                 int32    4
//	I     unsigned int        uint32   4
//	l     long                int64    8
//	L     unsigned long       uint64   8
//	q     long long           int64    8
//	Q     unsigned long long  uint64   8
//	f     float               float32  4
//	d     double              float64  8
//	c     char                uint8    1    (a byte, ctypes.c_char)
//	u     wchar_t             int32    4    (a code point, ctypes.c_wchar)
type Typecode byte

// The typecodes.
const (
	Int8    Typecode = 'b'
	Uint8   Typecode = 'B'
	Int16   Typecode = 'h'
	Uint16  Typecode = 'H'
	Int32   Typecode = 'i'
	Uint32  Typecode = 'I'
	Long    Typecode = 'l'
	Ulong   Typecode = 'L'
	Int64   Typecode = 'q'
	Uint64  Typecode = 'Q'
	Float32 Typecode = 'f'
	Float64 Typecode = 'd'
	Char    Typecode = 'c'
	Wchar   Typecode = 'u'
)

var goTypes = map[Typecode]reflect.Type{
	Int8: reflect.TypeFor[int8](), Uint8: reflect.TypeFor[uint8](),
	Int16: reflect.TypeFor[int16](), Uint16: reflect.TypeFor[uint16](),
	Int32: reflect.TypeFor[int32](), Uint32: reflect.TypeFor[uint32](),
	Long: reflect.TypeFor[int64](), Ulong: reflect.TypeFor[uint64](),
	Int64: reflect.TypeFor[int64](), Uint64: reflect.TypeFor[uint64](),
	Float32: reflect.TypeFor[float32](), Float64: reflect.TypeFor[float64](),
	Char: reflect.TypeFor[uint8](), Wchar: reflect.TypeFor[int32](),
}

// ParseTypecode returns the typecode for r, or ErrTypecode.
func ParseTypecode(r rune) (Typecode, error) {
	if r >= 0 && r < 0x80 {
		if tc := Typecode(r); tc.Valid() {
			return tc, nil
		}
	}
	return 0, errtext.Errorf("ctypes: typecode %q: %w", r, ErrTypecode)
}

// Valid reports whether c is one of the typecodes.
func (c Typecode) Valid() bool { return goTypes[c] != nil }

// Size returns the size of one element in bytes, or 0 for an invalid code.
func (c Typecode) Size() int {
	if t := goTypes[c]; t != nil {
		return int(t.Size())
	}
	return 0
}

// Type returns the Go type an element of this code reads as, or nil for an
// invalid code.
func (c Typecode) Type() reflect.Type { return goTypes[c] }

// String returns the code as Python writes it ("d"), or a quoted number for
// an invalid code.
func (c Typecode) String() string {
	if c.Valid() {
		return string(rune(c))
	}
	return fmt.Sprintf("Typecode(%#02x)", byte(c))
}

// isInteger reports whether elements of this code are integers.
func (c Typecode) isInteger() bool { return c.Valid() && c != Float32 && c != Float64 }

// Scalar is the set of element types: the Go types of the typecodes.
// Named types with these underlying types are allowed.
type Scalar interface {
	~int8 | ~uint8 | ~int16 | ~uint16 | ~int32 | ~uint32 | ~int64 | ~uint64 | ~float32 | ~float64
}

// TypecodeFor returns the default typecode for T: q and Q for 64-bit
// integers (the same layout as l and L on Linux/amd64), B for uint8.
func TypecodeFor[T Scalar]() Typecode {
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Int8:
		return Int8
	case reflect.Uint8:
		return Uint8
	case reflect.Int16:
		return Int16
	case reflect.Uint16:
		return Uint16
	case reflect.Int32:
		return Int32
	case reflect.Uint32:
		return Uint32
	case reflect.Int64:
		return Int64
	case reflect.Uint64:
		return Uint64
	case reflect.Float32:
		return Float32
	default:
		return Float64
	}
}

// fits reports whether objects of code c can be read as T: same Go kind.
func fits[T Scalar](c Typecode) bool {
	t := c.Type()
	return t != nil && t.Kind() == reflect.TypeFor[T]().Kind()
}
