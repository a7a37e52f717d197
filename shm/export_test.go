package shm

// SetCrashpoint installs fn (nil: none) to run at each named protocol step,
// so that a test helper can kill itself there or a test can act in the
// middle of a step. Steps, in order: Create: create-opened, create-mapped,
// the join steps, create-joined, create-published (before the name is
// linked; not on the O_CREAT fallback); Open: open-opened, the join steps;
// the join steps of every attachment: join-attached, join-claimed,
// join-bumped, join-locked.
func SetCrashpoint(fn func(step string)) {
	if fn == nil {
		crashpointHook.Store(nil)
		return
	}
	crashpointHook.Store(&fn)
}

// SetNoTmpfile makes Create take its O_CREAT|O_EXCL fallback, as on a file
// system without O_TMPFILE.
func SetNoTmpfile(on bool) { noTmpfile.Store(on) }

// Alloc exposes the arena allocator to the external tests.
func (s *Segment) Alloc(size int) (int, error) { return s.alloc(size) }
