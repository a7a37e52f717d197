package dict

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/race"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Options configures NewMap, NewList and NewNamespace. The zero value gives
// the defaults; the object stores them, so Open needs none.
type Options struct {
	// Stripes is the number of writer locks, a power of two from 1 to 64:
	// writers of keys in different stripes proceed in parallel. Default 8
	// (a List always has 1: appends are ordered).
	Stripes int
	// Capacity is the number of entries the first table holds before it
	// grows. Default 64.
	Capacity int
	// KeyMax is the longest key in bytes, 1 to 4096. Default 64.
	KeyMax int
	// ValueMax is the longest value in bytes, 1 to 1 MiB. Default 256.
	// Every slot holds two cells of KeyMax+ValueMax bytes.
	ValueMax int
	// MaxBytes bounds the size of a table: growing past it is ErrFull.
	// Default 0: bounded only by the segment's free space.
	MaxBytes int
}

const (
	defaultStripes  = 8
	defaultCapacity = 64
	defaultKeyMax   = 64
	defaultValueMax = 256
	maxStripes      = 64
	maxKeyMax       = 4096
	maxValueMax     = 1 << 20
	// maxNameLen leaves room in shm's 80-byte object names for the derived
	// names of the tables ("~t<gen>.<tag>") and locks ("~L<i>").
	maxNameLen = 56
	// maxRetries bounds how often a read restarts before ErrBusy.
	maxRetries = 1 << 12
	// maxCycles is how many walks of one read may find a chain longer than
	// the table before it is ErrCorrupt: a writer can make a reader walk a
	// reused slot round again only by deleting and re-inserting under it,
	// and doing that for a whole table's length twice over is not something
	// an honest writer does.
	maxCycles = 3
)

func (o *Options) withDefaults() (Options, error) {
	var r Options
	if o != nil {
		r = *o
	}
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&r.Stripes, defaultStripes)
	def(&r.Capacity, defaultCapacity)
	def(&r.KeyMax, defaultKeyMax)
	def(&r.ValueMax, defaultValueMax)
	switch {
	case r.Stripes < 1 || r.Stripes > maxStripes || r.Stripes&(r.Stripes-1) != 0:
		return r, fmt.Errorf("%w: Options.Stripes %d: want a power of two in [1, %d]", ErrInvalid, r.Stripes, maxStripes)
	case r.Capacity < 1 || r.Capacity > 1<<30:
		return r, fmt.Errorf("%w: Options.Capacity %d", ErrInvalid, r.Capacity)
	case r.KeyMax < 1 || r.KeyMax > maxKeyMax:
		return r, fmt.Errorf("%w: Options.KeyMax %d: want [1, %d]", ErrInvalid, r.KeyMax, maxKeyMax)
	case r.ValueMax < 1 || r.ValueMax > maxValueMax:
		return r, fmt.Errorf("%w: Options.ValueMax %d: want [1, %d]", ErrInvalid, r.ValueMax, maxValueMax)
	case r.MaxBytes < 0:
		return r, fmt.Errorf("%w: Options.MaxBytes %d", ErrInvalid, r.MaxBytes)
	}
	return r, nil
}

// core is the machinery Map, List and Namespace share: the root object, the
// stripe locks, this process's view of the current table, and the Watch hub.
type core struct {
	seg      *shm.Segment
	sc       *segcore.Core // closed and truncation checks (closed.go)
	state    *uint32       // sc.State()
	name     string
	what     string // "map", "list", "namespace": for messages
	obj      shm.Object
	root     *rootHdr
	notifyW  *uint32 // &root.notify, formed once: forming it touches root (a nil check), which may fault
	inflight []*uint64
	locks    []*futex.Lock
	stripes  int
	keyMax   int
	valueMax int
	maxBytes int
	anchor   raceAnchor

	mu  sync.Mutex // serialises table refreshes
	cur atomic.Pointer[table]
	hub hub
}

func lockName(name string, s int) string { return fmt.Sprintf("%s~L%d", name, s) }
func tableName(name string, id uint64) string {
	return fmt.Sprintf("%s~t%d.%08x", name, id>>32, uint32(id))
}

func kindWord(k shm.Kind) string {
	switch k {
	case KindList:
		return "list"
	case KindNamespace:
		return "namespace"
	}
	return "map"
}

func checkName(name string) error {
	if len(name) > maxNameLen {
		return fmt.Errorf("%w: name %q: %d bytes, the longest is %d", ErrInvalid, name, len(name), maxNameLen)
	}
	return shm.CheckObjectName(name)
}

// create makes the locks, the first table and, last, the root object, so an
// opener that finds the root finds everything it names.
func create(seg *shm.Segment, name string, kind shm.Kind, opts *Options) (*core, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := checkName(name); err != nil {
		return nil, err
	}
	if kind == KindList {
		o.Stripes = 1
	}
	for s := 0; s < o.Stripes; s++ {
		if _, err := futex.NewLock(seg, lockName(name, s)); err != nil {
			return nil, errtext.Errorf("dict: create %s %q: %w", kindWord(kind), name, err)
		}
	}
	t := newGeometry(o.Capacity, o.Stripes, o.KeyMax, o.ValueMax)
	t.id = 1<<32 | uint64(rand.Uint32())
	t.name = tableName(name, t.id)
	if o.MaxBytes > 0 && t.bytes() > o.MaxBytes {
		return nil, fmt.Errorf("%w: create %s %q: first table of %d slots needs %d bytes, over Options.MaxBytes %d",
			ErrFull, kindWord(kind), name, t.ns, t.bytes(), o.MaxBytes)
	}
	if _, err := seg.CreateObject(t.name, KindTable, layoutVersion, t.bytes(), func(p []byte) error {
		t.format(p)
		return nil
	}); err != nil {
		return nil, errtext.Errorf("dict: create %s %q: %w", kindWord(kind), name, err)
	}
	obj, err := seg.CreateObject(name, kind, layoutVersion, rootSize(o.Stripes), func(p []byte) error {
		r := rootAt(p)
		r.stripes = uint32(o.Stripes)
		r.keyMax = uint32(o.KeyMax)
		r.valueMax = uint32(o.ValueMax)
		r.maxBytes = uint64(o.MaxBytes)
		r.table = t.id
		return nil
	})
	if err != nil {
		return nil, errtext.Errorf("dict: create %s %q: %w", kindWord(kind), name, err)
	}
	return attach(seg, obj, kind)
}

// open attaches to the root object name of the given kind.
func open(seg *shm.Segment, name string, kind shm.Kind) (*core, error) {
	obj, err := seg.OpenObject(name, kind, layoutVersion)
	if err != nil {
		return nil, errtext.Errorf("dict: open %s %q: %w", kindWord(kind), name, err)
	}
	return attach(seg, obj, kind)
}

// attach validates the root and opens its locks and current table.
func attach(seg *shm.Segment, obj shm.Object, kind shm.Kind) (*core, error) {
	name := obj.Name()
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: open %s %q: "+format, append([]any{ErrCorrupt, kindWord(kind), name}, args...)...)
	}
	p := obj.Bytes()
	if len(p) < rootHdrSize {
		return nil, bad("root of %d bytes", len(p))
	}
	r := rootAt(p)
	c := &core{
		seg:      seg,
		name:     name,
		what:     kindWord(kind),
		obj:      obj,
		root:     r,
		notifyW:  &r.notify,
		stripes:  int(atomic.LoadUint32(&r.stripes)),
		keyMax:   int(atomic.LoadUint32(&r.keyMax)),
		valueMax: int(atomic.LoadUint32(&r.valueMax)),
		maxBytes: int(atomic.LoadUint64(&r.maxBytes) & (1<<62 - 1)),
		anchor:   segcore.Of(seg).Anchor(obj.Offset()),
		sc:       segcore.Of(seg),
		state:    segcore.Of(seg).State(),
	}
	if c.stripes < 1 || c.stripes > maxStripes || c.stripes&(c.stripes-1) != 0 || len(p) < rootSize(c.stripes) {
		return nil, bad("%d stripes in %d bytes", c.stripes, len(p))
	}
	if c.keyMax < 1 || c.keyMax > maxKeyMax || c.valueMax < 1 || c.valueMax > maxValueMax {
		return nil, bad("KeyMax %d, ValueMax %d", c.keyMax, c.valueMax)
	}
	for s := 0; s < c.stripes; s++ {
		c.inflight = append(c.inflight, inflightAt(p, s))
		l, err := futex.OpenLock(seg, lockName(name, s))
		if err != nil {
			return nil, errtext.Errorf("dict: open %s %q: %w", c.what, name, err)
		}
		c.locks = append(c.locks, l)
	}
	if _, err := c.table(); err != nil {
		return nil, err
	}
	return c, nil
}

// table returns the current table, reopening it when a writer has grown the
// map since this process last looked: one atomic load on the fast path.
func (c *core) table() (*table, error) {
	if atomic.LoadUint32(c.state) != 0 && c.sc.Closed() {
		return nil, c.wrap(shm.ErrClosed)
	}
	id := atomic.LoadUint64(&c.root.table)
	if t := c.cur.Load(); t != nil && t.id == id {
		return t, nil
	}
	return c.refresh(id)
}

func (c *core) refresh(id uint64) (*table, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.cur.Load(); t != nil && t.id == id {
		return t, nil
	}
	name := tableName(c.name, id)
	obj, err := c.seg.OpenObject(name, KindTable, layoutVersion)
	if err != nil {
		return nil, errtext.Errorf("dict: %s %q: table: %w", c.what, c.name, err)
	}
	t, err := openTable(name, obj.Bytes(), c.stripes, c.keyMax, c.valueMax)
	if err != nil {
		return nil, err
	}
	if t.id != id {
		return nil, c.fail(ErrCorrupt, "table %q holds id %#x", name, t.id)
	}
	c.cur.Store(t)
	return t, nil
}

// fail returns one of this package's sentinels with the object and the
// details: "dict: full: map "m": ...".
func (c *core) fail(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s %q: "+format, append([]any{sentinel, c.what, c.name}, args...)...)
}

// wrap names the object in another package's error.
func (c *core) wrap(err error) error {
	return errtext.Errorf("dict: %s %q: %w", c.what, c.name, err)
}

func (c *core) checkKey(key string) error {
	if len(key) > c.keyMax {
		return c.fail(ErrTooLarge, "key of %d bytes (KeyMax is %d)", len(key), c.keyMax)
	}
	return nil
}

func (c *core) checkValue(v []byte) error {
	if len(v) > c.valueMax {
		return c.fail(ErrTooLarge, "value of %d bytes (ValueMax is %d)", len(v), c.valueMax)
	}
	return nil
}

// get reads key lock-free into dst[:0]. It retries a bounded number of times
// when a writer changes what it reads, and once more when the map grew
// under it (the old table stays readable, but a write after the switch
// lands only in the new one).
func (c *core) get(dst []byte, key string) (_ []byte, _ uint64, _ bool, err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	if err := c.checkKey(key); err != nil {
		return dst, 0, false, err
	}
	h := xxhash.Sum64String(key)
	cycles := 0
	for try := 0; try < maxRetries; try++ {
		t, err := c.table()
		if err != nil {
			return dst, 0, false, err
		}
		v, rev, st := t.lookup(h, key, dst)
		switch st {
		case readFound, readMissing:
			if atomic.LoadUint64(&c.root.table) != t.id {
				continue
			}
			race.Acquire(c.anchor)
			return v, rev, st == readFound, nil
		case readCorrupt:
			return dst, 0, false, c.fail(ErrCorrupt, "key %q", key)
		case readCycle:
			if cycles++; cycles == maxCycles {
				return dst, 0, false, c.fail(ErrCorrupt, "key %q: a chain loops", key)
			}
		}
		backoff(try)
	}
	return dst, 0, false, c.fail(ErrBusy, "key %q", key)
}

func backoff(try int) {
	if try&15 == 15 {
		runtime.Gosched()
	}
}

// lockStripe takes stripe s's lock. If its holder died, the stripe is
// repaired first (recoverStripe), counted, and the lock made consistent.
func (c *core) lockStripe(ctx context.Context, s int) error {
	err := c.locks[s].Acquire(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, futex.ErrOwnerDead) {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return err
		}
		return c.wrap(err)
	}
	rerr := c.recoverStripe(s)
	atomic.AddUint64(&c.root.recovered, 1)
	if cerr := c.locks[s].Consistent(); cerr != nil && rerr == nil {
		rerr = c.wrap(cerr)
	}
	if rerr != nil {
		c.locks[s].Release()
		return rerr
	}
	return nil
}

func (c *core) unlockStripe(s int) {
	// A Release fails only if a peer forged the lock word; the write is
	// already published, so there is nothing to undo.
	_ = c.locks[s].Release()
}

// begin allocates the revision of a write on stripe s. The stripe's
// in-flight word is set first to a lower bound of that revision, so that
// Revision never counts a write as done before it is published.
func (c *core) begin(s int) uint64 {
	atomic.StoreUint64(c.inflight[s], atomic.LoadUint64(&c.root.rev)+1)
	return atomic.AddUint64(&c.root.rev, 1)
}

// end clears stripe s's in-flight word and wakes watchers.
func (c *core) end(s int) {
	atomic.StoreUint64(c.inflight[s], 0)
	c.notify()
}

func (c *core) notify() {
	atomic.AddUint32(&c.root.notify, 1)
	if atomic.LoadUint32(&c.root.watchers) != 0 {
		futex.Wake(&c.root.notify, 1<<30)
	}
}

// Set modes.
const (
	setAlways = iota
	setIfAbsent
	setIfRev
)

// set stores value under key according to mode. It returns the entry's
// revision (the new one if stored, the existing one if not) and whether it
// stored.
func (c *core) set(ctx context.Context, key string, value []byte, mode int, want uint64) (_ uint64, _ bool, err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	if err := c.checkKey(key); err != nil {
		return 0, false, err
	}
	if err := c.checkValue(value); err != nil {
		return 0, false, err
	}
	h := xxhash.Sum64String(key)
	s := int(h & uint64(c.stripes-1))
	for {
		if err := c.lockStripe(ctx, s); err != nil {
			return 0, false, err
		}
		rev, stored, full, t, err := c.setLocked(s, h, key, value, mode, want)
		c.unlockStripe(s)
		if err != nil || !full {
			return rev, stored, err
		}
		if err := c.grow(ctx, t); err != nil {
			return 0, false, err
		}
	}
}

// setLocked is set's work under stripe s's lock; full reports that the
// stripe has no free slot for a new key and the table t must grow.
func (c *core) setLocked(s int, h uint64, key string, value []byte, mode int, want uint64) (rev uint64, stored, full bool, t *table, err error) {
	t, err = c.table()
	if err != nil {
		return 0, false, false, nil, err
	}
	n, _, err := t.find(s, h, key)
	if err != nil {
		return 0, false, false, t, err
	}
	if n != 0 {
		cur := atomic.LoadUint64(&t.w[t.cellW(t.slotW(n), atomic.LoadUint64(&t.w[t.slotW(n)+slotSeqW]))+cellRevW])
		if mode == setIfAbsent || mode == setIfRev && want != cur {
			return cur, false, false, t, nil
		}
	} else if mode == setIfRev && want != 0 {
		return 0, false, false, t, nil
	}
	if n == 0 {
		var ok bool
		if n, ok, err = t.popFree(s); err != nil {
			return 0, false, false, t, err
		} else if !ok {
			return 0, false, true, t, nil
		}
		// Link to the chain head before publishing: a reader that reaches
		// the slot after its sequence word changes follows a valid chain.
		bw := t.bucket(h)
		atomic.StoreUint64(&t.w[t.slotW(n)+slotNextW], atomic.LoadUint64(&t.w[bw]))
		rev = c.begin(s)
		t.writeCell(t.slotW(n), rev, h, key, value)
		t.publish(c.anchor, n)
		atomic.StoreUint64(&t.w[bw], n)
		atomic.AddUint64(&t.w[t.stripeW(s)+stripeCountW], 1)
	} else {
		rev = c.begin(s)
		t.writeCell(t.slotW(n), rev, h, key, value)
		t.publish(c.anchor, n)
	}
	c.end(s)
	return rev, true, false, t, nil
}

// del deletes key; with ifRev only if its revision is want.
func (c *core) del(ctx context.Context, key string, ifRev bool, want uint64) (_ bool, err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	if err := c.checkKey(key); err != nil {
		return false, err
	}
	h := xxhash.Sum64String(key)
	s := int(h & uint64(c.stripes-1))
	if err := c.lockStripe(ctx, s); err != nil {
		return false, err
	}
	defer c.unlockStripe(s)
	return c.delLocked(s, h, key, ifRev, want)
}

// delLocked is del's work under stripe s's lock.
func (c *core) delLocked(s int, h uint64, key string, ifRev bool, want uint64) (bool, error) {
	t, err := c.table()
	if err != nil {
		return false, err
	}
	n, ref, err := t.find(s, h, key)
	if err != nil {
		return false, err
	}
	if n == 0 {
		return false, nil
	}
	if ifRev {
		sw := t.slotW(n)
		if atomic.LoadUint64(&t.w[t.cellW(sw, atomic.LoadUint64(&t.w[sw+slotSeqW]))+cellRevW]) != want {
			return false, nil
		}
	}
	rev := c.begin(s)
	t.remove(c.anchor, s, n, ref, rev)
	c.end(s)
	return true, nil
}

// clearStripe deletes every entry of stripe s (under its lock).
func (c *core) clearStripe(s int) error {
	t, err := c.table()
	if err != nil {
		return err
	}
	rev := c.begin(s)
	defer c.end(s)
	for b := s; b < t.nb; b += t.stripes {
		bw := t.bucketsW + b
		for steps := 0; ; steps++ {
			n := atomic.LoadUint64(&t.w[bw])
			if n == 0 {
				break
			}
			if !t.inStripe(n, s) || steps > t.per {
				return c.fail(ErrCorrupt, "bucket %d", b)
			}
			t.remove(c.anchor, s, n, bw, rev)
		}
	}
	return nil
}

// grow replaces the table old by one twice its size, under every stripe
// lock: writers wait, readers go on reading old (which no longer changes)
// until they see the new table's id in the root.
func (c *core) grow(ctx context.Context, old *table) error {
	held := 0
	defer func() {
		for s := held - 1; s >= 0; s-- {
			c.unlockStripe(s)
		}
	}()
	for ; held < c.stripes; held++ {
		if err := c.lockStripe(ctx, held); err != nil {
			return err
		}
	}
	if atomic.LoadUint64(&c.root.table) != old.id {
		return nil // another writer grew it
	}
	nt := newGeometry(2*old.ns, c.stripes, c.keyMax, c.valueMax)
	nt.id = (old.id>>32+1)<<32 | uint64(rand.Uint32())
	live := old.live()
	if c.maxBytes > 0 && nt.bytes() > c.maxBytes {
		return c.fail(ErrFull, "%d entries in a table of %d slots (%d bytes); the next of %d slots needs %d bytes, over MaxBytes %d",
			live, old.ns, 8*len(old.w), nt.ns, nt.bytes(), c.maxBytes)
	}
	name := tableName(c.name, nt.id)
	nt.name = name
	_, err := c.seg.CreateObject(name, KindTable, layoutVersion, nt.bytes(), func(p []byte) error {
		nt.format(p)
		return old.migrate(nt)
	})
	if errors.Is(err, shm.ErrNoSpace) {
		return c.fail(ErrFull, "%d entries in a table of %d slots (%d bytes); the next of %d slots needs %d bytes, the segment has %d free",
			live, old.ns, 8*len(old.w), nt.ns, nt.bytes(), c.seg.Free())
	}
	if errors.Is(err, shm.ErrDirectoryFull) {
		return c.fail(ErrFull, "growing to %d slots needs a new table object, and the segment's object directory is full (see shm.Options.Objects)", nt.ns)
	}
	if err != nil {
		return c.wrap(err)
	}
	race.Release(c.anchor)
	atomic.StoreUint64(&c.root.table, nt.id)
	c.notify()
	return nil
}

// recoverStripe repairs stripe s after its lock holder died (see
// table.recover) and clears its in-flight word.
func (c *core) recoverStripe(s int) error {
	t, err := c.table()
	if err != nil {
		return err
	}
	err = t.recover(c.anchor, s)
	c.end(s)
	if err != nil {
		return err
	}
	return nil
}

// Revision returns the highest revision such that every write with a
// revision up to it is published.
func (c *core) revision() uint64 {
	r := atomic.LoadUint64(&c.root.rev)
	for _, p := range c.inflight {
		if f := atomic.LoadUint64(p); f != 0 && f-1 < r {
			r = f - 1
		}
	}
	return r
}

// clearDeadInflight drops the in-flight mark of stripes whose lock holder
// is dead (or gone), so that a writer killed mid-write does not hold
// Revision back until the next writer on its stripe recovers it.
func (c *core) clearDeadInflight() {
	for s, p := range c.inflight {
		f := atomic.LoadUint64(p)
		if f == 0 {
			continue
		}
		tok := c.locks[s].Holder()
		if tok != 0 {
			if alive, err := c.seg.Alive(tok); err != nil || alive {
				continue
			}
		}
		if atomic.CompareAndSwapUint64(p, f, 0) {
			c.notify()
		}
	}
}

func (c *core) len() (_ int, err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	t, err := c.table()
	if err != nil {
		return 0, err
	}
	return t.live(), nil
}

// entry is one consistent (key, value, revision) read by walkBucket.
type entry struct {
	key   []byte
	value []byte
	rev   uint64
}

// rangeEntries calls fn for each entry of the table current at the start,
// bucket by bucket; each bucket's chain is read whole and consistent before
// any of its entries is delivered, so no key is delivered twice.
func (c *core) rangeEntries(fn func(e entry) bool) (err error) {
	if atomic.LoadUint32(c.state) != 0 {
		defer c.catch(&err, segcore.Arm())
	}
	t, err := c.table()
	if err != nil {
		return err
	}
	var batch []entry
	for b := 0; b < t.nb; b++ {
		var st int
		for try, cycles := 0, 0; ; try++ {
			if try == maxRetries {
				return c.fail(ErrBusy, "bucket %d", b)
			}
			batch, st = t.walkBucket(b, batch[:0])
			if st == readCycle {
				if cycles++; cycles == maxCycles {
					st = readCorrupt
				}
			}
			if st != readRetry && st != readCycle {
				break
			}
			backoff(try)
		}
		if st == readCorrupt {
			return c.fail(ErrCorrupt, "bucket %d", b)
		}
		race.Acquire(c.anchor)
		for _, e := range batch {
			if !fn(e) {
				return nil
			}
		}
	}
	return nil
}
