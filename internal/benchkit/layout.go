package benchkit

// This file lays the probe page and the lab ring's header out (tables in
// doc.go); the typed pointers come from internal/view, the one place that
// turns mapping bytes into pointers.

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

// The lab ring's header (labring.go), in its two layouts. The data area
// starts at labHdrSize; one mapping holds two rings, each header followed
// by its data.
//
//	padded (ring's layout)                 packed (lab-nopad)
//	off  size  field     written by          off  size  field
//	0    8     tail      producer            0    8     tail
//	64   8     head      consumer            8    8     head
//	128  4     closed    consumer            16   4     closed
//	192  4     consWait  consumer            20   4     consWait
//	196  4     prodWait  producer            24   4     prodWait
//
// The futex words are the low halves of tail and head (little-endian).
// Offsets come from a table rather than a struct pinned by constants (as
// in ring) because the knob picks the layout at run time.
const labHdrSize = 4096

type labLayout struct{ tail, head, closed, consWait, prodWait int }

var (
	labPadded = labLayout{tail: 0, head: 64, closed: 128, consWait: 192, prodWait: 196}
	labPacked = labLayout{tail: 0, head: 8, closed: 16, consWait: 20, prodWait: 24}
)

func labU64(mem []byte, off int) *uint64 { return view.Ptr[uint64](mem, off) }
func labU32(mem []byte, off int) *uint32 { return view.Ptr[uint32](mem, off) }
