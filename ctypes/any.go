package ctypes

import (
	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/shm"
)

// AnyValue is a shared scalar whose typecode is known only at run time, as
// in Python's Value('d', 0.0): values come out as the Go type of the
// typecode (float64 for 'd', int32 for 'i', uint8 for 'B' and 'c') and go
// in as any Go number that the type can represent. Each access is atomic.
//
// After Segment.Close, and on a named segment whose file a peer truncated,
// the methods with an error result (Set, Add, Update) return an error
// wrapping shm.ErrClosed or shm.ErrSegmentTruncated, and those without one
// (Get, Float64, Int64) panic with such an error, as RawValue's do: a
// plain Go panic that recover and errors.Is tell apart, never a fatal fault
// of the process. Name, Typecode, Offset and GetLock read no shared memory
// and go on answering.
//
// An AnyValue made by NewValueOf, or opened on a value created with a lock,
// carries that lock (GetLock); one made by NewRawValueOf has none. The zero
// value is not usable.
type AnyValue struct {
	_     noCopy
	obj   *object
	c     cells
	guard *guard // nil for a raw value
}

// NewRawValueOf creates the raw value name of typecode code holding init.
func NewRawValueOf(seg *shm.Segment, name string, code Typecode, init any) (*AnyValue, error) {
	obj, c, err := createAny(seg, name, code, shapeValue, []any{init}, "")
	if err != nil {
		return nil, err
	}
	return &AnyValue{obj: obj, c: c}, nil
}

// createAny checks the initial values, then creates and fills the object.
func createAny(seg *shm.Segment, name string, code Typecode, shape byte, sizeOrInit any, lockName string) (*object, cells, error) {
	if !code.Valid() {
		return nil, nil, errtext.Errorf("ctypes: create %q: typecode %v: %w", name, code, ErrTypecode)
	}
	n, fill, err := initValues(code, sizeOrInit)
	if err != nil {
		return nil, nil, errtext.Errorf("ctypes: create %q (%v): %w", name, code, err)
	}
	obj, err := create(seg, name, code, shape, n, lockName, func(p []byte) error {
		if fill == nil {
			return nil
		}
		return fill(cellsOver(&object{payload: p, code: code, shape: shape, n: n, state: &noState}))
	})
	if err != nil {
		return nil, nil, err
	}
	return obj, cellsOver(obj), nil
}

// openAny attaches to name, which must have typecode code exactly (or any
// code if code is 0) and n elements (AnyLen: any).
func openAny(seg *shm.Segment, name string, code Typecode, shape byte, n int) (*object, error) {
	want := "any"
	if code != 0 {
		want = code.String()
	}
	return open(seg, name, shape, n, want, func(c Typecode) bool { return code == 0 || c == code })
}

// Name returns the object's name in its segment.
func (v *AnyValue) Name() string { return v.obj.obj.Name() }

// Typecode returns the stored typecode.
func (v *AnyValue) Typecode() Typecode { return v.obj.code }

// Offset returns the offset of the value from the segment base.
func (v *AnyValue) Offset() int { return v.obj.obj.Offset() + hdrSize }

// Get atomically loads the value as the Go type of its typecode.
func (v *AnyValue) Get() any { return v.c.getAny(0) }

// Set atomically stores x, converted to the element type: an integer that
// does not fit gives ErrRange, a float for an integer code ErrValueType.
func (v *AnyValue) Set(x any) error { return setAt(v.obj, v.c, 0, x) }

// Add atomically adds delta and returns the new value (see RawValue.Add).
func (v *AnyValue) Add(delta any) (any, error) { return addAt(v.obj, v.c, 0, delta) }

// setAt is Set of element i of c, o's elements, through run (closed and
// truncated segments are errors).
func setAt(o *object, c cells, i int, x any) error {
	return o.run(func() error {
		_, err := c.setAny(i, x)
		return err
	})
}

// addAt is Add of element i of c, o's elements, through run.
func addAt(o *object, c cells, i int, delta any) (x any, err error) {
	err = o.run(func() (err error) {
		x, err = c.addAny(i, delta)
		return err
	})
	return x, err
}

// Float64 atomically loads the value and converts it to float64.
func (v *AnyValue) Float64() float64 { return v.c.float64At(0) }

// Int64 atomically loads the value and converts it to int64 (a float is
// truncated toward zero, a 'Q' above MaxInt64 wraps, as Go conversions do).
func (v *AnyValue) Int64() int64 { return v.c.int64At(0) }

// AnyArray is a shared array whose typecode is known only at run time, as
// in Python's Array('i', range(10)). Elements travel as in AnyValue; each
// element access is atomic. After Segment.Close or a truncation by a peer,
// its methods answer as AnyValue's do: Set, Add, CopyFrom and Update
// return the error, Get, Float64, Int64 and CopyTo panic with it, and
// Name, Typecode, Offset, Len, Slice and GetLock go on answering. The zero
// value is not usable.
type AnyArray struct {
	_     noCopy
	obj   *object
	c     cells
	guard *guard // nil for a raw array
}

// NewRawArrayOf creates the raw array name of typecode code. sizeOrInit is
// a length (zero-filled) or a slice or array of Go numbers to copy, as
// Python's RawArray(typecode, size_or_initializer).
func NewRawArrayOf(seg *shm.Segment, name string, code Typecode, sizeOrInit any) (*AnyArray, error) {
	obj, c, err := createAny(seg, name, code, shapeArray, sizeOrInit, "")
	if err != nil {
		return nil, err
	}
	return &AnyArray{obj: obj, c: c}, nil
}

// Name returns the object's name in its segment.
func (a *AnyArray) Name() string { return a.obj.obj.Name() }

// Typecode returns the stored typecode.
func (a *AnyArray) Typecode() Typecode { return a.obj.code }

// Offset returns the offset of element 0 from the segment base.
func (a *AnyArray) Offset() int { return a.obj.obj.Offset() + hdrSize }

// Len returns the number of elements.
func (a *AnyArray) Len() int { return a.c.length() }

// Get atomically loads element i as the Go type of the typecode. An index
// outside [0, Len) panics, as a slice index does (the panic value wraps
// ErrIndex), here and in every element accessor of AnyArray.
func (a *AnyArray) Get(i int) any { return a.c.getAny(i) }

// Set atomically stores x into element i (conversions as AnyValue.Set:
// a value that does not convert is an error, ErrRange or ErrValueType).
func (a *AnyArray) Set(i int, x any) error { return setAt(a.obj, a.c, i, x) }

// Add atomically adds delta to element i and returns the new value.
func (a *AnyArray) Add(i int, delta any) (any, error) { return addAt(a.obj, a.c, i, delta) }

// Float64 atomically loads element i converted to float64.
func (a *AnyArray) Float64(i int) float64 { return a.c.float64At(i) }

// Int64 atomically loads element i converted to int64.
func (a *AnyArray) Int64(i int) int64 { return a.c.int64At(i) }

// Slice returns elements [i, j) as an array sharing the memory and the
// lock, as RawArray.Slice; bounds outside 0 <= i <= j <= Len give ErrIndex.
func (a *AnyArray) Slice(i, j int) (*AnyArray, error) {
	c, err := a.c.slice(i, j)
	if err != nil {
		return nil, err
	}
	return &AnyArray{obj: a.obj, c: c, guard: a.guard}, nil
}

// CopyTo loads min(Len, len(dst)) elements into dst, each as the Go type
// of the typecode, and returns how many: Python's arr[:] is
// a.CopyTo(make([]any, a.Len())). Each element is loaded atomically, the
// copy as a whole is not (run it inside Update for a consistent snapshot).
func (a *AnyArray) CopyTo(dst []any) int {
	n := min(len(dst), a.Len())
	for i := range n {
		dst[i] = a.c.getAny(i)
	}
	return n
}

// CopyFrom stores the elements of src, a slice or array of Go numbers,
// into the first min(Len, len(src)) elements and returns how many:
// Python's arr[:n] = src. Every value is checked first: one that does not
// convert gives ErrRange or ErrValueType and nothing is stored. Each store
// is atomic, the copy as a whole is not.
func (a *AnyArray) CopyFrom(src any) (int, error) {
	vals, err := numbers(a.Typecode(), src)
	if err != nil {
		return 0, errtext.Errorf("ctypes: %q (%v): copy from src%w", a.Name(), a.Typecode(), err)
	}
	n := min(len(vals), a.Len())
	stored := 0
	err = a.obj.run(func() error {
		for _, v := range vals[:n] {
			if _, err := a.c.setAny(stored, v); err != nil {
				return err
			}
			stored++
		}
		return nil
	})
	return stored, err
}

// OpenValueOf attaches to the value name, which must have typecode code
// (0: any). If it was created with a lock, the handle carries that lock.
func OpenValueOf(seg *shm.Segment, name string, code Typecode) (*AnyValue, error) {
	obj, err := openAny(seg, name, code, shapeValue, 1)
	if err != nil {
		return nil, err
	}
	g, err := attachGuard(seg, obj)
	if err != nil {
		return nil, err
	}
	return &AnyValue{obj: obj, c: cellsOver(obj), guard: g}, nil
}

// OpenArrayOf attaches to the array name, which must have typecode code
// (0: any) and n elements (AnyLen: any). If it was created with a lock, the
// handle carries that lock.
func OpenArrayOf(seg *shm.Segment, name string, code Typecode, n int) (*AnyArray, error) {
	obj, err := openAny(seg, name, code, shapeArray, n)
	if err != nil {
		return nil, err
	}
	g, err := attachGuard(seg, obj)
	if err != nil {
		return nil, err
	}
	return &AnyArray{obj: obj, c: cellsOver(obj), guard: g}, nil
}
