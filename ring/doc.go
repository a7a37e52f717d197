// Package ring moves messages between processes through rings in shared
// memory, with no system call on the fast path: an SPSC ring of
// variable-length records (Ring, Producer, Consumer), pipes built on it
// (Pipe, Conn), an MPMC ring (Queue, SimpleQueue, JoinableQueue) and typed
// messages through a Codec.
//
// # SPSC rings
//
// A Ring holds records of any length up to Cap()-8 bytes: an 8-byte header
// (length, kind) and the payload, padded to 8 bytes. A record that would
// cross the end of the data area is preceded by a padding record that fills
// the rest of it. The producer writes a record in place (Reserve, fill the
// slice, Commit) or copies it in (Write); Stage + Flush and WriteBatch
// publish many records with one store of the tail index. The consumer reads
// in place (Peek, then Release) or copies out (ReadInto, ReadBytes);
// Consume releases many records with one store of the head index.
//
// Happens-before: the producer writes a record, then release-stores the
// tail; the consumer acquire-loads the tail, then reads the record.
// Symmetrically the consumer's release-store of the head hands bytes back to
// the producer. Head and tail live on their own cache lines, and each side
// keeps a cached copy of the other's index, reloaded only when the ring
// looks full (producer) or empty (consumer). Indices count bytes for ever
// and are compared as unsigned/signed differences, never as positions.
//
// # Waiting
//
// Blocking calls take a context.Context and return ctx.Err() when it ends,
// with nothing consumed or published. Options.Wait picks the strategy:
// Hybrid (default: spin up to SpinTime with back-off, sched_yield up to
// YieldTime, then park on a futex), Spin, Yield or Futex. A waiter parks on
// the low 32 bits of the index it waits for, after raising a parked count
// that the other side reads after each publish; FUTEX_WAKE is called only
// when that count is non-zero. Parking is done in slices of 1 ms doubling to
// MaxSlice (50 ms); between slices, and never on the fast path, the waiter
// checks the peer: closed flags, and the liveness of the peer's participant
// token (shm.Segment.Alive) that each end records in the ring header when it
// attaches. A consumer whose producer died gets ErrPeerDead once the ring is
// drained; after the producer's Close it gets io.EOF. A producer whose
// consumer closed or died gets ErrBrokenPipe or ErrPeerDead while waiting
// for room.
//
// # Crash consistency and hostile peers
//
// A record becomes visible only through the producer's release-store of the
// tail, so a producer that dies mid-record leaves nothing visible; a
// consumer that dies between Peek and Release has the record redelivered to
// the next consumer (at-least-once). Every index and length read from
// shared memory is validated before use (0 <= tail-head <= capacity, 8-byte
// alignment, record kind and magic, record inside the published bytes and
// not crossing the end, padding exactly to the end and never twice in a
// row): a corrupt ring gives ErrCorrupt after at most two steps, never a
// panic or an out-of-range access. ReadInto reads each header once and
// copies; Peek's slice is for trusted peers only (the producer could
// rewrite it while it is read).
//
// # Memory layout
//
// All integers little-endian; offsets from the start of the object payload
// (kind "RSPS", layout version 1.0). The SPSC ring header (256 bytes):
//
//	off  size  field      written by          read by
//	0    4     magic      creator             attachers ("SPSC")
//	8    8     capacity   creator             attachers (data bytes, 2^k)
//	16   4     prod token producer (attach)   consumer, between slices
//	20   4     cons token consumer (attach)   producer, between slices
//	24   4     closed     either (Close)      both, slow paths (bit 0 producer, bit 1 consumer)
//	64   8     tail       producer (release)  consumer (acquire); own line
//	128  8     head       consumer (release)  producer (acquire); own line
//	192  4     cons wait  consumer (parking)  producer after each publish
//	196  4     prod wait  producer (parking)  consumer after each release
//	256  cap   data       producer            consumer
//
// A record in the data area, 8-byte aligned:
//
//	off  size  field      meaning
//	0    4     length     payload bytes
//	4    2     kind       1 data, 2 padding to the end, 3 end of stream,
//	                      4/5/6 first/middle/last fragment (pipes)
//	6    2     magic      "RE"
//	8    len   payload    then zero to seven bytes of padding
//
// # What it does not promise
//
// Data integrity against a hostile peer of the same user (it can always
// write garbage that validates); only memory safety, no hang past a
// deadline, and ErrCorrupt for what is detectably impossible. Exactly-once
// delivery when a consumer dies between Peek and Release. More than one
// producer or consumer per SPSC ring at a time.
package ring
