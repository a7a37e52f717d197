package ring

import "errors"

// Sentinel errors. Calls wrap them with the object's name once and one
// package prefix ("ring: queue "tasks": closed": the sentinel's own prefix
// is dropped from the text, not from errors.Is); test with errors.Is.
var (
	// ErrFull: a non-blocking write found no room (queue.Full in CPython).
	ErrFull = errors.New("ring: full")
	// ErrEmpty: a non-blocking read found nothing (queue.Empty).
	ErrEmpty = errors.New("ring: empty")
	// ErrClosed: the queue was closed (Put always, Get once drained), or this
	// handle or connection end was closed (ValueError / OSError "handle is
	// closed" in CPython).
	ErrClosed = errors.New("ring: closed")
	// ErrBrokenPipe: the reading end of a ring or pipe was closed, so a
	// write can never be read (BrokenPipeError).
	ErrBrokenPipe = errors.New("ring: peer closed its end")
	// ErrPeerDead: the process at the other end died (its participant token
	// is dead) while this one waited for it, and nothing is left to read.
	ErrPeerDead = errors.New("ring: peer process died")
	// ErrCorrupt: an index, length or control word read from shared memory
	// is impossible; the ring cannot be used further. Never a panic.
	ErrCorrupt = errors.New("ring: corrupt")
	// ErrTooLarge: a message exceeds the ring's maximum message size.
	ErrTooLarge = errors.New("ring: message too large")
	// ErrBufferTooShort: the buffer cannot hold the next message, which
	// stays in the pipe for a retry (multiprocessing.BufferTooShort, except
	// that nothing is consumed).
	ErrBufferTooShort = errors.New("ring: buffer too short")
	// ErrReadOnly: Send on the receive-only end of a one-way pipe
	// (OSError "connection is read-only").
	ErrReadOnly = errors.New("ring: connection is read-only")
	// ErrWriteOnly: Recv on the send-only end of a one-way pipe
	// (OSError "connection is write-only").
	ErrWriteOnly = errors.New("ring: connection is write-only")
	// ErrTaskDone: JoinableQueue.TaskDone with no task held by this process,
	// or a second Lease.Done (ValueError "task_done() called too many
	// times").
	ErrTaskDone = errors.New("ring: task_done() called too many times")
	// ErrNoReservation: Commit or Stage without a Reserve, Release without
	// a Peek, or a length beyond the reservation. Misuse in one process.
	ErrNoReservation = errors.New("ring: no reservation")
	// ErrInvalid: an option or argument outside its range.
	ErrInvalid = errors.New("ring: invalid argument")
	// ErrNoLease: every lease entry of the queue is in use (a non-blocking
	// leased Get; QueueOptions.Leases sets how many there are).
	ErrNoLease = errors.New("ring: every lease entry is in use")
	// ErrTypeMismatch: the queue under that name is of another kind (a
	// JoinableQueue opened as a Queue, or the reverse).
	ErrTypeMismatch = errors.New("ring: object type mismatch")
	// ErrCodec: a typed message could not be encoded or decoded.
	ErrCodec = errors.New("ring: codec")
)
