package ctypes

import (
	"math"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// Kind and Version are the shm object kind and layout version of every
// ctypes object, so shm's directory tells them apart from other objects.
var Kind = shm.MakeKind("CTYP")

// Version is the layout version (major<<16 | minor); an object of another
// major version fails to open with shm.ErrVersion.
const Version uint32 = 1<<16 | 0

// maxBytes bounds an object's size: arrays hold at most 2 GiB of elements.
const maxBytes = math.MaxInt32

// AnyLen, given as the length to OpenArray and friends, accepts an array of
// any length.
const AnyLen = -1

// object is what every handle knows about its shared object, read once
// from the header at open and validated there, never re-read.
type object struct {
	obj      shm.Object
	payload  []byte // obj.Bytes(), or the payload being initialised
	code     Typecode
	shape    byte
	n        int
	lockName string // "" for a raw object
	anchor   anchor
	core     *segcore.Core // nil for a payload being initialised
	state    *uint32       // core.State(), or &noState
}

func (o *object) data() []byte { return o.payload }

// create makes a new object of n elements of code and writes its header;
// fill initialises the element area (already zeroed) before publication.
func create(seg *shm.Segment, name string, code Typecode, shape byte, n int, lockName string, fill func(payload []byte) error) (*object, error) {
	if !code.Valid() {
		return nil, errtext.Errorf("ctypes: create %q: typecode %v: %w", name, code, ErrTypecode)
	}
	if n < 0 || n > (maxBytes-hdrSize)/code.Size() {
		return nil, errtext.Errorf("ctypes: create %q: length %d: %w", name, n, shm.ErrInvalidSize)
	}
	if len(lockName) > lockNameMax {
		return nil, errtext.Errorf("ctypes: create %q: lock name %q longer than %d bytes: %w", name, lockName, lockNameMax, shm.ErrInvalidName)
	}
	size := hdrSize + paddedSize(n*code.Size())
	o, err := seg.CreateObject(name, Kind, Version, size, func(p []byte) error {
		h := headerOf(p)
		h.typecode = uint8(code)
		h.elemSize = uint8(code.Size())
		h.shape = shape
		h.dataOff = hdrSize
		h.length = uint64(n)
		if lockName != "" {
			h.flags = flagLocked
			h.lockLen = uint32(copy(h.lockName[:], lockName))
		}
		if fill != nil {
			return fill(p)
		}
		return nil
	})
	if err != nil {
		return nil, errtext.Errorf("ctypes: create %q: %w", name, err)
	}
	return &object{obj: o, payload: o.Bytes(), code: code, shape: shape, n: n, lockName: lockName, anchor: anchorOf(o), core: segcore.Of(seg), state: segcore.Of(seg).State()}, nil
}

// open attaches to name and checks its header: accept says whether the
// stored typecode is acceptable, n is the wanted length or AnyLen.
func open(seg *shm.Segment, name string, shape byte, n int, want string, accept func(Typecode) bool) (*object, error) {
	o, err := seg.OpenObject(name, Kind, Version)
	if err != nil {
		return nil, errtext.Errorf("ctypes: open %q: %w", name, err)
	}
	p := o.Bytes()
	if len(p) < hdrSize {
		return nil, errtext.Errorf("ctypes: open %q: payload %d bytes, header needs %d: %w", name, len(p), hdrSize, shm.ErrCorrupt)
	}
	// One copy, then validate and use only the copy: a peer rewriting the
	// header meanwhile cannot slip a length past the check (double fetch).
	hv := *headerOf(p)
	h := &hv
	code := Typecode(h.typecode)
	switch {
	case !code.Valid() || int(h.elemSize) != code.Size():
		return nil, errtext.Errorf("ctypes: open %q: typecode %#02x element size %d: %w", name, h.typecode, h.elemSize, shm.ErrCorrupt)
	case h.shape != shapeValue && h.shape != shapeArray, h.shape == shapeValue && h.length != 1:
		return nil, errtext.Errorf("ctypes: open %q: shape %#02x length %d: %w", name, h.shape, h.length, shm.ErrCorrupt)
	case h.dataOff != hdrSize || h.flags&^flagsKnown != 0 || h.lockLen > lockNameMax || (h.flags&flagLocked != 0) != (h.lockLen != 0):
		return nil, errtext.Errorf("ctypes: open %q: header (data offset %d, flags %#x, lock name length %d): %w", name, h.dataOff, h.flags, h.lockLen, shm.ErrCorrupt)
	case h.length > uint64(len(p)-hdrSize)/uint64(h.elemSize),
		// The atomics touch the whole 8-byte word around an element.
		paddedSize(int(h.length)*int(h.elemSize)) > len(p)-hdrSize:
		return nil, errtext.Errorf("ctypes: open %q: %d elements of %d bytes, padded to %d, exceed the %d-byte payload: %w", name, h.length, h.elemSize, dataAlign, len(p), shm.ErrCorrupt)
	}
	if h.shape != shape {
		return nil, errtext.Errorf("ctypes: open %q: %s, want %s: %w: %w", name, shapeName(h.shape), shapeName(shape), ErrTypeMismatch, shm.ErrTypeMismatch)
	}
	if !accept(code) {
		return nil, errtext.Errorf("ctypes: open %q: typecode %v, want %s: %w: %w", name, code, want, ErrTypeMismatch, shm.ErrTypeMismatch)
	}
	if n != AnyLen && uint64(n) != h.length {
		return nil, errtext.Errorf("ctypes: open %q: length %d, want %d: %w: %w", name, h.length, n, ErrTypeMismatch, shm.ErrTypeMismatch)
	}
	return &object{obj: o, payload: p, code: code, shape: h.shape, n: int(h.length), lockName: string(h.lockName[:h.lockLen]), anchor: anchorOf(o), core: segcore.Of(seg), state: segcore.Of(seg).State()}, nil
}

// paddedSize is the size of a data area of n bytes: a multiple of
// dataAlign, so that the aligned word around every element is inside it.
func paddedSize(n int) int { return (n + dataAlign - 1) / dataAlign * dataAlign }

func shapeName(s byte) string {
	if s == shapeValue {
		return "value"
	}
	return "array"
}

// codeFor picks the typecode for T from o (0: the default for T) and checks
// that it holds T.
func codeFor[T Scalar](name string, code Typecode) (Typecode, error) {
	if code == 0 {
		return TypecodeFor[T](), nil
	}
	if !code.Valid() {
		return 0, errtext.Errorf("ctypes: create %q: typecode %v: %w", name, code, ErrTypecode)
	}
	if !fits[T](code) {
		var z T
		return 0, errtext.Errorf("ctypes: create %q: typecode %v holds %v, not %T: %w", name, code, code.Type(), z, ErrTypeMismatch)
	}
	return code, nil
}
