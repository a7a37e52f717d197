package futex

import "errors"

// Sentinel errors; test with errors.Is. Functions wrap them with the
// object's name, and a message carries one package prefix and names the
// object once, also when it wraps shm's errors: `futex: open lock "l":
// does not exist` (internal/errtext). The CPython exception each one stands for is listed in
// doc.go.
var (
	// ErrTimeout is returned by Wait when its time limit elapsed without a
	// wake-up. The primitives' blocking calls return ctx.Err() instead.
	ErrTimeout = errors.New("futex: timeout")
	// ErrOwnerDead: the lock's previous holder died holding it. The caller
	// now holds the lock; the data it protects may be inconsistent. Call
	// Consistent before Release, or the lock becomes unrecoverable.
	ErrOwnerDead = errors.New("futex: previous owner died")
	// ErrNotRecoverable: a holder that got ErrOwnerDead released the lock
	// without calling Consistent; the lock is unusable for everyone.
	ErrNotRecoverable = errors.New("futex: lock not recoverable")
	// ErrNotOwner: an RLock released (or Consistent called) by someone other
	// than its owner.
	ErrNotOwner = errors.New("futex: lock not owned by caller")
	// ErrReleasedTooManyTimes: Release of an unlocked Lock, or of a
	// Semaphore beyond its maximum value.
	ErrReleasedTooManyTimes = errors.New("futex: semaphore or lock released too many times")
	// ErrBrokenBarrier: the Barrier was aborted, reset, or broken by a
	// party that timed out, was cancelled, or died.
	ErrBrokenBarrier = errors.New("futex: broken barrier")
	// ErrNotHeld: Condition Wait or Notify called without holding its lock.
	ErrNotHeld = errors.New("futex: condition lock not held")
	// ErrInvalidArgument: a constructor argument out of range (a negative
	// semaphore value, a barrier with no parties).
	ErrInvalidArgument = errors.New("futex: invalid argument")
)
