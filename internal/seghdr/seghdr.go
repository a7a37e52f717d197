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
	Magic uint64 = 0x314D53544B4D4853
	// MagicOff is the offset of Magic.
	MagicOff = 0
	// VersionOff is the offset of the layout version, a uint32
	// major<<16 | minor.
	VersionOff = 8
	// Version is the layout version this release writes: major 1, minor 0.
	Version uint32 = Major<<16 | 0
	// Major is the layout major version these offsets describe; a reader
	// must not interpret a header of another major version.
	Major = 1
	// CreatorPidOff is the offset of the creator's pid (uint32).
	CreatorPidOff = 40
	// CreatorStartOff is the offset of the creator's start time (uint64,
	// clock ticks since boot).
	CreatorStartOff = 48
	// CsumStart is the first byte the header checksum covers.
	CsumStart = 8
	// CsumOff is the offset of the checksum: the xxhash64 (seed 0) of bytes
	// [CsumStart, CsumOff).
	CsumOff = 64
	// ReadSize is how many bytes from the start cover every field above.
	ReadSize = CsumOff + 8
)
