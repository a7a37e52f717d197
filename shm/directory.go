package shm

import (
	"errors"
	"fmt"
	"github.com/shmkit/shmkit/internal/segcore"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/race"
)

// Kind is an object's type tag: four ASCII bytes read as a little-endian
// uint32 ("LOCK", "RING"), so a hex dump of a segment names its objects.
type Kind uint32

// MakeKind builds a Kind from exactly four ASCII bytes; it panics otherwise
// (kinds are constants of the packages that define them).
func MakeKind(s string) Kind {
	if len(s) != 4 {
		panic("shm: kind must be 4 bytes: " + s)
	}
	return Kind(uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24)
}

// String returns the four bytes, or the number when they are not printable.
func (k Kind) String() string {
	b := []byte{byte(k), byte(k >> 8), byte(k >> 16), byte(k >> 24)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return fmt.Sprintf("%#08x", uint32(k))
		}
	}
	return string(b)
}

// Directory entry states (the low byte of entry.state).
const (
	entryFree    = 0 // never used; ends a probe sequence
	entryClaimed = 1 // claimed by the token in the high bits; name not yet written
	entryNamed   = 2 // name and hash written; object being allocated and initialised
	entryReady   = 3 // kind, version, offset and size published; usable
	entryFailed  = 4 // creation failed or its creator died; skipped for ever
)

// Object describes a named object in a segment: what its kind's package needs
// to lay its struct over the payload.
type Object struct {
	seg     *Segment
	name    string
	kind    Kind
	version uint32
	off     int
	size    int
}

// Segment returns the segment holding the object.
func (o Object) Segment() *Segment { return o.seg }

// Name returns the object's name.
func (o Object) Name() string { return o.name }

// Kind returns the object's type tag.
func (o Object) Kind() Kind { return o.kind }

// Version returns the object's layout version.
func (o Object) Version() uint32 { return o.version }

// Offset returns the payload's offset from the segment base, 64-byte aligned.
func (o Object) Offset() int { return o.off }

// Size returns the payload size in bytes.
func (o Object) Size() int { return o.size }

// Bytes returns the payload: a slice of the shared mapping. The slice does
// not keep the mapping alive: keep the Object or its Segment reachable for
// as long as it is used (runtime.KeepAlive), since the mapping goes once
// neither is. On a named segment a peer may truncate, access it inside
// Segment.Guard.
func (o Object) Bytes() []byte { return o.seg.data[o.off : o.off+o.size : o.off+o.size] }

// CheckObjectName reports whether name can name an object: 1 to 80 bytes
// with no NUL.
func CheckObjectName(name string) error {
	if name == "" || len(name) > entryNameMax {
		return errtext.Errorf("shm: object name %q: length %d outside [1, %d]: %w", name, len(name), entryNameMax, ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return errtext.Errorf("shm: object name %q: NUL byte: %w", name, ErrInvalidName)
		}
	}
	return nil
}

// alloc reserves size bytes of the arena, 64-byte aligned, and returns their
// offset from the segment base. The allocator is an atomic bump cursor:
// lock-free, and nothing is ever freed; CreateObject is its only user.
func (s *Segment) alloc(size int) (off int, err error) {
	if size <= 0 {
		return 0, errtext.Errorf("shm: alloc %d bytes: %w", size, ErrInvalidSize)
	}
	if s.core.Closed() {
		return 0, errtext.Errorf("shm: alloc %d bytes: %w", size, ErrClosed)
	}
	defer s.core.Catch(&err, segcore.Arm())
	cur := &s.hdr().cursor
	for {
		c := atomic.LoadUint64(cur)
		if c < uint64(s.arenaOff) || c > uint64(len(s.data)) {
			return 0, errtext.Errorf("shm: allocation cursor %d outside arena [%d, %d]: %w", c, s.arenaOff, len(s.data), ErrCorrupt)
		}
		start := uint64(alignUp(int(c), cacheLine))
		if start > uint64(len(s.data)) || uint64(size) > uint64(len(s.data))-start {
			return 0, errtext.Errorf("shm: alloc %d bytes, %d free: %w", size, len(s.data)-int(c), ErrNoSpace)
		}
		if atomic.CompareAndSwapUint64(cur, c, start+uint64(size)) {
			return int(start), nil
		}
	}
}

// CreateObject creates the object name of the given kind, layout version and
// payload size, runs init on the zeroed payload, and only then publishes it,
// so that OpenObject in any process never sees a half-initialised object.
// Publishing happens before an OpenObject that finds the object returns.
// A name already present gives ErrExist. If init returns an error (or
// panics) the entry is marked failed, so that nobody waits for it, the error
// is returned (the panic continues), and the name may be created again.
func (s *Segment) CreateObject(name string, kind Kind, version uint32, size int, init func(payload []byte) error) (obj Object, err error) {
	if err := CheckObjectName(name); err != nil {
		return Object{}, err
	}
	if size <= 0 || size > MaxSize {
		return Object{}, errtext.Errorf("shm: create object %q: size %d: %w", name, size, ErrInvalidSize)
	}
	if s.core.Closed() {
		return Object{}, errtext.Errorf("shm: create object %q: %w", name, ErrClosed)
	}
	defer s.core.Catch(&err, segcore.Arm())
	h := xxhash.Sum64String(name)
	mask := s.entries - 1
	me := uint64(s.token) << 32
	retries := 0
	for i := 0; i < s.entries; i++ {
		idx := (int(h) + i) & mask
		e := s.entryAt(idx)
		st, err := s.settle(e)
		if err != nil {
			return Object{}, errtext.Errorf("shm: create object %q: %w", name, err)
		}
		switch byte(st) {
		case entryFree:
			if !atomic.CompareAndSwapUint64(&e.state, st, me|entryClaimed) {
				// Lost the race for this entry: look at it again. A
				// live creator moves it on at once; an entry that keeps
				// changing under us is a scribbling peer.
				if retries++; retries > 1000 {
					return Object{}, errtext.Errorf("shm: create object %q: entry %d keeps changing: %w", name, idx, ErrCorrupt)
				}
				i--
				continue
			}
			return s.fill(idx, e, name, h, kind, version, size, init)
		case entryFailed:
			continue
		case entryNamed, entryReady:
			if s.entryHasName(e, h, name) {
				return Object{}, errtext.Errorf("shm: create object %q: %w", name, ErrExist)
			}
		default:
			return Object{}, errtext.Errorf("shm: create object %q: entry %d state %#x: %w", name, idx, st, ErrCorrupt)
		}
	}
	return Object{}, errtext.Errorf("shm: create object %q: %d entries: %w", name, s.entries, ErrDirectoryFull)
}

func (s *Segment) fill(idx int, e *entry, name string, h uint64, kind Kind, version uint32, size int, init func([]byte) error) (Object, error) {
	me := uint64(s.token) << 32
	published := false
	defer func() {
		if !published {
			// The arena is full, or init failed or panicked: the
			// entry must not stay pending for as long as we live.
			atomic.StoreUint64(&e.state, me|entryFailed)
		}
	}()
	fail := func(err error) (Object, error) {
		return Object{}, errtext.Errorf("shm: create object %q: %w", name, err)
	}
	e.hash = h
	copy(e.name[:], name)
	atomic.StoreUint32(&e.nameLen, uint32(len(name)))
	atomic.StoreUint64(&e.state, me|entryNamed)
	atomic.AddUint32(&s.hdr().objects, 1)

	at, err := s.alloc(objHdrSize + size)
	if err != nil {
		return fail(err)
	}
	o := Object{seg: s, name: name, kind: kind, version: version, off: at + objHdrSize, size: size}
	oh := s.objHdr(o.off)
	oh.magic, oh.kind, oh.version, oh.index, oh.size = objMagic, uint32(kind), version, uint32(idx), uint64(size)
	if init != nil {
		if err := init(o.Bytes()); err != nil {
			return fail(err)
		}
	}
	e.kind, e.version = uint32(kind), version
	e.off, e.size = uint64(o.off), uint64(size)
	race.Release(s.core.Anchor(s.entryOff(idx)))
	atomic.StoreUint64(&e.state, me|entryReady) // publishes everything above
	published = true
	return o, nil
}

// settle returns an entry's state once it is past entryClaimed (whose name
// is not yet readable), waiting up to the segment's timeout for a live
// claimer. An entry claimed or named by a participant that died (killed in
// its init, say) is marked failed, so that its name can be created again.
func (s *Segment) settle(e *entry) (uint64, error) {
	var deadline time.Time
	for backoff := 10 * time.Microsecond; ; backoff = min(2*backoff, 5*time.Millisecond) {
		st := atomic.LoadUint64(&e.state)
		if byte(st) != entryClaimed && byte(st) != entryNamed {
			return st, nil
		}
		if !s.burnIfDead(e, st) {
			continue
		}
		if byte(st) == entryNamed {
			return st, nil // its live creator is initialising it
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(s.timeout)
		} else if time.Now().After(deadline) {
			return 0, errtext.Errorf("directory entry claimed by %v for over %v: %w", Token(st>>32), s.timeout, ErrNotInitialized)
		}
		time.Sleep(backoff)
	}
}

// burnIfDead marks the entry failed if the participant in its state word st
// is dead (or the token is garbage), and reports whether it is alive.
func (s *Segment) burnIfDead(e *entry, st uint64) bool {
	if alive, err := s.Alive(Token(st >> 32)); err == nil && alive {
		return true
	}
	atomic.CompareAndSwapUint64(&e.state, st, st&^0xff|entryFailed)
	return false
}

// errCreatorDied tells OpenObject to look at an entry again: its creator
// died while we waited, and the entry is now failed.
var errCreatorDied = errors.New("shm: creator died")

func (s *Segment) entryHasName(e *entry, h uint64, name string) bool {
	if e.hash != h {
		return false
	}
	n := atomic.LoadUint32(&e.nameLen)
	return int(n) == len(name) && string(e.name[:n]) == name
}

// OpenObject finds the object name and checks that it is of the given kind
// (ErrTypeMismatch) and major layout version (ErrVersion, where a version's
// major part is version>>16), and that its entry and header agree with the
// segment (ErrCorrupt). If the creator is still initialising it, OpenObject
// waits up to the segment's timeout (ErrNotInitialized). A missing name, or
// one whose creator died before publishing it, gives ErrNotExist.
func (s *Segment) OpenObject(name string, kind Kind, version uint32) (obj Object, err error) {
	if err := CheckObjectName(name); err != nil {
		return Object{}, err
	}
	if s.core.Closed() {
		return Object{}, errtext.Errorf("shm: open object %q: %w", name, ErrClosed)
	}
	defer s.core.Catch(&err, segcore.Arm())
	h := xxhash.Sum64String(name)
	mask := s.entries - 1
	retries := 0
	for i := 0; i < s.entries; i++ {
		idx := (int(h) + i) & mask
		e := s.entryAt(idx)
		st, err := s.settle(e)
		if err != nil {
			return Object{}, errtext.Errorf("shm: open object %q: %w", name, err)
		}
		switch byte(st) {
		case entryFree:
			return Object{}, errtext.Errorf("shm: open object %q: %w", name, ErrNotExist)
		case entryFailed:
			continue
		case entryNamed, entryReady:
			if !s.entryHasName(e, h, name) {
				continue
			}
			o, err := s.awaitReady(idx, e, name)
			if err == errCreatorDied {
				if retries++; retries > 1000 {
					return Object{}, errtext.Errorf("shm: open object %q: entry %d keeps changing: %w", name, idx, ErrCorrupt)
				}
				i--
				continue
			}
			if err != nil {
				return Object{}, errtext.Errorf("shm: open object %q: %w", name, err)
			}
			if o.kind != kind {
				return Object{}, errtext.Errorf("shm: open object %q: kind %v, want %v: %w", name, o.kind, kind, ErrTypeMismatch)
			}
			if o.version>>16 != version>>16 {
				return Object{}, errtext.Errorf("shm: open object %q: layout version %#x, want %#x: %w", name, o.version, version, ErrVersion)
			}
			return o, nil
		default:
			return Object{}, errtext.Errorf("shm: open object %q: entry %d state %#x: %w", name, idx, st, ErrCorrupt)
		}
	}
	return Object{}, errtext.Errorf("shm: open object %q: %w", name, ErrNotExist)
}

// awaitReady waits for a named entry to become ready and validates it.
func (s *Segment) awaitReady(idx int, e *entry, name string) (Object, error) {
	deadline := time.Now().Add(s.timeout)
	for backoff := 10 * time.Microsecond; ; backoff = min(2*backoff, 5*time.Millisecond) {
		st := atomic.LoadUint64(&e.state)
		switch byte(st) {
		case entryReady:
			race.Acquire(s.core.Anchor(s.entryOff(idx)))
			return s.entryObject(idx, e, name)
		case entryNamed:
		default:
			return Object{}, errtext.Errorf("creation failed (entry state %#x): %w", st, ErrNotInitialized)
		}
		if !s.burnIfDead(e, st) {
			return Object{}, errCreatorDied
		}
		if time.Now().After(deadline) {
			return Object{}, errtext.Errorf("not published within %v: %w", s.timeout, ErrNotInitialized)
		}
		time.Sleep(backoff)
	}
}

// entryObject validates a ready entry against the segment and the object
// header before anything is laid over the payload.
func (s *Segment) entryObject(idx int, e *entry, name string) (Object, error) {
	off, size := e.off, e.size
	lim := uint64(len(s.data))
	if off%cacheLine != 0 || off < uint64(s.arenaOff+objHdrSize) || off > lim || size == 0 || size > lim-off {
		return Object{}, errtext.Errorf("entry %d: payload [%d,+%d) outside arena [%d, %d): %w", idx, off, size, s.arenaOff, lim, ErrCorrupt)
	}
	o := Object{seg: s, name: name, kind: Kind(e.kind), version: e.version, off: int(off), size: int(size)}
	oh := s.objHdr(o.off)
	if oh.magic != objMagic || Kind(oh.kind) != o.kind || oh.version != o.version || oh.index != uint32(idx) || oh.size != size {
		return Object{}, errtext.Errorf("entry %d: object header disagrees with directory: %w", idx, ErrCorrupt)
	}
	return o, nil
}

// ObjectInfo describes one directory entry, for tools such as shmkit inspect.
type ObjectInfo struct {
	Name    string
	Kind    Kind
	Version uint32
	Offset  int
	Size    int
	Ready   bool  // published and valid
	Creator Token // the participant that created it
	Err     error // why a ready-looking entry is unusable (ErrCorrupt), else nil
}

// Objects lists the named objects in directory order, including ones still
// being created (Ready false). Corrupt entries are listed with Err set; if
// the file was truncated the list ends with an entry whose Err is
// ErrSegmentTruncated. After Close it is empty.
func (s *Segment) Objects() (out []ObjectInfo) {
	if s.core.Closed() {
		return nil
	}
	var err error
	defer func() {
		if err != nil {
			out = append(out, ObjectInfo{Err: err})
		}
	}()
	defer s.core.Catch(&err, segcore.Arm())
	for i := 0; i < s.entries; i++ {
		e := s.entryAt(i)
		st := atomic.LoadUint64(&e.state)
		if byte(st) == entryFree || byte(st) == entryFailed || byte(st) == entryClaimed {
			continue
		}
		n := atomic.LoadUint32(&e.nameLen)
		if n > entryNameMax {
			out = append(out, ObjectInfo{Err: errtext.Errorf("entry %d: name length %d: %w", i, n, ErrCorrupt)})
			continue
		}
		info := ObjectInfo{Name: string(e.name[:n]), Creator: Token(st >> 32)}
		if byte(st) == entryReady {
			o, err := s.entryObject(i, e, info.Name)
			info.Kind, info.Version, info.Offset, info.Size = o.kind, o.version, o.off, o.size
			info.Ready, info.Err = err == nil, err
		}
		out = append(out, info)
	}
	return out
}
