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
// Consume releases many records with one store of the head index. Batches
// publish and release at least every 32 KiB (or quarter of the ring), so
// that on large batches the consumer empties one piece of the ring while the
// producer fills the next instead of each waiting for the other's whole
// batch.
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
// with nothing consumed or published. A deadline that has passed is
// reported as context.DeadlineExceeded on every path, also when the clock
// passes it before ctx's timer fires (ctx.Err() still nil): Conn.Poll then
// returns (false, nil), never true. Options.Wait picks the strategy:
// Hybrid (default: spin up to SpinTime with back-off, sched_yield up to
// YieldTime, then park on a futex), Spin, Yield or Futex. Hybrid's two
// budgets adapt per handle: each halves whenever its phase ends
// empty-handed and doubles whenever it succeeds. Two processes sharing one
// core (where spinning only delays the peer until the scheduler preempts
// the spinner: milliseconds per round trip, see BenchmarkPingPong/wait=spin)
// stop spinning within a few waits and hand the core over with
// sched_yield, while processes on separate cores keep the full spin budget;
// a waiter whose messages come seldom (an idle consumer) loses both and
// parks at once, so waiting costs it no more CPU than the futex alone.
// Every 128th wait without a budget runs the phase with its full budget
// once, so that a budget lost to a passing preemption comes back. A Hybrid
// consumer that took three records or more since its previous wait, in
// less than a quarter of the ring (the producer streams faster than it
// hands records over one by one, and the ring has room to spare), first
// stays off the ring's shared cache lines for a microsecond, so that the
// producer gets a few lines ahead and the consumer drains a batch per look
// at the tail: a consumer spinning right behind the producer moved the tail
// and record lines between the cores once per record, and left the default
// wait 0.8x futex-only's throughput at 64 B. A round trip or a paced peer
// takes one record per wait and never pauses, and neither does a Conn
// that has sent since its last wait (a request and reply exchange, however
// many messages the request took); a message that arrives during a pause
// waits at most that microsecond. A waiter parks on
// the low 32 bits of the index it waits for, after setting a parked flag
// that the other side reads after each publish; FUTEX_WAKE is called only
// when the flag is set, and the waker clears it (waking every waiter on
// the word), so the publishes that follow while the sleeper takes its tens
// of microseconds to wake up make no further system calls. (On a Queue
// this wakes every process parked in Get when one message arrives: those
// that lose the race park again. Only idle processes park: a busy one
// finds work while it spins or yields.) Inside one process at most one
// goroutine sleeps in the kernel per word, however many handles the process
// has on the queue or pipe: the others wait in Go until its sleep ends (a
// per-process gate shared by every handle on the object, freed with the
// last of them), so 10,000 blocked goroutines cost one OS thread, not one
// per handle. The sleeper parks without a timeout (a timed FUTEX_WAIT arms
// a kernel timer on every sleep); a per-process heartbeat, running only
// while some goroutine of the process sleeps, wakes it every MaxSlice
// (50 ms), and the end of its context wakes it at once. After each
// wake-up (between slices), and never on the fast path, the waiter
// checks the peer: closed flags, and the liveness of the peer's participant
// token (shm.Segment.Alive) that each end records in the ring header when it
// attaches (for pipes, of every handle in the other end's holder table). A consumer whose producer died gets ErrPeerDead once the ring is
// drained; after the producer's Close it gets io.EOF. (Before a producer
// has attached there is no peer to watch: the consumer waits for ctx.) A producer whose
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
// # Closed and truncated segments
//
// A named segment's file can be truncated by any process that can write
// it, and touching a page past the new end raises SIGBUS, which would
// abort the process. On such a segment (guarded: every named segment not
// opened with shm.Options.Unguarded) each operation of every handle runs
// under the truncation guard, and a fault in the mapping becomes an error
// wrapping shm.ErrSegmentTruncated that names the object once ("ring:
// pipe "p": segment truncated (fault at offset N of the mapping)"). After
// shm.Segment.Close the handles built on it answer an error wrapping
// shm.ErrClosed and touch nothing (the mapping stays until no handle can
// reach it); a call blocked in a wait when the segment is closed or
// truncated comes back with the same error within a wait slice. Per type:
//
//   - Queue, SimpleQueue, JoinableQueue and the typed queues: every
//     operation with an error result (Put, Get, GetLease, TaskDone, Join,
//     ReclaimDead, Close ...) returns the error; Lease.Done too. The
//     snapshots Len, Empty, Full, Lost, Redelivered, Tombstoned and
//     Unfinished have no error result: after Close they panic with the
//     error (a plain Go panic), on a truncated segment they answer 0
//     (Empty true).
//   - Conn and TypedConn: every send, receive, Poll, Read, Write, Reserve
//     and Close returns the error; a Close after Segment.Close marks the
//     handle closed (the segment already left the participant table, so
//     the other end counts this process gone).
//   - Ring, Producer, Consumer: Len, Producer, Consumer and every read,
//     write, reserve, commit, release, Consume and Close return the error;
//     Flush, which has no error result, panics with it (a plain Go panic,
//     recoverable). Consume runs fn inside the guard.
//
// The slices that alias shared memory (Producer.Reserve and TryReserve,
// Consumer.Peek and TryPeek, the record Consume passes to fn after fn
// returns) are outside the guard once the call has returned: a truncation
// while the caller fills or reads one is a fatal fault unless the caller
// guards that code itself (shm.Segment.Guard). Use Write, ReadInto and
// ReadBytes, which copy under the guard, where a peer may truncate.
//
// An anonymous segment (a sealed memfd that cannot shrink) that is open
// pays one atomic load of the segment's state word and a branch per call.
// A guarded call pays the guard on top (arming the fault setting, a
// deferred recover, a closure): for records of tens of bytes that is a
// large share of the call, more than the 10% a hot path should give up
// (BenchmarkSPSCGuard and BenchmarkPipeGuard measure seg=anon, seg=named
// and seg=unguarded side by side); batches pay it once (WriteBatch,
// Consume). The guard stays the default for named segments; where every
// process that can write the file is trusted, open it with
// shm.Options.Unguarded (a truncation then kills this process), or use an
// anonymous segment, which needs no guard. The guard does not hold in a
// binary built with -race (the race detector's atomics run in C, where a
// fault cannot become a panic).
//
// # Memory layout
//
// All integers little-endian; offsets from the start of the object payload
// (kind "RSPS", layout version 1.2: minor 1 made the wait words flags that
// the waker clears, minor 2 defined the pipe-only words, zero in a bare
// ring; 1.x peers interoperate). The SPSC ring header (256 bytes):
//
//	off  size  field      written by          read by
//	0    4     magic      creator             attachers ("SPSC")
//	8    8     capacity   creator             attachers (data bytes, 2^k)
//	16   4     prod token producer (attach)   consumer, between slices (bare rings)
//	20   4     cons token consumer (attach)   producer, between slices (bare rings)
//	24   4     closed     either (Close)      both, slow paths (bit 0 producer, bit 1 consumer)
//	64   8     tail       producer (release)  consumer (acquire); own line
//	72   4     tx lock    pipe senders (CAS)  pipe senders (token of the holder)
//	76   4     tx open    tx lock holder      next tx lock holder (1: a message is cut)
//	128  8     head       consumer (release)  producer (acquire); own line
//	136  4     rx lock    pipe receivers      pipe receivers (token of the holder)
//	140  4     rx open    rx lock holder      next rx lock holder (1: skip a message's rest)
//	192  4     cons wait  consumer (parking:  producer after each publish
//	                      1), producer (0)    (clears it and wakes)
//	196  4     prod wait  producer (parking:  consumer after each release
//	                      1), consumer (0)    (clears it and wakes)
//	200  4     tx park    tx lock waiter (1)  tx lock holder on unlock (0, wakes)
//	204  4     rx park    rx lock waiter (1)  rx lock holder on unlock (0, wakes)
//	256  cap   data       producer            consumer
//
// A record in the data area, 8-byte aligned:
//
//	off  size  field      meaning
//	0    4     length     payload bytes
//	4    2     kind       1 data, 2 padding to the end, 3 end of stream,
//	                      4/5/6 first/middle/last fragment (pipes), 7 cut:
//	                      ends an open fragmented message, else nothing
//	6    2     magic      "RE"
//	8    len   payload    then zero to seven bytes of padding
//
// # Pipes
//
// NewPipe(seg, name, opts) creates a pipe object holding one SPSC ring per
// direction (ring 0 carries end 1 → end 0, ring 1 end 0 → end 1) and
// returns both ends as Conns; any process opens more handles on an end
// with OpenPipe(seg, name, end, opts). With PipeOptions.OneWay end 0 only
// receives and end 1 only sends, as multiprocessing.Pipe(duplex=False)
// returns (reader, writer). Messages keep their boundaries; one larger than
// a quarter of the ring goes as fragments (first, middle..., last; the
// first carries the total length) and is reassembled. RecvBytesInto with a
// short buffer returns the message's length and ErrBufferTooShort and keeps
// the message for a retry. Conn is an io.ReadWriteCloser: Write sends one
// message, Read streams message bytes.
//
// Conn.Send and Conn.Recv carry values (encoding/gob, one self-contained
// stream per message), as CPython's send(obj) and recv() carry pickles;
// SendBytes and RecvBytes carry bytes; a TypedConn carries one type T
// through a Codec (by default Plain, zero-copy, for fixed-size
// pointer-free types, else Gob). The CPython calls and their
// counterparts:
//
//	CPython                             ring
//	a, b = Pipe()                       a, b, err := NewPipe(seg, name, nil)
//	r, w = Pipe(duplex=False)           r, w, err := NewPipe(seg, name, &PipeOptions{OneWay: true})
//	conn.send(obj)                      c.Send(ctx, v)
//	obj = conn.recv()                   c.Recv(ctx, &v); or NewTypedConn[T](c, nil).Recv(ctx)
//	conn.send_bytes(b)                  c.SendBytes(ctx, b)
//	conn.recv_bytes()                   c.RecvBytes(ctx)
//	conn.recv_bytes_into(buf)           c.RecvBytesInto(ctx, buf) (ErrBufferTooShort keeps it)
//	conn.poll(timeout)                  c.Poll(ctx) (false, nil once ctx's deadline passes)
//	conn.close()                        c.Close() (this handle only, as in CPython)
//	Process(target=f, args=(child,))    pass child in proc arguments (its ShareDesc reserves
//	p.start(); child.close()            the child's handle), then child.Close(); or Reserve,
//	                                    and OpenPipe with PipeOptions.Ticket in the child
//	EOFError                            io.EOF
//
// As in CPython, an end may be held by several processes at once (a
// child_conn handed to five children), and by several handles in one
// process. The handles of an end share its rings' indices: the senders
// take turns through a lock word in the ring (tx lock, holding the
// sender's participant token), each re-reading the tail after acquiring
// and publishing before releasing, so every message, fragmented or not,
// is appended whole at the shared position whether or not the users also
// hold a lock of their own; the receivers likewise take turns on the rx
// lock, and a receiver keeps it from a message's first fragment to its
// last. The locks are robust: a waiter checks the holder's liveness
// between wait slices and takes over a dead holder's lock with one CAS.
// Nothing needs repair beyond what every acquirer does anyway: a sender
// raises tx open before publishing a first fragment and lowers it after
// the last, so a sender that finds it raised (its predecessor died or its
// context ended mid-message) first appends a cut record, and the receiver
// reports that message as io.ErrUnexpectedEOF; a receiver raises rx open
// likewise, so a receiver that finds it raised skips the rest of the
// message its predecessor was taking. A producer killed at any point still
// exposes no partial record, since records are published by the tail
// store alone.
//
// Each end has a holder table of 32 entries in the pipe header, one per
// open handle: the participant token of its process, written by OpenPipe
// and cleared by Close. Close closes only that handle, as closing a
// CPython Connection closes only the calling process's copy: the handle
// marks its entry closing, and only when no other live handle holds the
// end does it append the end-of-stream record and set the ring's closed
// flag, so the other end sees io.EOF (or ErrBrokenPipe for its sends) only
// when every handle was closed or its process died. Waiters check the
// other end's table between wait slices: entries of dead processes are
// freed on the way (by Segment.Alive, never on a timeout alone), and an end
// whose holders all died without closing it gives ErrPeerDead after the
// drain. Conn.Reserve takes an entry for a process about to start (marked
// reserved, alive as long as the reserving process), which OpenPipe with
// PipeOptions.Ticket takes over, so that a parent may close its copy right
// after starting the child without the end closing before the child has
// opened it.
//
// # Queues
//
// Queue is an MPMC ring after Vyukov's bounded queue: 2^k fixed-size slots,
// each with a 64-bit sequence number (pos: free for the producer of
// position pos; pos+1: holds that position's message; pos+slots: free for
// the next lap). A producer claims position pos by CAS on the enqueue index
// once the slot's sequence says free, copies the message in and
// release-stores pos+1; a consumer claims by CAS on the dequeue index once
// the sequence says pos+1, copies the message out and release-stores
// pos+slots. At most MaxSize messages are held (checked against the dequeue
// index when MaxSize is below the slot count); a capacity in bytes
// (MaxBytes) becomes MaxSize = MaxBytes / slot size. SimpleQueue and
// JoinableQueue are Queue with fewer or more calls. Every kind is created
// with New<Kind>(seg, name, *QueueOptions) and attached with
// Open<Kind>(seg, name, *QueueOptions) (nil: defaults; an opener uses only
// the wait Options). With nil options a queue holds DefaultQueueSize (128)
// messages of up to DefaultMaxMessage (4080) bytes and DefaultLeases (16)
// leases: about 580 KiB, which fits a 1 MiB segment; a queue that does not
// fit says how many bytes it needed and how many were free.
//
// A JoinableQueue keeps no separate task count: its unfinished tasks are
// the messages in the ring plus the messages held under a lease, so Put
// needs no counting and a count can never disagree with the queue. Its Get
// takes the message under a lease of the calling process and TaskDone ends
// one; Join waits until the ring is empty and no lease is held (reading
// the lease table between two reads of the "leases ended" word, so that a
// worker that puts a new task and then ends its own lease is seen). A
// JoinableQueue cannot be opened as a Queue or SimpleQueue (ErrTypeMismatch),
// so no Get can skip the lease by accident.
//
// # Leases
//
// A lease records in shared memory which participant (shm.Token) holds a
// message it has taken, until it says it is done; a holder that dies first
// (by the segment's participant table, shm.Segment.Alive, never a timeout)
// has its message counted lost or redelivered, never lost silently. The API:
//
//	func (q *Queue) GetLease(ctx context.Context) (*Lease, error)
//	func (q *Queue) TryGetLease() (*Lease, error) // ErrEmpty, ErrNoLease
//	func (l *Lease) Bytes() []byte                // the message (a private copy)
//	func (l *Lease) Done() error                  // ends it; ErrTaskDone the second time
//	func (q *Queue) ReclaimDead(fn func(msg []byte, holder shm.Token) (redeliver bool)) (n int, err error)
//	func (q *Queue) Lost() uint64
//	func (q *Queue) Redelivered() uint64
//	type QueueOptions struct{ ...; Leases int; DeadHolder DeadHolder; ... }
//	const CountLost, Redeliver, Supervised DeadHolder
//
// JoinableQueue has the same calls (its Get and TryGet take a lease that
// TaskDone ends; GetLease's Done is TaskDone for exactly that task), and the
// typed views return the decoded value with the lease
// (TypedQueue.GetLease(ctx) (T, *Lease, error)).
//
// What happens to a dead holder's message is the queue's DeadHolder rule,
// fixed at creation: CountLost (the default) ends the lease and counts the
// message in Lost, so Join returns (a message that killed its consumer is
// not handed to the next one); Redeliver hands it to the next Get, ahead of
// the ring's messages, and counts it in Redelivered; Supervised leaves it
// held until a supervisor calls ReclaimDead. Under CountLost and Redeliver,
// Get, GetLease, Put (when blocked) and Join reclaim dead holders' leases
// between wait slices, never on the fast path. ReclaimDead works under every
// rule: fn sees a copy of each dead holder's message and its token, and
// decides (true: redeliver). A process pool uses Supervised and ReclaimDead
// to fail exactly the task a dead worker held.
//
// Lease entries, Leases of them after the slots (each with room for one
// message), carry a 64-bit state word: state<<29 | owner token in the low
// half, a generation in the high half. A leased Get (1) reserves a free
// entry by CAS free → taking|me, (2) stores the position it is about to
// claim in the entry and claims the slot as any Get does (pending words,
// CAS of the dequeue index), (3) copies the message into the entry and out,
// stores held|me, (4) releases the slot. Done is one CAS held|me → free.
// So at every instruction the message is in the ring, in a slot claimed by
// a taking entry, or in a held entry, and whoever finds an entry whose
// owner is dead takes it over with one CAS and finishes the job: it
// salvages a taking entry's claimed slot (copies the message into the
// entry, after checking that the slot is still full and claimed, that no
// live participant has the claim in its pending words and no other entry
// holds that position, taking the slot by CAS of its sequence to
// 2^63 | i<<47 | (pos+1) mod 2^47 for entry i, a value outside the live
// window that names the entry and the position, so that whoever takes over
// entry i from a dead reclaimer knows the slot is its to finish), or frees
// the entry if the taker had claimed nothing;
// releases a held entry's slot if the holder died before releasing it;
// then counts the message lost (entry freed) or makes the entry an orphan,
// which the next Get takes with one CAS orphan → held|taker (a plain Get
// then frees it). A redelivered message is never put into the ring again,
// so no crash can duplicate it. A dead reclaimer's entry is taken over the
// same way. Plain Gets take no lease: a Queue consumer that dies between
// its claim and its release loses that message (counted in Tombstoned).
//
// Dead claimants (docs/robustness.md D5): before each claim CAS a participant
// publishes {ring, op, pos} in one of two pairs of its participant slot's
// pending words (segcore.Core.Pending) and clears it after publishing or
// releasing the slot. A Get blocked behind a claimed but unpublished slot,
// or a Put blocked behind a claimed but unreleased one, scans the pending
// words of live participants between wait slices (never on the fast path);
// when no live participant holds the claim and the slot is still stuck, the
// claimant is dead: a producer's slot becomes a tombstone (published empty
// and skipped: no message existed), a consumer's slot is freed (its message
// is lost). Both are counted in Tombstoned. Recoverers take a stuck
// producer slot by CAS of its sequence to pos-2·slots (read as "not ready"
// by everyone) before writing the tombstone, so concurrent recoverers never
// write into a slot that has moved on.
//
// Typed messages go through a Codec: Plain (the value's bytes; T must be
// fixed-size and pointer-free, checked by reflect in NewPlain) or Gob;
// DefaultCodec[T]() picks Plain when T allows it, else Gob, and every typed
// constructor uses it for a nil codec. Each queue kind has its typed view
// with that kind's calls: NewTypedQueue(*Queue, Codec), NewTypedSimpleQueue
// (*SimpleQueue, Codec), NewTypedJoinableQueue(*JoinableQueue, Codec) (Put
// counts a task, Get takes a lease, TaskDone, Join).
// TypedConn with a fixed-size codec encodes straight into a reserved record
// and decodes straight out of the ring.
//
// Pipe layout (kind "PIPE", version 2.0: the holder tables, the pipe-only
// ring words and the cut record; 1.x peers are refused): a 320-byte
// header, then one or two SPSC ring regions of ring size bytes each, laid
// out as above:
//
//	off  size  field      written by             read by
//	0    4     magic      creator                openers ("PIPE")
//	4    4     duplex     creator                openers (0 one-way, 1 duplex)
//	8    8     ring size  creator                openers (256 + capacity)
//	64   128   holders 0  OpenPipe, Reserve (CAS  Close, the other end's waiters
//	                      token), Close (0),      (liveness), OpenPipe (ticket)
//	                      reapers (0)
//	192  128   holders 1  as holders 0           as holders 0
//	320  ...   ring 0, then ring 1
//
// A holder entry is 0 (free) or a participant token with bit 31 set while
// its handle closes and bit 30 while it is reserved for another process.
//
// Queue layout (kind "RMPM", version 2.0: 2.0 added leases; 1.x peers are
// refused):
//
//	off  size  field       written by           read by
//	0    4     magic       creator              openers ("MPMC")
//	4    4     slot size   creator              openers (64·k)
//	8    8     slots       creator              openers (2^k)
//	16   4     max message creator              openers
//	20   4     max size    creator              producers (capacity, messages)
//	24   4     closed      Close                everyone
//	28   4     flags       creator              openers (1 joinable; bits 1-2 DeadHolder)
//	32   8     tombstoned  recovery (add)       Tombstoned
//	40   4     leases      creator              openers (lease entries)
//	44   4     lease size  creator              openers (64·k)
//	48   8     lost        reclaimers (add)     Lost
//	56   8     redelivered reclaimers (add)     Redelivered
//	64   8     enqueue     producers (CAS)      producers, Len; own line
//	128  8     dequeue     consumers (CAS)      consumers, Len; own line
//	192  4     get wait    getters parking (1)  producers after publishing (0)
//	196  4     put wait    putters parking (1)  consumers after releasing (0)
//	256  4     ended       lease enders (add)   Join, leased Gets (futex word)
//	260  4     join wait   Join parking (1)     lease enders (0)
//	264  4     orphans     reclaimers (add),    Gets (a hint: scan the
//	                       orphan takers (sub)  lease entries when > 0)
//	320  ...   slots, then lease entries
//
// Each slot, slot size bytes:
//
//	off  size  field     written by                 read by
//	0    8     sequence  claimant (release store)   producers, consumers
//	8    4     length    producer                   consumer (validated)
//	12   4     flags     producer, recovery         consumer (2 message, 1 tombstone)
//	16   ...   payload
//
// Each lease entry, lease size bytes:
//
//	off  size  field     written by                 read by
//	0    8     state     taker, holder, reclaimers  everyone (CAS; see Leases)
//	                     (CAS)
//	8    4     holder    taker, reclaimer           ReclaimDead's fn
//	12   4     length    holder, salvager           reclaimers, orphan takers (validated)
//	16   8     position  taker (before its claim)   reclaimers, recovery
//	32   ...   message
//
// # Errors and CPython
//
//	ring error          CPython
//	ErrFull             queue.Full (put_nowait, put with timeout)
//	ErrEmpty            queue.Empty (get_nowait, get with timeout)
//	ctx.Err()           queue.Full / queue.Empty / False from poll, when a
//	                    deadline passes; state is unchanged
//	ErrClosed           ValueError "Queue is closed"; OSError "handle is closed"
//	ErrTaskDone         ValueError "task_done() called too many times"
//	Lost, Redelivered   (CPython's join hangs when a consumer dies between
//	                    get and task_done; here the task is counted lost or
//	                    redelivered, by QueueOptions.DeadHolder, and Join
//	                    returns)
//	ErrNoLease          (no equivalent: the lease table is bounded)
//	ErrTypeMismatch     (no equivalent: a JoinableQueue opened as a Queue)
//	ErrBufferTooShort   multiprocessing.BufferTooShort (message not consumed)
//	ErrReadOnly         OSError "connection is read-only"
//	ErrWriteOnly        OSError "connection is write-only"
//	io.EOF              EOFError
//	io.ErrUnexpectedEOF OSError "got end of file during message"
//	ErrBrokenPipe       BrokenPipeError
//	ErrTooLarge         (CPython has no limit; shared memory has)
//	ErrPeerDead         (no equivalent: CPython waits for ever)
//	ErrHolders          (no equivalent: 32 open handles per pipe end)
//	ErrCorrupt          (no equivalent)
//
// # What it does not promise
//
// Data integrity against a hostile peer of the same user (it can always
// write garbage that validates; there are no per-record checksums): only
// memory safety, no hang past a deadline, and ErrCorrupt for what is
// detectably impossible. Exactly-once delivery when a consumer dies between
// Peek and Release (SPSC redelivers) or between claiming and releasing a
// Queue slot with a plain Get (the message is lost, counted; use a lease).
// More than one producer or consumer per bare SPSC ring (Ring) at a time:
// pipes take turns, rings do not. That a pipe end whose last holders
// exited without Close gives io.EOF: the exit is indistinguishable from a
// death, so it gives ErrPeerDead. That a message a receiver was taking when
// it died (or was closed) reaches anyone: the others skip its rest. More
// than 32 open handles on one pipe end (ErrHolders). Strict FIFO across producers of a Queue
// (per-producer order only), or a bound on payload bytes (QueueOptions.MaxBytes
// counts whole slots: a 1-byte message takes one slot like a full one). Unbounded queues (maxsize <= 0 means
// DefaultQueueSize). That a Put racing with Close is refused. Recovery of a slot whose
// recoverer is itself killed inside its few-instruction tombstone write
// (the slot then stays "not ready"). Exact Lost and Redelivered counts when
// a reclaimer is killed between counting a message and ending or orphaning
// its lease (the next reclaimer counts it again). The right holder token
// for a message whose taker died while another taker that had tried the
// same position also died (either may be named; the message itself is
// handed over once). That Join returns while a live worker holds a task, or
// under Supervised before ReclaimDead ran (use a deadline). That a Get
// on an empty Queue ends when the processes that put to it died: a Queue
// has no fixed producers to watch (as in CPython), so only a slot a dead
// producer claimed is noticed (and tombstoned); use a deadline. That Len,
// Empty and Full are more than snapshots. Parallel claims by more than two
// goroutines of one process (on any Queue of one segment) take turns on the
// participant's two pending-word pairs: correct, slower.
package ring
