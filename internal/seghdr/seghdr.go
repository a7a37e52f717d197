// Package seghdr declares, once, the segment header fields that are read
// without attaching: package shm lays its header struct over them (and pins
// the struct's offsets to these constants at compile time), and the shmkit
// tool reads them from segment files with pread. All fields are
// little-endian; the documented layout is in shm's package doc.
package seghdr

const (
	// Magic is the uint64 at MagicOff, "SHMKTSM1" in little-endian byte
	// order, stored last (with a release store) when the header is
	// complete.
	Magic    uint64 = 0x314D53544B4D4853
	MagicOff        = 0
	// VersionOff holds the layout version, a uint32 major<<16 | minor.
	VersionOff = 8
	// Version is the layout version this release writes: major 1, minor 0.
	Version uint32 = Major<<16 | 0
	// Major is the layout major version these offsets describe; a reader
	// must not interpret a header of another major version.
	Major = 1
	// CreatorPidOff holds the creator's pid (uint32), CreatorStartOff its
	// start time in clock ticks since boot (uint64).
	CreatorPidOff   = 40
	CreatorStartOff = 48
	// The checksum at CsumOff is the xxhash64 (seed 0) of bytes
	// [CsumStart, CsumOff).
	CsumStart = 8
	CsumOff   = 64
	// ReadSize is how many bytes from the start cover every field above.
	ReadSize = CsumOff + 8
)
