package shm

import "github.com/shmkit/shmkit/internal/errtext"

// Lookup returns the directory entry of the object named name as Objects
// lists it (ready or not), or ErrNotExist. It never waits.
func (s *Segment) Lookup(name string) (ObjectInfo, error) {
	for _, o := range s.Objects() {
		if o.Name == name && o.Err == nil {
			return o, nil
		}
	}
	return ObjectInfo{}, errtext.Errorf("shm: lookup %q: %w", name, ErrNotExist)
}

// OpenInfo opens the object that info (an entry of Objects or Lookup)
// describes, as OpenObject(info.Name, info.Kind, version) does, except that
// it never waits for a creator: an entry that is not ready gives
// ErrNotInitialized. Tools that read objects without blocking use it.
func (s *Segment) OpenInfo(info ObjectInfo, version uint32) (Object, error) {
	if info.Err != nil {
		return Object{}, errtext.Errorf("shm: open object %q: %w", info.Name, info.Err)
	}
	if !info.Ready {
		return Object{}, errtext.Errorf("shm: open object %q: %w", info.Name, ErrNotInitialized)
	}
	return s.OpenObject(info.Name, info.Kind, version)
}
