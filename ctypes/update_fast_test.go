package ctypes_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// TestUpdateFastPath checks Value.Update's semantics where its fast path
// (futex.FastPath) is live, on an anonymous segment, for each kind of
// lock: the default RLock, a caller's Lock, and a caller's RLock view
// acting for an Owner (which Update takes for no Owner). The other Update
// tests run on named segments, which are guarded against truncation, so
// that every Update there takes the checked path.
func TestUpdateFastPath(t *testing.T) {
	ctx := context.Background()
	for _, kind := range []string{"RLock", "Lock", "Owner"} {
		seg := testseg.Anon(t, 1<<16)
		var o *ctypes.Options
		var bare futex.Locker // a handle of the lock acting for no Owner
		switch kind {
		case "Lock":
			l, err := futex.NewLock(seg, "l")
			if err != nil {
				t.Fatal(err)
			}
			o = &ctypes.Options{Lock: l}
		case "Owner":
			r, err := futex.NewRLock(seg, "l")
			if err != nil {
				t.Fatal(err)
			}
			o = &ctypes.Options{Lock: r.As(futex.NewOwner())}
			bare = r
		}
		v, err := ctypes.NewValue(seg, "v", 1.0, o)
		if err != nil {
			t.Fatal(err)
		}
		if bare == nil {
			bare = v.GetLock()
		}
		if got, err := v.Update(ctx, func(x float64) float64 { return x + 1 }); err != nil || got != 2 || v.Load() != 2 {
			t.Errorf("%s: Update = %v, %v, value %v; want 2, nil, 2", kind, got, err, v.Load())
		}

		// A panicking fn releases the lock and changes nothing.
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: fn's panic did not reach Update's caller", kind)
				}
			}()
			v.Update(ctx, func(float64) float64 { panic("boom") })
		}()
		if ok, err := v.GetLock().TryAcquire(); !ok || err != nil || v.Load() != 2 {
			t.Fatalf("%s: TryAcquire after a panicking Update = %v, %v, value %v; want true, nil, 2", kind, ok, err, v.Load())
		}
		// Held through GetLock, Update waits (here until its context
		// ends), even for the Owner that holds it.
		short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
		_, err = v.Update(short, func(x float64) float64 { return 0 })
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || v.Load() != 2 {
			t.Errorf("%s: Update while GetLock is held = %v, value %v; want DeadlineExceeded, 2", kind, err, v.Load())
		}
		if err := v.GetLock().Release(); err != nil {
			t.Fatal(err)
		}

		// Goroutines sharing the handle exclude each other, on the fast
		// path and, when they meet, the waiting one.
		const goroutines, rounds = 4, 500
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if _, err := v.Update(ctx, func(x float64) float64 { return x + 1 }); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		if got, want := v.Load(), float64(2+goroutines*rounds); got != want {
			t.Errorf("%s: value after concurrent Updates = %v; want %v", kind, got, want)
		}

		// A hold released under Update's feet (misuse) makes its own
		// release fail: Update reports it, its result applied.
		got, err := v.Update(ctx, func(x float64) float64 {
			if err := bare.Release(); err != nil {
				t.Errorf("%s: Release inside Update: %v", kind, err)
			}
			return x + 1
		})
		if err == nil || got != float64(3+goroutines*rounds) {
			t.Errorf("%s: Update whose hold was released = %v, %v; want %v and a release error", kind, got, err, 3+goroutines*rounds)
		}
		if ok, _ := v.GetLock().TryAcquire(); !ok {
			t.Errorf("%s: lock held after that Update", kind)
		} else if err := v.GetLock().Release(); err != nil {
			t.Error(err)
		}

		seg.Close()
		if _, err := v.Update(ctx, func(x float64) float64 { return x + 1 }); !errors.Is(err, shm.ErrClosed) {
			t.Errorf("%s: Update after Close = %v; want ErrClosed", kind, err)
		}
	}
}

// TestUpdateFastPathOwnerDied: on an unguarded segment, where Update's
// fast path is live, a lock whose holder left is taken over (ErrOwnerDead,
// fn applied) and made consistent, and the next Update is a normal one.
func TestUpdateFastPathOwnerDied(t *testing.T) {
	unguarded := &shm.Options{Unguarded: true}
	seg, name := testseg.Named(t, 1<<16, unguarded)
	v, err := ctypes.NewValue(seg, "v", 1.0, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := v.Update(ctx, func(x float64) float64 { return x + 1 }); err != nil || got != 2 {
		t.Fatalf("Update = %v, %v; want 2, nil", got, err)
	}
	other, err := shm.OpenWith(name, unguarded)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ctypes.OpenValue[float64](other, "v")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.GetLock().Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	other.Close() // the holder leaves: its token is dead now
	got, err := v.Update(ctx, func(x float64) float64 { return x + 1 })
	if !errors.Is(err, futex.ErrOwnerDead) || got != 3 || v.Load() != 3 {
		t.Fatalf("Update after the holder left = %v, %v, value %v; want 3, ErrOwnerDead", got, err, v.Load())
	}
	if got, err := v.Update(ctx, func(x float64) float64 { return x + 1 }); err != nil || got != 4 {
		t.Errorf("next Update = %v, %v; want 4, nil", got, err)
	}
}

// TestArrayUpdateFastPath: Array.Update (guard.do) where the fast path is
// live: it runs fn under the lock, returns fn's error, and a panicking fn
// releases the lock.
func TestArrayUpdateFastPath(t *testing.T) {
	seg := testseg.Anon(t, 1<<16)
	a, err := ctypes.NewArray[int64](seg, "a", 4, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	errFn := errors.New("fn failed")
	err = a.Update(ctx, func(r *ctypes.RawArray[int64]) error {
		if ok, _ := a.GetLock().TryAcquire(); ok {
			t.Error("TryAcquire during Array.Update succeeded")
		}
		return errFn
	})
	if !errors.Is(err, errFn) {
		t.Errorf("Array.Update = %v; want fn's error", err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("fn's panic did not reach Array.Update's caller")
			}
		}()
		a.Update(ctx, func(*ctypes.RawArray[int64]) error { panic("boom") })
	}()
	if ok, err := a.GetLock().TryAcquire(); !ok || err != nil {
		t.Fatalf("TryAcquire after a panicking Array.Update = %v, %v; want true, nil", ok, err)
	}
	if err := a.GetLock().Release(); err != nil {
		t.Fatal(err)
	}
}
