package ring

// This file encapsulates usage of unsafe: the fixed-size structs laid over
// shared memory, their offsets pinned at compile time, and the typed words
// the rest of the package uses. Everything else reaches the mapping through
// the pointers built here or through plain byte slices.

import (
	"unsafe"

	"github.com/shmkit/shmkit/internal/view"
	"github.com/shmkit/shmkit/shm"
)

// Object kinds and layout versions (major<<16 | minor).
var (
	kindSPSC = shm.MakeKind("RSPS") // a bare SPSC ring
	kindPipe = shm.MakeKind("PIPE") // two SPSC rings (or one, simplex)
	kindMPMC = shm.MakeKind("RMPM") // a Vyukov MPMC ring (Queue)
)

const (
	spscVersion uint32 = 1<<16 | 2
	pipeVersion uint32 = 2<<16 | 0
	mpmcVersion uint32 = 2<<16 | 0

	cacheLine = 64

	spscMagic uint32 = 0x43535053 // "SPSC"
	mpmcMagic uint32 = 0x434D504D // "MPMC"
	pipeMagic uint32 = 0x45504950 // "PIPE"

	// SPSC ring header: four cache lines, then the data area.
	spscHdrSize     = 256
	spscCapOff      = 8
	spscProdTokOff  = 16
	spscConsTokOff  = 20
	spscClosedOff   = 24
	spscTailOff     = 64 // producer's line
	spscTxLockOff   = 72
	spscTxOpenOff   = 76
	spscHeadOff     = 128 // consumer's line
	spscRxLockOff   = 136
	spscRxOpenOff   = 140
	spscConsWaitOff = 192 // waiters' line: written only when parking
	spscProdWaitOff = 196
	spscTxParkOff   = 200
	spscRxParkOff   = 204

	// Record header: one little-endian word, len | (recMagic<<16|kind)<<32.
	recHdrSize        = 8
	recAlign          = 8
	recMagic   uint32 = 0x5245 // "RE"

	// Pipe header: a line of geometry, a holder table per end, then one or
	// two SPSC rings.
	pipeHdrSize    = 64 + 2*pipeHolders*4
	pipeDuplexOff  = 4
	pipeRingOff    = 8 // size of each ring region (header + data)
	pipeHoldersOff = 64
	// pipeHolders is how many open handles (Conns, in any processes) one
	// pipe end can have at once.
	pipeHolders = 32

	// MPMC header: five lines, then the slots.
	mpmcHdrSize        = 320
	mpmcSlotSizeOff    = 4
	mpmcSlotsOff       = 8
	mpmcMaxMsgOff      = 16
	mpmcMaxSizeOff     = 20
	mpmcClosedOff      = 24
	mpmcFlagsOff       = 28
	mpmcTombstonedOff  = 32
	mpmcLeasesOff      = 40
	mpmcLeaseSizeOff   = 44
	mpmcLostOff        = 48
	mpmcRedeliveredOff = 56
	mpmcEnqOff         = 64  // producers' line
	mpmcDeqOff         = 128 // consumers' line
	mpmcGetWaitOff     = 192 // waiters' line
	mpmcPutWaitOff     = 196
	mpmcEndedOff       = 256 // leases line
	mpmcJoinWaitOff    = 260
	mpmcOrphansOff     = 264
	mpmcSlotHdrSize    = 16
	mpmcSlotSeqOff     = 0
	mpmcSlotLenOff     = 8
	mpmcSlotFlagsOff   = 12
	mpmcSlotTombstone  = 1 // slot flag: no message, skip (dead producer)
	mpmcSlotPublished  = 2 // slot flag: a message
	mpmcMaxSlotPayload = 1 << 30
	mpmcJoinable       = 1 // header flag: a JoinableQueue
	mpmcRedeliver      = 2 // header flag: a dead holder's message is redelivered

	// Lease entries follow the slots, lease size bytes each.
	leaseHdrSize   = 32
	leaseStateOff  = 0
	leaseHolderOff = 8
	leaseLenOff    = 12
	leasePosOff    = 16
)

// spscHdr is the header of one SPSC ring.
type spscHdr struct {
	magic    uint32 // 0: spscMagic
	_        uint32 // 4
	capacity uint64 // 8: data bytes, a power of two
	prodTok  uint32 // 16: producer's shm.Token, 0 before it attaches
	consTok  uint32 // 20: consumer's shm.Token
	closed   uint32 // 24: bit 0 producer closed, bit 1 consumer closed
	_        [36]byte
	tail     uint64 // 64: producer: bytes published, ever
	txLock   uint32 // 72: pipes: token of the sender holding the send side, 0 free
	txOpen   uint32 // 76: pipes: 1 while a fragmented message is begun and not ended
	_        [48]byte
	head     uint64 // 128: consumer: bytes released, ever
	rxLock   uint32 // 136: pipes: token of the receiver holding the receive side
	rxOpen   uint32 // 140: pipes: 1 while a receiver has taken a first fragment and not the last
	_        [48]byte
	consWait uint32 // 192: 1: a consumer parks on tail; the waking producer clears it
	prodWait uint32 // 196: 1: a producer parks on head; the waking consumer clears it
	txPark   uint32 // 200: 1: a sender parks on txLock; the unlocking sender clears it
	rxPark   uint32 // 204: 1: a receiver parks on rxLock; the unlocking receiver clears it
	_        [48]byte
}

// pipeHdr precedes the rings of a pipe.
type pipeHdr struct {
	magic    uint32                 // 0: pipeMagic
	duplex   uint32                 // 4: 1 duplex (two rings), 0 one-way (one ring)
	ringSize uint64                 // 8: bytes per ring region, header included
	died     [2]uint32              // 16: end e: 1 once a holder was found dead without closing
	_        [40]byte               //
	holders  [2][pipeHolders]uint32 // 64: end e: open handles' participant tokens, 0 free
}

// mpmcHdr is the header of one MPMC ring.
type mpmcHdr struct {
	magic       uint32 // 0: mpmcMagic
	slotSize    uint32 // 4: bytes per slot, a multiple of 64
	slots       uint64 // 8: a power of two
	maxMsg      uint32 // 16: largest message
	maxSize     uint32 // 20: capacity in messages (<= slots)
	closed      uint32 // 24: 1 after Close
	flags       uint32 // 28: mpmcJoinable | mpmcRedeliver, set by the creator
	tombstoned  uint64 // 32: claims of dead producers/consumers undone
	leases      uint32 // 40: lease entries
	leaseSize   uint32 // 44: bytes per lease entry, a multiple of 64
	lost        uint64 // 48: leases of dead holders counted as failed
	redelivered uint64 // 56: leases of dead holders returned for redelivery
	enq         uint64 // 64: next position to claim for Put
	_           [56]byte
	deq         uint64 // 128: next position to claim for Get
	_           [56]byte
	getWait     uint32 // 192: 1: getters park on enq; cleared by the waking producer
	putWait     uint32 // 196: 1: putters park on deq; cleared by the waking consumer
	_           [56]byte
	ended       uint32 // 256: leases ended (done or reclaimed), ever: Join's futex word
	joinWait    uint32 // 260: 1: waiters park on ended; cleared by whoever ends a lease
	orphans     uint32 // 264: lease entries waiting for redelivery (a hint)
	_           [52]byte
}

// leaseEntry is the fixed part of a lease entry; the message follows.
type leaseEntry struct {
	state  uint64 // 0: low 32 bits state<<29 | owner token, high 32 a generation
	holder uint32 // 8: token of the participant that took the message
	len    uint32 // 12: message length (valid in leaseHeld, leaseReclaim, leaseOrphan)
	pos    uint64 // 16: ring position the holder claims or claimed
	_      uint64 // 24
}

// mpmcSlot is the fixed part of a slot; the payload follows.
type mpmcSlot struct {
	seq   uint64 // 0: Vyukov sequence: pos free, pos+1 full, pos+slots next lap
	len   uint32 // 8: message length
	flags uint32 // 12: mpmcSlotPublished or mpmcSlotTombstone
}

// Pin the offsets above to the structs: each line fails to compile (a
// negative constant converted to uintptr) if a field moves.
const (
	_ = uintptr(spscHdrSize - unsafe.Sizeof(spscHdr{}))
	_ = uintptr(unsafe.Sizeof(spscHdr{}) - spscHdrSize)
	_ = uintptr(spscCapOff - unsafe.Offsetof(spscHdr{}.capacity))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.capacity) - spscCapOff)
	_ = uintptr(spscProdTokOff - unsafe.Offsetof(spscHdr{}.prodTok))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.prodTok) - spscProdTokOff)
	_ = uintptr(spscConsTokOff - unsafe.Offsetof(spscHdr{}.consTok))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.consTok) - spscConsTokOff)
	_ = uintptr(spscClosedOff - unsafe.Offsetof(spscHdr{}.closed))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.closed) - spscClosedOff)
	_ = uintptr(spscTailOff - unsafe.Offsetof(spscHdr{}.tail))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.tail) - spscTailOff)
	_ = uintptr(spscTxLockOff - unsafe.Offsetof(spscHdr{}.txLock))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.txLock) - spscTxLockOff)
	_ = uintptr(spscTxOpenOff - unsafe.Offsetof(spscHdr{}.txOpen))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.txOpen) - spscTxOpenOff)
	_ = uintptr(spscRxLockOff - unsafe.Offsetof(spscHdr{}.rxLock))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.rxLock) - spscRxLockOff)
	_ = uintptr(spscRxOpenOff - unsafe.Offsetof(spscHdr{}.rxOpen))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.rxOpen) - spscRxOpenOff)
	_ = uintptr(spscTxParkOff - unsafe.Offsetof(spscHdr{}.txPark))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.txPark) - spscTxParkOff)
	_ = uintptr(spscRxParkOff - unsafe.Offsetof(spscHdr{}.rxPark))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.rxPark) - spscRxParkOff)
	_ = uintptr(spscHeadOff - unsafe.Offsetof(spscHdr{}.head))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.head) - spscHeadOff)
	_ = uintptr(spscConsWaitOff - unsafe.Offsetof(spscHdr{}.consWait))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.consWait) - spscConsWaitOff)
	_ = uintptr(spscProdWaitOff - unsafe.Offsetof(spscHdr{}.prodWait))
	_ = uintptr(unsafe.Offsetof(spscHdr{}.prodWait) - spscProdWaitOff)

	_ = uintptr(pipeHdrSize - unsafe.Sizeof(pipeHdr{}))
	_ = uintptr(unsafe.Sizeof(pipeHdr{}) - pipeHdrSize)
	_ = uintptr(pipeDuplexOff - unsafe.Offsetof(pipeHdr{}.duplex))
	_ = uintptr(unsafe.Offsetof(pipeHdr{}.duplex) - pipeDuplexOff)
	_ = uintptr(pipeRingOff - unsafe.Offsetof(pipeHdr{}.ringSize))
	_ = uintptr(unsafe.Offsetof(pipeHdr{}.ringSize) - pipeRingOff)
	_ = uintptr(pipeHoldersOff - unsafe.Offsetof(pipeHdr{}.holders))
	_ = uintptr(unsafe.Offsetof(pipeHdr{}.holders) - pipeHoldersOff)

	_ = uintptr(mpmcHdrSize - unsafe.Sizeof(mpmcHdr{}))
	_ = uintptr(unsafe.Sizeof(mpmcHdr{}) - mpmcHdrSize)
	_ = uintptr(mpmcSlotSizeOff - unsafe.Offsetof(mpmcHdr{}.slotSize))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.slotSize) - mpmcSlotSizeOff)
	_ = uintptr(mpmcSlotsOff - unsafe.Offsetof(mpmcHdr{}.slots))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.slots) - mpmcSlotsOff)
	_ = uintptr(mpmcMaxMsgOff - unsafe.Offsetof(mpmcHdr{}.maxMsg))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.maxMsg) - mpmcMaxMsgOff)
	_ = uintptr(mpmcMaxSizeOff - unsafe.Offsetof(mpmcHdr{}.maxSize))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.maxSize) - mpmcMaxSizeOff)
	_ = uintptr(mpmcClosedOff - unsafe.Offsetof(mpmcHdr{}.closed))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.closed) - mpmcClosedOff)
	_ = uintptr(mpmcFlagsOff - unsafe.Offsetof(mpmcHdr{}.flags))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.flags) - mpmcFlagsOff)
	_ = uintptr(mpmcTombstonedOff - unsafe.Offsetof(mpmcHdr{}.tombstoned))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.tombstoned) - mpmcTombstonedOff)
	_ = uintptr(mpmcLeasesOff - unsafe.Offsetof(mpmcHdr{}.leases))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.leases) - mpmcLeasesOff)
	_ = uintptr(mpmcLeaseSizeOff - unsafe.Offsetof(mpmcHdr{}.leaseSize))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.leaseSize) - mpmcLeaseSizeOff)
	_ = uintptr(mpmcLostOff - unsafe.Offsetof(mpmcHdr{}.lost))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.lost) - mpmcLostOff)
	_ = uintptr(mpmcRedeliveredOff - unsafe.Offsetof(mpmcHdr{}.redelivered))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.redelivered) - mpmcRedeliveredOff)
	_ = uintptr(mpmcEnqOff - unsafe.Offsetof(mpmcHdr{}.enq))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.enq) - mpmcEnqOff)
	_ = uintptr(mpmcDeqOff - unsafe.Offsetof(mpmcHdr{}.deq))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.deq) - mpmcDeqOff)
	_ = uintptr(mpmcGetWaitOff - unsafe.Offsetof(mpmcHdr{}.getWait))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.getWait) - mpmcGetWaitOff)
	_ = uintptr(mpmcPutWaitOff - unsafe.Offsetof(mpmcHdr{}.putWait))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.putWait) - mpmcPutWaitOff)
	_ = uintptr(mpmcEndedOff - unsafe.Offsetof(mpmcHdr{}.ended))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.ended) - mpmcEndedOff)
	_ = uintptr(mpmcJoinWaitOff - unsafe.Offsetof(mpmcHdr{}.joinWait))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.joinWait) - mpmcJoinWaitOff)
	_ = uintptr(mpmcOrphansOff - unsafe.Offsetof(mpmcHdr{}.orphans))
	_ = uintptr(unsafe.Offsetof(mpmcHdr{}.orphans) - mpmcOrphansOff)

	_ = uintptr(mpmcSlotHdrSize - unsafe.Sizeof(mpmcSlot{}))
	_ = uintptr(unsafe.Sizeof(mpmcSlot{}) - mpmcSlotHdrSize)
	_ = uintptr(mpmcSlotLenOff - unsafe.Offsetof(mpmcSlot{}.len))
	_ = uintptr(unsafe.Offsetof(mpmcSlot{}.len) - mpmcSlotLenOff)
	_ = uintptr(mpmcSlotFlagsOff - unsafe.Offsetof(mpmcSlot{}.flags))
	_ = uintptr(unsafe.Offsetof(mpmcSlot{}.flags) - mpmcSlotFlagsOff)

	_ = uintptr(leaseHdrSize - unsafe.Sizeof(leaseEntry{}))
	_ = uintptr(unsafe.Sizeof(leaseEntry{}) - leaseHdrSize)
	_ = uintptr(leaseHolderOff - unsafe.Offsetof(leaseEntry{}.holder))
	_ = uintptr(unsafe.Offsetof(leaseEntry{}.holder) - leaseHolderOff)
	_ = uintptr(leaseLenOff - unsafe.Offsetof(leaseEntry{}.len))
	_ = uintptr(unsafe.Offsetof(leaseEntry{}.len) - leaseLenOff)
	_ = uintptr(leasePosOff - unsafe.Offsetof(leaseEntry{}.pos))
	_ = uintptr(unsafe.Offsetof(leaseEntry{}.pos) - leasePosOff)
)

func spscHdrAt(b []byte) *spscHdr            { return view.Ptr[spscHdr](b, 0) }
func pipeHdrAt(b []byte) *pipeHdr            { return view.Ptr[pipeHdr](b, 0) }
func mpmcHdrAt(b []byte) *mpmcHdr            { return view.Ptr[mpmcHdr](b, 0) }
func mpmcSlotAt(b []byte, off int) *mpmcSlot { return view.Ptr[mpmcSlot](b, off) }
func leaseAt(b []byte, off int) *leaseEntry  { return view.Ptr[leaseEntry](b, off) }

// low32 returns the low (little-endian first) half of a 64-bit index word:
// the futex word a waiter parks on. A ring never holds 2^32 bytes, so the
// low half changes whenever the index does.
func low32(p *uint64) *uint32 { return (*uint32)(unsafe.Pointer(p)) }

// wordOffset returns the offset of word, a field of *hdr, from hdr.
func wordOffset[H any](hdr *H, word *uint32) int {
	return int(uintptr(unsafe.Pointer(word)) - uintptr(unsafe.Pointer(hdr)))
}

// anchor is a race-detector anchor (segcore.Core.Anchor), named here so that
// no other file needs to import unsafe.
type anchor = unsafe.Pointer

// plainBytes returns the memory of *v as bytes, for codecs of pointer-free
// fixed-size types (checked by the caller with reflect).
func plainBytes[T any](v *T) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(v)), unsafe.Sizeof(*v))
}
