package ctypes_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

// TestErrorTextsOnePrefix checks representative errors of shm, futex and
// ctypes, each wrapped by one or more layers: the message starts with its
// package prefix and has no other ("shm: open \"x\": shm: does not exist"
// stuttered), names the object once, and still matches its sentinel.
func TestErrorTextsOnePrefix(t *testing.T) {
	seg, name := newSegment(t, 1<<16)
	if _, err := futex.NewLock(seg, "l"); err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.NewValue[int64](seg, "v", 0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.NewRawValue[int64](seg, "raw", 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		err      error
		prefix   string
		name     string // quoted in the message exactly once
		sentinel error
	}{
		{second(shm.Open(name + "-missing")), "shm: ", name + "-missing", shm.ErrNotExist},
		{second(shm.Create(name, 1<<16)), "shm: ", name, shm.ErrExist},
		{second(seg.OpenObject("nothing", futex.KindLock, 1<<16)), "shm: ", "nothing", shm.ErrNotExist},
		{second(futex.OpenLock(seg, "nothing")), "futex: ", "nothing", shm.ErrNotExist},
		{second(futex.NewLock(seg, "l")), "futex: ", "l", shm.ErrExist},
		{second(futex.OpenRLock(seg, "l")), "futex: ", "l", shm.ErrTypeMismatch},
		{second(futex.NewBarrier(seg, "b", 0)), "futex: ", "b", futex.ErrInvalidArgument},
		{second(futex.NewLock(seg, strings.Repeat("big", 400))), "futex: ", "", shm.ErrInvalidName},
		{second(ctypes.OpenValue[int64](seg, "nothing")), "ctypes: ", "nothing", shm.ErrNotExist},
		{second(ctypes.OpenValue[int64](seg, "raw")), "ctypes: ", "raw", ctypes.ErrNoLock},
		{second(ctypes.OpenValue[float32](seg, "v")), "ctypes: ", "v", ctypes.ErrTypeMismatch},
		{second(ctypes.NewArray[int64](seg, "huge", 1<<20, nil)), "ctypes: ", "huge", shm.ErrNoSpace},
		{second(ctypes.NewValueOf(seg, "bad", 'i', 1.5, nil)), "ctypes: ", "bad", ctypes.ErrValueType},
		{releaseFree(t, seg), "futex: ", "l", futex.ErrReleasedTooManyTimes},
	} {
		msg := tc.err.Error()
		if !errors.Is(tc.err, tc.sentinel) {
			t.Errorf("%q: does not match %v", msg, tc.sentinel)
		}
		if !strings.HasPrefix(msg, tc.prefix) {
			t.Errorf("%q: want prefix %q", msg, tc.prefix)
		}
		for _, p := range []string{"shm: ", "futex: ", "ctypes: ", "ring: "} {
			if n := strings.Count(msg, p); n != map[bool]int{true: 1, false: 0}[p == tc.prefix] {
				t.Errorf("%q: %d times %q; want the one package prefix only", msg, n, p)
			}
		}
		if tc.name != "" {
			if n := strings.Count(msg, `"`+tc.name+`"`); n != 1 {
				t.Errorf("%q: names %q %d times; want once", msg, tc.name, n)
			}
		}
	}
}

func second[T any](_ T, err error) error {
	if err == nil {
		return errors.New("no error")
	}
	return err
}

// releaseFree releases the free Lock "l": ErrReleasedTooManyTimes.
func releaseFree(t *testing.T, seg *shm.Segment) error {
	l, err := futex.OpenLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Release()
	return l.Release()
}
