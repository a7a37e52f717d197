package ctypes

import (
	"fmt"
	"math"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/shm"
)

// State is a snapshot of a ctypes Value or Array, for tools such as shmkit
// inspect. Each element is read atomically, the elements one by one: a
// snapshot of an array being written may mix moments.
type State struct {
	Typecode Typecode `json:"-"`
	// Code is the typecode as its ASCII letter ("d", "i").
	Code  string `json:"typecode"`
	Shape string `json:"shape"` // "value" or "array"
	Len   int    `json:"len"`   // elements (1 for a value)
	// Lock names the Lock or RLock object attached to it ("" for a raw
	// object).
	Lock string `json:"lock"`
	// Values holds the first elements (all of them up to the limit given
	// to Inspect) as the Go type of the typecode, except that a NaN or
	// infinite float is its string ("NaN", "+Inf", "-Inf") so that the
	// snapshot encodes as JSON.
	Values []any `json:"values"`
	// Text is Values as a string for the character typecodes 'c' (bytes)
	// and 'u' (code points), "" otherwise.
	Text string `json:"text,omitempty"`
}

// Inspect reads the header and the first max elements (max < 0: all) of
// the ctypes object info describes (an entry of seg.Objects()). It never
// blocks (it takes no lock) and never writes; it validates the header as
// every Open does: an object still being created gives
// shm.ErrNotInitialized, another package's kind shm.ErrTypeMismatch,
// another major layout version shm.ErrVersion, a bad header
// shm.ErrCorrupt, a truncated segment shm.ErrSegmentTruncated.
func Inspect(seg *shm.Segment, info shm.ObjectInfo, max int) (State, error) {
	if info.Kind != Kind {
		return State{}, errtext.Errorf("ctypes: inspect %q: kind %v: %w", info.Name, info.Kind, shm.ErrTypeMismatch)
	}
	var st State
	err := seg.Guard(func() error {
		o, err := seg.OpenInfo(info, Version)
		if err != nil {
			return errtext.Errorf("ctypes: inspect: %w", err)
		}
		if o.Size() < hdrSize {
			return errtext.Errorf("ctypes: inspect %q: payload %d bytes: %w", info.Name, o.Size(), shm.ErrCorrupt)
		}
		// open validates the header for the shape it finds; it reads the
		// header again, and a shape changed meanwhile is a mismatch.
		obj, err := open(seg, info.Name, headerOf(o.Bytes()).shape, AnyLen, "any", func(Typecode) bool { return true })
		if err != nil {
			return err
		}
		st = State{Typecode: obj.code, Code: string(rune(obj.code)), Shape: shapeName(obj.shape), Len: obj.n, Lock: obj.lockName}
		n := obj.n
		if max >= 0 {
			n = min(n, max)
		}
		c := cellsOver(obj)
		st.Values = make([]any, 0, n)
		var text []rune
		for i := 0; i < n; i++ {
			v := c.getAny(i) // i < obj.n
			switch x := v.(type) {
			case float64:
				v = finite(x)
			case float32:
				v = finite(float64(x))
			case uint8:
				text = append(text, rune(x))
			case int32:
				text = append(text, rune(x))
			}
			st.Values = append(st.Values, v)
		}
		if obj.code == Char || obj.code == Wchar {
			st.Text = string(text)
		}
		return nil
	})
	return st, err
}

// finite returns x, or its name if it is NaN or infinite (which JSON
// cannot carry).
func finite(x float64) any {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return fmt.Sprint(x)
	}
	return x
}
