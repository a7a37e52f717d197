package ctypes_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
)

func TestTypecode(t *testing.T) {
	tests := []struct {
		r    rune
		size int
		typ  reflect.Type
	}{
		{'b', 1, reflect.TypeFor[int8]()},
		{'B', 1, reflect.TypeFor[uint8]()},
		{'h', 2, reflect.TypeFor[int16]()},
		{'H', 2, reflect.TypeFor[uint16]()},
		{'i', 4, reflect.TypeFor[int32]()},
		{'I', 4, reflect.TypeFor[uint32]()},
		{'l', 8, reflect.TypeFor[int64]()},
		{'L', 8, reflect.TypeFor[uint64]()},
		{'q', 8, reflect.TypeFor[int64]()},
		{'Q', 8, reflect.TypeFor[uint64]()},
		{'f', 4, reflect.TypeFor[float32]()},
		{'d', 8, reflect.TypeFor[float64]()},
		{'c', 1, reflect.TypeFor[uint8]()},
		{'u', 4, reflect.TypeFor[int32]()},
	}
	for _, tt := range tests {
		c, err := ctypes.ParseTypecode(tt.r)
		if err != nil {
			t.Fatalf("ParseTypecode(%q): %v", tt.r, err)
		}
		if c.Size() != tt.size || c.Type() != tt.typ || c.String() != string(tt.r) || !c.Valid() {
			t.Errorf("%q: Size %d Type %v String %q Valid %v; want %d %v %q true", tt.r, c.Size(), c.Type(), c.String(), c.Valid(), tt.size, tt.typ, string(tt.r))
		}
	}
	for _, r := range []rune{0, 'x', 'D', 'e', 'é', -1, 0x164} {
		if c, err := ctypes.ParseTypecode(r); !errors.Is(err, ctypes.ErrTypecode) {
			t.Errorf("ParseTypecode(%q) = %v, %v; want ErrTypecode", r, c, err)
		}
	}
	if c := ctypes.Typecode('x'); c.Valid() || c.Size() != 0 || c.Type() != nil {
		t.Errorf("Typecode('x'): Valid %v Size %d Type %v; want false 0 nil", c.Valid(), c.Size(), c.Type())
	}
	for got, want := range map[ctypes.Typecode]ctypes.Typecode{
		ctypes.TypecodeFor[int8](): 'b', ctypes.TypecodeFor[uint8](): 'B',
		ctypes.TypecodeFor[int16](): 'h', ctypes.TypecodeFor[uint16](): 'H',
		ctypes.TypecodeFor[int32](): 'i', ctypes.TypecodeFor[uint32](): 'I',
		ctypes.TypecodeFor[int64](): 'q', ctypes.TypecodeFor[uint64](): 'Q',
		ctypes.TypecodeFor[float32](): 'f', ctypes.TypecodeFor[float64](): 'd',
	} {
		if got != want {
			t.Errorf("TypecodeFor = %v; want %v", got, want)
		}
	}
}
