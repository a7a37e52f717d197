package dict

// This file encapsulates usage of unsafe: the root object's header laid over
// its payload with offsets pinned at compile time, and the word views of the
// tables.

import (
	"unsafe"

	"github.com/shmkit/shmkit/internal/view"
	"github.com/shmkit/shmkit/shm"
)

// Object kinds and layout version (major<<16 | minor).
var (
	// KindMap, KindList and KindNamespace tag the root objects of a Map, a
	// List and a Namespace; KindTable tags their tables.
	KindMap       = shm.MakeKind("DMAP")
	KindList      = shm.MakeKind("DLST")
	KindNamespace = shm.MakeKind("DNSP")
	KindTable     = shm.MakeKind("DTAB")
)

const layoutVersion = 1 << 16

// raceAnchor is an object's race-detector anchor (segcore.Core.Anchor).
type raceAnchor = unsafe.Pointer

// Root object: rootHdr then one 64-byte line per stripe.
const (
	rootStripesOff   = 0
	rootKeyMaxOff    = 4
	rootValueMaxOff  = 8
	rootMaxBytesOff  = 16
	rootTableOff     = 24
	rootRevOff       = 64
	rootNotifyOff    = 128
	rootWatchersOff  = 132
	rootRecoveredOff = 192
	rootListLenOff   = 200
	rootHdrSize      = 256
	lineSize         = 64 // one stripe line: the in-flight revision at +0
)

// rootHdr is the fixed part of a root object. The first line is written by
// the creator only; the others each by one group of writers.
type rootHdr struct {
	stripes   uint32   // 0
	keyMax    uint32   // 4
	valueMax  uint32   // 8
	_         uint32   // 12 reserved
	maxBytes  uint64   // 16
	table     uint64   // 24 current table id: gen<<32 | tag
	_         [32]byte // 32
	rev       uint64   // 64 revision counter (atomic add by writers)
	_         [56]byte
	notify    uint32 // 128 futex word: +1 after each published change
	watchers  uint32 // 132 threads parked on notify
	_         [56]byte
	recovered uint64   // 192 dead writers recovered
	listLen   uint64   // 200 List length
	_         [48]byte // 208
}

const (
	_ = uintptr(rootHdrSize - unsafe.Sizeof(rootHdr{}))
	_ = uintptr(unsafe.Sizeof(rootHdr{}) - rootHdrSize)
	_ = uintptr(rootKeyMaxOff - unsafe.Offsetof(rootHdr{}.keyMax))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.keyMax) - rootKeyMaxOff)
	_ = uintptr(rootValueMaxOff - unsafe.Offsetof(rootHdr{}.valueMax))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.valueMax) - rootValueMaxOff)
	_ = uintptr(rootMaxBytesOff - unsafe.Offsetof(rootHdr{}.maxBytes))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.maxBytes) - rootMaxBytesOff)
	_ = uintptr(rootTableOff - unsafe.Offsetof(rootHdr{}.table))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.table) - rootTableOff)
	_ = uintptr(rootRevOff - unsafe.Offsetof(rootHdr{}.rev))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.rev) - rootRevOff)
	_ = uintptr(rootNotifyOff - unsafe.Offsetof(rootHdr{}.notify))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.notify) - rootNotifyOff)
	_ = uintptr(rootWatchersOff - unsafe.Offsetof(rootHdr{}.watchers))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.watchers) - rootWatchersOff)
	_ = uintptr(rootRecoveredOff - unsafe.Offsetof(rootHdr{}.recovered))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.recovered) - rootRecoveredOff)
	_ = uintptr(rootListLenOff - unsafe.Offsetof(rootHdr{}.listLen))
	_ = uintptr(unsafe.Offsetof(rootHdr{}.listLen) - rootListLenOff)
)

func rootSize(stripes int) int { return rootHdrSize + lineSize*stripes }

func rootAt(payload []byte) *rootHdr { return view.Ptr[rootHdr](payload, 0) }

// inflightAt returns stripe s's in-flight revision word.
func inflightAt(payload []byte, s int) *uint64 {
	return view.Ptr[uint64](payload, rootHdrSize+lineSize*s)
}

// words views a table payload (64-byte aligned, a multiple of 8 bytes) as
// 8-byte words: every table field is a word, so every shared access is one
// aligned 8-byte load or store.
func words(payload []byte) []uint64 { return view.Slice[uint64](payload, 0, len(payload)/8) }

// Table object, in words. The header line, one line per stripe, the buckets,
// then the slots.
const (
	tabIDW       = 0 // gen<<32 | tag
	tabBucketsW  = 1 // number of buckets, a power of two
	tabSlotsW    = 2 // number of slots, a multiple of stripes
	tabKeyMaxW   = 3
	tabValueMaxW = 4
	tabStripesW  = 5
	tabHdrWords  = 8

	stripeFreeW  = 0 // slot+1 at the head of the stripe's free list, 0 when empty
	stripeCountW = 1 // live entries in the stripe
	lineWords    = lineSize / 8

	slotSeqW   = 0 // publications so far; the current cell is seq&1
	slotNextW  = 1 // slot+1 of the next in the chain (or free list), 0 at the end
	slotHdrW   = 2
	cellRevW   = 0 // revision of this write
	cellHashW  = 1 // xxhash64 of the key
	cellMetaW  = 2 // state | klen<<8 | vlen<<32
	cellHdrW   = 3
	cellLive   = 1 // state: a live entry (0: free or deleted)
	metaKlenSh = 8
	metaVlenSh = 32
)

func wordsFor(n int) int { return (n + 7) / 8 }
