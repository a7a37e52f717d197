package dict

import "errors"

// Sentinel errors; test with errors.Is. Methods wrap them with the object's
// name and, where it helps, the figures involved.
var (
	// ErrNotFound: Get or a typed Get found no entry under the key (CPython's
	// KeyError), or Namespace.Get found no attribute (AttributeError).
	ErrNotFound = errors.New("dict: key not found")
	// ErrFull: growing the storage would pass Options.MaxBytes or the
	// segment's free space; the message gives the figures.
	ErrFull = errors.New("dict: full")
	// ErrTooLarge: a key or value longer than the object's KeyMax or
	// ValueMax; the message names the limit.
	ErrTooLarge = errors.New("dict: key or value too large")
	// ErrBusy: a read retried its bounded number of times while writers kept
	// changing the entries it was reading (only a hostile or broken writer
	// causes this in practice).
	ErrBusy = errors.New("dict: busy, reader retries exhausted")
	// ErrCorrupt: a value read from shared memory (an index, a length, a
	// header field) is out of range. Never a panic.
	ErrCorrupt = errors.New("dict: corrupt")
	// ErrIndex: a List index outside [0, Len), or Pop of an empty List
	// (CPython's IndexError).
	ErrIndex = errors.New("dict: index out of range")
	// ErrInvalid: a bad argument: an object name too long for its derived
	// names, a Namespace attribute that starts with "_" or is empty, an
	// Options field out of range, a value of a type a Namespace cannot hold.
	ErrInvalid = errors.New("dict: invalid argument")
)
