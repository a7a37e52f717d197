package dict

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Map is a hash map from string keys to byte-string values in a shared
// memory segment, the counterpart of multiprocessing's Manager().dict()
// without the server process. Readers take no lock and never see a torn
// value; writers of keys in different stripes proceed in parallel; a writer
// killed at any instruction leaves every entry with its old or its new
// value, and the next writer on its stripe repairs the rest. The zero value
// is not usable: create with NewMap, attach with OpenMap. A *Map is safe
// for concurrent use by goroutines; a Map holds only a pointer to its
// process-local state, so a copy is the same handle.
//
// Memory model: a write (Set, Delete, ...) that returns happens before a
// Get, in any process, that observes its value or its absence.
type Map struct {
	c *core
}

// NewMap creates an empty Map named name in seg. o may be nil for the
// defaults.
func NewMap(seg *shm.Segment, name string, o *Options) (*Map, error) {
	c, err := create(seg, name, KindMap, o)
	if err != nil {
		return nil, err
	}
	return &Map{c: c}, nil
}

// OpenMap attaches to the Map named name in seg. Another kind under that
// name gives shm.ErrTypeMismatch.
func OpenMap(seg *shm.Segment, name string) (*Map, error) {
	c, err := open(seg, name, KindMap)
	if err != nil {
		return nil, err
	}
	return &Map{c: c}, nil
}

// Name returns the Map's object name.
func (m *Map) Name() string { return m.c.name }

// Get returns a copy of the value stored under key, or ErrNotFound.
func (m *Map) Get(key string) ([]byte, error) {
	v, _, ok, err := m.c.get(nil, key)
	if err == nil && !ok {
		err = m.c.fail(ErrNotFound, "key %q", key)
	}
	return v, err
}

// Lookup appends the value stored under key to dst[:0] and returns it with
// the entry's revision; ok is false (and no error) if key is absent. With
// a dst of enough capacity it does not allocate.
func (m *Map) Lookup(dst []byte, key string) (value []byte, rev uint64, ok bool, err error) {
	return m.c.get(dst, key)
}

// Contains reports whether key is present.
func (m *Map) Contains(key string) (bool, error) {
	var b [64]byte
	_, _, ok, err := m.c.get(b[:0], key)
	return ok, err
}

// Set stores value under key and returns the entry's new revision. It
// blocks only while another writer holds key's stripe (ctx bounds that);
// it grows the map when the stripe is out of space (ErrFull past
// Options.MaxBytes or the segment's free space). A key longer than KeyMax
// or a value longer than ValueMax is ErrTooLarge.
func (m *Map) Set(ctx context.Context, key string, value []byte) (rev uint64, err error) {
	rev, _, err = m.c.set(ctx, key, value, setAlways, 0)
	return rev, err
}

// SetIfAbsent stores value under key only if key is absent, like Python's
// dict.setdefault. It returns the entry's revision (the existing one when
// it did not store) and whether it stored.
func (m *Map) SetIfAbsent(ctx context.Context, key string, value []byte) (rev uint64, stored bool, err error) {
	return m.c.set(ctx, key, value, setIfAbsent, 0)
}

// CompareAndSwap stores value under key only if the entry's revision is
// old (0: only if key is absent). It returns the entry's revision after the
// call and whether it stored.
func (m *Map) CompareAndSwap(ctx context.Context, key string, old uint64, value []byte) (rev uint64, swapped bool, err error) {
	return m.c.set(ctx, key, value, setIfRev, old)
}

// Delete removes key and reports whether it was present. Its space is
// reused by the next new key of its stripe.
func (m *Map) Delete(ctx context.Context, key string) (bool, error) {
	return m.c.del(ctx, key, false, 0)
}

// CompareAndDelete removes key only if its revision is old.
func (m *Map) CompareAndDelete(ctx context.Context, key string, old uint64) (bool, error) {
	return m.c.del(ctx, key, true, old)
}

// Len returns the number of entries: the sum of the stripes' counts, each
// of which lags its stripe by at most the write in progress.
func (m *Map) Len() (int, error) { return m.c.len() }

// Range calls fn for the entries until fn returns false. It is weakly
// consistent: every key present and unchanged for the whole call is
// visited exactly once; a key set or deleted during the call may or may
// not be visited, and if visited shows a value it held during the call; no
// key is visited twice. fn receives copies it may keep. Range takes no lock:
// writers are not held up.
func (m *Map) Range(fn func(key string, value []byte, rev uint64) bool) error {
	return m.c.rangeEntries(func(e entry) bool { return fn(string(e.key), e.value, e.rev) })
}

// Keys returns the keys (Range's consistency).
func (m *Map) Keys() ([]string, error) {
	var out []string
	err := m.Range(func(k string, _ []byte, _ uint64) bool {
		out = append(out, k)
		return true
	})
	return out, err
}

// Items returns a Go map copy of the entries (Range's consistency).
func (m *Map) Items() (map[string][]byte, error) {
	out := map[string][]byte{}
	err := m.Range(func(k string, v []byte, _ uint64) bool {
		out[k] = v
		return true
	})
	return out, err
}

// Update stores every entry of kv (Python's dict.update). It is not atomic
// as a whole: each Set is.
func (m *Map) Update(ctx context.Context, kv map[string][]byte) error {
	for k, v := range kv {
		if _, err := m.Set(ctx, k, v); err != nil {
			return err
		}
	}
	return nil
}

// Clear deletes every entry, one stripe at a time: atomic per stripe, not
// as a whole (an entry set in a stripe already cleared stays).
func (m *Map) Clear(ctx context.Context) error { return m.c.clear(ctx) }

// Revision returns the map's revision: every write gets the next revision
// when it starts, and Revision is the highest r such that every write with a
// revision up to r has been published. Entries' revisions (Lookup, Set) come
// from the same counter. It reads 0 from a segment a peer truncated, and
// panics with an error wrapping shm.ErrClosed after the Segment's Close.
func (m *Map) Revision() uint64 { return m.c.revisionOr0() }

// Watch waits until the map's Revision is above since, or ctx is done, and
// returns the new Revision (since and ctx.Err() on cancellation). Any write
// by any process counts: Set, Delete, Clear, growth. Pass the revision of
// the state you last read, so that no change falls between reading and
// watching. Once the segment is closed (Segment.Close, also while Watch
// is parked) it returns an error wrapping shm.ErrClosed, and on a named
// segment a peer truncated one wrapping shm.ErrSegmentTruncated, within
// about 50 ms (the parked thread's time slice).
func (m *Map) Watch(ctx context.Context, since uint64) (uint64, error) {
	return m.c.watch(ctx, since)
}

// Stats describes a map for tools such as shmkit inspect.
type Stats struct {
	Len       int    // entries
	Capacity  int    // slots of the current table
	Stripes   int    // writer lock stripes
	KeyMax    int    // longest key
	ValueMax  int    // longest value
	Bytes     int    // size of the current table
	Revision  uint64 // as Revision
	Recovered uint64 // dead writers recovered (RecoveredWriters)
	Table     string // the current table's object name
}

// Stats returns the map's figures.
func (m *Map) Stats() (Stats, error) { return m.c.stats() }

// RecoveredWriters returns how many times a writer found its stripe's
// previous lock holder dead and repaired the stripe, over the map's life. A
// writer that died holding several stripes (during growth) counts once per
// stripe. It reads 0 from a segment a peer truncated, and panics with an
// error wrapping shm.ErrClosed after the Segment's Close.
func (m *Map) RecoveredWriters() uint64 { return m.c.recoveredOr0() }

func (c *core) clear(ctx context.Context) (err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	for s := 0; s < c.stripes; s++ {
		if err := c.lockStripe(ctx, s); err != nil {
			return err
		}
		err := c.clearStripe(s)
		c.unlockStripe(s)
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *core) stats() (_ Stats, err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	t, err := c.table()
	if err != nil {
		return Stats{}, err
	}
	return Stats{
		Len:       t.live(),
		Capacity:  t.ns,
		Stripes:   c.stripes,
		KeyMax:    c.keyMax,
		ValueMax:  c.valueMax,
		Bytes:     8 * len(t.w),
		Revision:  c.revision(),
		Recovered: atomic.LoadUint64(&c.root.recovered),
		Table:     tableName(c.name, t.id),
	}, nil
}

// String formats the figures shmkit inspect shows.
func (s Stats) String() string {
	return fmt.Sprintf("len %d, capacity %d, %d stripes, revision %d, recovered writers %d", s.Len, s.Capacity, s.Stripes, s.Revision, s.Recovered)
}
