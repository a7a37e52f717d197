// Package futex provides cross-process synchronisation in shared memory,
// built on the Linux futex system call (shared, non-private operations):
// the Go counterpart of Python's multiprocessing.synchronize.
//
// # Primitives
//
// Each primitive is a fixed-size object in a shm.Segment, created with
// NewX(seg, name, ...) and attached from any process with OpenX(seg, name);
// opening another kind or another major layout version is an error
// (shm.ErrTypeMismatch, shm.ErrVersion). Handles are safe for concurrent
// use by goroutines; their zero values are not usable.
//
//	Lock              non-recursive; any process may Release it
//	RLock             excludes like a Lock; re-entrant for an Owner (As)
//	Semaphore         counting, ownerless; Value, ReleaseN
//	BoundedSemaphore  Release above the initial value: ErrReleasedTooManyTimes
//	Event             Set, Clear, IsSet, Wait(ctx) returning the flag
//	Condition         over a Lock or RLock (default RLock); Wait, WaitFor, Notify(n), NotifyAll
//	Barrier           Wait returns a distinct index; Abort, Reset, Broken, NWaiting, Parties
//
// Every lock handle excludes by default: an Acquire made without an explicit
// Owner never re-enters a hold, whoever took it, so goroutines sharing one
// handle (a Lock, an RLock, a Condition's lock, a ctypes Value's GetLock)
// exclude each other exactly as CPython's threads sharing the lock do.
// Re-entrance is an explicit opt-in: an RLock view acting for an Owner
// (RLock.As(NewOwner())) re-enters that Owner's own hold. See "RLock
// owners" below.
//
// Every blocking call takes a context.Context: when it is cancelled or its
// deadline passes, the call returns ctx.Err() and leaves the state as it
// was (a Condition re-acquires its lock before returning; a Barrier wait
// breaks the barrier, as in CPython). A deadline that passes is always
// reported as context.DeadlineExceeded, also when the clock passes it
// before ctx.Err() says so: the wait loops read the deadline from the clock
// and never turn a nil ctx.Err() into a success or another error
// (TestDeadlineReportedAsDeadline). Every blocking call has a
// non-blocking TryAcquire or equivalent. Lock and RLock satisfy Locker;
// OpenLocker opens whichever of the two is stored under a name.
//
// Wait and Wake are the raw futex operations on a 32-bit word in shared
// memory, for packages that build their own waiting (ring).
//
// # Fast paths and waiting
//
// An uncontended Acquire or Release is one atomic compare-and-swap and no
// system call; FUTEX_WAKE is issued only when the word (or a sleeper count)
// shows a sleeper. Lock's Acquire and Release and the Acquire of an RLock
// without an Owner inline into the caller (TestInlining), so an
// uncontended Acquire+Release on an unguarded segment (see "Closed and
// truncated segments") costs about what sync.Mutex's Lock+Unlock does (a
// releasing compare-and-swap costs what sync.Mutex's releasing atomic add
// does); an Owner's view of an RLock, which stores its id in a
// process-local slot, adds two calls. RLock's Release does not inline;
// FastPath gives the uncontended acquire and release of a hold without an
// Owner, of a Lock or an RLock, as two inlining methods, for callers that
// write a lock's fast path into their own (ctypes' Value.Update).
// BenchmarkUncontended measures each primitive, on an anonymous segment,
// beside its sync counterpart in one run (go test -run
// '^$' -bench Uncontended ./futex/). A contended acquirer spins for a few
// microseconds with a yield between rounds, then sleeps in FUTEX_WAIT with
// no timeout (no kernel timer armed per sleep), on the sleeping path it
// shares with package ring: whoever changes the word wakes it; a
// per-process heartbeat, running only while some goroutine of the process
// sleeps, wakes it every 50 ms (ring.MaxSlice), after which Lock and RLock
// check the liveness of the holder and a Barrier that of its parties; and
// the end of its context wakes it at once.
//
// Inside one process at most one OS thread sleeps in the kernel per
// primitive: other goroutines queue in Go on the primitive's per-process
// gate (for Lock, RLock and the semaphores, one turn passed from goroutine
// to goroutine; for Event, Condition and Barrier, whose waiters may wait for
// different things, rounds: one sleeps, the others re-check when it wakes),
// keyed by the segment's creation id and the object's offset, so all
// handles to the object share it, and freed with the last of them (package
// ring's queues and pipes use the same gates). 10,000 goroutines blocked on
// one Lock cost one thread, not 10,000 (a runtime that exceeds 10,000
// threads dies).
//
// # Closed and truncated segments
//
// The rules are the same for every primitive. Each handle keeps its
// segment's state word, non-zero when the Segment was closed or when it is
// guarded: a named segment, whose file a peer may truncate under the
// mapping (an anonymous segment is a sealed memfd that cannot shrink; one
// opened with shm.Options.Unguarded gives the guard up). A method that
// touches shared memory loads that word first: zero takes the fast path
// (one load and a branch more than an unchecked one), anything else a
// checked path out of line, which runs the same code with faults turned
// into errors.
//
//   - After Segment.Close, every such method returns an error wrapping
//     shm.ErrClosed; the mapping stays until no handle can reach it, so a
//     handle used after Close never faults.
//   - On a named segment whose file a peer truncated, it returns an error
//     wrapping shm.ErrSegmentTruncated instead of the SIGBUS that would
//     abort the process; a waiter blocked in the kernel sees it at once
//     or, when the kernel cannot wake it (its page is gone), once the
//     heartbeat has found it twice unreachable and interrupted its thread
//     (about 100 ms; without /proc, sleeps on such a segment last at most
//     50 ms each). A Condition's Wait that fails so does not re-acquire the
//     lock, whose word is gone too.
//   - Methods with an error result return these errors, naming the object
//     once (futex: semaphore "s": segment truncated). That includes
//     TryAcquire of every type, Consistent, and the mutators Event.Set,
//     Event.Clear, Barrier.Abort and Barrier.Reset.
//   - Queries with no error result (Lock and RLock Locked, Holder and
//     Depth, Semaphore and BoundedSemaphore Value, Locked and Max,
//     Event.IsSet, Barrier.NWaiting and Broken) panic with that error
//     instead, as ctypes' RawValue.Load does: a plain Go panic, which the
//     caller may recover, never a fatal fault. Name and Parties read
//     nothing shared and never fail.
//
// Under the race detector the atomic operations run in C, where a fault
// cannot be turned into a panic: there a truncation still aborts.
//
// # Owner death (Lock, RLock)
//
// The 32-bit lock word holds the holder's participant token (shm.Token,
// written by the acquiring CAS) and three flags: waiters (bit 31),
// owner-died (bit 30), not-recoverable (bit 29). When the heartbeat wakes
// a waiter (its sleep lasted through a heartbeat: no release woke it) it
// asks seg.Alive(token), which is definitive
// (the kernel drops the holder's liveness lock when it dies, also before it
// is reaped; a reused slot changes the token's generation): a dead holder
// is replaced, in one CAS, by the asking participant, which returns holding
// the lock with ErrOwnerDead. Exactly one contender wins that CAS. A
// waiter notices a dead holder within one heartbeat plus one fcntl, under
// 60 ms (rarely two heartbeats, when the holder died just as the waiter
// went to sleep). A stopped (SIGSTOP) or slow holder is alive: waiters reach their
// deadline and nothing is taken from it. TryAcquire also takes over a dead
// holder's lock (one fcntl when the holder is another process).
//
// After ErrOwnerDead the new holder repairs what the lock protects and
// calls Consistent, then Release; a Release without Consistent marks the
// lock not recoverable, and every Acquire in every process then returns
// ErrNotRecoverable (POSIX robust mutex semantics). If the recovering
// holder dies before Consistent, the next acquirer gets ErrOwnerDead again.
// An RLock taken over this way has depth 1.
//
// # RLock owners
//
// Goroutines have no identity, so an RLock cannot belong to "the current
// thread" as in CPython. A handle from NewRLock or OpenRLock (and
// RLock.As(nil)) acts for no Owner: it never re-enters, so it excludes
// every goroutine, including those sharing it, and its Release releases
// the hold taken without an Owner through this process's attachment; like
// a Lock's, it cannot tell which goroutine took it. Release with no such
// hold returns ErrNotOwner (CPython: releasing an RLock one does not own).
//
// Re-entrance is opt-in: RLock.As(o) gives a view acting for an Owner o
// (NewOwner), which stands for a thread. o may acquire again; only its
// Release matching the first Acquire frees the lock; anyone else's Release
// returns ErrNotOwner. Use an Owner from one goroutine at a time:
// goroutines acting for one Owner at once re-enter each other's hold. A
// Condition acts through its lock's view: a shared Condition handle
// excludes its goroutines, Condition.As(o) waits and notifies for o, and
// Wait releases every level of o's hold and restores it.
//
// The holder's Owner id and depth are process-local (they mean nothing in
// another process), kept per attachment (participant) of the segment; only
// the participant token is in the shared word. An uncontended
// Acquire+Release costs two compare-and-swaps plus, for an Owner, two
// stores of the process-local owner slot (the id after the acquiring CAS,
// 0 before the releasing one, so that no other goroutine of the process
// ever reads its own id while another holds); without an Owner, the two
// compare-and-swaps and one load of that slot before the releasing CAS (an
// Owner's hold gives ErrNotOwner). That process-local record is shared by
// every handle of the lock through one attachment and goes with the last
// of them, so a process that creates and drops many locks, attachments or
// Owners does not accumulate records.
//
// # Semantics as in CPython (multiprocessing.synchronize)
//
//	CPython                                      shmkit
//	threads sharing a Lock/RLock exclude each       goroutines sharing a handle
//	  other (with l: ... is exact)                    exclude each other
//	RLock re-entered by its owning thread           an Owner's view (r.As(o))
//	                                                  re-enters; a handle
//	                                                  without one never does
//	Lock.release() of an unlocked lock: ValueError  ErrReleasedTooManyTimes
//	  "semaphore or lock released too many times"
//	RLock.release() by a non-owner: AssertionError  ErrNotOwner (also a
//	                                                  Release with no hold)
//	BoundedSemaphore.release() above the initial    ErrReleasedTooManyTimes
//	  value: ValueError
//	Condition.wait()/notify() without the lock:     ErrNotHeld
//	  AssertionError
//	Barrier wait on a broken/aborted/reset barrier,  ErrBrokenBarrier
//	  or a wait that timed out: BrokenBarrierError
//	acquire(timeout=...) returning False            ctx.Err() (context.DeadlineExceeded)
//	Event.wait(timeout) returning False              (false, ctx.Err())
//	Condition.wait(timeout) returning False          ctx.Err(), lock held again
//	(no equivalent: robust mutex EOWNERDEAD)         ErrOwnerDead, ErrNotRecoverable
//	semaphore value beyond SEM_VALUE_MAX             ErrReleasedTooManyTimes
//
// Condition.Notify(n) wakes at most n of the waiters that were waiting when
// it was called (never a later one); unlike CPython it does not wait for
// them to run. Barrier.Wait gives the last party to arrive the index
// Parties()-1 and has no action callback.
//
// # Memory layout
//
// Little-endian, the same on every architecture; every object starts on a
// 64-byte line (the shm object header precedes it). Offsets are relative to
// the object's payload.
//
//	off  size  field            written by               read by
//	Lock, RLock (64 bytes)
//	0    4     word             acquirer (CAS), releaser  all
//	4    4     reserved, 0 (an RLock's depth and Owner are process-local)
//	8    8     reserved, 0
//	Semaphore, BoundedSemaphore (64 bytes)
//	0    4     value            acquirers, releasers      all
//	4    4     sleepers         parked waiters            releasers
//	8    4     max              creator                   releasers
//	Event (64 bytes)
//	0    4     word: flag | sets<<1   Set, Clear           waiters
//	4    4     sleepers         parked waiters            Set
//	Condition (192 bytes)
//	0    8     waiting<<32 | signals  waiters, Notify      waiters, Notify
//	8    4     seq              Notify                    waiters (futex word)
//	12   4     sleepers         parked waiters            Notify
//	64   4     lock name length creator                   OpenCondition
//	68   120   lock name        creator                   OpenCondition
//	Barrier (64 + 8*parties bytes)
//	0    8     gen<<32 | history | broken | count  parties, Abort, Reset  parties
//	8    4     seq              every transition          waiters (futex word)
//	12   4     sleepers         parked waiters            transitions
//	16   4     parties          creator                   all
//	64   8*n   slot i: gen<<32 | token of party i   party i   waiters (liveness)
//
// # What it does not promise
//
//   - Fairness: a releasing or arriving goroutine may take a lock again
//     before a woken waiter does.
//   - Semaphore and BoundedSemaphore are ownerless: permits held by a
//     process that dies are lost (the bound of a BoundedSemaphore then
//     stays out of reach). Lock is ownerless for Release (any process may
//     release it) and owned only for crash recovery and Consistent.
//   - A Barrier party that dies before it arrives (or in the instant
//     between counting its arrival and writing its arrival slot) cannot be
//     told from a slow one: the others wait until their contexts end (which
//     breaks the barrier). A party that dies while waiting breaks it within
//     a heartbeat.
//   - A Barrier party that is not scheduled again until a Reset and then 15
//     more generations have passed cannot tell that its generation was
//     Reset: it returns its index as if the generation had completed.
//   - A Condition waiter that dies keeps its registration; a Wait may return
//     without its predicate holding (use WaitFor), as in CPython.
//   - Protection from hostile peers: a peer can forge a lock word. Corrupt
//     words yield errors (shm.ErrCorrupt), never panics or hangs past the
//     caller's context, but mutual exclusion among peers that scribble on
//     the segment is not defended.
//   - Cancellation and deadlines wake a sleeping waiter at once
//     (context.AfterFunc); a passed deadline is reported as
//     context.DeadlineExceeded.
package futex
