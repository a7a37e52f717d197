package ctypes

import (
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/shm"
)

// noCopy makes go vet's copylocks check flag copies of handles.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// RawOptions configures the creation of a raw value or array. The zero
// value (or nil) picks the default typecode for T.
type RawOptions struct {
	// Typecode overrides TypecodeFor[T], for example 'l' instead of 'q'
	// for int64; it must hold T (ErrTypeMismatch otherwise).
	Typecode Typecode
}

func (o *RawOptions) code() Typecode {
	if o == nil {
		return 0
	}
	return o.Typecode
}

// RawValue is a single shared scalar without a lock, the counterpart of
// multiprocessing.RawValue. Every operation is one atomic instruction (or a
// short compare-and-swap loop for 1- and 2-byte types and for float Add),
// so no operation is ever torn, and Load/Store/Swap/CompareAndSwap/Add give
// the happens-before edges of sync/atomic between the processes.
//
// The zero value is not usable; create with NewRawValue or attach with
// OpenRawValue. A RawValue is safe for concurrent use by goroutines and
// processes.
//
// Its accessors have no error result, so after Segment.Close they panic
// with an error wrapping shm.ErrClosed, and on a named segment whose file a
// peer truncated with one wrapping shm.ErrSegmentTruncated: a plain Go
// panic that recover and errors.Is tell apart, never a fatal fault of the
// process.
type RawValue[T Scalar] struct {
	_   noCopy
	obj *object
	p   *T
	// anchor and state are obj's, copied so that the hot path reads no obj.
	anchor anchor
	state  *uint32
	// The fast paths (see Load) work on w, the 8-byte word holding the
	// value in its low bytes (a value starts its 8-aligned data area), as
	// long as their state word is 0: loadState, Load's, is state for an
	// integer T; wordState, that of Store, Swap, CompareAndSwap and Add, is
	// state for an 8-byte integer T. Otherwise, and under the race
	// detector, they are alwaysSlow, and every call takes slowLoad
	// ((*RawValue[T]).loadSlow) or slow.
	w         *uint64
	loadState *uint32
	slowLoad  func(*RawValue[T]) T
	wordState *uint32
	slow      *slowOps[T]
}

// alwaysSlow is the state word of the fast paths a RawValue never takes:
// never 0.
var alwaysSlow uint32 = 1

// NewRawValue creates the raw value name in seg holding init.
func NewRawValue[T Scalar](seg *shm.Segment, name string, init T, o *RawOptions) (*RawValue[T], error) {
	code, err := codeFor[T](name, o.code())
	if err != nil {
		return nil, err
	}
	obj, err := create(seg, name, code, shapeValue, 1, "", func(p []byte) error {
		elems[T](p, 1)[0] = init
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newRawValue[T](obj), nil
}

// OpenRawValue attaches to the value name, which must hold T (a typecode
// whose Go type has T's kind). It accepts values created with a lock too,
// and then ignores the lock, like Python's get_obj().
func OpenRawValue[T Scalar](seg *shm.Segment, name string) (*RawValue[T], error) {
	obj, err := open(seg, name, shapeValue, 1, typeName[T](), fits[T])
	if err != nil {
		return nil, err
	}
	return newRawValue[T](obj), nil
}

func newRawValue[T Scalar](obj *object) *RawValue[T] {
	v := &RawValue[T]{obj: obj, p: &elems[T](obj.data(), 1)[0], anchor: obj.anchor, state: obj.state,
		loadState: obj.state, slowLoad: (*RawValue[T]).loadSlow, wordState: obj.state,
		slow: &slowOps[T]{store: (*RawValue[T]).storeSlow, swap: (*RawValue[T]).swapSlow, cas: (*RawValue[T]).casSlow, add: (*RawValue[T]).addSlow}}
	v.w, _ = word(v.p) // the shift is 0
	if isFloat[T]() || race.Enabled {
		v.loadState = &alwaysSlow
	}
	if isFloat[T]() || sizeOf[T]() != 8 || race.Enabled {
		v.wordState = &alwaysSlow
	}
	return v
}

func typeName[T Scalar]() string {
	var z T
	return fmt.Sprintf("%T", z)
}

// Name returns the object's name in its segment.
func (v *RawValue[T]) Name() string { return v.obj.obj.Name() }

// Typecode returns the stored typecode.
func (v *RawValue[T]) Typecode() Typecode { return v.obj.code }

// Offset returns the offset of the value from the segment base, for
// readers in other languages.
func (v *RawValue[T]) Offset() int { return v.obj.obj.Offset() + hdrSize }

// Load atomically loads the value.
func (v *RawValue[T]) Load() T {
	// Within the inliner's budget: one load of the state, a conversion
	// (which takes the low bytes of the word for an integer T, and is why
	// a float T always takes loadSlow), and an indirect call (a method call
	// of a generic type costs more) out of line. Under the race detector
	// every Load takes loadSlow, which tells the detector of the
	// acquire. The other accessors follow the pattern; their shaped bodies
	// inline into their instantiations, one call from the caller.
	if atomic.LoadUint32(v.loadState) != 0 {
		return v.slowLoad(v)
	}
	return T(atomic.LoadUint64(v.w))
}

// loadSlow is Load of a float T, or of a closed or guarded segment.
func (v *RawValue[T]) loadSlow() T {
	if atomic.LoadUint32(v.state) != 0 {
		return checked(v.obj, func() T { return atomicLoad(&v.anchor, v.p) })
	}
	return atomicLoad(&v.anchor, v.p)
}

// Store atomically stores x.
func (v *RawValue[T]) Store(x T) {
	if atomic.LoadUint32(v.wordState) != 0 {
		v.slow.store(v, x)
		return
	}
	atomic.StoreUint64(v.w, uint64(x))
}

// Swap atomically stores x and returns the previous value.
func (v *RawValue[T]) Swap(x T) T {
	if atomic.LoadUint32(v.wordState) != 0 {
		return v.slow.swap(v, x)
	}
	return T(atomic.SwapUint64(v.w, uint64(x)))
}

// CompareAndSwap atomically stores new if the value is old and reports
// whether it did. Floats compare by bit pattern: NaN matches a NaN with the
// same bits, and -0 does not match +0.
func (v *RawValue[T]) CompareAndSwap(old, new T) bool {
	if atomic.LoadUint32(v.wordState) != 0 {
		return v.slow.cas(v, old, new)
	}
	return atomic.CompareAndSwapUint64(v.w, uint64(old), uint64(new))
}

// Add atomically adds delta and returns the new value. Integers wrap around
// on overflow, as sync/atomic's do; floats are added in a compare-and-swap
// loop (lock-free, but not wait-free).
func (v *RawValue[T]) Add(delta T) T {
	if atomic.LoadUint32(v.wordState) != 0 {
		return v.slow.add(v, delta)
	}
	return T(atomic.AddUint64(v.w, uint64(delta)))
}

// slowOps are RawValue's out-of-line paths of Store, Swap, CompareAndSwap
// and Add, called through func values (a method call of a generic type
// costs the inliner more): for a T other than an 8-byte integer, on a
// closed or guarded segment, and under the race detector.
type slowOps[T Scalar] struct {
	store func(*RawValue[T], T)
	swap  func(*RawValue[T], T) T
	cas   func(v *RawValue[T], old, new T) bool
	add   func(*RawValue[T], T) T
}

func (v *RawValue[T]) storeSlow(x T) {
	if atomic.LoadUint32(v.state) != 0 {
		checked(v.obj, func() struct{} { atomicStore(&v.anchor, v.p, x); return struct{}{} })
		return
	}
	atomicStore(&v.anchor, v.p, x)
}

func (v *RawValue[T]) swapSlow(x T) T {
	if atomic.LoadUint32(v.state) != 0 {
		return checked(v.obj, func() T { return atomicSwap(&v.anchor, v.p, x) })
	}
	return atomicSwap(&v.anchor, v.p, x)
}

func (v *RawValue[T]) casSlow(old, new T) bool {
	if atomic.LoadUint32(v.state) != 0 {
		return checked(v.obj, func() bool { return atomicCAS(&v.anchor, v.p, old, new) })
	}
	return atomicCAS(&v.anchor, v.p, old, new)
}

func (v *RawValue[T]) addSlow(delta T) T {
	if atomic.LoadUint32(v.state) != 0 {
		return checked(v.obj, func() T { return atomicAdd(&v.anchor, v.p, delta) })
	}
	return atomicAdd(&v.anchor, v.p, delta)
}

// RawArray is a fixed-length shared array without a lock, the counterpart
// of multiprocessing.RawArray. Get, Set, Add, Swap and CompareAndSwap are
// atomic per element; CopyTo, CopyFrom and View are not atomic as a whole.
//
// The zero value is not usable; create with NewRawArray or
// NewRawArrayFrom, attach with OpenRawArray. A RawArray is safe for
// concurrent use by goroutines and processes.
//
// Its element accessors have no error result, so after Segment.Close they panic
// with an error wrapping shm.ErrClosed, and on a named segment whose file a
// peer truncated with one wrapping shm.ErrSegmentTruncated: a plain Go
// panic that recover and errors.Is tell apart, never a fatal fault of the
// process.
type RawArray[T Scalar] struct {
	_    noCopy
	obj  *object
	data []T
}

// NewRawArray creates the raw array name in seg with n zero elements.
func NewRawArray[T Scalar](seg *shm.Segment, name string, n int, o *RawOptions) (*RawArray[T], error) {
	return newRawArray[T](seg, name, n, nil, o.code(), "")
}

// NewRawArrayFrom creates the raw array name in seg holding a copy of init.
func NewRawArrayFrom[T Scalar](seg *shm.Segment, name string, init []T, o *RawOptions) (*RawArray[T], error) {
	return newRawArray(seg, name, len(init), init, o.code(), "")
}

func newRawArray[T Scalar](seg *shm.Segment, name string, n int, init []T, code Typecode, lockName string) (*RawArray[T], error) {
	code, err := codeFor[T](name, code)
	if err != nil {
		return nil, err
	}
	obj, err := create(seg, name, code, shapeArray, n, lockName, func(p []byte) error {
		copy(elems[T](p, n), init)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rawArrayOver[T](obj), nil
}

// OpenRawArray attaches to the array name, which must hold T and have n
// elements (AnyLen: any length). It accepts arrays created with a lock too,
// and then ignores the lock.
func OpenRawArray[T Scalar](seg *shm.Segment, name string, n int) (*RawArray[T], error) {
	obj, err := open(seg, name, shapeArray, n, typeName[T](), fits[T])
	if err != nil {
		return nil, err
	}
	return rawArrayOver[T](obj), nil
}

func rawArrayOver[T Scalar](obj *object) *RawArray[T] {
	return &RawArray[T]{obj: obj, data: elems[T](obj.data(), obj.n)}
}

// Name returns the object's name in its segment.
func (a *RawArray[T]) Name() string { return a.obj.obj.Name() }

// Typecode returns the stored typecode.
func (a *RawArray[T]) Typecode() Typecode { return a.obj.code }

// Offset returns the offset of element 0 from the segment base (of the
// whole object, also for a slice), for readers in other languages.
func (a *RawArray[T]) Offset() int { return a.obj.obj.Offset() + hdrSize }

// Len returns the number of elements.
func (a *RawArray[T]) Len() int { return len(a.data) }

// at returns a pointer to element i. An index outside [0, Len) is a
// programming error in this process, as for a Go slice: it panics with an
// error wrapping ErrIndex (recover and errors.Is tell it apart). at inlines
// into the accessors (so that each is one call with its atomic operation
// inside); the panic is raised out of line, from an interface because
// that keeps at in budget.
func (a *RawArray[T]) at(i int) *T {
	if uint(i) < uint(len(a.data)) {
		return &a.data[i]
	}
	panic(indexError(a, i))
}

// sized is what indexError needs of an array.
type sized interface {
	Name() string
	Len() int
}

// indexError is the panic value of an element access out of range.
func indexError(a sized, i int) error {
	return errtext.Errorf("ctypes: %q[%d] with length %d: %w", a.Name(), i, a.Len(), ErrIndex)
}

// Get atomically loads element i. An index outside [0, Len) panics, as a
// slice index does (the panic value wraps ErrIndex).
func (a *RawArray[T]) Get(i int) T {
	if atomic.LoadUint32(a.obj.state) != 0 {
		return checked(a.obj, func() T { return atomicLoad(&a.obj.anchor, a.at(i)) })
	}
	return atomicLoad(&a.obj.anchor, a.at(i))
}

// Set atomically stores x into element i (an index out of range panics, as
// for Get).
func (a *RawArray[T]) Set(i int, x T) {
	if atomic.LoadUint32(a.obj.state) != 0 {
		checked(a.obj, func() struct{} { atomicStore(&a.obj.anchor, a.at(i), x); return struct{}{} })
		return
	}
	atomicStore(&a.obj.anchor, a.at(i), x)
}

// Add atomically adds delta to element i and returns the new value
// (integers wrap around; floats use a compare-and-swap loop). An index out
// of range panics, as for Get.
func (a *RawArray[T]) Add(i int, delta T) T {
	if atomic.LoadUint32(a.obj.state) != 0 {
		return checked(a.obj, func() T { return atomicAdd(&a.obj.anchor, a.at(i), delta) })
	}
	return atomicAdd(&a.obj.anchor, a.at(i), delta)
}

// Swap atomically stores x into element i and returns the previous value
// (an index out of range panics, as for Get).
func (a *RawArray[T]) Swap(i int, x T) T {
	if atomic.LoadUint32(a.obj.state) != 0 {
		return checked(a.obj, func() T { return atomicSwap(&a.obj.anchor, a.at(i), x) })
	}
	return atomicSwap(&a.obj.anchor, a.at(i), x)
}

// CompareAndSwap atomically stores new into element i if it holds old
// (floats by bit pattern) and reports whether it did (an index out of
// range panics, as for Get).
func (a *RawArray[T]) CompareAndSwap(i int, old, new T) bool {
	if atomic.LoadUint32(a.obj.state) != 0 {
		return checked(a.obj, func() bool { return atomicCAS(&a.obj.anchor, a.at(i), old, new) })
	}
	return atomicCAS(&a.obj.anchor, a.at(i), old, new)
}

// CopyTo copies min(Len, len(dst)) elements into dst and returns how many.
// Each element is loaded atomically; the copy as a whole is not atomic (hold
// the lock of a locked Array for a consistent snapshot).
func (a *RawArray[T]) CopyTo(dst []T) int {
	if atomic.LoadUint32(a.obj.state) != 0 {
		return checked(a.obj, func() int { return a.copyTo(dst) })
	}
	return a.copyTo(dst)
}

func (a *RawArray[T]) copyTo(dst []T) int {
	n := min(len(dst), len(a.data))
	for i := range n {
		dst[i] = atomicLoad(&a.obj.anchor, &a.data[i])
	}
	return n
}

// CopyFrom copies min(Len, len(src)) elements from src and returns how
// many; each element is stored atomically, the copy as a whole is not.
func (a *RawArray[T]) CopyFrom(src []T) int {
	if atomic.LoadUint32(a.obj.state) != 0 {
		return checked(a.obj, func() int { return a.copyFrom(src) })
	}
	return a.copyFrom(src)
}

func (a *RawArray[T]) copyFrom(src []T) int {
	n := min(len(src), len(a.data))
	for i := range n {
		atomicStore(&a.obj.anchor, &a.data[i], src[i])
	}
	return n
}

// Slice returns elements [i, j) as an array sharing the same memory, like
// Go's a[i:j]; bounds outside 0 <= i <= j <= Len give ErrIndex.
func (a *RawArray[T]) Slice(i, j int) (*RawArray[T], error) {
	if i < 0 || j < i || j > len(a.data) {
		return nil, errtext.Errorf("ctypes: %q[%d:%d] of %d elements: %w", a.Name(), i, j, len(a.data), ErrIndex)
	}
	return &RawArray[T]{obj: a.obj, data: a.data[i:j:j]}, nil
}

// View returns the elements as a Go slice over the shared memory: no copy,
// no synchronisation at all, and no checks: on a named segment a peer can
// truncate, wrap accesses through it in Segment.Guard, which turns the
// fault into shm.ErrSegmentTruncated. Plain reads and writes through it race
// with other processes unless the caller orders them otherwise (a lock,
// or an atomic flag elsewhere); the race detector cannot see them. After
// the Segment's Close, View panics with an error wrapping shm.ErrClosed (a
// slice taken before stays mapped while it is reachable).
func (a *RawArray[T]) View() []T {
	if atomic.LoadUint32(a.obj.state) != 0 && a.obj.core.Closed() {
		panic(errtext.Errorf("ctypes: %q: %w", a.obj.obj.Name(), shm.ErrClosed))
	}
	return a.data
}
