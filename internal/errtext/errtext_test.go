package errtext

import (
	"errors"
	"testing"
)

func TestClean(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`shm: open "x": shm: does not exist`, `shm: open "x": does not exist`},
		{`futex: open lock "l": shm: open object "l": shm: does not exist`, `futex: open lock "l": does not exist`},
		{`ring: new queue "tasks": shm: create object "tasks": shm: alloc 4096 bytes: shm: segment full`,
			`ring: new queue "tasks": alloc 4096 bytes: segment full`},
		{`ctypes: open "v": lock: futex: open lock "v.lock": shm: does not exist`,
			`ctypes: open "v": lock: open lock "v.lock": does not exist`},
		// Separators and prefixes inside a quoted name are the name's.
		{`shm: open "a: shm: b": shm: does not exist`, `shm: open "a: shm: b": does not exist`},
		{`shm: open "q\"x": shm: does not exist`, `shm: open "q\"x": does not exist`},
		// A part that says more than the name stays.
		{`futex: lock "l": holder: shm: liveness of 1/2: shm: segment closed`, `futex: lock "l": holder: liveness of 1/2: segment closed`},
		{`futex: invalid argument`, `futex: invalid argument`},
	} {
		if got := Clean(tt.in); got != tt.want {
			t.Errorf("Clean(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorfUnwraps(t *testing.T) {
	sentinel := errors.New("shm: does not exist")
	inner := Errorf("shm: open object %q: %w", "l", sentinel)
	err := Errorf("futex: open lock %q: %w", "l", inner)
	if got, want := err.Error(), `futex: open lock "l": does not exist`; got != want {
		t.Errorf("Error() = %q; want %q", got, want)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("errors.Is(err, sentinel) = false")
	}
}
