package ctypes

// This file encapsulates usage of unsafe: the object header laid over the
// payload, its offsets pinned at compile time, and the atomic operations on
// elements of every size (1- and 2-byte elements go through the aligned
// 4-byte word that contains them, which is why the data area is padded).

import (
	"sync/atomic"
	"unsafe"

	"github.com/shmkit/shmkit/internal/race"
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

// word returns the aligned 4-byte word holding the 1- or 2-byte element at
// p and the element's bit shift inside it (little-endian). The data area is
// 64-byte aligned and padded to dataAlign, so the word is inside the object.
func word[T Scalar](p *T) (*uint32, uint) {
	a := uintptr(unsafe.Pointer(p))
	return (*uint32)(unsafe.Add(unsafe.Pointer(p), -int(a&3))), uint(a&3) * 8
}

// bits returns the bit pattern of v, zero-extended.
func bits[T Scalar](v T) uint64 {
	switch sizeOf[T]() {
	case 8:
		return *(*uint64)(unsafe.Pointer(&v))
	case 4:
		return uint64(*(*uint32)(unsafe.Pointer(&v)))
	case 2:
		return uint64(*(*uint16)(unsafe.Pointer(&v)))
	default:
		return uint64(*(*uint8)(unsafe.Pointer(&v)))
	}
}

// fromBits is the inverse of bits.
func fromBits[T Scalar](b uint64) T {
	var v T
	switch sizeOf[T]() {
	case 8:
		*(*uint64)(unsafe.Pointer(&v)) = b
	case 4:
		*(*uint32)(unsafe.Pointer(&v)) = uint32(b)
	case 2:
		*(*uint16)(unsafe.Pointer(&v)) = uint16(b)
	default:
		*(*uint8)(unsafe.Pointer(&v)) = uint8(b)
	}
	return v
}

// atomicLoad loads *p atomically.
func atomicLoad[T Scalar](p *T) T {
	switch sizeOf[T]() {
	case 8:
		return fromBits[T](atomic.LoadUint64((*uint64)(unsafe.Pointer(p))))
	case 4:
		return fromBits[T](uint64(atomic.LoadUint32((*uint32)(unsafe.Pointer(p)))))
	default:
		w, sh := word(p)
		return fromBits[T](uint64(atomic.LoadUint32(w) >> sh))
	}
}

// atomicStore stores v into *p atomically.
func atomicStore[T Scalar](p *T, v T) {
	switch sizeOf[T]() {
	case 8:
		atomic.StoreUint64((*uint64)(unsafe.Pointer(p)), bits(v))
	case 4:
		atomic.StoreUint32((*uint32)(unsafe.Pointer(p)), uint32(bits(v)))
	default:
		atomicSwap(p, v)
	}
}

// atomicSwap stores v into *p and returns the previous value.
func atomicSwap[T Scalar](p *T, v T) T {
	switch sizeOf[T]() {
	case 8:
		return fromBits[T](atomic.SwapUint64((*uint64)(unsafe.Pointer(p)), bits(v)))
	case 4:
		return fromBits[T](uint64(atomic.SwapUint32((*uint32)(unsafe.Pointer(p)), uint32(bits(v)))))
	default:
		w, sh := word(p)
		mask := uint32(1)<<(8*sizeOf[T]()) - 1
		for {
			o := atomic.LoadUint32(w)
			n := o&^(mask<<sh) | uint32(bits(v))<<sh
			if atomic.CompareAndSwapUint32(w, o, n) {
				return fromBits[T](uint64(o >> sh))
			}
		}
	}
}

// atomicCAS stores new into *p if *p has the bit pattern of old. Floats
// compare by bit pattern: a NaN matches itself, -0 does not match +0.
func atomicCAS[T Scalar](p *T, old, new T) bool {
	switch sizeOf[T]() {
	case 8:
		return atomic.CompareAndSwapUint64((*uint64)(unsafe.Pointer(p)), bits(old), bits(new))
	case 4:
		return atomic.CompareAndSwapUint32((*uint32)(unsafe.Pointer(p)), uint32(bits(old)), uint32(bits(new)))
	default:
		w, sh := word(p)
		mask := uint32(1)<<(8*sizeOf[T]()) - 1
		for {
			o := atomic.LoadUint32(w)
			if (o>>sh)&mask != uint32(bits(old)) {
				return false
			}
			n := o&^(mask<<sh) | uint32(bits(new))<<sh
			if atomic.CompareAndSwapUint32(w, o, n) {
				return true
			}
		}
	}
}

// atomicAdd adds d to *p and returns the new value. Integers wrap around
// (two's complement); floats are added in a compare-and-swap loop.
func atomicAdd[T Scalar](p *T, d T) T {
	if isFloat[T]() {
		for {
			o := atomicLoad(p)
			if atomicCAS(p, o, o+d) {
				return o + d
			}
		}
	}
	switch sizeOf[T]() {
	case 8:
		return fromBits[T](atomic.AddUint64((*uint64)(unsafe.Pointer(p)), bits(d)))
	case 4:
		return fromBits[T](uint64(atomic.AddUint32((*uint32)(unsafe.Pointer(p)), uint32(bits(d)))))
	default:
		for {
			o := atomicLoad(p)
			if atomicCAS(p, o, o+d) {
				return o + d
			}
		}
	}
}

// isFloat reports whether T is a floating-point type; the compiler folds it
// for each instantiation.
func isFloat[T Scalar]() bool {
	var x T = 1
	x /= 2
	return x != 0
}

// anchor is the race-detector anchor of one object, shared by every handle
// to it in this process (STYLE.md rule 5); nil and free without -race.
type anchor struct{ p unsafe.Pointer }

func anchorOf(o shm.Object) anchor { return anchor{o.Segment().Anchor(o.Offset())} }

// acquire follows an acquiring load; release precedes a releasing store.
func (a anchor) acquire() { race.Acquire(a.p) }
func (a anchor) release() { race.ReleaseMerge(a.p) }
