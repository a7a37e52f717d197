package futex

import (
	"context"
	"errors"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/shm"
)

// Locker is what *Lock and *RLock have in common: the lock a Condition,
// or a ctypes Value, is built on.
type Locker interface {
	// Acquire blocks until the lock is held (nil or ErrOwnerDead) or ctx is
	// done (ctx.Err(), not holding).
	Acquire(ctx context.Context) error
	// TryAcquire acquires without waiting and reports whether it did.
	TryAcquire() (bool, error)
	// Release releases the lock (one level of an RLock).
	Release() error
	// Consistent clears the owner-died state after ErrOwnerDead.
	Consistent() error
	// Name returns the lock's object name, for OpenLocker.
	Name() string
}

var (
	_ Locker = (*Lock)(nil)
	_ Locker = (*RLock)(nil)
)

func isOwnerDead(err error) bool { return errors.Is(err, ErrOwnerDead) }

// OpenLocker attaches to the Lock or RLock named name in seg, whichever is
// stored there. Any other kind gives shm.ErrTypeMismatch.
func OpenLocker(seg *shm.Segment, name string) (Locker, error) {
	l, err := OpenLock(seg, name)
	if err == nil {
		return l, nil
	}
	if !errors.Is(err, shm.ErrTypeMismatch) {
		return nil, err
	}
	r, err := OpenRLock(seg, name)
	if err != nil {
		return nil, errtext.Errorf("futex: open locker %q: %w", name, err)
	}
	return r, nil
}
