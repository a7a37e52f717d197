package shm

import "github.com/shmkit/shmkit/internal/seghdr"

// The header fields read without attaching (by the shmkit tool) are
// declared once, in internal/seghdr; shm takes its constants from there,
// and layout.go pins its header struct to them at compile time.
const (
	segMagic         = seghdr.Magic
	segVersion       = seghdr.Version
	hdrMagicOff      = seghdr.MagicOff
	hdrVersionOff    = seghdr.VersionOff
	hdrCreatorPidOff = seghdr.CreatorPidOff
	hdrCreatorStOff  = seghdr.CreatorStartOff
	hdrCsumStart     = seghdr.CsumStart // checksum covers [hdrCsumStart, hdrCsumOff)
	hdrCsumOff       = seghdr.CsumOff   // xxhash64 of the static fields
	segMajor         = seghdr.Major
)
