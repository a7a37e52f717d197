package futex

// This file encapsulates usage of unsafe. It holds the fixed-size structs
// laid over each primitive's payload, their offsets pinned at compile time.

import (
	"unsafe"

	"github.com/shmkit/shmkit/internal/view"
)

// Object kinds and layout versions (major<<16 | minor).
const (
	lockVersion      uint32 = 1<<16 | 1
	semVersion       uint32 = 1 << 16
	eventVersion     uint32 = 1 << 16
	conditionVersion uint32 = 1 << 16
	barrierVersion   uint32 = 1<<16 | 1
)

// Lock and RLock: one 64-byte line.
const (
	lockSize     = 64
	lockWordOff  = 0 // futex word: owner token | flags
	lockDepthOff = 4 // reserved, 0 (RLock depth is process-local since 1.1)
	lockOwnerOff = 8 // reserved, 0 (RLock owner id is process-local since 1.1)
)

type lockState struct {
	word  uint32
	depth uint32
	owner uint64
	_     [48]byte
}

// Semaphore and BoundedSemaphore: one 64-byte line.
const (
	semSize        = 64
	semValueOff    = 0 // futex word: permits available
	semSleepersOff = 4 // threads parked in the kernel, all processes
	semMaxOff      = 8 // BoundedSemaphore: the initial value; Semaphore: semValueMax
)

type semState struct {
	value    uint32
	sleepers uint32
	max      uint32
	_        [52]byte
}

// Event: one 64-byte line.
const (
	eventSize        = 64
	eventWordOff     = 0 // futex word: bit 0 the flag, bits 1-31 count Sets
	eventSleepersOff = 4
)

type eventState struct {
	word     uint32
	sleepers uint32
	_        [56]byte
}

// Condition: a line of counters, then the name of its lock.
const (
	condSize        = 192
	condStateOff    = 0  // waiting<<32 | signals, CAS'd as one word
	condSeqOff      = 8  // futex word: bumped by every Notify
	condSleepersOff = 12 // threads parked in the kernel
	condNameLenOff  = 64
	condNameOff     = 68
	condNameMax     = 120
)

type condState struct {
	state    uint64
	seq      uint32
	sleepers uint32
	_        [48]byte
	nameLen  uint32
	name     [condNameMax]byte
	_        [4]byte
}

// Barrier: a line of counters, then one 8-byte arrival slot per party.
const (
	barrierHdrSize     = 64
	barrierStateOff    = 0  // gen<<32 | history | broken | count, CAS'd as one word
	barrierSeqOff      = 8  // futex word: bumped by every transition
	barrierSleepersOff = 12 // threads parked in the kernel
	barrierPartiesOff  = 16 // parties, immutable after creation
	barrierSlotSize    = 8  // gen<<32 | token of the party that arrived
	barrierMaxParties  = 1024
)

type barrierState struct {
	state    uint64
	seq      uint32
	sleepers uint32
	parties  uint32
	_        [44]byte
}

// Pin the offsets above to the structs: each line fails to compile
// (negative constant converted to uintptr) if a field moves.
const (
	_ = uintptr(lockSize - unsafe.Sizeof(lockState{}))
	_ = uintptr(unsafe.Sizeof(lockState{}) - lockSize)
	_ = uintptr(lockDepthOff - unsafe.Offsetof(lockState{}.depth))
	_ = uintptr(unsafe.Offsetof(lockState{}.depth) - lockDepthOff)
	_ = uintptr(lockOwnerOff - unsafe.Offsetof(lockState{}.owner))
	_ = uintptr(unsafe.Offsetof(lockState{}.owner) - lockOwnerOff)

	_ = uintptr(semSize - unsafe.Sizeof(semState{}))
	_ = uintptr(unsafe.Sizeof(semState{}) - semSize)
	_ = uintptr(semSleepersOff - unsafe.Offsetof(semState{}.sleepers))
	_ = uintptr(unsafe.Offsetof(semState{}.sleepers) - semSleepersOff)
	_ = uintptr(semMaxOff - unsafe.Offsetof(semState{}.max))
	_ = uintptr(unsafe.Offsetof(semState{}.max) - semMaxOff)

	_ = uintptr(eventSize - unsafe.Sizeof(eventState{}))
	_ = uintptr(unsafe.Sizeof(eventState{}) - eventSize)
	_ = uintptr(eventSleepersOff - unsafe.Offsetof(eventState{}.sleepers))
	_ = uintptr(unsafe.Offsetof(eventState{}.sleepers) - eventSleepersOff)

	_ = uintptr(condSize - unsafe.Sizeof(condState{}))
	_ = uintptr(unsafe.Sizeof(condState{}) - condSize)
	_ = uintptr(condSeqOff - unsafe.Offsetof(condState{}.seq))
	_ = uintptr(unsafe.Offsetof(condState{}.seq) - condSeqOff)
	_ = uintptr(condSleepersOff - unsafe.Offsetof(condState{}.sleepers))
	_ = uintptr(unsafe.Offsetof(condState{}.sleepers) - condSleepersOff)
	_ = uintptr(condNameLenOff - unsafe.Offsetof(condState{}.nameLen))
	_ = uintptr(unsafe.Offsetof(condState{}.nameLen) - condNameLenOff)
	_ = uintptr(condNameOff - unsafe.Offsetof(condState{}.name))
	_ = uintptr(unsafe.Offsetof(condState{}.name) - condNameOff)

	_ = uintptr(barrierHdrSize - unsafe.Sizeof(barrierState{}))
	_ = uintptr(unsafe.Sizeof(barrierState{}) - barrierHdrSize)
	_ = uintptr(barrierSeqOff - unsafe.Offsetof(barrierState{}.seq))
	_ = uintptr(unsafe.Offsetof(barrierState{}.seq) - barrierSeqOff)
	_ = uintptr(barrierSleepersOff - unsafe.Offsetof(barrierState{}.sleepers))
	_ = uintptr(unsafe.Offsetof(barrierState{}.sleepers) - barrierSleepersOff)
	_ = uintptr(barrierPartiesOff - unsafe.Offsetof(barrierState{}.parties))
	_ = uintptr(unsafe.Offsetof(barrierState{}.parties) - barrierPartiesOff)
)

func lockAt(b []byte) *lockState       { return view.Ptr[lockState](b, 0) }
func semAt(b []byte) *semState         { return view.Ptr[semState](b, 0) }
func eventAt(b []byte) *eventState     { return view.Ptr[eventState](b, 0) }
func condAt(b []byte) *condState       { return view.Ptr[condState](b, 0) }
func barrierAt(b []byte) *barrierState { return view.Ptr[barrierState](b, 0) }
func barrierSlots(b []byte, n int) []uint64 {
	return view.Slice[uint64](b, barrierHdrSize, n)
}

// anchor is a race-detector anchor (segcore.Core.Anchor): nil without -race.
type anchor = unsafe.Pointer
