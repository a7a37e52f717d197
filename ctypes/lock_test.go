package ctypes_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ctypes-update", helperUpdate)
	testproc.Register("ctypes-die-holding", helperDieHolding)
}

func TestValueLock(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	v, err := ctypes.NewValue(seg, "num", 1.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := v.GetLock().(*futex.RLock); !ok || v.GetLock().Name() != "num"+ctypes.LockSuffix {
		t.Fatalf("GetLock = %T %q; want *futex.RLock \"num.lock\"", v.GetLock(), v.GetLock().Name())
	}
	w, err := ctypes.OpenValue[float64](seg, "num")
	if err != nil {
		t.Fatal(err)
	}
	if w.GetLock().Name() != "num.lock" {
		t.Errorf("OpenValue lock %q; want num.lock", w.GetLock().Name())
	}
	got, err := w.Update(context.Background(), func(x float64) float64 { return x * 3 })
	if err != nil || got != 3 || v.Load() != 3 {
		t.Errorf("Update = %v, %v, Load %v; want 3", got, err, v.Load())
	}

	// While another handle holds the lock, Update waits and honours ctx.
	if err := v.GetLock().Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.GetLock().TryAcquire(); ok || err != nil {
		t.Errorf("TryAcquire through the second handle while held = %v, %v; want false", ok, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	called := false
	if _, err := w.Update(ctx, func(x float64) float64 { called = true; return 0 }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update while locked = %v; want context.DeadlineExceeded", err)
	}
	if called || v.Load() != 3 {
		t.Errorf("cancelled Update ran fn %v, value %v; want not run, 3", called, v.Load())
	}
	// Nor does an Update through the holder's own handle re-enter the
	// RLock, from another goroutine: it waits too.
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := v.Update(ctx, func(x float64) float64 { return 0 })
		done <- err
	}()
	if err := <-done; !errors.Is(err, context.DeadlineExceeded) || v.Load() != 3 {
		t.Errorf("Update through the holding handle = %v, value %v; want DeadlineExceeded, 3", err, v.Load())
	}
	if err := v.GetLock().Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Update(context.Background(), func(x float64) float64 { return x + 1 }); err != nil || v.Load() != 4 {
		t.Errorf("Update after release = %v, value %v; want nil, 4", err, v.Load())
	}
	// While an Update runs, the handle's own RLock neither re-enters it.
	_, err = v.Update(context.Background(), func(x float64) float64 {
		if ok, err := v.GetLock().TryAcquire(); ok || err != nil {
			t.Errorf("TryAcquire during Update = %v, %v; want false", ok, err)
		}
		return x
	})
	if err != nil {
		t.Fatal(err)
	}

	// A panicking fn releases the lock.
	func() {
		defer func() { recover() }()
		v.Update(context.Background(), func(float64) float64 { panic("boom") })
	}()
	if ok, err := v.GetLock().TryAcquire(); !ok || err != nil {
		t.Fatalf("TryAcquire after a panicking Update = %v, %v; want true", ok, err)
	}
	v.GetLock().Release()

	if _, err := ctypes.NewRawValue(seg, "raw", 1.0, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.OpenValue[float64](seg, "raw"); !errors.Is(err, ctypes.ErrNoLock) {
		t.Errorf("OpenValue on a raw value = %v; want ErrNoLock", err)
	}
	if r, err := ctypes.OpenRawValue[float64](seg, "num"); err != nil || r.Load() != 4 {
		t.Errorf("OpenRawValue on a locked value = %v, %v", r, err)
	}
}

func TestCallerLock(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	l, err := futex.NewLock(seg, "shared")
	if err != nil {
		t.Fatal(err)
	}
	v, err := ctypes.NewValue[int32](seg, "a", 0, &ctypes.Options{Lock: l})
	if err != nil {
		t.Fatal(err)
	}
	arr, err := ctypes.NewArrayOf(seg, "b", 'h', 4, &ctypes.Options{Lock: l})
	if err != nil {
		t.Fatal(err)
	}
	if v.GetLock() != futex.Locker(l) || arr.GetLock() != futex.Locker(l) {
		t.Errorf("GetLock is not the caller's lock")
	}
	w, err := ctypes.OpenValue[int32](seg, "a")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := w.GetLock().(*futex.Lock); !ok || w.GetLock().Name() != "shared" {
		t.Errorf("reopened lock %T %q; want *futex.Lock \"shared\"", w.GetLock(), w.GetLock().Name())
	}
	if got, err := w.Update(context.Background(), func(x int32) int32 { return x + 5 }); err != nil || got != 5 {
		t.Errorf("Update = %v, %v; want 5", got, err)
	}
	if _, err := futex.OpenLocker(seg, "a"+ctypes.LockSuffix); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenLocker(\"a.lock\") = %v; want ErrNotExist: no default lock when the caller gives one", err)
	}
	other, _ := newSegment(t, 1<<20)
	foreign, err := futex.NewRLock(other, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.NewValue[int32](seg, "c", 0, &ctypes.Options{Lock: foreign}); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("NewValue with a lock from another segment = %v; want ErrNotExist", err)
	}
	if _, err := ctypes.NewValue[int32](seg, "d", 0, &ctypes.Options{Lock: wrappedLock{l}}); !errors.Is(err, ctypes.ErrTypeMismatch) {
		t.Errorf("NewValue with a Locker of another type = %v; want ErrTypeMismatch", err)
	}
}

// wrappedLock is a futex.Locker of its own type over a real Lock.
type wrappedLock struct{ *futex.Lock }

// TestUpdateGoroutines has goroutines share one handle: Updates must still
// exclude each other although an RLock re-enters for its owner.
func TestUpdateGoroutines(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	v, err := ctypes.NewValue(seg, "num", 0.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	const goroutines, per = 8, 2000
	var wg sync.WaitGroup
	for range goroutines {
		wg.Go(func() {
			for range per {
				// A read and a separate write: lost updates would show.
				if _, err := v.Update(context.Background(), func(x float64) float64 { return x + 1 }); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if got := v.Load(); got != goroutines*per {
		t.Errorf("after %d Updates value = %v", goroutines*per, got)
	}
}

func TestArrayLock(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ctypes.NewArrayFrom(seg, "arr", []int64{1, 2, 3, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := ctypes.OpenArray[int64](seg, "arr", 4)
	if err != nil {
		t.Fatal(err)
	}
	err = b.Update(context.Background(), func(r *ctypes.RawArray[int64]) error {
		v := r.View()
		for i := range v {
			v[i] = -v[i]
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]int64, 4)
	a.CopyTo(got)
	if got[0] != -1 || got[3] != -4 {
		t.Errorf("after Update = %v; want [-1 -2 -3 -4]", got)
	}
	s, err := a.Slice(1, 3)
	if err != nil {
		t.Fatal(err)
	}
	if s.GetLock() != a.GetLock() || s.Len() != 2 {
		t.Errorf("Slice: lock shared %v, Len %d", s.GetLock() == a.GetLock(), s.Len())
	}
	if _, err := a.Slice(3, 5); !errors.Is(err, ctypes.ErrIndex) {
		t.Errorf("Slice(3, 5) = %v; want ErrIndex", err)
	}
	errFn := errors.New("fn failed")
	if err := s.Update(context.Background(), func(*ctypes.RawArray[int64]) error { return errFn }); err != errFn {
		t.Errorf("Update returning an error = %v; want it unchanged", err)
	}
	z, err := ctypes.NewArray[uint16](seg, "zeros", 3, nil)
	if err != nil || z.Len() != 3 || z.GetLock().Name() != "zeros.lock" {
		t.Fatalf("NewArray = %v, %v", z, err)
	}
	if _, err := ctypes.OpenArray[int64](seg, "arr", 5); !errors.Is(err, ctypes.ErrTypeMismatch) {
		t.Errorf("OpenArray wrong length = %v; want ErrTypeMismatch", err)
	}
	if _, err := ctypes.NewRawArray[int8](seg, "raw", 3, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ctypes.OpenArray[int8](seg, "raw", 3); !errors.Is(err, ctypes.ErrNoLock) {
		t.Errorf("OpenArray on a raw array = %v; want ErrNoLock", err)
	}
}

func TestAnyLock(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	v, err := ctypes.NewValueOf(seg, "num", 'd', 0.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Update(context.Background(), func(x any) any { return x.(float64) + 1.5 })
	if err != nil || got != 1.5 {
		t.Errorf("Update = %#v, %v; want 1.5", got, err)
	}
	if _, err := v.Update(context.Background(), func(any) any { return "x" }); !errors.Is(err, ctypes.ErrValueType) || v.Float64() != 1.5 {
		t.Errorf("Update to a string = %v, value %v; want ErrValueType, 1.5", err, v.Float64())
	}
	o, err := ctypes.OpenValueOf(seg, "num", 'd')
	if err != nil || o.GetLock() == nil || o.GetLock().Name() != "num.lock" {
		t.Fatalf("OpenValueOf: %v, %v", o, err)
	}
	a, err := ctypes.NewArrayOf(seg, "arr", 'i', []int{1, 2, 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = a.Update(context.Background(), func(a *ctypes.AnyArray) error {
		for i := range a.Len() {
			if err := a.Set(i, -a.Int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if x := a.Get(2); err != nil || x != int32(-3) {
		t.Errorf("Array Update = %v, arr[2] %#v; want -3", err, x)
	}
	r, err := ctypes.NewRawValueOf(seg, "raw", 'i', 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.GetLock() != nil {
		t.Errorf("raw GetLock = %v; want nil", r.GetLock())
	}
	if _, err := r.Update(context.Background(), func(x any) any { return x }); !errors.Is(err, ctypes.ErrNoLock) {
		t.Errorf("raw Update = %v; want ErrNoLock", err)
	}
	ra, err := ctypes.NewRawArrayOf(seg, "rawarr", 'i', 2)
	if err != nil {
		t.Fatal(err)
	}
	if ra.GetLock() != nil || !errors.Is(ra.Update(context.Background(), func(*ctypes.AnyArray) error { return nil }), ctypes.ErrNoLock) {
		t.Errorf("raw array has a lock")
	}
	if _, err := ctypes.NewValueOf(seg, "num", 'd', 0.0, nil); err == nil {
		t.Errorf("NewValueOf on an existing name succeeded")
	}
}

// helperUpdate opens the float64 value Arg(1) and its lock and adds 1
// under the lock Arg(2) times, once the "go" value is 1.
func helperUpdate() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	v, err := ctypes.OpenValue[float64](seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	start, err := ctypes.OpenRawValue[int32](seg, "go")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	for start.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range testproc.IntArg(2) {
		if _, err := v.Update(context.Background(), func(x float64) float64 { return x + 1 }); err != nil {
			testproc.Fatalf("%v", err)
		}
	}
	testproc.Send("done")
}

// TestCrossProcessUpdate has 4 processes each apply 20,000 Updates (2,000
// under -short) to one float64 under its lock; a lost update would show
// in the total, since a float add is not atomic.
func TestCrossProcessUpdate(t *testing.T) {
	const procs = 4
	per := 20000
	if testing.Short() {
		per = 2000
	}
	seg, name := newSegment(t, 1<<20)
	v, err := ctypes.NewValue(seg, "num", 0.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, err := ctypes.NewRawValue[int32](seg, "go", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*testproc.Child
	for range procs {
		cs = append(cs, testproc.Start(t, "ctypes-update", testproc.Options{Args: []string{name, "num", strconv.Itoa(per)}}))
	}
	for _, c := range cs {
		c.WaitReady()
	}
	start.Store(1)
	for _, c := range cs {
		if got := c.Recv(2 * time.Minute); got != "done" {
			t.Fatalf("child sent %q; want done", got)
		}
		c.MustWait()
	}
	if got, want := v.Load(), float64(procs*per); got != want {
		t.Errorf("value = %v; want %v", got, want)
	}
}

// helperDieHolding takes the lock of value Arg(1) and waits to be killed.
func helperDieHolding() {
	seg := openSegment(testproc.Arg(0))
	v, err := ctypes.OpenValue[float64](seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	if err := v.GetLock().Acquire(context.Background()); err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Send("held")
	// Not select{}: with no other goroutine the runtime would call that a
	// deadlock and kill the holder at once, before the parent acts.
	time.Sleep(time.Hour)
}

// TestUpdateOwnerDied kills a process holding a Value's lock: the next
// Update applies its function, reports futex.ErrOwnerDead, and leaves the
// lock usable.
func TestUpdateOwnerDied(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	v, err := ctypes.NewValue(seg, "num", 1.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "ctypes-die-holding", testproc.Options{Args: []string{name, "num"}})
	if got := c.Recv(time.Minute); got != "held" {
		t.Fatalf("child sent %q; want held", got)
	}
	// While the holder lives, Update waits (here until its context ends).
	short, cancelShort := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancelShort()
	if _, err := v.Update(short, func(x float64) float64 { return x + 1 }); !errors.Is(err, context.DeadlineExceeded) || v.Load() != 1 {
		t.Fatalf("Update while the holder lives = %v, value %v; want DeadlineExceeded, 1", err, v.Load())
	}
	c.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got, err := v.Update(ctx, func(x float64) float64 { return x + 1 })
	if !errors.Is(err, futex.ErrOwnerDead) || got != 2 || v.Load() != 2 {
		t.Fatalf("Update after the holder died = %v, %v, value %v; want 2, ErrOwnerDead", got, err, v.Load())
	}
	if got, err := v.Update(ctx, func(x float64) float64 { return x + 1 }); err != nil || got != 3 {
		t.Errorf("next Update = %v, %v; want 3, nil", got, err)
	}
}

// TestUpdateOwnerDiedConcurrent kills a process holding a Value's lock
// while goroutines of this process are already waiting in Update: exactly
// one Update reports futex.ErrOwnerDead (its function applied), none is
// lost, and the lock stays usable, also for an Array over the same lock.
func TestUpdateOwnerDiedConcurrent(t *testing.T) {
	seg, name := newSegment(t, 1<<20)
	v, err := ctypes.NewValue(seg, "num", 0.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "ctypes-die-holding", testproc.Options{Args: []string{name, "num"}})
	if got := c.Recv(time.Minute); got != "held" {
		t.Fatalf("child sent %q; want held", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const goroutines, per = 4, 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	dead := 0
	for range goroutines {
		wg.Go(func() {
			// Each goroutine attaches on its own, as separate callers would.
			w, err := ctypes.OpenValue[float64](seg, "num")
			if err != nil {
				t.Error(err)
				return
			}
			for range per {
				_, err := w.Update(ctx, func(x float64) float64 { return x + 1 })
				switch {
				case errors.Is(err, futex.ErrOwnerDead):
					mu.Lock()
					dead++
					mu.Unlock()
				case err != nil:
					t.Error(err)
					return
				}
			}
		})
	}
	time.Sleep(20 * time.Millisecond) // let the Updates queue behind the holder
	if got := v.Load(); got != 0 {
		t.Fatalf("value %v while the holder lives; want 0", got)
	}
	c.Kill()
	wg.Wait()
	if got, want := v.Load(), float64(goroutines*per); got != want || dead != 1 {
		t.Errorf("after the holder died: value %v, %d ErrOwnerDead; want %v, exactly 1", got, dead, want)
	}
	a, err := ctypes.NewArray[int32](seg, "arr", 2, &ctypes.Options{Lock: v.GetLock()})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Update(ctx, func(r *ctypes.RawArray[int32]) error { r.Set(1, 7); return nil }); err != nil {
		t.Errorf("Array.Update over the recovered lock = %v", err)
	}
}

// TestHostileLockName rewrites the lock name in a locked array's header:
// opening the locked handle fails with an error, the raw handle (which
// ignores the lock) still works.
func TestHostileLockName(t *testing.T) {
	for _, tt := range []struct {
		name, lock string
		want       error
	}{
		{"itself", "arr", shm.ErrTypeMismatch},
		{"missing", "nosuch", shm.ErrNotExist},
		{"NUL bytes", "\x00\x01", shm.ErrInvalidName},
	} {
		t.Run(tt.name, func(t *testing.T) {
			seg, _ := newSegment(t, 1<<20)
			if _, err := ctypes.NewArray[int32](seg, "arr", 4, nil); err != nil {
				t.Fatal(err)
			}
			o, err := seg.OpenObject("arr", ctypes.Kind, ctypes.Version)
			if err != nil {
				t.Fatal(err)
			}
			h := o.Bytes()
			binary.LittleEndian.PutUint32(h[16:], uint32(copy(h[32:112], tt.lock)))
			if _, err := ctypes.OpenArray[int32](seg, "arr", 4); !errors.Is(err, tt.want) {
				t.Errorf("OpenArray = %v; want %v", err, tt.want)
			}
			if _, err := ctypes.OpenArrayOf(seg, "arr", 'i', 4); !errors.Is(err, tt.want) {
				t.Errorf("OpenArrayOf = %v; want %v", err, tt.want)
			}
			if _, err := ctypes.OpenRawArray[int32](seg, "arr", 4); err != nil {
				t.Errorf("OpenRawArray = %v; want nil", err)
			}
		})
	}
}
