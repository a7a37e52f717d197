package ctypes

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/shm"
)

// Options configures the creation of a Value or Array (and their
// typecode-driven forms). The zero value (or nil) picks the default
// typecode for T and a new RLock.
type Options struct {
	// Typecode overrides TypecodeFor[T] in the generic API; it must hold T.
	// The typecode-driven constructors take the code as an argument and
	// ignore this field.
	Typecode Typecode
	// Lock is the lock to attach, a *futex.Lock or *futex.RLock in the
	// same segment (Python's Value(..., lock=some_lock)); another Locker
	// type gives ErrTypeMismatch. Its name is stored in the object so that
	// Open attaches the same lock. Nil creates a new RLock named
	// "<name>.lock".
	Lock futex.Locker
}

func (o *Options) code() Typecode {
	if o == nil {
		return 0
	}
	return o.Typecode
}

// LockSuffix is appended to an object's name to name the RLock created for
// it by default.
const LockSuffix = ".lock"

// makeLock returns the lock to attach to a new object: the caller's, or a
// new RLock created before the object so that no opener ever finds the
// object without its lock.
func makeLock(seg *shm.Segment, name string, o *Options) (futex.Locker, error) {
	if o != nil && o.Lock != nil {
		switch o.Lock.(type) {
		case *futex.Lock, *futex.RLock:
		default:
			// Updates call the two types' methods directly (guard).
			return nil, errtext.Errorf("ctypes: create %q: Options.Lock is a %T, want a *futex.Lock or *futex.RLock: %w", name, o.Lock, ErrTypeMismatch)
		}
		// The name is all that is stored: check that it names a lock in
		// this segment, which catches a lock from another segment.
		if _, err := futex.OpenLocker(seg, o.Lock.Name()); err != nil {
			return nil, errtext.Errorf("ctypes: create %q: Options.Lock %q is not a lock in this segment: %w", name, o.Lock.Name(), err)
		}
		return o.Lock, nil
	}
	l, err := futex.NewRLock(seg, name+LockSuffix)
	if err != nil {
		return nil, errtext.Errorf("ctypes: create %q: %w", name, err)
	}
	return l, nil
}

// guard is the lock attached to a Value or Array, shared by the handle's
// slices and views.
type guard struct {
	// fast is excl's uncontended path: a locked operation takes and
	// releases the lock through it, one inlined compare-and-swap each, and
	// calls excl's methods only where it fails.
	fast futex.FastPath
	name string // the object's, for errors
	lock futex.Locker
	// excl is the lock as locked operations take it: for an RLock a view
	// acting for no Owner (As(nil)), which never re-enters, so that
	// concurrent Updates exclude each other and every other holder even
	// when the caller attached an Owner's view (Options.Lock); for a Lock
	// the Lock itself. Made once: an Update allocates nothing and stores
	// no owner.
	excl futex.Locker
}

// newGuard attaches l, which makeLock or OpenLocker made sure is a
// *futex.Lock or *futex.RLock.
func newGuard(name string, l futex.Locker) *guard {
	g := &guard{name: name, lock: l}
	switch l := l.(type) {
	case *futex.RLock:
		r := l.As(nil)
		g.excl, g.fast = r, r.FastPath()
	case *futex.Lock:
		g.excl, g.fast = l, l.FastPath()
	default:
		panic(fmt.Sprintf("ctypes: lock %T is neither a *futex.Lock nor a *futex.RLock", l))
	}
	return g
}

// attachGuard opens the lock named in obj's header; nil for a raw object.
func attachGuard(seg *shm.Segment, obj *object) (*guard, error) {
	if obj.lockName == "" {
		return nil, nil
	}
	l, err := futex.OpenLocker(seg, obj.lockName)
	if err != nil {
		return nil, errtext.Errorf("ctypes: open %q: lock: %w", obj.obj.Name(), err)
	}
	return newGuard(obj.obj.Name(), l), nil
}

// requireGuard is attachGuard for the locked handles: a raw object is
// ErrNoLock.
func requireGuard(seg *shm.Segment, obj *object) (*guard, error) {
	if obj.lockName == "" {
		return nil, errtext.Errorf("ctypes: open %q: created without a lock: %w", obj.obj.Name(), ErrNoLock)
	}
	return attachGuard(seg, obj)
}

// The uncontended locked operation is fast.TryAcquire's compare-and-swap,
// the operation, and fast.TryRelease's compare-and-swap, both inlined, the
// same code for a Lock and an RLock; the release is deferred (leave), so
// that a panicking fn leaves no lock held for ever by a live process. Every
// other case goes through excl's methods (an interface call, off the fast
// path) and takeOver.

// takeOver handles an Acquire error, out of the fast path. For
// ErrOwnerDead it makes the lock consistent and returns nil, holding it:
// the elements are always consistent, since each store is atomic, so the
// caller goes on (and reports ownerDied). Any other error is returned
// wrapped, not holding.
func (g *guard) takeOver(err error) error {
	if !errors.Is(err, futex.ErrOwnerDead) {
		return errtext.Errorf("ctypes: update %q: %w", g.name, err)
	}
	if cerr := g.excl.Consistent(); cerr != nil {
		g.leave(nil)
		return errtext.Errorf("ctypes: update %q: %w", g.name, cerr)
	}
	return nil
}

// leave releases the lock and sets *errp to the release error if errp is
// not nil and *errp is nil.
func (g *guard) leave(errp *error) {
	if !g.fast.TryRelease() {
		g.leaveSlow(errp)
	}
}

// leaveSlow is leave past the fast path: excl.Release.
func (g *guard) leaveSlow(errp *error) {
	if err := g.excl.Release(); err != nil && errp != nil && *errp == nil {
		*errp = errtext.Errorf("ctypes: update %q: release: %w", g.name, err)
	}
}

// ownerDied is the error of an Update applied after a holder died.
func (g *guard) ownerDied() error {
	return errtext.Errorf("ctypes: update %q (applied): %w", g.name, futex.ErrOwnerDead)
}

// do runs fn under the lock, excluding other processes and other
// goroutines of this one.
func (g *guard) do(ctx context.Context, fn func() error) (err error) {
	if !g.fast.TryAcquire() {
		if err = g.excl.Acquire(ctx); err != nil {
			return g.doTakenOver(fn, err)
		}
	}
	defer g.leave(&err)
	return fn()
}

// doTakenOver is do after Acquire returned aerr: it gives up (not holding),
// or runs fn on a lock taken over from a dead holder and reports ownerDied.
func (g *guard) doTakenOver(fn func() error, aerr error) (err error) {
	if err = g.takeOver(aerr); err != nil {
		return err
	}
	defer g.leave(&err)
	if err = fn(); err != nil {
		return err
	}
	return g.ownerDied()
}

// Value is a single shared scalar with a lock, the counterpart of
// multiprocessing.Value. It embeds the RawValue (Python's get_obj()), so
// Load, Store, Swap, CompareAndSwap and Add are available and atomic; they
// do not take the lock. GetLock returns the lock; Update applies a
// function under it.
//
// The zero value is not usable; create with NewValue, attach with
// OpenValue. A Value is safe for concurrent use.
type Value[T Scalar] struct {
	_ noCopy
	*RawValue[T]
	g *guard
}

// newValue returns the Value over obj, locked by g.
func newValue[T Scalar](obj *object, g *guard) *Value[T] {
	return &Value[T]{RawValue: newRawValue[T](obj), g: g}
}

// NewValue creates the value name in seg holding init, with a new RLock
// named name+".lock" or the lock in o.
func NewValue[T Scalar](seg *shm.Segment, name string, init T, o *Options) (*Value[T], error) {
	code, err := codeFor[T](name, o.code())
	if err != nil {
		return nil, err
	}
	l, err := makeLock(seg, name, o)
	if err != nil {
		return nil, err
	}
	obj, err := create(seg, name, code, shapeValue, 1, l.Name(), func(p []byte) error {
		elems[T](p, 1)[0] = init
		return nil
	})
	if err != nil {
		return nil, err
	}
	return newValue[T](obj, newGuard(name, l)), nil
}

// OpenValue attaches to the value name, which must hold T and have been
// created with a lock (ErrNoLock otherwise), and to its lock.
func OpenValue[T Scalar](seg *shm.Segment, name string) (*Value[T], error) {
	obj, err := open(seg, name, shapeValue, 1, typeName[T](), fits[T])
	if err != nil {
		return nil, err
	}
	g, err := requireGuard(seg, obj)
	if err != nil {
		return nil, err
	}
	return newValue[T](obj, g), nil
}

// GetLock returns the attached lock, as Python's get_lock(). It excludes
// every other holder, also goroutines sharing this handle (a lock handle
// re-enters only for an explicit futex.Owner), so the straight port of
// "with v.get_lock(): v.value += 1",
//
//	l := v.GetLock()
//	l.Acquire(ctx)
//	v.Store(v.Load() + 1)
//	l.Release()
//
// is exact across goroutines and processes. Hold it for compound
// operations; Load and Store inside need no further locking. Update takes
// the same lock without re-entering: calling it while holding the lock
// waits until ctx ends.
func (v *Value[T]) GetLock() futex.Locker { return v.g.lock }

// Update applies fn to the value under the lock, stores the result, and
// returns it: the equivalent of Python's "with v.get_lock(): v.value =
// fn(v.value)". Updates exclude each other and every holder of GetLock(),
// across processes and between goroutines sharing this handle. If ctx
// ends first it returns ctx.Err() and changes nothing. If a previous holder
// died holding the lock, fn is still applied and the error wraps
// futex.ErrOwnerDead. A panicking fn releases the lock (and changes
// nothing).
func (v *Value[T]) Update(ctx context.Context, fn func(T) T) (x T, err error) {
	// guard.do written out, where do would cost a closure around fn, and
	// its deferred leave a call more (leave does not inline, so a deferred
	// g.leave(&err) is a call of a wrapper calling leave): the lock's fast
	// path and, for an 8-byte element, the load and the store inline here,
	// and the deferred literal is the one call besides fn's
	// (BenchmarkUpdate).
	g := v.g
	if atomic.LoadUint32(v.state) != 0 || !g.fast.TryAcquire() {
		return v.updateSlow(ctx, fn)
	}
	defer func() {
		if !g.fast.TryRelease() {
			g.leaveSlow(&err)
		}
	}()
	x = fn(atomicLoad(&v.anchor, v.p))
	storeLocked(&v.anchor, v.p, x)
	return x, nil
}

// Array is a fixed-length shared array with a lock, the counterpart of
// multiprocessing.Array. It embeds the RawArray, whose element operations
// are atomic and do not take the lock; GetLock returns the lock, and
// Update runs a function under it (use it for consistent bulk copies).
//
// The zero value is not usable; create with NewArray or NewArrayFrom,
// attach with OpenArray. An Array is safe for concurrent use.
type Array[T Scalar] struct {
	_ noCopy
	*RawArray[T]
	g *guard
}

// NewArray creates the array name in seg with n zero elements, with a new
// RLock named name+".lock" or the lock in o.
func NewArray[T Scalar](seg *shm.Segment, name string, n int, o *Options) (*Array[T], error) {
	return newArray[T](seg, name, n, nil, o)
}

// NewArrayFrom creates the array name in seg holding a copy of init, with
// a new RLock named name+".lock" or the lock in o.
func NewArrayFrom[T Scalar](seg *shm.Segment, name string, init []T, o *Options) (*Array[T], error) {
	return newArray(seg, name, len(init), init, o)
}

func newArray[T Scalar](seg *shm.Segment, name string, n int, init []T, o *Options) (*Array[T], error) {
	if _, err := codeFor[T](name, o.code()); err != nil {
		return nil, err
	}
	l, err := makeLock(seg, name, o)
	if err != nil {
		return nil, err
	}
	a, err := newRawArray(seg, name, n, init, o.code(), l.Name())
	if err != nil {
		return nil, err
	}
	return &Array[T]{RawArray: a, g: newGuard(name, l)}, nil
}

// OpenArray attaches to the array name, which must hold T, have n elements
// (AnyLen: any) and have been created with a lock (ErrNoLock otherwise),
// and to its lock.
func OpenArray[T Scalar](seg *shm.Segment, name string, n int) (*Array[T], error) {
	obj, err := open(seg, name, shapeArray, n, typeName[T](), fits[T])
	if err != nil {
		return nil, err
	}
	g, err := requireGuard(seg, obj)
	if err != nil {
		return nil, err
	}
	return &Array[T]{RawArray: rawArrayOver[T](obj), g: g}, nil
}

// GetLock returns the attached lock, as Python's get_lock() (see
// Value.GetLock).
func (a *Array[T]) GetLock() futex.Locker { return a.g.lock }

// Update runs fn on the raw array under the lock, excluding other Updates
// and holders of GetLock() across processes and between goroutines, and
// returns fn's error. If ctx ends first it returns ctx.Err() without
// running fn. If a previous holder died holding the lock, fn still runs and
// the error wraps futex.ErrOwnerDead.
func (a *Array[T]) Update(ctx context.Context, fn func(a *RawArray[T]) error) error {
	return a.obj.run(func() error { return a.g.do(ctx, func() error { return fn(a.RawArray) }) })
}

// Slice returns elements [i, j) as an Array sharing the memory and the
// lock; bounds outside 0 <= i <= j <= Len give ErrIndex.
func (a *Array[T]) Slice(i, j int) (*Array[T], error) {
	s, err := a.RawArray.Slice(i, j)
	if err != nil {
		return nil, err
	}
	return &Array[T]{RawArray: s, g: a.g}, nil
}

// NewValueOf creates the value name of typecode code holding init, with a
// new RLock named name+".lock" or the lock in o: Python's
// Value(code, init).
func NewValueOf(seg *shm.Segment, name string, code Typecode, init any, o *Options) (*AnyValue, error) {
	obj, c, g, err := createLockedAny(seg, name, code, shapeValue, []any{init}, o)
	if err != nil {
		return nil, err
	}
	return &AnyValue{obj: obj, c: c, guard: g}, nil
}

// NewArrayOf creates the array name of typecode code, with a new RLock
// named name+".lock" or the lock in o: Python's Array(code,
// size_or_initializer). sizeOrInit is a length (zero-filled) or a slice or
// array of Go numbers.
func NewArrayOf(seg *shm.Segment, name string, code Typecode, sizeOrInit any, o *Options) (*AnyArray, error) {
	obj, c, g, err := createLockedAny(seg, name, code, shapeArray, sizeOrInit, o)
	if err != nil {
		return nil, err
	}
	return &AnyArray{obj: obj, c: c, guard: g}, nil
}

func createLockedAny(seg *shm.Segment, name string, code Typecode, shape byte, sizeOrInit any, o *Options) (*object, cells, *guard, error) {
	if !code.Valid() {
		return nil, nil, nil, errtext.Errorf("ctypes: create %q: typecode %v: %w", name, code, ErrTypecode)
	}
	if _, _, err := initValues(code, sizeOrInit); err != nil {
		return nil, nil, nil, errtext.Errorf("ctypes: create %q (%v): %w", name, code, err)
	}
	l, err := makeLock(seg, name, o)
	if err != nil {
		return nil, nil, nil, err
	}
	obj, c, err := createAny(seg, name, code, shape, sizeOrInit, l.Name())
	if err != nil {
		return nil, nil, nil, err
	}
	return obj, c, newGuard(name, l), nil
}

// GetLock returns the attached lock, or nil for a raw value.
func (v *AnyValue) GetLock() futex.Locker {
	if v.guard == nil {
		return nil
	}
	return v.guard.lock
}

// Update applies fn to the value under the lock and stores the result,
// converted as by Set, returning the stored value (see Value.Update). A
// raw value gives ErrNoLock; a result that does not convert leaves the
// value unchanged and gives the conversion error.
func (v *AnyValue) Update(ctx context.Context, fn func(cur any) any) (any, error) {
	if v.guard == nil {
		return nil, errtext.Errorf("ctypes: update %q: %w", v.Name(), ErrNoLock)
	}
	var x any
	err := v.obj.run(func() error {
		return v.guard.do(ctx, func() error {
			var err error
			x, err = v.c.setAny(0, fn(v.Get()))
			return err
		})
	})
	return x, err
}

// GetLock returns the attached lock, or nil for a raw array.
func (a *AnyArray) GetLock() futex.Locker {
	if a.guard == nil {
		return nil
	}
	return a.guard.lock
}

// Update runs fn under the lock (see Array.Update); a raw array gives
// ErrNoLock.
func (a *AnyArray) Update(ctx context.Context, fn func(a *AnyArray) error) error {
	if a.guard == nil {
		return errtext.Errorf("ctypes: update %q: %w", a.Name(), ErrNoLock)
	}
	return a.obj.run(func() error { return a.guard.do(ctx, func() error { return fn(a) }) })
}
