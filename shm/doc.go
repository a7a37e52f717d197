// Package shm provides shared-memory segments for cooperating processes: a
// mapped file under /dev/shm (or an anonymous memfd handed to a child), a
// validated header, a lock-free 64-byte-aligned allocator, a directory of
// named objects, and a participant table that tells, definitively, whether
// the process behind a token is alive.
//
// The other shmkit packages lay their objects (locks, rings, typed values)
// into a Segment with CreateObject and find them in other processes with
// OpenObject.
//
// # Creating a named segment
//
// A name always leads to a complete segment. Create makes the file unnamed
// (open(2) with O_TMPFILE on the shm directory, mode 0600), reserves its
// size with fallocate, maps it, writes and checksums the header, joins as
// the first participant, publishes the magic, and only then links the file
// under its name (linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW, which
// needs no privilege). linkat never replaces a name, so of several
// processes creating one name exactly one succeeds and the others get
// ErrExist, as with O_EXCL. A creator killed at any step leaves nothing:
// its unnamed file is freed with its last descriptor.
//
// Where the shm directory's file system lacks O_TMPFILE (open says
// EOPNOTSUPP, EISDIR or EINVAL; tmpfs and the common disk file systems have
// it), or where /proc is not mounted (the link goes through /proc/self/fd),
// Create falls back to O_CREAT|O_EXCL|O_NOFOLLOW on the name and then
// initialises the file in place. There a creator killed midway leaves an
// empty file or one without the magic: Open waits up to Options.Timeout and
// reports ErrNotInitialized, and shmkit gc removes it once the creator is
// dead. Open keeps waiting for a zero-length file for the same reason, and
// for creators outside this package that size the file after naming it.
//
// # Participants and owner death
//
// Every attachment (Create, Open, Anonymous, FromFile) takes a slot in the
// segment's participant table and holds an open-file-description lock
// (F_OFD_SETLK) on that slot's byte of the file, through a private
// close-on-exec descriptor. The kernel drops the lock the instant the process
// dies, before it is reaped, so Alive(token) has a definitive answer: the
// slot's generation changed, or its lock is free → dead; otherwise alive, also
// while stopped. Tokens are slot + generation, never pids, so pid reuse and
// pid namespaces cannot confuse them. Synchronisation primitives store the
// holder's Token in their lock words and call Alive between timed waits.
//
// A joiner takes a slot over under the slot's claim lock: it checks that the
// liveness lock is free, bumps the generation, and only then takes the
// liveness lock. A held liveness lock therefore always belongs to the
// generation the slot shows, so Alive is exact even while a slot changes
// hands, and a joiner killed at any step leaves a reusable slot and no live
// token. The lock bytes of the file (not of the mapping):
//
//	byte              lock   held by
//	0                 read   every attachment (shmkit gc write-locks it to
//	                         unlink a segment nobody has attached)
//	256 + 64·i        write  slot i's owner, while attached (liveness)
//	256 + 64·i + 1    write  a joiner taking slot i over (claim)
//
// # Peers that truncate or unlink
//
// A named segment cannot be sealed: a peer may ftruncate its file. Every
// method of this package that touches the mapping runs with
// debug.SetPanicOnFault and returns ErrSegmentTruncated (or its zero result)
// instead of letting SIGBUS abort the process; Segment.Guard offers the same
// to code that reads payloads. Anonymous segments are sealed against
// shrinking and growing, so their mappings cannot fault this way.
//
// A segment unlinked while mapped keeps working for those who have it
// mapped; Health reports ErrUnlinked. Open never attaches to a file that gc
// unlinked under it, and with Options.CreationID refuses a different segment
// re-created under the same name.
//
// # Memory layout
//
// All integers little-endian; offsets from the segment base. Layout version
// 1.0. The header (256 bytes):
//
//	off  size  field         written by            read by
//	0    8     magic         creator, last         openers ("SHMKTSM1")
//	8    4     version       creator               openers (major<<16|minor)
//	12   4     byte order    creator               openers (0x01020304)
//	16   1     word size     creator               openers (8)
//	17   1     cache line    creator               openers (64)
//	20   4     arena offset  creator               openers, allocator
//	24   8     size          creator               openers (== file size)
//	32   8     creation id   creator               Health, tools
//	40   4     creator pid   creator               tools
//	44   4     slots         creator               everyone (participants)
//	48   8     creator start creator               tools (ticks since boot)
//	56   4     entries       creator               everyone (directory size, 2^k)
//	60   4     flags         creator               openers (0)
//	64   8     checksum      creator               openers (xxhash64 of [8,64))
//	128  8     cursor        allocators (CAS)      allocators (own cache line)
//	192  4     objects       creators (add)        tools
//
// Then the participant table, slots × 64 bytes from offset 256:
//
//	off  size  field    written by             read by
//	0    4     state    slot owner             joiners, tools (0 free, 1 alive)
//	4    4     gen      new owner (+1)         Alive
//	8    4     pid      slot owner             tools
//	16   8     start    slot owner             tools (ticks since boot)
//	24   8     pid ns   slot owner             tools (namespace inode)
//	32   32    pending  slot owner             recovery of dead claims (ring)
//
// Then the directory, entries × 128 bytes:
//
//	off  size  field    written by             read by
//	0    8     state    creator (CAS, stores)  everyone: low byte 0 free,
//	                                           1 claimed, 2 named, 3 ready,
//	                                           4 failed; high 32 bits token
//	8    8     hash     creator                lookups (xxhash64 of name)
//	16   4     kind     creator                OpenObject
//	20   4     version  creator                OpenObject
//	24   8     offset   creator                OpenObject (payload, from base)
//	32   8     size     creator                OpenObject
//	40   4     name len creator                lookups
//	48   80    name     creator                lookups
//
// Then the arena (from the arena offset, 64-byte aligned). Each named object
// is a 64-byte object header followed by its payload:
//
//	off  size  field    value
//	0    4     magic    "SHMO"
//	4    4     kind     four ASCII bytes (Kind)
//	8    4     version  the kind's layout version
//	12   4     index    directory entry index
//	16   8     size     payload size
//
// The directory is open-addressed (linear probing from hash mod entries). A
// creator claims a free entry by CAS, writes the name, allocates and
// initialises the object, and publishes it by storing state "ready" last;
// readers never see a half-initialised object. An entry whose claimer or
// creator died before publishing (killed inside its init, say) is marked
// failed and skipped, so the name can be created again.
//
// # What this package does not promise
//
//   - Data integrity against a hostile same-user peer: it can write anything
//     into the mapping. shm promises its own memory safety (every offset read
//     from shared memory is bounds-checked, a bad header is ErrCorrupt), not
//     the correctness of what a peer wrote.
//   - Protection of accesses outside this package against a peer that
//     truncates a named segment: a payload read through Object.Bytes (or a
//     handle built on it) past the new end of the file raises SIGBUS unless
//     it runs inside Segment.Guard. Health reports ErrSegmentTruncated;
//     anonymous (memfd) segments are sealed against it.
//   - Space reuse: the arena is a bump allocator; objects are never freed.
//   - Visibility to processes that attach without a participant slot (for
//     example Python's multiprocessing.shared_memory): they are invisible to
//     Alive and to shmkit gc.
//
// Errors map to CPython's shared_memory exceptions as follows: ErrExist is
// FileExistsError, ErrNotExist FileNotFoundError, ErrInvalidSize and
// ErrInvalidName ValueError.
package shm
