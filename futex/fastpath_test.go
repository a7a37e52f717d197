package futex

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

// lockerKinds are the two lock types that have a FastPath.
var lockerKinds = []string{"Lock", "RLock"}

// newLocker creates (or, with open, attaches to) the lock of type kind
// named kind in seg, and returns it with its FastPath.
func newLocker(t *testing.T, seg *shm.Segment, kind string, open bool) (Locker, FastPath) {
	t.Helper()
	switch {
	case kind == "Lock" && !open:
		l, err := NewLock(seg, kind)
		if err != nil {
			t.Fatal(err)
		}
		return l, l.FastPath()
	case kind == "Lock":
		l, err := OpenLock(seg, kind)
		if err != nil {
			t.Fatal(err)
		}
		return l, l.FastPath()
	case !open:
		r, err := NewRLock(seg, kind)
		if err != nil {
			t.Fatal(err)
		}
		return r, r.FastPath()
	default:
		r, err := OpenRLock(seg, kind)
		if err != nil {
			t.Fatal(err)
		}
		return r, r.FastPath()
	}
}

// TestFastPath checks that a FastPath succeeds exactly where the lock's
// own fast path would, and otherwise changes nothing, so that the lock's
// methods then give their usual results.
func TestFastPath(t *testing.T) {
	seg := testseg.Anon(t, 1<<16)
	ctx := context.Background()
	for _, kind := range lockerKinds {
		lk, f := newLocker(t, seg, kind, false)
		if !f.TryAcquire() {
			t.Fatalf("%s: TryAcquire of a free lock failed", kind)
		}
		if got := *f.word; got != f.tok {
			t.Errorf("%s: word after TryAcquire = %#x; want the token %#x", kind, got, f.tok)
		}
		if f.TryAcquire() {
			t.Errorf("%s: TryAcquire of a held lock succeeded", kind)
		}
		if ok, err := lk.TryAcquire(); ok || err != nil {
			t.Errorf("%s: TryAcquire of the lock held through the FastPath = %v, %v; want false, nil", kind, ok, err)
		}
		if !f.TryRelease() {
			t.Fatalf("%s: TryRelease of its own hold failed", kind)
		}
		if got := *f.word; got != 0 {
			t.Errorf("%s: word after TryRelease = %#x; want 0", kind, got)
		}
		// Not held: TryRelease fails and Release reports the misuse.
		if f.TryRelease() {
			t.Errorf("%s: TryRelease of a free lock succeeded", kind)
		}
		if err := lk.Release(); err == nil {
			t.Errorf("%s: Release of a free lock = nil; want an error", kind)
		}
		// Held through the lock's own Acquire, released through the
		// FastPath, and the other way round.
		if err := lk.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		if !f.TryRelease() {
			t.Errorf("%s: TryRelease of a hold taken by Acquire failed", kind)
		}
		if !f.TryAcquire() {
			t.Fatalf("%s: TryAcquire after TryRelease failed", kind)
		}
		// A waiter's flag sends the release to Release, which wakes.
		atomic.OrUint32(f.word, lockWaiters)
		if f.TryRelease() {
			t.Errorf("%s: TryRelease with the waiters flag succeeded", kind)
		}
		if err := lk.Release(); err != nil {
			t.Errorf("%s: Release with the waiters flag: %v", kind, err)
		}
		if got := *f.word; got != 0 {
			t.Errorf("%s: word after Release = %#x; want 0", kind, got)
		}
	}

	// An Owner's view never takes the fast path, and an Owner's hold is
	// not released by the FastPath without an Owner.
	lr, f := newLocker(t, seg, "RLock", true)
	r := lr.(*RLock)
	o := r.As(NewOwner())
	fo := o.FastPath()
	if fo.TryAcquire() {
		t.Fatal("TryAcquire of an Owner view's FastPath succeeded")
	}
	if err := o.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if fo.TryRelease() {
		t.Error("TryRelease of an Owner view's FastPath succeeded")
	}
	if f.TryRelease() {
		t.Error("TryRelease without an Owner released an Owner's hold")
	}
	if err := r.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Release without an Owner of an Owner's hold = %v; want ErrNotOwner", err)
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}

	// After Close both fail without touching the unmapped word.
	l, lf := newLocker(t, seg, "Lock", true)
	seg.Close()
	if lf.TryAcquire() || f.TryAcquire() {
		t.Error("TryAcquire after Close succeeded")
	}
	if lf.TryRelease() || f.TryRelease() {
		t.Error("TryRelease after Close succeeded")
	}
	if err := l.Acquire(ctx); !errors.Is(err, shm.ErrClosed) {
		t.Errorf("Acquire after Close = %v; want ErrClosed", err)
	}
}

// TestFastPathOwnerDied checks that a lock taken over from a dead holder
// goes through the lock's methods: the FastPath neither releases it
// (which would skip the not-recoverable state) nor acquires it after. The
// segment is unguarded, so that the fast path is live on it.
func TestFastPathOwnerDied(t *testing.T) {
	unguarded := &shm.Options{Unguarded: true}
	for _, kind := range lockerKinds {
		seg, name := testseg.Named(t, 1<<16, unguarded)
		other, err := shm.OpenWith(name, unguarded)
		if err != nil {
			t.Fatal(err)
		}
		mine, f := newLocker(t, seg, kind, false)
		theirs, _ := newLocker(t, other, kind, true)
		ctx := context.Background()
		if !f.TryAcquire() || !f.TryRelease() {
			t.Fatalf("%s: the fast path is not live on an unguarded segment", kind)
		}
		if err := theirs.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		other.Close() // the holder leaves: its token is dead now
		// The fast path never takes a held word, a dead holder's included:
		// only Acquire's slow path judges the holder and takes over.
		if f.TryAcquire() {
			t.Fatalf("%s: TryAcquire of a dead holder's lock succeeded", kind)
		}
		if err := mine.Acquire(ctx); !errors.Is(err, ErrOwnerDead) {
			t.Fatalf("%s: Acquire after the holder left = %v; want ErrOwnerDead", kind, err)
		}
		if f.TryRelease() {
			t.Fatalf("%s: TryRelease in the owner-died state succeeded", kind)
		}
		if err := mine.Release(); err != nil {
			t.Fatalf("%s: Release without Consistent: %v", kind, err)
		}
		if f.TryAcquire() {
			t.Errorf("%s: TryAcquire of an unrecoverable lock succeeded", kind)
		}
		if err := mine.Acquire(ctx); !errors.Is(err, ErrNotRecoverable) {
			t.Errorf("%s: Acquire of an unrecoverable lock = %v; want ErrNotRecoverable", kind, err)
		}
	}
}

// TestFastPathExcludes has goroutines update a plain variable under a
// lock taken through its FastPath, falling back to the lock's methods: the
// count is exact, and under -race the FastPath's edges make the accesses
// ordered.
func TestFastPathExcludes(t *testing.T) {
	seg := testseg.Anon(t, 1<<16)
	const goroutines, rounds = 4, 2000
	for _, kind := range lockerKinds {
		lk, f := newLocker(t, seg, kind, false)
		n := 0
		var wg sync.WaitGroup
		for range goroutines {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if !f.TryAcquire() {
						if err := lk.Acquire(context.Background()); err != nil {
							t.Error(err)
							return
						}
					}
					n++
					if !f.TryRelease() {
						if err := lk.Release(); err != nil {
							t.Error(err)
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		if n != goroutines*rounds {
			t.Errorf("%s: count = %d; want %d", kind, n, goroutines*rounds)
		}
	}
}
