package shm

import (
	"errors"

	"github.com/shmkit/shmkit/internal/segcore"
)

// Sentinel errors. Functions wrap them with the segment or object name
// (errtext.Errorf("shm: open %q: %w", ...), whose text keeps one
// package prefix: "shm: open \"x\": does not exist"); test with errors.Is.
var (
	// ErrExist: a segment or object of that name already exists, or something
	// else (a symlink, FIFO, directory) squats the name.
	ErrExist = errors.New("shm: already exists")
	// ErrNotExist: no segment or object of that name.
	ErrNotExist = errors.New("shm: does not exist")
	// ErrInvalidName: a segment name that is empty, too long or holds a
	// character outside [A-Za-z0-9._-]; an object name that is empty, longer
	// than the directory's 80 bytes or holds a NUL.
	ErrInvalidName = errors.New("shm: invalid name")
	// ErrInvalidSize: a size <= 0, or one above MaxSize.
	ErrInvalidSize = errors.New("shm: invalid size")
	// ErrCorrupt: a header, directory entry, object header or participant
	// token read from shared memory is inconsistent. Never a panic.
	ErrCorrupt = errors.New("shm: corrupt segment")
	// ErrVersion: the segment or object has another major layout version.
	ErrVersion = errors.New("shm: unsupported layout version")
	// ErrNotInitialized: the creator has not finished (or died before
	// finishing) initialising the segment or object within the timeout, or
	// shmkit gc kept the segment write-locked for longer.
	ErrNotInitialized = errors.New("shm: not initialized")
	// ErrTypeMismatch: the object under that name is of another kind.
	ErrTypeMismatch = errors.New("shm: object type mismatch")
	// ErrNoSpace: the segment's object arena is full.
	ErrNoSpace = errors.New("shm: segment full")
	// ErrDirectoryFull: every directory entry is taken.
	ErrDirectoryFull = errors.New("shm: directory full")
	// ErrNoSlot: every participant slot is held by a live process.
	ErrNoSlot = errors.New("shm: participant table full")
	// ErrPermission: the file is owned by another user or writable by group
	// or others, and Options did not allow it.
	ErrPermission = errors.New("shm: unsafe file ownership or mode")
	// ErrNotSealed: a descriptor handed to FromFile with RequireSealed lacks
	// the shrink and grow seals.
	ErrNotSealed = errors.New("shm: descriptor not sealed")
	// ErrUnlinked: Health found the segment's name removed (or naming
	// another file) while mapped, or Open found a segment whose CreationID
	// is not the one Options.CreationID asked for.
	ErrUnlinked = errors.New("shm: segment unlinked")
	// ErrSegmentTruncated: the file is shorter than the mapping (a peer
	// truncated it): Health found it, or a method's access to the missing
	// pages faulted and was caught (see Segment.Guard).
	ErrSegmentTruncated = segcore.ErrSegmentTruncated
	// ErrClosed: the Segment was closed before the call.
	ErrClosed = segcore.ErrClosed
)
