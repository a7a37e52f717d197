package shm

// This file encapsulates usage of unsafe: the fixed-size structs laid over a
// segment, their offsets pinned at compile time.

import (
	"unsafe"

	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/internal/view"
)

// Layout constants. Every offset is relative to the segment base; every
// struct is plain little-endian C layout with no Go pointers.
const (
	byteOrderTag uint32 = 0x01020304
	cacheLine           = 64

	hdrSize       = 256 // header proper; the participant table follows
	hdrCursorOff  = 128
	hdrObjectsOff = 192

	slotSize       = 64
	slotStateFree  = 0
	slotStateAlive = 1

	entrySize    = 128
	entryNameMax = 80

	objHdrSize        = 64
	objMagic   uint32 = 0x4F4D4853 // "SHMO"
)

// header is the first 256 bytes of every segment.
type header struct {
	magic        uint64 // 0: written last, with a release store
	version      uint32 // 8: major<<16 | minor
	byteOrder    uint32 // 12: byteOrderTag as the creator stored it
	wordSize     uint8  // 16: 8
	cacheLine    uint8  // 17: 64
	_            uint16 // 18
	arenaOff     uint32 // 20: first byte of the object arena
	size         uint64 // 24: total mapped size = file size
	creationID   uint64 // 32: random, tells a re-created name apart (F15)
	creatorPid   uint32 // 40
	slots        uint32 // 44: participant slots
	creatorStart uint64 // 48: creator's start time, clock ticks since boot
	entries      uint32 // 56: directory entries, a power of two
	flags        uint32 // 60: reserved, zero
	checksum     uint64 // 64: xxhash64 of bytes [8, 64)
	_            [56]byte
	cursor       uint64 // 128: allocation bump cursor, on its own line
	_            [56]byte
	objects      uint32 // 192: directory entries claimed so far
	_            [60]byte
}

// slot is one participant: a process attachment to the segment.
type slot struct {
	state   uint32                       // 0: slotStateFree / slotStateAlive
	gen     uint32                       // 4: incremented by every new owner
	pid     uint32                       // 8
	_       uint32                       // 12
	start   uint64                       // 16: start time, clock ticks since boot
	pidNS   uint64                       // 24: inode of the owner's pid namespace
	pending [segcore.PendingWords]uint64 // 32: protocol words published before a claim (ring)
}

// entry is one directory entry naming an object.
type entry struct {
	state   uint64 // 0: low byte entryState, high 32 bits the claimer's token
	hash    uint64 // 8: xxhash64 of the name
	kind    uint32 // 16
	version uint32 // 20
	off     uint64 // 24: payload offset from the segment base
	size    uint64 // 32: payload size
	nameLen uint32 // 40
	_       uint32 // 44
	name    [entryNameMax]byte
}

// objHeader precedes every named object's payload.
type objHeader struct {
	magic   uint32 // 0: objMagic
	kind    uint32 // 4
	version uint32 // 8
	index   uint32 // 12: directory entry index
	size    uint64 // 16: payload size
	_       [40]byte
}

// Pin the offsets above to the structs: each line fails to compile (negative
// constant converted to uintptr) if a field moves.
const (
	_ = uintptr(hdrSize - unsafe.Sizeof(header{}))
	_ = uintptr(unsafe.Sizeof(header{}) - hdrSize)
	_ = uintptr(hdrMagicOff - unsafe.Offsetof(header{}.magic))
	_ = uintptr(unsafe.Offsetof(header{}.magic) - hdrMagicOff)
	_ = uintptr(hdrVersionOff - unsafe.Offsetof(header{}.version))
	_ = uintptr(unsafe.Offsetof(header{}.version) - hdrVersionOff)
	_ = uintptr(hdrCsumStart - unsafe.Offsetof(header{}.version))
	_ = uintptr(unsafe.Offsetof(header{}.version) - hdrCsumStart)
	_ = uintptr(hdrCreatorPidOff - unsafe.Offsetof(header{}.creatorPid))
	_ = uintptr(unsafe.Offsetof(header{}.creatorPid) - hdrCreatorPidOff)
	_ = uintptr(hdrCreatorStOff - unsafe.Offsetof(header{}.creatorStart))
	_ = uintptr(unsafe.Offsetof(header{}.creatorStart) - hdrCreatorStOff)
	_ = uintptr(segMajor - segVersion>>16)
	_ = uintptr(segVersion>>16 - segMajor)
	_ = uintptr(hdrCsumOff - unsafe.Offsetof(header{}.checksum))
	_ = uintptr(unsafe.Offsetof(header{}.checksum) - hdrCsumOff)
	_ = uintptr(hdrCursorOff - unsafe.Offsetof(header{}.cursor))
	_ = uintptr(unsafe.Offsetof(header{}.cursor) - hdrCursorOff)
	_ = uintptr(hdrObjectsOff - unsafe.Offsetof(header{}.objects))
	_ = uintptr(unsafe.Offsetof(header{}.objects) - hdrObjectsOff)
	_ = uintptr(slotSize - unsafe.Sizeof(slot{}))
	_ = uintptr(unsafe.Sizeof(slot{}) - slotSize)
	_ = uintptr(entrySize - unsafe.Sizeof(entry{}))
	_ = uintptr(unsafe.Sizeof(entry{}) - entrySize)
	_ = uintptr(objHdrSize - unsafe.Sizeof(objHeader{}))
	_ = uintptr(unsafe.Sizeof(objHeader{}) - objHdrSize)
)

// addrOf returns the address of a mapping's first byte, for telling faults
// inside it from other ones (fault.go).
func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func (s *Segment) hdr() *header         { return view.Ptr[header](s.data, 0) }
func (s *Segment) slotAt(i int) *slot   { return view.Ptr[slot](s.data, s.slotOff(i)) }
func (s *Segment) entryAt(i int) *entry { return view.Ptr[entry](s.data, s.entryOff(i)) }
func (s *Segment) objHdr(payload int) *objHeader {
	return view.Ptr[objHeader](s.data, payload-objHdrSize)
}
