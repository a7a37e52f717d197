package ctypes

import "errors"

// Errors. Each is wrapped with the object's name; test with errors.Is.
// Errors from the segment (shm.ErrNotExist, shm.ErrExist, shm.ErrCorrupt,
// ...) and from the lock (futex) pass through wrapped; the message keeps
// one package prefix and names the object once (`ctypes: open "v": does
// not exist`).
var (
	// ErrTypecode: a rune that is not one of the typecodes (Python's
	// ValueError "bad typecode").
	ErrTypecode = errors.New("ctypes: bad typecode")
	// ErrTypeMismatch: the object under the name has another typecode,
	// length or shape (value/array) than the opener asked for
	// (Python's TypeError). Such errors also match shm.ErrTypeMismatch.
	// Options.Lock of a type other than *futex.Lock and *futex.RLock
	// gives it too.
	ErrTypeMismatch = errors.New("ctypes: type mismatch")
	// ErrIndex: an index or slice bound outside the array (IndexError). An
	// element accessor (Get, Set, Add, Swap, CompareAndSwap, ...) panics
	// with an error wrapping it, as a slice index does; Slice returns it.
	ErrIndex = errors.New("ctypes: index out of range")
	// ErrRange: a value that the element type cannot represent, such as 300
	// for 'b' or 1.5 for 'i' (OverflowError / TypeError).
	ErrRange = errors.New("ctypes: value out of range")
	// ErrValueType: a value of a Go type the typecode-driven API cannot
	// convert (TypeError).
	ErrValueType = errors.New("ctypes: unsupported value type")
	// ErrNoLock: a locked handle was asked for on an object created raw.
	ErrNoLock = errors.New("ctypes: object has no lock")
)
