package shm

// SetCrashpoint installs fn (nil: none) to run at each named protocol step,
// so that a test helper can kill itself there (FAULTS.md T5) or a test can
// act in the middle of a step. Steps, in order: Create: create-opened,
// create-mapped, the join steps, create-joined; Open: open-opened, the join
// steps; the join steps of every attachment: join-attached,
// join-claimed, join-bumped, join-locked.
func SetCrashpoint(fn func(step string)) {
	if fn == nil {
		crashpointHook.Store(nil)
		return
	}
	crashpointHook.Store(&fn)
}
