//go:build !race

// Package race tells the race detector about happens-before edges that pass
// through shared memory, which it cannot see. Without the
// race detector every call is an empty, inlined function.
package race

import "unsafe"

// Enabled reports whether the race detector is compiled in.
const Enabled = false

// Acquire records an acquire edge on anchor (no-op without -race).
func Acquire(anchor unsafe.Pointer) {}

// Release records a release edge on anchor (no-op without -race).
func Release(anchor unsafe.Pointer) {}

// ReleaseMerge records a merging release edge on anchor (no-op without -race).
func ReleaseMerge(anchor unsafe.Pointer) {}
