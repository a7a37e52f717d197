package ctypes

import (
	"math"
	"reflect"

	"github.com/shmkit/shmkit/internal/errtext"
)

// convert turns a Go number into T for the typecode-driven API: integers
// must fit (ErrRange, like Python's OverflowError), floats convert only to
// float types (an integer element given 1.5 is Python's TypeError,
// ErrValueType), and a float64 too large for float32 is ErrRange.
func convert[T Scalar](v any) (T, error) {
	var z T
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return z, errtext.Errorf("%w: nil", ErrValueType)
	}
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		x := rv.Int()
		t := T(x)
		if isFloat[T]() {
			return t, nil
		}
		if int64(t) != x || (x < 0) != (t < 0) {
			return z, errtext.Errorf("%w: %d does not fit %T", ErrRange, x, z)
		}
		return t, nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		x := rv.Uint()
		t := T(x)
		if isFloat[T]() {
			return t, nil
		}
		if uint64(t) != x || t < 0 {
			return z, errtext.Errorf("%w: %d does not fit %T", ErrRange, x, z)
		}
		return t, nil
	case reflect.Float32, reflect.Float64:
		if !isFloat[T]() {
			return z, errtext.Errorf("%w: %v is a float, %T wants an integer", ErrValueType, v, z)
		}
		f := rv.Float()
		t := T(f)
		if math.IsInf(float64(t), 0) && !math.IsInf(f, 0) {
			return z, errtext.Errorf("%w: %g does not fit %T", ErrRange, f, z)
		}
		return t, nil
	case reflect.Bool:
		if rv.Bool() {
			return 1, nil
		}
		return 0, nil
	}
	return z, errtext.Errorf("%w: %T", ErrValueType, v)
}

// cells is the typecode-driven view of a RawArray[T], for AnyValue and
// AnyArray: values travel as the Go type of the typecode (float64 for 'd',
// int32 for 'i', ...).
type cells interface {
	length() int
	getAny(i int) any
	setAny(i int, v any) (any, error) // returns the value stored
	addAny(i int, delta any) (any, error)
	float64At(i int) float64
	int64At(i int) int64
	slice(i, j int) (cells, error)
}

func (a *RawArray[T]) slice(i, j int) (cells, error) {
	s, err := a.Slice(i, j)
	if err != nil {
		return nil, err // not s: a nil *RawArray would be a non-nil cells
	}
	return s, nil
}

func (a *RawArray[T]) length() int { return len(a.data) }

func (a *RawArray[T]) getAny(i int) any { return a.Get(i) }

func (a *RawArray[T]) setAny(i int, v any) (any, error) {
	x, err := convert[T](v)
	if err != nil {
		return nil, errtext.Errorf("ctypes: %q[%d] (%v): %w", a.Name(), i, a.Typecode(), err)
	}
	a.Set(i, x)
	return x, nil
}

func (a *RawArray[T]) addAny(i int, delta any) (any, error) {
	d, err := convert[T](delta)
	if err != nil {
		return nil, errtext.Errorf("ctypes: %q[%d] (%v): %w", a.Name(), i, a.Typecode(), err)
	}
	return a.Add(i, d), nil
}

func (a *RawArray[T]) float64At(i int) float64 { return float64(a.Get(i)) }

func (a *RawArray[T]) int64At(i int) int64 { return int64(a.Get(i)) }

// cellsOver lays the array of obj's typecode over obj.
func cellsOver(obj *object) cells {
	switch obj.code {
	case Int8:
		return rawArrayOver[int8](obj)
	case Uint8, Char:
		return rawArrayOver[uint8](obj)
	case Int16:
		return rawArrayOver[int16](obj)
	case Uint16:
		return rawArrayOver[uint16](obj)
	case Int32, Wchar:
		return rawArrayOver[int32](obj)
	case Uint32:
		return rawArrayOver[uint32](obj)
	case Int64, Long:
		return rawArrayOver[int64](obj)
	case Uint64, Ulong:
		return rawArrayOver[uint64](obj)
	case Float32:
		return rawArrayOver[float32](obj)
	default:
		return rawArrayOver[float64](obj)
	}
}

// initValues converts sizeOrInit, as Python's Array(typecode,
// size_or_initializer) takes it, into a length and a fill function.
func initValues(code Typecode, sizeOrInit any) (int, func(c cells) error, error) {
	rv := reflect.ValueOf(sizeOrInit)
	switch {
	case !rv.IsValid():
		return 0, nil, errtext.Errorf("%w: nil size or initializer", ErrValueType)
	case rv.CanInt():
		n := rv.Int()
		if n < 0 || n > math.MaxInt32 {
			return 0, nil, errtext.Errorf("%w: length %d", ErrRange, n)
		}
		return int(n), nil, nil
	case rv.CanUint():
		n := rv.Uint()
		if n > math.MaxInt32 {
			return 0, nil, errtext.Errorf("%w: length %d", ErrRange, n)
		}
		return int(n), nil, nil
	case rv.Kind() == reflect.Slice || rv.Kind() == reflect.Array:
		// Check every element before the object exists, so a bad
		// initializer burns no name.
		vals, err := numbers(code, sizeOrInit)
		if err != nil {
			return 0, nil, errtext.Errorf("initializer%w", err)
		}
		return len(vals), func(c cells) error {
			for i, v := range vals {
				if _, err := c.setAny(i, v); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}
	return 0, nil, errtext.Errorf("%w: size or initializer of type %T", ErrValueType, sizeOrInit)
}

// numbers returns the elements of src, a slice or array of Go numbers,
// after checking that each converts to code's element type; the error
// starts with the index ("[3]: ...").
func numbers(code Typecode, src any) ([]any, error) {
	rv := reflect.ValueOf(src)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, errtext.Errorf(": %w: %T is not a slice or array", ErrValueType, src)
	}
	vals := make([]any, rv.Len())
	for i := range vals {
		vals[i] = rv.Index(i).Interface()
		if err := checkConvert(code, vals[i]); err != nil {
			return nil, errtext.Errorf("[%d]: %w", i, err)
		}
	}
	return vals, nil
}

// checkConvert reports whether v converts to code's element type.
func checkConvert(code Typecode, v any) error {
	var err error
	switch code.Type().Kind() {
	case reflect.Int8:
		_, err = convert[int8](v)
	case reflect.Uint8:
		_, err = convert[uint8](v)
	case reflect.Int16:
		_, err = convert[int16](v)
	case reflect.Uint16:
		_, err = convert[uint16](v)
	case reflect.Int32:
		_, err = convert[int32](v)
	case reflect.Uint32:
		_, err = convert[uint32](v)
	case reflect.Int64:
		_, err = convert[int64](v)
	case reflect.Uint64:
		_, err = convert[uint64](v)
	case reflect.Float32:
		_, err = convert[float32](v)
	default:
		_, err = convert[float64](v)
	}
	return err
}
