// Package view lays fixed-size Go structs and words over shared memory.
//
// This file encapsulates usage of unsafe. Every other package reaches shared
// memory through these helpers (or its own layout.go), so the places that
// turn bytes into typed pointers can be counted on one hand.
package view

import (
	"fmt"
	"unsafe"
)

// Ptr returns a *T that aliases b[off : off+sizeof(T)].
//
// It panics if the range is outside b or off is not aligned to T's alignment
// within the mapping: offsets handed to Ptr are validated by the caller (they
// come from constants or from bounds-checked shared values), so a failure here
// is a bug inside this process, never something a peer can cause.
func Ptr[T any](b []byte, off int) *T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	align := uintptr(unsafe.Alignof(zero))
	if off < 0 || size > len(b) || off > len(b)-size {
		panic(fmt.Sprintf("view: range [%d,+%d) outside %d-byte mapping", off, size, len(b)))
	}
	p := unsafe.Pointer(unsafe.SliceData(b))
	p = unsafe.Add(p, off)
	if uintptr(p)%align != 0 {
		panic(fmt.Sprintf("view: offset %d misaligned for %d-byte alignment", off, align))
	}
	return (*T)(p)
}

// Slice returns a []T of n elements that aliases b starting at off, with the
// same checks as Ptr.
func Slice[T any](b []byte, off, n int) []T {
	var zero T
	size := int(unsafe.Sizeof(zero))
	align := uintptr(unsafe.Alignof(zero))
	if n < 0 || off < 0 || off > len(b) || (size > 0 && n > (len(b)-off)/size) {
		panic(fmt.Sprintf("view: %d elements of %d bytes at %d outside %d-byte mapping", n, size, off, len(b)))
	}
	if n == 0 {
		return nil
	}
	p := unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), off)
	if uintptr(p)%align != 0 {
		panic(fmt.Sprintf("view: offset %d misaligned for %d-byte alignment", off, align))
	}
	return unsafe.Slice((*T)(p), n)
}

// Bytes returns the bytes of the n values of a slice of plain (pointer-free)
// values, for copying them into or out of shared memory.
func Bytes[T any](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	var zero T
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(zero)))
}

// Addr returns the address of b[off] as an unsafe.Pointer, for system calls
// (futex) that take a user address.
func Addr(b []byte, off int) unsafe.Pointer {
	if off < 0 || off >= len(b) {
		panic(fmt.Sprintf("view: offset %d outside %d-byte mapping", off, len(b)))
	}
	return unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), off)
}
