// Package ctypes provides typed shared values and arrays in a shm segment,
// the counterpart of Python's multiprocessing.Value, Array, RawValue and
// RawArray (multiprocessing.sharedctypes), with the same typecodes and a
// plain C memory layout that Python, C or numpy can read.
//
// # Two APIs
//
// The generic API is for code that knows the element type at compile time:
//
//	v, err := ctypes.NewValue[float64](seg, "num", 0, nil)      // with an RLock
//	a, err := ctypes.NewArrayFrom(seg, "arr", []int32{1, 2, 3}, nil)
//	r, err := ctypes.NewRawValue[int64](seg, "hits", 0, nil)   // no lock
//	v2, err := ctypes.OpenValue[float64](seg, "num")           // another process
//
// The typecode-driven API is for code that knows the code only at run time,
// as Python's Value('d', 0.0) and Array('i', range(10)):
//
//	v, err := ctypes.NewValueOf(seg, "num", 'd', 0.0, nil)
//	a, err := ctypes.NewArrayOf(seg, "arr", 'i', []int{0, 1, 2}, nil)
//	z, err := ctypes.NewRawArrayOf(seg, "zeros", 'f', 100) // zero-filled
//	x := v.Get() // float64
//	s, err := a.Slice(1, 3)                    // arr[1:3], sharing memory
//	n := a.CopyTo(make([]any, a.Len()))        // arr[:]
//	w, err := ctypes.OpenValueOf(seg, "num", 'd')
//
// Values come out of the typecode-driven API as the Go type of the typecode
// (see Typecode) and go in as any Go number the type can represent.
//
// # Typecodes
//
// The typecode is stored in shared memory. Opening an object checks it: the
// generic API accepts any typecode whose Go type has T's kind ('l' and 'q'
// both read as int64), the typecode-driven API wants the exact code (or 0
// for any). Opening with a different typecode, length, or shape (a value as
// an array) is ErrTypeMismatch, never a reinterpretation.
//
// # Atomicity and locks
//
// Beyond Python, every element access is atomic: Load, Store, Swap,
// CompareAndSwap and Add on a value, and Get, Set, Swap, CompareAndSwap and
// Add on an array element, are single atomic operations (1- and 2-byte
// elements are stored by a compare-and-swap of the aligned 8-byte word
// around them, which is why the data area is padded to 8 bytes; float Add
// is a compare-and-swap loop). They never tear, need no lock, and
// give the happens-before edges of sync/atomic across processes: a Store
// (or Add, Swap, successful CompareAndSwap) happens before any Load that
// observes it. Floats compare by bit pattern in CompareAndSwap. Integer Add
// wraps around.
//
// Value and Array carry a lock, a futex.RLock by default, created as the
// named object "<name>.lock" in the same segment before the object itself,
// as multiprocessing.Value does; Options.Lock attaches a caller's
// futex.Lock or futex.RLock instead (it must live in the same segment).
// The lock's name is stored in the object, so OpenValue and OpenArray (and
// OpenValueOf/OpenArrayOf) attach the same lock. GetLock returns it, as
// get_lock() does, for compound operations; Update applies a function under
// it. Like every shmkit lock handle, the lock excludes by default: an
// Acquire through GetLock() never re-enters a hold, so goroutines sharing
// one handle exclude each other, and "l := v.GetLock(); l.Acquire(ctx);
// v.Store(v.Load()+1); l.Release()" is as exact as CPython's "with
// v.get_lock(): v.value += 1", in goroutines and in processes. Update
// takes the same lock the same way (for no futex.Owner, even when
// Options.Lock is an Owner's view), so Updates exclude each other and
// GetLock() holders; for the same reason a goroutine must not call Update
// while it holds GetLock() itself. If the previous holder died holding the
// lock, Update still applies the function (the elements are always
// consistent, each store being atomic), makes the lock consistent, and
// returns an error wrapping futex.ErrOwnerDead along with the result.
//
// An uncontended Update is the lock's acquiring compare-and-swap, a load,
// the call of fn, a store, and the releasing compare-and-swap, run from a
// deferred func so that a panicking fn still releases the lock; both
// compare-and-swaps inline (futex.FastPath), the same code for a
// futex.Lock and an RLock. On amd64 the load and the 8-byte store are
// plain moves (x86-TSO: the releasing compare-and-swap publishes the
// store, and a lock-free reader never sees it torn); elsewhere the store
// is atomic. That is two locked instructions and two calls (fn and the
// deferred func), the shape of a Go value guarded by a sync.Mutex whose
// update method calls fn through a func value and defers the unlock; a
// sync.Mutex written out around an inlined update makes no call at all. A
// compare-and-swap release costs what sync.Mutex's atomic-add release
// does. What Update adds to that Go shape, about half as much again on
// amd64, is loads and memory traffic: the segment's state word before
// each compare-and-swap (closed or guarded segments take the checked
// path) and an RLock's owner slot before the release; the lock word and
// the value behind pointers, since in shared memory they cannot be fields
// of the handle; results kept in memory across the deferred release, which
// may set the error; and the handle's own pointers. BenchmarkUpdate
// measures these shapes in one run (go test -run '^$' -bench 'Update$'
// ./ctypes/); bench/ compares with CPython's locked "v.value += 1".
//
// The atomic accessors do not take the lock: a single atomic access needs
// none, and Python's locked item access gives nothing more. CopyTo,
// CopyFrom and View are not atomic as a whole, so run them inside Update
// (or hold the lock) when writers may be active. RawValue and RawArray have
// no lock; OpenRawValue and OpenRawArray attach to locked objects too and
// ignore the lock, like Python's get_obj().
//
// # Closed and truncated segments
//
// After Segment.Close every handle answers shm.ErrClosed (the mapping stays
// until no handle can reach it, so nothing faults). On a named segment,
// whose file a peer can truncate under the mapping, every access runs
// guarded: touching memory past the new end of the file answers
// shm.ErrSegmentTruncated instead of aborting the process with SIGBUS. Per
// method:
//
//   - Methods with an error result return an error wrapping the sentinel
//     and naming the object: Value.Update and Array.Update; AnyValue's Set,
//     Add and Update; AnyArray's Set, Add, CopyFrom and Update.
//   - Accessors without one panic with such an error, a plain Go panic that
//     recover and errors.Is tell apart (never a fatal fault): Load, Store,
//     Swap, CompareAndSwap and Add of RawValue and Value; Get, Set, Swap,
//     CompareAndSwap, Add, CopyTo and CopyFrom of RawArray and Array; Get,
//     Float64 and Int64 of AnyValue, and those and CopyTo of AnyArray.
//   - Name, Typecode, Offset, Len, Slice and GetLock read no shared memory
//     and keep answering. The lock is a futex object with the same rules.
//   - RawArray.View panics with the error after Close, but the slice it
//     returns is the one unchecked access: on a named segment, make the
//     accesses through it inside Segment.Guard.
//
// An anonymous segment (a sealed memfd, the default of proc.Manager) cannot shrink:
// its accessors pay one load of the segment's state word (Load of an
// integer value, and Store, Swap and Add of an 8-byte integer one, inline
// into their caller). A guarded access runs under
// debug.SetPanicOnFault with a deferred recover, which costs a small
// access several times over (cgo-free-tests' BenchmarkGuard measures it);
// shm.Options.Unguarded opts a named segment out, for peers that never
// truncate it.
//
// # Memory layout
//
// An object is a shm named object of kind "CTYP", layout version 1.0. Its
// payload (at shm.Object.Offset from the segment base, 64-byte aligned)
// starts with a 128-byte header; element 0 follows at payload offset 128,
// so it is 64-byte aligned too. Offset() on every handle returns the
// segment offset of element 0. Everything is little-endian; elements are
// plain C values aligned to their size, back to back, the data area padded
// with zeros to a multiple of 8 bytes (an opener refuses a payload too
// short for the padded area: the atomics touch the aligned 8-byte word
// around an element).
//
//	off  size  field      written-by        read-by
//	0    1     typecode   creator           every opener: ASCII code ('d')
//	1    1     elemSize   creator           every opener: must match the code
//	2    1     shape      creator           every opener: 'V' value, 'A' array
//	3    1     flags      creator           every opener: bit 0 = has a lock
//	4    4     dataOff    creator           every opener: 128
//	8    8     length     creator           every opener: elements (1 for 'V')
//	16   4     lockLen    creator           Open: bytes of lockName used
//	20   12    reserved   creator (zero)    nobody
//	32   80    lockName   creator           Open: name of the lock object
//	112  16    reserved   creator (zero)    nobody
//	128  n*sz  elements   any participant   any participant (atomically)
//
// The header is written before shm publishes the object and never again.
// The lock (an RLock unless Options.Lock named another) is a separate futex
// object; other languages cannot take it (see below).
//
// A reader in another language finds the object by name in shm's
// directory; the next section gives every step and byte for Python.
//
// # Reading from Python
//
// Python (or C, or numpy) can read and write the elements of objects in a
// named segment that shmkit created; testdata/interop.py follows these
// steps exactly and TestPythonInterop runs it. Creating segments or
// objects from another language is not supported: a segment needs its
// creator's participant slot and liveness lock, which only shmkit keeps
// (shmkit gc would remove a foreign-made segment as one whose creator is
// dead), and objects are published by a compare-and-swap protocol Python
// cannot join. Anonymous (memfd) segments have no name to attach to.
//
// 1. Attach without ever unlinking. A segment lives in /dev/shm/NAME, or
// in $SHMKIT_DIR/NAME when the creating process had SHMKIT_DIR set;
// multiprocessing.shared_memory.SharedMemory looks only in /dev/shm, so for
// another directory open the file and map it:
//
//	m = mmap.mmap(open(os.path.join(d, name), "r+b").fileno(), 0); buf = memoryview(m)
//
// In /dev/shm, Python 3.13 and later: SharedMemory(name, track=False).
// Before 3.13 SharedMemory(name) registers the segment with the
// resource_tracker, which unlinks it when Python exits; undo that at once:
//
//	shm = SharedMemory(name)
//	resource_tracker.unregister(shm._name, "shared_memory")  # _name is "/" + name
//
// (A Python killed between those two lines still has the segment unlinked
// by its tracker; mapping the file as above never involves the tracker.)
// Never call unlink(). Python holds no participant slot: shmkit's liveness
// checks and shmkit gc do not see it, and gc may remove the name of a
// segment whose creator died while Python still maps it (the mapping keeps
// working).
//
// 2. Check the segment header. Everything is little-endian; offsets are
// from the segment base; struct '<8sIIBBHIQQIIQII' reads bytes 0-63:
//
//	off  size  field          check
//	0    8     magic          b"SHMKTSM1" (stored last by the creator)
//	8    4     version        major (version >> 16) == 1; minor any
//	12   4     byte order     0x01020304
//	16   1     word size      8
//	17   1     cache line     64
//	18   2     padding        0
//	20   4     arena offset   start of the object arena
//	24   8     size           == the file's size (len(buf))
//	32   8     creation id    random; tells a re-created name apart
//	40   4     creator pid
//	44   4     slots          participant table entries
//	48   8     creator start  clock ticks since boot
//	56   4     entries        directory entries, a power of two
//	60   4     flags          0
//	64   8     checksum       xxHash64 with seed 0 of bytes 8-63
//	72   56    padding        0
//	128  8     cursor         allocator (changes)
//	136  56    padding        0
//	192  4     objects        entries claimed so far (changes)
//	196  60    padding        0
//
// xxHash64 is not in Python's standard library: the xxhash package
// (xxhash.xxh64_intdigest(b, seed=0)) or the 40-line function in
// testdata/interop.py computes it; a reader that trusts its peers may skip
// the checksum.
//
// 3. Walk the directory: entries × 128 bytes at 256 + slots×64, read with
// struct '<QQ4sIQQI4x80s':
//
//	off  size  field     meaning
//	0    8     state     bits 0-7: 0 free, 1 claimed, 2 named, 3 ready,
//	                     4 failed; bits 8-31: 0; bits 32-63: the creator's
//	                     participant token
//	8    8     hash      xxHash64, seed 0, of the name's bytes
//	16   4     kind      four ASCII bytes: b"CTYP" for this package
//	20   4     version   major << 16 | minor: 1 << 16 for this package
//	24   8     offset    the payload, from the segment base (64-aligned)
//	32   8     size      the payload's size
//	40   4     name len  1 to 80
//	44   4     padding
//	48   80    name      UTF-8, name len bytes used, no NUL
//
// Only an entry whose state's low byte is 3 (ready) is an object: skip
// every other, whatever its bytes hold. A failed entry keeps its name (a
// creation that failed, or whose creator died, before it was published;
// the name may then be created again in another entry) and a claimed or
// named one is still being written, so a walk that skips the state check
// finds a second "num" with offset 0, or a torn name. A ready entry never
// changes again. Check, too, that name len is within 1-80 and that
// offset + size lies inside the file; the 64 bytes before the payload hold
// b"SHMO", the kind, the version, the entry's index (u32) and the size
// (u64). Names can also be looked up by hash: start at hash mod entries,
// step by one (wrapping), skip non-ready entries and stop at a free one.
//
// 4. Read the object's header at the payload with struct
// '<cBcBIQI12x80s16x' (the table in Memory layout above: typecode,
// elemSize, shape, flags, dataOff, length, lockLen, lockName; the x
// fields are zero), then the elements at payload + 128: length elements of
// elemSize bytes, followed by zero padding up to a multiple of 8 bytes.
// memoryview.cast takes every typecode but 'u', which it rejects
// (ValueError): a 'u' element is a 4-byte wchar_t holding a code point, so
// cast to 'I' and convert with chr(x) to read and ord(c) to write. Aligned
// element stores from Python are plain stores: a Python read-modify-write
// ("mv[i] += 1") is not atomic against Go's Add.
//
// 5. The lock. A locked object names its lock (a directory object of kind
// b"RLCK", or b"LOCK" when Options.Lock gave a Lock; layout 1.0). Its first
// 4 bytes are the futex word: bits 0-28 the holder's participant token (0:
// free; bits 0-11 the slot index + 1, bits 12-28 the low bits of the slot's
// generation), bit 29 not recoverable, bit 30 owner died, bit 31 waiters
// (some process may sleep in FUTEX_WAIT). Python may read it to see
// whether Go holds the lock; it cannot take it: a holder must be a live
// participant, and a token written from Python names no live slot, so the
// next Go acquirer would take the lock over with futex.ErrOwnerDead.
// Coordinate through the atomic element operations, or a protocol of your
// own.
//
// # Errors and CPython
//
//	ErrTypecode        ValueError: bad typecode
//	ErrTypeMismatch    TypeError (also matches shm.ErrTypeMismatch)
//	ErrIndex           IndexError: an element index out of range panics, as a
//	                   Go slice index does (a programming error in this
//	                   process); the panic value wraps ErrIndex. Slice returns
//	                   it as an error for bounds out of range
//	ErrRange           OverflowError (an integer that does not fit)
//	ErrValueType       TypeError (a float for an integer code, a string)
//	ErrNoLock          a locked handle opened on an object created raw
//	futex.ErrOwnerDead from Update: a peer died holding the lock (applied)
//	shm.ErrCorrupt     a header that a peer scribbled over
//
// # CPython to Go
//
//	CPython                              shmkit
//	v = Value('i', 0)                    v, err := NewValue[int32](seg, "v", 0, nil)
//	v.value; v.value = x                 v.Load(); v.Store(x) (atomic)
//	with v.get_lock(): v.value += 1      l := v.GetLock(); l.Acquire(ctx)
//	                                     v.Store(v.Load() + 1); l.Release()
//	                                     (exact: the lock excludes goroutines
//	                                     sharing the handle, as threads)
//	                                     or v.Update(ctx, func(x int32) int32 { return x + 1 })
//	arr[i]; arr[i] = x                   a.Get(i); a.Set(i, x) (atomic; an
//	                                     index out of range panics)
//	arr[i:j]                             a.Slice(i, j)
//	arr[:]                               a.CopyTo(dst) or, under the lock, a.View()
//
// Unlike ctypes, which silently truncates an int that does not fit a
// c_int, the typecode-driven API refuses it with ErrRange (as array.array
// does); the generic API takes Go values and cannot overflow.
//
// # What it does not promise
//
// Bulk copies (CopyTo, CopyFrom) are not atomic as a whole, and View gives
// plain, unsynchronised access that the race detector cannot see. A peer
// may write any bit pattern into an element (a signalling NaN, say); only
// the header is validated. The typecode-driven API converts values through
// reflection and is slower than the generic one. Objects are never freed
// (shm's allocator does not free). An array holds at most 2 GiB of
// elements. The layout is that of Linux/amd64 C types ('l' is 8 bytes, 'u'
// is a 4-byte wchar_t) on every platform. Python sees no lock: a Python
// process reading the segment must not rely on the Go side's RLock (it
// cannot take it) and should use the atomic nature of aligned accesses or
// its own protocol. The Update of a Value is not linearisable with
// lock-free Store/Add by others that ignore the lock: a Store between
// Update's load and store is overwritten, as in Python.
package ctypes
