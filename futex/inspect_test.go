package futex_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/shm"
)

// lookup is seg.Lookup for tests: a missing name gives the zero entry,
// which Inspect refuses.
func lookup(seg *shm.Segment, name string) shm.ObjectInfo { o, _ := seg.Lookup(name); return o }

// objPayload returns the bytes of object name, for scribbling on documented
// offsets.
func objPayload(t testing.TB, seg *shm.Segment, name string) []byte {
	o := lookup(seg, name)
	obj, err := seg.OpenObject(name, o.Kind, o.Version)
	if err != nil {
		t.Fatal(err)
	}
	return obj.Bytes()
}

func mustInspect(t *testing.T, seg *shm.Segment, name string) futex.State {
	t.Helper()
	st, err := futex.Inspect(seg, lookup(seg, name))
	if err != nil {
		t.Fatalf("Inspect(%q): %v", name, err)
	}
	return st
}

func TestInspectStates(t *testing.T) {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	ctx := context.Background()
	l, _ := futex.NewLock(seg, "lock")
	if got := *mustInspect(t, seg, "lock").Lock; got != (futex.LockState{}) {
		t.Errorf("free lock: %+v; want the zero state", got)
	}
	if err := l.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	want := futex.LockState{Locked: true, Holder: seg.Token(), HolderPid: os.Getpid(), HolderAlive: true}
	if got := *mustInspect(t, seg, "lock").Lock; got != want {
		t.Errorf("held lock: %+v; want %+v", got, want)
	}
	// The word's flags, as doc.go documents them: bit 30 owner died, bit
	// 31 waiters, bit 29 not recoverable.
	w := objPayload(t, seg, "lock")
	binary.LittleEndian.PutUint32(w, uint32(seg.Token())|1<<30|1<<31)
	want.OwnerDied, want.Waiters = true, true
	if got := *mustInspect(t, seg, "lock").Lock; got != want {
		t.Errorf("owner-died lock with waiters: %+v; want %+v", got, want)
	}
	binary.LittleEndian.PutUint32(w, 1<<29)
	if got := *mustInspect(t, seg, "lock").Lock; got != (futex.LockState{NotRecoverable: true}) {
		t.Errorf("not-recoverable lock: %+v; want only NotRecoverable", got)
	}

	sem, _ := futex.NewSemaphore(seg, "sem", 5)
	sem.Acquire(ctx)
	if got := *mustInspect(t, seg, "sem").Semaphore; got != (futex.SemaphoreState{Value: 4}) {
		t.Errorf("semaphore: %+v; want value 4, no bound", got)
	}
	ev, _ := futex.NewEvent(seg, "event")
	ev.Set()
	ev.Clear()
	ev.Set()
	if got := *mustInspect(t, seg, "event").Event; got != (futex.EventState{Set: true, Sets: 2}) {
		t.Errorf("event: %+v; want set, 2 sets", got)
	}
	futex.NewBarrier(seg, "barrier", 4)
	if got := *mustInspect(t, seg, "barrier").Barrier; got != (futex.BarrierState{Parties: 4}) {
		t.Errorf("barrier: %+v; want 4 parties, none waiting, not broken", got)
	}
	futex.NewCondition(seg, "cond", l)
	if got := *mustInspect(t, seg, "cond").Condition; got != (futex.ConditionState{Lock: "lock"}) {
		t.Errorf("condition: %+v; want over lock, no waiters", got)
	}
}

// until polls Inspect of name until ok says its state arrived, failing
// after a generous watchdog.
func until(t *testing.T, seg *shm.Segment, name string, ok func(futex.State) bool) futex.State {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := mustInspect(t, seg, name)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: state %+v never arrived", name, st)
		}
		time.Sleep(time.Millisecond)
	}
}

// Waiters show: a goroutine parked on a held lock, one registered on a
// condition, one arrived at a barrier; and they go when released.
func TestInspectWaiters(t *testing.T) {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	l, _ := futex.NewLock(seg, "lock")
	l.Acquire(ctx)
	done := make(chan error, 1)
	go func() {
		l2, _ := futex.OpenLock(seg, "lock")
		err := l2.Acquire(ctx)
		if err == nil {
			err = l2.Release()
		}
		done <- err
	}()
	until(t, seg, "lock", func(s futex.State) bool { return s.Lock.Waiters })
	l.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	b, _ := futex.NewBarrier(seg, "barrier", 2)
	go func() {
		_, err := b.Wait(ctx)
		done <- err
	}()
	until(t, seg, "barrier", func(s futex.State) bool { return s.Barrier.Waiting == 1 })
	if _, err := b.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got := *mustInspect(t, seg, "barrier").Barrier; got.Waiting != 0 || got.Generation != 1 || got.Broken {
		t.Errorf("barrier after one generation: %+v; want none waiting, generation 1, not broken", got)
	}

	c, _ := futex.NewCondition(seg, "cond", nil)
	go func() {
		w := c.As(futex.NewOwner())
		err := w.Acquire(ctx)
		if err == nil {
			err = w.Wait(ctx)
			w.Release()
		}
		done <- err
	}()
	until(t, seg, "cond", func(s futex.State) bool { return s.Condition.Waiting == 1 })
	n := c.As(futex.NewOwner())
	n.Acquire(ctx)
	n.Notify(1)
	n.Release()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	until(t, seg, "cond", func(s futex.State) bool { return s.Condition.Waiting == 0 && s.Condition.Signals == 0 })
}

// Inspect trusts nothing it reads: words that cannot hold together are
// ErrCorrupt, never a panic or an out-of-bounds read.
func TestInspectCorrupt(t *testing.T) {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	futex.NewBarrier(seg, "barrier", 2)
	l, _ := futex.NewLock(seg, "lock")
	futex.NewCondition(seg, "cond", l)
	for _, tc := range []struct {
		name string
		off  int
		word uint32
	}{
		{"barrier", 16, 0},        // parties
		{"barrier", 16, 5000},     // parties beyond the payload
		{"cond", 64, 1000},        // lock name length
		{"lock", 0, 4000 | 1<<12}, // a holder token naming no participant slot
	} {
		b := objPayload(t, seg, tc.name)
		old := binary.LittleEndian.Uint32(b[tc.off:])
		binary.LittleEndian.PutUint32(b[tc.off:], tc.word)
		if _, err := futex.Inspect(seg, lookup(seg, tc.name)); !errors.Is(err, shm.ErrCorrupt) {
			t.Errorf("%s with word %d at %d: %v; want ErrCorrupt", tc.name, tc.word, tc.off, err)
		}
		binary.LittleEndian.PutUint32(b[tc.off:], old)
	}
	seg.CreateObject("other", shm.MakeKind("OTHR"), 1<<16, 64, nil)
	if _, err := futex.Inspect(seg, lookup(seg, "other")); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Errorf("another kind: %v; want ErrTypeMismatch", err)
	}
	notReady := lookup(seg, "lock")
	notReady.Ready = false
	if _, err := futex.Inspect(seg, notReady); !errors.Is(err, shm.ErrNotInitialized) {
		t.Errorf("an object being created: %v; want ErrNotInitialized", err)
	}
}

func ExampleInspect() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	sem, err := futex.NewBoundedSemaphore(seg, "slots", 3)
	if err != nil {
		log.Fatal(err)
	}
	sem.Acquire(context.Background())
	for _, o := range seg.Objects() {
		st, err := futex.Inspect(seg, o)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %v: %d of %d\n", o.Name, o.Kind, st.Semaphore.Value, st.Semaphore.Bound)
	}
	// Output:
	// slots BSEM: 2 of 3
}
