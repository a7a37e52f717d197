// Package dict provides a hash map, a list and a namespace in shared memory,
// the counterparts of multiprocessing's Manager().dict(), list() and
// Namespace() with no server process: every process reads and writes the
// segment directly.
//
//	CPython (through the manager's server)   dict
//	d = manager.dict()                        m, _ := dict.NewMap(seg, "d", nil)
//	d = <proxy passed to a child>             dict.OpenMap(seg, "d"), or AttachShare
//	d[k] = v                                  m.Set(ctx, k, v)
//	d[k] (KeyError)                           m.Get(k) (ErrNotFound)
//	d.get(k)                                  m.Lookup(dst, k): value, revision, ok
//	k in d / len(d)                           m.Contains(k) / m.Len()
//	del d[k] / d.pop(k)                       m.Delete(ctx, k)
//	d.setdefault(k, v)                        m.SetIfAbsent(ctx, k, v)
//	d.update(other) / d.clear()               m.Update(ctx, goMap) / m.Clear(ctx)
//	d.keys() / d.items() / dict(d)            m.Keys() / m.Items() / m.Range(fn)
//	(no equivalent)                           m.CompareAndSwap(ctx, k, rev, v), m.Watch(ctx, rev)
//	l = manager.list(range(5))                l, _ := dict.NewList(seg, "l", nil); l.Extend(ctx, items)
//	l.append(x) / l.extend(xs)                l.Append(ctx, x) / l.Extend(ctx, xs)
//	l[i] / l[i] = x / l[-1]                   l.Get(i) / l.Set(ctx, i, x) / l.Get(-1)
//	len(l) / l.pop() / list(l)                l.Len() / l.Pop(ctx) / l.Copy()
//	n = manager.Namespace(); n.a = 10         n, _ := dict.NewNamespace(seg, "n", nil); n.Set(ctx, "a", 10)
//	n.a (AttributeError)                      n.Get("a") (ErrNotFound)
//	(a typed record)                          dict.NewStruct[T](n): Load, Store
//
// Keys are strings and values byte strings; TypedMap and TypedList carry Go
// values through ring's codecs (ring.Plain for plain fixed-size types,
// ring.Gob otherwise). As with a manager's proxies, values are copies: a
// value changes only through Set. Writes take a context because they may
// wait for another writer's lock; reads never wait.
//
// # Consistency
//
// Readers take no lock. Every entry lives in a slot with two cells and a
// sequence word; the cell the sequence's low bit names is the entry. A writer
// fills the other cell and publishes it with one atomic store of the
// sequence word, so a reader that copies a cell and finds the sequence word
// unchanged afterwards copied a whole value, old or new, never a mix. A
// reader that sees the word change (or a deleted cell, or a slot reused for
// a key of another bucket) starts its lookup again, at most 4096 times
// (yielding every 16), then returns ErrBusy: only a writer that rewrites the
// same entry faster than a reader can copy it, without pause, can cause
// that. A chain found longer than the whole table on three walks is a loop
// a peer wrote: ErrCorrupt. On amd64, whose loads are never reordered with
// later loads, a reader copies a cell with memmove; elsewhere with 8-byte
// atomic loads, which stay ordered before the re-check of the sequence
// word.
//
// Writers lock one of Options.Stripes robust futex locks (futex.Lock), chosen
// by the key's hash, so writers of keys in different stripes run in parallel.
// Every write gets a revision from one counter (an atomic add), stored in
// the entry: CompareAndSwap and CompareAndDelete compare it. Revision is the
// highest revision up to which every write is published (each stripe
// announces the lower bound of the revision it is writing before taking it),
// and Watch parks on a futex word that every write increments after
// publishing, until Revision passes the caller's.
//
// Get, Set, Delete, SetIfAbsent, CompareAndSwap and CompareAndDelete are
// linearizable. Len sums per-stripe counts, each of which lags its stripe's
// publications by at most the one write in progress (or, after a writer
// died mid-write, its one write, until the next writer on that stripe
// recovers it). Range is
// weakly consistent: a key present and unchanged for the whole call is
// visited exactly once, a key written during it may or may not be, and no
// key is visited twice (each bucket's chain is read whole and consistent
// before its entries are delivered). Clear and Update are atomic per stripe
// and per key respectively, not as a whole. A List's items are entries keyed
// by index under a single stripe, and its length a word published after the
// item it reveals.
//
// # Growth and reuse
//
// Each stripe owns an equal share of the table's slots, kept on a free list.
// A Set of a new key whose stripe has no free slot grows the map: the writer
// takes every stripe lock in order, allocates a table of twice the slots
// as a new object of the segment, copies the live entries (keeping hashes
// and revisions), and publishes it by storing its id in the root. Writers
// wait for the copy; readers keep reading the old table, which no longer
// changes, and move to the new one when they see its id (a read that started
// on the old table re-reads if the id changed under it, so it never misses a
// later write). Growth from 64 entries to thousands takes a handful of
// doublings; the first table's size is Options.Capacity. A Delete puts its
// slot back on the stripe's free list, so a workload of sets and deletes
// whose Len stays small never grows the map. A growth that would pass
// Options.MaxBytes or the segment's free space is ErrFull, with the figures.
// Keys and values longer than KeyMax and ValueMax are ErrTooLarge naming the
// limit: every slot holds two cells of KeyMax+ValueMax bytes, fixed when the
// map is created.
//
// # Writers that die
//
// A writer may be killed at any instruction. Every write is a sequence of
// single-word atomic stores that leaves each chain valid at every step: a
// new key's slot is linked after its cell is published, a deleted key's slot
// is unlinked before its deleted cell is published and before its link is
// reused for the free list. A dead writer therefore leaves, on its stripe,
// at most: one cell filled but never published (the old value still shows),
// one slot taken off the free list but never linked, or one slot unlinked but
// not yet freed, and a stale count. The next writer to take that stripe's lock
// gets futex.ErrOwnerDead and, before its own write, repairs the stripe: it
// walks the stripe's chains keeping the live slots that belong to them,
// rebuilds the free list from every other slot of the stripe, and recounts.
// Then it marks the lock consistent and adds one to RecoveredWriters. A
// writer killed during growth leaves the old table current (the new one is
// published by the final root store, or never) and an unused table object in
// the segment. No reader waits for any of this: a dead writer's stripe stays
// readable throughout. Watch ignores the unfinished write of a writer whose
// lock holder is dead.
//
// Watch callers of one handle share one goroutine parked in FUTEX_WAIT (in
// slices of 50 ms), so a process parks at most one thread per handle
// however many goroutines watch; a cancelled Watch returns at once.
//
// # Closed and truncated segments
//
// After Segment.Close every method with an error result returns an error
// wrapping shm.ErrClosed, and a Watch already parked returns it within a
// slice. On a named segment, whose file a peer can truncate under the
// mapping, the methods run guarded: one that touches memory past the new
// end of the file returns an error wrapping shm.ErrSegmentTruncated
// instead of aborting the process with SIGBUS, and so does a parked Watch
// (its parker thread included). The figures without an error result,
// Revision, RecoveredWriters and List.Len, read 0 from a truncated
// segment, and after Close panic with an error wrapping shm.ErrClosed (a
// plain Go panic, as for every accessor without an error result). Name
// reads no shared
// memory. An anonymous segment (a sealed
// memfd, the default of proc.Manager) cannot shrink, and its handles pay one load
// of the segment's state per call for the closed check.
//
// # Performance
//
// A Get or Set costs a few times a Go map behind a sync.RWMutex in one
// process, and hundreds of times less than a request to a server process
// holding the map (the Manager model: a Unix-socket round trip per
// operation) or CPython's Manager().dict(). BenchmarkMap measures all four
// in one run, 1000 keys and 64-byte values, and with -v logs each one's
// ratio to this package's; figures move between machines and runs, so run
// it rather than trust a number written here:
//
//	go test -run XXX -bench BenchmarkMap -benchtime 200ms -v ./dict/
//
// # Memory layout
//
// Little-endian, the same on every architecture; offsets from each object's
// payload (the shm object header precedes it). A map, list or namespace is a
// root object (kind DMAP, DLST or DNSP) named as given, stripe locks named
// name~L0, name~L1, ... (futex.Lock objects), and its current table (kind
// DTAB) named name~t<gen>.<tag>, where gen counts growths and tag is random.
//
//	Root (256 + 64*stripes bytes)
//	off  size  field       written by             read by
//	0    4     stripes     creator                openers (power of two, <= 64)
//	4    4     key max     creator                openers
//	8    4     value max   creator                openers
//	16   8     max bytes   creator                growers
//	24   8     table id    growers (atomic)       everyone: gen<<32 | tag
//	64   8     revision    writers (atomic add)   writers, Revision
//	128  4     notify      writers (atomic add)   Watch (futex word)
//	132  4     watchers    parked Watch threads   writers (wake only if > 0)
//	192  8     recovered   recovering writers     RecoveredWriters, inspect
//	200  8     list length List writers           List readers
//	256  8     in flight   stripe s's writer      Revision (at 256 + 64*s)
//
//	Table, in 8-byte words (w = word index)
//	w    field              written by             read by
//	0    table id           grower, before publishing  openers
//	1    buckets (2^k)      grower                 openers (cached, validated)
//	2    slots              grower                 openers (multiple of stripes)
//	3-5  key max, value max, stripes               openers (must match the root)
//	8+8s stripe s: free     stripe s's writer      stripe s's writer
//	     head (slot+1, 0 empty); +1 count          Len
//	B    bucket b (from 8+8*stripes): slot+1 of the chain head, 0 if empty;
//	     written by the writer of stripe b mod stripes, read by everyone
//	S    slots (from B+buckets, rounded up to 8 words), 2+2*C words each:
//	     +0 sequence: publications; the entry is cell seq&1   writer / readers
//	     +1 next: slot+1 in the chain or free list            writer / readers
//	     +2 cell 0, +2+C cell 1, C = 3 + ceil(keyMax/8) + ceil(valueMax/8):
//	        +0 revision  +1 xxhash64(key)
//	        +2 state (1 live, 0 deleted) | key len<<8 | value len<<32
//	        +3 key, zero-padded to words; then the value, zero-padded
//
// Hashes are xxhash64 with seed 0 (xxhash.Sum64String) of the key; the bucket
// is hash mod buckets, the stripe hash mod stripes (so a bucket's chain
// belongs to one stripe), and stripe s owns slots [s*slots/stripes,
// (s+1)*slots/stripes).
//
// # Design notes
//
// Chained buckets rather than open addressing: a deleted entry leaves no
// tombstone in a probe sequence, so a set/delete workload cannot silt the
// index up and force rebuilds (and with a bump allocator every rebuild would
// cost segment space for good). Two cells per slot rather than out-of-line
// copy-on-write value blocks: a write is one cell fill and one store, with no
// allocator whose free list a dead writer could leave half-updated; the cost
// is memory, twice KeyMax+ValueMax per slot. Slots partitioned among stripes
// keep each free list under one lock, so recovery of a stripe scans only
// its share.
//
// # What it does not promise
//
//   - Space for old tables: shm's allocator never frees, so each growth
//     leaves the previous table allocated (the old tables of a map add up to
//     less than its current table), and a writer killed during growth leaves
//     its unfinished table too. Size the segment for about twice the largest
//     table (Stats.Bytes).
//   - Integrity against a hostile peer. A corrupt table or root gives
//     ErrCorrupt (or ErrBusy) after a bounded number of steps, never a panic,
//     an out-of-range access or an endless loop (FuzzMapMemory); a peer can
//     still store wrong values.
//   - Directory entries: a map takes 1 + Stripes + one per table it has had
//     (a doubling each) of its segment's object directory (shm.Options.Objects).
//   - Atomicity across keys: Update, Clear, a Struct's Store and a Namespace's
//     Attrs are per key.
//   - Data that survives a truncation of a named segment by a peer: the
//     handles report it (see above), the entries past the new end are
//     gone; anonymous segments are sealed against it.
package dict
