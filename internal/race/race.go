//go:build race

// Package race tells the race detector about happens-before edges that pass
// through shared memory, which it cannot see: atomics on a
// mapping create no edge for it. Callers pass a Go-heap anchor shared by every
// handle to the same shared object in this process (segcore.Core.Anchor).
package race

import (
	"runtime"
	"unsafe"
)

// Enabled reports whether the race detector is compiled in.
const Enabled = true

// Acquire records an acquire edge on anchor; call it after the acquiring
// load or CAS on shared memory.
func Acquire(anchor unsafe.Pointer) { runtime.RaceAcquire(anchor) }

// Release records a release edge on anchor; call it before the releasing
// store on shared memory.
func Release(anchor unsafe.Pointer) { runtime.RaceRelease(anchor) }

// ReleaseMerge is Release that also merges earlier releases (for primitives
// that several holders release, such as a semaphore).
func ReleaseMerge(anchor unsafe.Pointer) { runtime.RaceReleaseMerge(anchor) }
