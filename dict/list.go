package dict

import (
	"context"
	"encoding/binary"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// List is a list of byte-string items in shared memory, the counterpart of
// Manager().list() without the server process. Items are entries of a
// one-stripe map keyed by index, so reads are lock-free and never torn and
// a writer killed mid-Append leaves the list with or without the item,
// whole. Writers (Append, Extend, Set, Pop) are serialised by one robust
// lock, so appends from many processes are ordered and none is lost. The
// zero value is not usable: create with NewList, attach with OpenList.
type List struct {
	c *core
}

// listStripe is the List's only stripe.
const listStripe = 0

// NewList creates an empty List named name in seg. o may be nil; its
// Stripes and KeyMax are ignored.
func NewList(seg *shm.Segment, name string, o *Options) (*List, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	opts.Stripes, opts.KeyMax = 1, 8
	c, err := create(seg, name, KindList, &opts)
	if err != nil {
		return nil, err
	}
	return &List{c: c}, nil
}

// OpenList attaches to the List named name in seg.
func OpenList(seg *shm.Segment, name string) (*List, error) {
	c, err := open(seg, name, KindList)
	if err != nil {
		return nil, err
	}
	return &List{c: c}, nil
}

// Name returns the List's object name.
func (l *List) Name() string { return l.c.name }

func indexKey(i int) string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(i))
	return string(b[:])
}

// Len returns the number of items: 0 on a segment a peer truncated; after
// the Segment's Close it panics with an error wrapping shm.ErrClosed.
func (l *List) Len() int { return figure(l.c, l.loadLen) }

func (l *List) loadLen() int { return int(atomic.LoadUint64(&l.c.root.listLen) & (1<<40 - 1)) }

// length is Len for the methods with an error result: through guard, so
// that a closed or truncated segment is the error, not an empty list.
// Under withLock, which checked the table and catches a fault itself, the
// length is loadLen.
func (l *List) length() (n int, err error) {
	err = l.c.guard(func() error {
		n = l.loadLen()
		return nil
	})
	return n, err
}

// index resolves a Python-style index (negative counts from the end).
func (l *List) index(i, n int) (int, error) {
	if i < 0 {
		i += n
	}
	if i < 0 || i >= n {
		return 0, l.c.fail(ErrIndex, "index %d of %d items", i, n)
	}
	return i, nil
}

// Get returns a copy of item i; a negative i counts from the end, as in
// Python.
func (l *List) Get(i int) ([]byte, error) {
	n, err := l.length()
	if err != nil {
		return nil, err
	}
	i, err = l.index(i, n)
	if err != nil {
		return nil, err
	}
	v, _, ok, err := l.c.get(nil, indexKey(i))
	if err == nil && !ok {
		err = l.c.fail(ErrIndex, "index %d", i) // popped meanwhile
	}
	return v, err
}

// withLock runs fn under the List's lock, first growing the table until it
// has room for need more items.
func (l *List) withLock(ctx context.Context, need int, fn func(t *table) error) (err error) {
	c := l.c
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	for {
		if err := c.lockStripe(ctx, listStripe); err != nil {
			return err
		}
		t, err := c.table()
		if err == nil && t.per-t.live() < need {
			c.unlockStripe(listStripe)
			if err := c.grow(ctx, t); err != nil {
				return err
			}
			continue
		}
		if err == nil {
			err = fn(t)
		}
		c.unlockStripe(listStripe)
		return err
	}
}

// Append adds value at the end and returns its index.
func (l *List) Append(ctx context.Context, value []byte) (int, error) {
	return l.extend(ctx, [][]byte{value})
}

// Extend appends values in order, contiguously: no other writer's item
// falls between them.
func (l *List) Extend(ctx context.Context, values [][]byte) error {
	_, err := l.extend(ctx, values)
	return err
}

// extend is Extend returning the first new item's index.
func (l *List) extend(ctx context.Context, values [][]byte) (first int, err error) {
	for _, v := range values {
		if err := l.c.checkValue(v); err != nil {
			return 0, err
		}
	}
	err = l.withLock(ctx, len(values), func(*table) error {
		n := l.loadLen()
		first = n
		for i, v := range values {
			if err := l.setLocked(n+i, v); err != nil {
				return err
			}
			// The item is published before the length that shows it.
			atomic.StoreUint64(&l.c.root.listLen, uint64(n+i+1))
			l.c.notify()
		}
		return nil
	})
	return first, err
}

func (l *List) setLocked(i int, v []byte) error {
	key := indexKey(i)
	_, _, full, _, err := l.c.setLocked(listStripe, xxhash.Sum64String(key), key, v, setAlways, 0)
	if err == nil && full {
		err = l.c.fail(ErrCorrupt, "no free slot after growing")
	}
	return err
}

// Set replaces item i (negative counts from the end).
func (l *List) Set(ctx context.Context, i int, value []byte) error {
	if err := l.c.checkValue(value); err != nil {
		return err
	}
	return l.withLock(ctx, 0, func(*table) error {
		n := l.loadLen()
		j, err := l.index(i, n)
		if err != nil {
			return err
		}
		return l.setLocked(j, value)
	})
}

// Pop removes and returns the last item; an empty List gives ErrIndex.
func (l *List) Pop(ctx context.Context) ([]byte, error) {
	var v []byte
	err := l.withLock(ctx, 0, func(*table) error {
		n := l.loadLen()
		if n == 0 {
			return l.c.fail(ErrIndex, "pop from empty list")
		}
		key := indexKey(n - 1)
		var ok bool
		var err error
		if v, _, ok, err = l.c.get(nil, key); err != nil {
			return err
		} else if !ok {
			return l.c.fail(ErrCorrupt, "item %d of %d missing", n-1, n)
		}
		// Shorten first: a writer killed between the two steps leaves an
		// item past the end, which the next Append overwrites.
		atomic.StoreUint64(&l.c.root.listLen, uint64(n-1))
		_, err = l.c.delLocked(listStripe, xxhash.Sum64String(key), key, false, 0)
		return err
	})
	return v, err
}

// Range calls fn with each index and a copy of its item, in order, until fn
// returns false. Items appended during the call may or may not be visited;
// it stops early if items are popped under it.
func (l *List) Range(fn func(i int, value []byte) bool) error {
	for i := 0; ; i++ {
		n, err := l.length()
		if err != nil {
			return err
		}
		if i >= n {
			return nil
		}
		v, _, ok, err := l.c.get(nil, indexKey(i))
		if err != nil {
			return err
		}
		if !ok || !fn(i, v) {
			return nil
		}
	}
}

// Copy returns the items as a Go slice (Range's consistency), like
// list(proxy) in Python.
func (l *List) Copy() ([][]byte, error) {
	var out [][]byte
	err := l.Range(func(_ int, v []byte) bool {
		out = append(out, v)
		return true
	})
	return out, err
}

// Revision, Watch, Stats and RecoveredWriters are as for Map.

// Revision returns the list's revision (see Map.Revision).
func (l *List) Revision() uint64 { return l.c.revisionOr0() }

// Watch waits until the list's Revision is above since (see Map.Watch).
func (l *List) Watch(ctx context.Context, since uint64) (uint64, error) {
	return l.c.watch(ctx, since)
}

// Stats returns the list's figures; Len is the number of items.
func (l *List) Stats() (Stats, error) {
	st, err := l.c.stats()
	st.Len = l.Len()
	return st, err
}

// RecoveredWriters returns how many dead writers were recovered.
func (l *List) RecoveredWriters() uint64 { return l.c.recoveredOr0() }
