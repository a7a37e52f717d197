package benchkit

// This file lays the probe page out; the typed pointer comes from
// internal/view, the one place that turns mapping bytes into pointers.

import "github.com/shmkit/shmkit/internal/view"

// The probe page: one word the parent and the child bounce between odd and
// even values. Nothing else shares its cache line.
//
//	off  size  field  written by            read by
//	0    4     seq    parent (odd, end)     child
//	               child (even)          parent
const (
	probeSeqOff = 0
	probeSize   = 4096
	probeEnd    = ^uint32(0) // parent: the probe is over
)

func probeSeq(mem []byte) *uint32 { return view.Ptr[uint32](mem, probeSeqOff) }
