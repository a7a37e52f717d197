package ctypes

import "github.com/shmkit/shmkit/shm"

// guard is the lock attached to a Value or Array.
type guard struct {
	name string
}

func attachGuard(seg *shm.Segment, obj *object) (*guard, error) {
	if obj.lockName == "" {
		return nil, nil
	}
	return nil, ErrNoLock
}
