package ctypes

// This file encapsulates usage of unsafe: the object header laid over the
// payload, its offsets pinned at compile time, and the atomic operations on
// elements of every size (through the aligned 8-byte word that contains
// them, which is why the data area is padded).

import (
	"sync/atomic"
	"unsafe"

	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/internal/view"
	"github.com/shmkit/shmkit/shm"
)

// Layout constants. Offsets are from the start of the object's payload (the
// address shm.Object.Offset gives), little-endian, the same on every
// architecture.
const (
	hdrSize        = 128 // the header; element 0 starts here (64-byte aligned)
	hdrTypecodeOff = 0
	hdrElemSizeOff = 1
	hdrShapeOff    = 2
	hdrFlagsOff    = 3
	hdrDataOffOff  = 4
	hdrLengthOff   = 8
	hdrLockLenOff  = 16
	hdrLockNameOff = 32
	lockNameMax    = 80 // shm's longest object name

	dataAlign = 8 // the data area is padded to a multiple of this

	shapeValue = 'V'
	shapeArray = 'A'

	flagLocked = 1 << 0 // lockName names the attached Lock or RLock
	flagsKnown = flagLocked
)

// objHeader starts every ctypes object; the creator writes it before the
// object is published and nobody writes it afterwards.
type objHeader struct {
	typecode uint8             // 0: ASCII typecode ('d', 'i', ...)
	elemSize uint8             // 1: bytes per element
	shape    uint8             // 2: shapeValue or shapeArray
	flags    uint8             // 3: flagLocked
	dataOff  uint32            // 4: offset of element 0, hdrSize
	length   uint64            // 8: number of elements (1 for a value)
	lockLen  uint32            // 16: bytes of lockName in use
	_        [12]byte          // 20: reserved, zero
	lockName [lockNameMax]byte // 32: name of the attached lock, not NUL-terminated
	_        [16]byte          // 112: reserved, zero
}

// Pin the offsets above to the struct: each line fails to compile (negative
// constant converted to uintptr) if a field moves.
const (
	_ = uintptr(hdrSize - unsafe.Sizeof(objHeader{}))
	_ = uintptr(unsafe.Sizeof(objHeader{}) - hdrSize)
	_ = uintptr(hdrElemSizeOff - unsafe.Offsetof(objHeader{}.elemSize))
	_ = uintptr(unsafe.Offsetof(objHeader{}.elemSize) - hdrElemSizeOff)
	_ = uintptr(hdrShapeOff - unsafe.Offsetof(objHeader{}.shape))
	_ = uintptr(unsafe.Offsetof(objHeader{}.shape) - hdrShapeOff)
	_ = uintptr(hdrFlagsOff - unsafe.Offsetof(objHeader{}.flags))
	_ = uintptr(unsafe.Offsetof(objHeader{}.flags) - hdrFlagsOff)
	_ = uintptr(hdrDataOffOff - unsafe.Offsetof(objHeader{}.dataOff))
	_ = uintptr(unsafe.Offsetof(objHeader{}.dataOff) - hdrDataOffOff)
	_ = uintptr(hdrLengthOff - unsafe.Offsetof(objHeader{}.length))
	_ = uintptr(unsafe.Offsetof(objHeader{}.length) - hdrLengthOff)
	_ = uintptr(hdrLockLenOff - unsafe.Offsetof(objHeader{}.lockLen))
	_ = uintptr(unsafe.Offsetof(objHeader{}.lockLen) - hdrLockLenOff)
	_ = uintptr(hdrLockNameOff - unsafe.Offsetof(objHeader{}.lockName))
	_ = uintptr(unsafe.Offsetof(objHeader{}.lockName) - hdrLockNameOff)
)

func headerOf(payload []byte) *objHeader { return view.Ptr[objHeader](payload, 0) }

// elems lays n elements of T over the data area of payload.
func elems[T Scalar](payload []byte, n int) []T { return view.Slice[T](payload, hdrSize, n) }

// sizeOf is the size of T in bytes; a constant for each instantiation.
func sizeOf[T Scalar]() uintptr {
	var z T
	return unsafe.Sizeof(z)
}

// The atomic operations below work on every element size. Each element
// lies inside one aligned 8-byte word of the data area (which starts
// 64-byte aligned and is padded to dataAlign), so a load of that word and a
// shift give any element, and a compare-and-swap of the word that replaces
// only the element's bytes stores any element without touching its
// neighbours (a neighbour's concurrent change makes it retry, it never
// loses that change). 8- and 4-byte elements use their own instructions
// where that is cheaper. Element bytes are the low bytes of the word:
// little-endian, as the layout is everywhere.
//
// Each operation takes the object's race anchor, so that the handles'
// methods are one call each and inline into their callers (the compiler
// prices a call at most of its inlining budget); the size tests fold away
// in every instantiation.

// word returns the aligned 8-byte word holding the element at p and the
// element's bit shift inside it.
func word[T Scalar](p *T) (*uint64, uint) {
	a := uintptr(unsafe.Pointer(p))
	return (*uint64)(unsafe.Add(unsafe.Pointer(p), -int(a&7))), uint(a&7) * 8
}

// fromWord returns the element held in the low bytes of w.
func fromWord[T Scalar](w uint64) T { return *(*T)(unsafe.Pointer(&w)) }

// toWord returns the bit pattern of v in the low bytes of a word, zero
// above.
func toWord[T Scalar](v T) uint64 {
	var w uint64
	*(*T)(unsafe.Pointer(&w)) = v
	return w
}

// elemMask has ones in the element's bytes at shift 0.
func elemMask[T Scalar]() uint64 { return 1<<(8*sizeOf[T]()) - 1 } // 1<<64 is 0: all ones

// atomicLoad loads *p atomically. It is small enough to inline.
func atomicLoad[T Scalar](a *anchor, p *T) T {
	w, sh := word(p)
	x := fromWord[T](atomic.LoadUint64(w) >> sh)
	a.acquire()
	return x
}

// atomicStore stores v into *p atomically. It does not inline: its
// callers inline it as one call.
func atomicStore[T Scalar](a *anchor, p *T, v T) {
	a.release()
	switch sizeOf[T]() {
	case 8:
		atomic.StoreUint64((*uint64)(unsafe.Pointer(p)), toWord(v))
	case 4:
		atomic.StoreUint32((*uint32)(unsafe.Pointer(p)), uint32(toWord(v)))
	default:
		replace(p, v)
	}
}

// storeLocked is atomicStore for a store made holding the object's lock
// (Value.Update), with the 8-byte case written so that it inlines (toWord
// would cost the inliner too much): the store is then no call. Where
// plainStoreAtomic, that case is a plain store, which the lock's releasing
// compare-and-swap (a full barrier) publishes and which a lock-free
// reader's 8-byte atomic load sees whole; elsewhere, and under the race
// detector, an atomic store. Other sizes call atomicStore.
func storeLocked[T Scalar](a *anchor, p *T, v T) {
	if unsafe.Sizeof(v) != 8 {
		atomicStore(a, p, v)
		return
	}
	if race.Enabled { // a.release(), which would cost the inliner 2
		race.ReleaseMerge(a.p)
	}
	if plainStoreAtomic && !race.Enabled {
		*(*T)(unsafe.Pointer(p)) = v
		return
	}
	atomic.StoreUint64((*uint64)(unsafe.Pointer(p)), *(*uint64)(unsafe.Pointer(&v)))
}

// replace stores v into the element at p by a compare-and-swap of its word
// and returns the previous value.
func replace[T Scalar](p *T, v T) T {
	w, sh := word(p)
	m := elemMask[T]() << sh
	for {
		o := atomic.LoadUint64(w)
		if atomic.CompareAndSwapUint64(w, o, o&^m|toWord(v)<<sh) {
			return fromWord[T](o >> sh)
		}
	}
}

// atomicSwap stores v into *p and returns the previous value.
func atomicSwap[T Scalar](a *anchor, p *T, v T) (old T) {
	a.release()
	switch sizeOf[T]() {
	case 8:
		old = fromWord[T](atomic.SwapUint64((*uint64)(unsafe.Pointer(p)), toWord(v)))
	case 4:
		old = fromWord[T](uint64(atomic.SwapUint32((*uint32)(unsafe.Pointer(p)), uint32(toWord(v)))))
	default:
		old = replace(p, v)
	}
	a.acquire()
	return old
}

// atomicCAS stores new into *p if *p has the bit pattern of old. Floats
// compare by bit pattern: a NaN matches itself, -0 does not match +0.
func atomicCAS[T Scalar](a *anchor, p *T, old, new T) (ok bool) {
	a.release()
	switch sizeOf[T]() {
	case 8:
		ok = atomic.CompareAndSwapUint64((*uint64)(unsafe.Pointer(p)), toWord(old), toWord(new))
	case 4:
		ok = atomic.CompareAndSwapUint32((*uint32)(unsafe.Pointer(p)), uint32(toWord(old)), uint32(toWord(new)))
	default:
		w, sh := word(p)
		m := elemMask[T]() << sh
		for {
			o := atomic.LoadUint64(w)
			if o&m != toWord(old)<<sh {
				break
			}
			if atomic.CompareAndSwapUint64(w, o, o&^m|toWord(new)<<sh) {
				ok = true
				break
			}
		}
	}
	a.acquire()
	return ok
}

// atomicAdd adds d to *p and returns the new value. Integers wrap around
// (two's complement); floats and small integers are added in a
// compare-and-swap loop on the word.
func atomicAdd[T Scalar](a *anchor, p *T, d T) (x T) {
	a.release()
	switch {
	case sizeOf[T]() == 8 && !isFloat[T]():
		x = fromWord[T](atomic.AddUint64((*uint64)(unsafe.Pointer(p)), toWord(d)))
	case sizeOf[T]() == 4 && !isFloat[T]():
		x = fromWord[T](uint64(atomic.AddUint32((*uint32)(unsafe.Pointer(p)), uint32(toWord(d)))))
	default:
		w, sh := word(p)
		m := elemMask[T]() << sh
		for {
			o := atomic.LoadUint64(w)
			x = fromWord[T](o>>sh) + d
			if atomic.CompareAndSwapUint64(w, o, o&^m|toWord(x)<<sh) {
				break
			}
		}
	}
	a.acquire()
	return x
}

// isFloat reports whether T is a floating-point type; the compiler folds it
// for each instantiation.
func isFloat[T Scalar]() bool {
	var x T = 1
	x /= 2
	return x != 0
}

// anchor is the race-detector anchor of one object, shared by every handle
// to it in this process (see package internal/race); nil and free without -race.
type anchor struct{ p unsafe.Pointer }

func anchorOf(o shm.Object) anchor { return anchor{segcore.Of(o.Segment()).Anchor(o.Offset())} }

// acquire follows an acquiring load; release precedes a releasing store.
//
// The race.Enabled tests let the inliner drop the calls without -race, so
// that they cost nothing in the budget of the handles' methods.
func (a *anchor) acquire() {
	if race.Enabled {
		race.Acquire(a.p)
	}
}

func (a *anchor) release() {
	if race.Enabled {
		race.ReleaseMerge(a.p)
	}
}
