package futex

import (
	"errors"
	"testing"

	"github.com/shmkit/shmkit/shm"
)

// TestOpenChecks opens every primitive under names that hold the right
// object, nothing, another kind, another major layout version, and a
// payload too small for the layout.
func TestOpenChecks(t *testing.T) {
	seg, _ := newSegment(t)
	for _, tc := range []struct {
		name    string
		kind    shm.Kind
		version uint32
		size    int
		create  func(name string) error
		open    func(name string) error
	}{
		{"Lock", KindLock, lockVersion, lockSize,
			func(n string) error { _, err := NewLock(seg, n); return err },
			func(n string) error { _, err := OpenLock(seg, n); return err }},
		{"RLock", KindRLock, lockVersion, lockSize,
			func(n string) error { _, err := NewRLock(seg, n); return err },
			func(n string) error { _, err := OpenRLock(seg, n); return err }},
		{"Semaphore", KindSemaphore, semVersion, semSize,
			func(n string) error { _, err := NewSemaphore(seg, n, 1); return err },
			func(n string) error { _, err := OpenSemaphore(seg, n); return err }},
		{"BoundedSemaphore", KindBoundedSemaphore, semVersion, semSize,
			func(n string) error { _, err := NewBoundedSemaphore(seg, n, 1); return err },
			func(n string) error { _, err := OpenBoundedSemaphore(seg, n); return err }},
		{"Event", KindEvent, eventVersion, eventSize,
			func(n string) error { _, err := NewEvent(seg, n); return err },
			func(n string) error { _, err := OpenEvent(seg, n); return err }},
		{"Condition", KindCondition, conditionVersion, condSize,
			func(n string) error { _, err := NewCondition(seg, n, nil); return err },
			func(n string) error { _, err := OpenCondition(seg, n); return err }},
		{"Barrier", KindBarrier, barrierVersion, barrierHdrSize + barrierSlotSize,
			func(n string) error { _, err := NewBarrier(seg, n, 1); return err },
			func(n string) error { _, err := OpenBarrier(seg, n); return err }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mk := func(suffix string, kind shm.Kind, version uint32, size int) string {
				n := tc.name + "." + suffix
				if _, err := seg.CreateObject(n, kind, version, size, nil); err != nil {
					t.Fatal(err)
				}
				return n
			}
			other := KindEvent
			if tc.kind == KindEvent {
				other = KindLock
			}
			if err := tc.create(tc.name); err != nil {
				t.Fatal(err)
			}
			if err := tc.create(tc.name); !errors.Is(err, shm.ErrExist) {
				t.Errorf("second New: got %v; want shm.ErrExist", err)
			}
			for _, c := range []struct {
				what, name string
				want       error
			}{
				{"the right object", tc.name, nil},
				{"a missing name", tc.name + ".missing", shm.ErrNotExist},
				{"another kind", mk("kind", other, tc.version, tc.size), shm.ErrTypeMismatch},
				{"another major version", mk("major", tc.kind, tc.version+1<<16, tc.size), shm.ErrVersion},
				{"a payload too small", mk("small", tc.kind, tc.version, 8), shm.ErrCorrupt},
			} {
				err := tc.open(c.name)
				if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
					t.Errorf("open %s: got %v; want %v", c.what, err, c.want)
				}
			}
		})
	}
}
