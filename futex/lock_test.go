package futex

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/shm"
)

func TestLockSemantics(t *testing.T) {
	seg, _ := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := l.Release(); !errors.Is(err, ErrReleasedTooManyTimes) {
		t.Errorf("Release of unlocked: got %v; want ErrReleasedTooManyTimes", err)
	}
	if err := l.Acquire(ctx); err != nil {
		t.Fatalf("Acquire: %v", err)
	}
	if !l.Locked() {
		t.Errorf("Locked() = false after Acquire")
	}
	if got, want := l.Holder(), seg.Token(); got != want {
		t.Errorf("Holder() = %v; want %v", got, want)
	}
	if ok, err := l.TryAcquire(); ok || err != nil {
		t.Errorf("TryAcquire on held: got (%v, %v); want (false, nil)", ok, err)
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := l.Acquire(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Acquire on held with deadline: got %v; want DeadlineExceeded", err)
	}
	cctx, ccancel := context.WithCancel(ctx)
	ccancel()
	if err := l.Acquire(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Acquire with cancelled ctx: got %v; want Canceled", err)
	}
	// Any holder may release a Lock, also through another handle.
	l2, err := OpenLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Release(); err != nil {
		t.Errorf("Release through other handle: %v", err)
	}
	if l.Locked() || l.Holder() != 0 {
		t.Errorf("Locked() = true or Holder() = %v after Release", l.Holder())
	}
	if ok, err := l.TryAcquire(); !ok || err != nil {
		t.Errorf("TryAcquire on free: got (%v, %v); want (true, nil)", ok, err)
	}
	if err := l.Consistent(); err != nil {
		t.Errorf("Consistent on a normal held lock: %v", err)
	}
	if err := l.Release(); err != nil {
		t.Error(err)
	}
	if err := l.Consistent(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Consistent on free lock: got %v; want ErrNotOwner", err)
	}
	if _, err := OpenRLock(seg, "l"); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Errorf("OpenRLock on a Lock: got %v; want ErrTypeMismatch", err)
	}
	if _, err := OpenLock(seg, "missing"); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenLock missing: got %v; want ErrNotExist", err)
	}
	if _, err := NewLock(seg, "l"); !errors.Is(err, shm.ErrExist) {
		t.Errorf("NewLock twice: got %v; want ErrExist", err)
	}
}

func TestLockMutualExclusion(t *testing.T) {
	seg, _ := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	n, per := 8, 5000
	if testing.Short() {
		per = 1000
	}
	counter := 0
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := l.Acquire(context.Background()); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := l.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if counter != n*per {
		t.Errorf("counter = %d; want %d", counter, n*per)
	}
}

// TestLockOwnerDiedWord forges a dead holder's token in the word: the next
// acquirer gets ErrOwnerDead holding the lock; Release without Consistent
// makes it unrecoverable; with Consistent it is normal again.
func TestLockOwnerDiedWord(t *testing.T) {
	seg, name := newSegment(t)
	other, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	lo, err := OpenLock(other, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := lo.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	other.Close() // the holder leaves: its token is dead now
	if err := l.Acquire(context.Background()); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Acquire after holder left: got %v; want ErrOwnerDead", err)
	}
	if err := l.Release(); err != nil {
		t.Fatalf("Release without Consistent: %v", err)
	}
	if err := l.Acquire(context.Background()); !errors.Is(err, ErrNotRecoverable) {
		t.Errorf("Acquire of unrecoverable: got %v; want ErrNotRecoverable", err)
	}
	if ok, err := l.TryAcquire(); ok || !errors.Is(err, ErrNotRecoverable) {
		t.Errorf("TryAcquire of unrecoverable: got (%v, %v); want (false, ErrNotRecoverable)", ok, err)
	}
	if err := l.Release(); !errors.Is(err, ErrNotRecoverable) {
		t.Errorf("Release of unrecoverable: got %v; want ErrNotRecoverable", err)
	}

	// Recovery with Consistent, through TryAcquire.
	seg2, name2 := newSegment(t)
	other2, err := shm.Open(name2)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRLock(seg2, "r")
	if err != nil {
		t.Fatal(err)
	}
	ro, err := OpenRLock(other2, "r")
	if err != nil {
		t.Fatal(err)
	}
	ro = ro.As(NewOwner()) // held 3 deep by an Owner
	for i := 0; i < 3; i++ {
		if err := ro.Acquire(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	other2.Close()
	if ok, err := r.TryAcquire(); !ok || !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("TryAcquire after holder left: got (%v, %v); want (true, ErrOwnerDead)", ok, err)
	}
	if got := r.Depth(); got != 1 {
		t.Errorf("Depth after take-over = %d; want 1", got)
	}
	if err := r.Consistent(); err != nil {
		t.Fatal(err)
	}
	if err := r.Release(); err != nil {
		t.Fatal(err)
	}
	if err := r.Acquire(context.Background()); err != nil {
		t.Errorf("Acquire after recovery: %v", err)
	}
}

func TestRLockSemantics(t *testing.T) {
	seg, _ := newSegment(t)
	r, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Release of free RLock: got %v; want ErrNotOwner", err)
	}
	if r.Owner() != nil {
		t.Errorf("NewRLock handle acts for Owner %v; want none", r.Owner())
	}
	// Re-entrance is an Owner's: its view o re-enters, r (no Owner) and
	// another Owner's view do not.
	owner := NewOwner()
	o := r.As(owner)
	if o.Owner() != owner || o.As(nil).Owner() != nil {
		t.Errorf("As: Owner() = %v, As(nil).Owner() = %v; want %v, nil", o.Owner(), o.As(nil).Owner(), owner)
	}
	if err := o.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Owner's Release of free RLock: got %v; want ErrNotOwner", err)
	}
	for i := 0; i < 3; i++ {
		if err := o.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := o.Depth(); got != 3 {
		t.Errorf("Depth = %d; want 3", got)
	}
	if got := r.Depth(); got != 0 {
		t.Errorf("Depth without an Owner while an Owner holds = %d; want 0", got)
	}
	if ok, err := o.TryAcquire(); !ok || err != nil {
		t.Errorf("TryAcquire by owner: got (%v, %v); want (true, nil)", ok, err)
	}
	if ok, err := r.TryAcquire(); ok || err != nil {
		t.Errorf("TryAcquire without an Owner: got (%v, %v); want (false, nil)", ok, err)
	}
	if err := r.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Release without an Owner of an Owner's hold: got %v; want ErrNotOwner", err)
	}
	other := r.As(NewOwner())
	if ok, err := other.TryAcquire(); ok || err != nil {
		t.Errorf("TryAcquire by other owner: got (%v, %v); want (false, nil)", ok, err)
	}
	if err := other.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Release by other owner: got %v; want ErrNotOwner", err)
	}
	r2, err := OpenRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	if err := r2.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("Release through other handle: got %v; want ErrNotOwner", err)
	}
	for i := 0; i < 3; i++ {
		if err := o.Release(); err != nil {
			t.Fatal(err)
		}
		if !r.Locked() {
			t.Fatalf("unlocked after %d of 4 releases", i+1)
		}
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
	if r.Locked() {
		t.Errorf("locked after the last release")
	}
	if err := o.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("extra Release: got %v; want ErrNotOwner", err)
	}
	// Another owner gets it once it is free.
	tctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	if err := other.Acquire(tctx); err != nil {
		t.Errorf("other owner Acquire: %v", err)
	}
}

// TestRLockSharedHandleExcludes: 8 goroutines share one RLock handle (no
// Owner) and increment a plain counter under it 20,000 times each; every
// increment must survive. When a handle acted for an Owner of its own, the
// goroutines re-entered each other's hold (a ctypes Value's GetLock kept
// 21,181 of 160,000).
func TestRLockSharedHandleExcludes(t *testing.T) {
	seg, _ := newSegment(t)
	r, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	n, per := 8, 20000
	if testing.Short() {
		per = 2000
	}
	// A lock that two goroutines both believe they hold can end up held
	// by none: the watchdog turns that hang into a failure.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	counter := 0
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				if err := r.Acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := r.Release(); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if counter != n*per {
		t.Errorf("counter = %d; want %d", counter, n*per)
	}
}

func TestOpenLocker(t *testing.T) {
	seg, _ := newSegment(t)
	if _, err := NewLock(seg, "l"); err != nil {
		t.Fatal(err)
	}
	if _, err := NewRLock(seg, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := seg.CreateObject("x", shm.MakeKind("XXXX"), 1<<16, 64, nil); err != nil {
		t.Fatal(err)
	}
	if l, err := OpenLocker(seg, "l"); err != nil {
		t.Errorf("OpenLocker(l): %v", err)
	} else if _, ok := l.(*Lock); !ok || l.Name() != "l" {
		t.Errorf("OpenLocker(l) = %T %q; want *Lock \"l\"", l, l.Name())
	}
	if l, err := OpenLocker(seg, "r"); err != nil {
		t.Errorf("OpenLocker(r): %v", err)
	} else if _, ok := l.(*RLock); !ok {
		t.Errorf("OpenLocker(r) = %T; want *RLock", l)
	}
	if _, err := OpenLocker(seg, "x"); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Errorf("OpenLocker(x): got %v; want ErrTypeMismatch", err)
	}
	if _, err := OpenLocker(seg, "none"); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenLocker(none): got %v; want ErrNotExist", err)
	}
}

// TestLockRecovererDies: a holder that got ErrOwnerDead and leaves before
// Consistent passes ErrOwnerDead on (docs/robustness.md F2); a Release without
// Consistent wakes parked waiters with ErrNotRecoverable (F1).
func TestLockRecovererDies(t *testing.T) {
	seg, name := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	attach := func() (*shm.Segment, *Lock) {
		s, err := shm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		lo, err := OpenLock(s, "l")
		if err != nil {
			t.Fatal(err)
		}
		return s, lo
	}
	s1, l1 := attach()
	if err := l1.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2, l2 := attach()
	if err := l2.Acquire(context.Background()); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("first recoverer: got %v; want ErrOwnerDead", err)
	}
	s2.Close() // dies before Consistent
	s3, l3 := attach()
	defer s3.Close()
	if err := l3.Acquire(context.Background()); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("second recoverer: got %v; want ErrOwnerDead", err)
	}
	errc := make(chan error, 1)
	go func() { errc <- l.Acquire(context.Background()) }()
	waitFor(t, func() bool { return atomic.LoadUint32(l.c.word)&lockWaiters != 0 })
	if err := l3.Release(); err != nil {
		t.Fatalf("Release without Consistent: %v", err)
	}
	if err := <-errc; !errors.Is(err, ErrNotRecoverable) {
		t.Errorf("parked waiter after Release without Consistent: got %v; want ErrNotRecoverable", err)
	}
}

// TestLockSlotReused: the holder's participant slot is taken by a new
// attachment (as after pid reuse); the old token is dead and the lock is
// recovered. A Lock held by one participant is released by another.
func TestLockSlotReused(t *testing.T) {
	seg, name := newSegment(t)
	l, err := NewLock(seg, "l")
	if err != nil {
		t.Fatal(err)
	}
	s1, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	l1, err := OpenLock(s1, "l")
	if err != nil {
		t.Fatal(err)
	}
	old := s1.Token()
	if err := l1.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	s1.Close()
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.Token().Slot() != old.Slot() || s2.Token() == old {
		t.Logf("slot not reused (old %v, new %v); the check still holds", old, s2.Token())
	}
	l2, err := OpenLock(s2, "l")
	if err != nil {
		t.Fatal(err)
	}
	if err := l2.Acquire(context.Background()); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Acquire after the holder's slot was reused: got %v; want ErrOwnerDead", err)
	}
	if err := l2.Consistent(); err != nil {
		t.Fatal(err)
	}
	// Any participant may release a Lock: seg's handle releases s2's hold.
	if got := l.Holder(); got != s2.Token() {
		t.Errorf("Holder() = %v; want %v", got, s2.Token())
	}
	if err := l.Release(); err != nil {
		t.Errorf("Release by another participant: %v", err)
	}
	if l.Locked() {
		t.Errorf("still locked after Release by another participant")
	}
}

// TestRLockNoOwner: a handle acting for no Owner never re-enters (its own
// hold or an Owner's), and releases only a hold taken without an Owner.
func TestRLockNoOwner(t *testing.T) {
	seg, _ := newSegment(t)
	r, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, o := r, r.As(NewOwner())
	if err := u.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("no-Owner Release of free lock: got %v; want ErrNotOwner", err)
	}
	if err := u.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := u.TryAcquire(); ok || err != nil {
		t.Errorf("no-Owner TryAcquire while held unowned: got (%v, %v); want (false, nil): it must not re-enter", ok, err)
	}
	if ok, err := o.TryAcquire(); ok || err != nil {
		t.Errorf("owner TryAcquire while held unowned: got (%v, %v); want (false, nil)", ok, err)
	}
	if err := o.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("owner Release while held unowned: got %v; want ErrNotOwner", err)
	}
	if got := o.Depth(); got != 0 {
		t.Errorf("owner Depth while held unowned = %d; want 0", got)
	}
	if got := u.Depth(); got != 1 {
		t.Errorf("no-Owner Depth = %d; want 1", got)
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := u.Acquire(tctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second no-Owner Acquire: got %v; want DeadlineExceeded", err)
	}
	if err := u.Release(); err != nil {
		t.Fatal(err)
	}
	if u.Locked() {
		t.Errorf("locked after the no-Owner Release")
	}
	if err := u.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("second no-Owner Release: got %v; want ErrNotOwner", err)
	}
	// An owner's hold is not the no-Owner view's.
	if err := o.Acquire(ctx); err != nil {
		t.Fatal(err)
	}
	if err := u.Release(); !errors.Is(err, ErrNotOwner) {
		t.Errorf("no-Owner Release of an owner's hold: got %v; want ErrNotOwner", err)
	}
	if ok, err := u.TryAcquire(); ok || err != nil {
		t.Errorf("no-Owner TryAcquire of an owner's hold: got (%v, %v); want (false, nil)", ok, err)
	}
	if err := o.Release(); err != nil {
		t.Fatal(err)
	}
}

// TestRLockNoOwnerSlowPaths drives the cases the no-Owner fast
// paths (one CAS each) must hand to the slow paths: a holder in another
// participant, a dead holder (the owner-died flag makes the releasing CAS
// fail), and recovery with Consistent.
func TestRLockNoOwnerSlowPaths(t *testing.T) {
	ctx := context.Background()
	for _, consistent := range []bool{false, true} {
		seg, name := newSegment(t)
		other, err := shm.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		r, err := NewRLock(seg, "r")
		if err != nil {
			t.Fatal(err)
		}
		ro, err := OpenRLock(other, "r")
		if err != nil {
			t.Fatal(err)
		}
		u, o := r, r.As(NewOwner())
		if err := ro.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		if err := u.Release(); !errors.Is(err, ErrNotOwner) {
			t.Errorf("no-Owner Release of another participant's hold: got %v; want ErrNotOwner", err)
		}
		if got, want := r.Holder(), other.Token(); got != want {
			t.Errorf("Holder after a refused Release = %v; want %v", got, want)
		}
		other.Close() // the holder leaves: its token is dead now
		if err := u.Acquire(ctx); !errors.Is(err, ErrOwnerDead) {
			t.Fatalf("no-Owner Acquire after holder left: got %v; want ErrOwnerDead", err)
		}
		if err := o.Release(); !errors.Is(err, ErrNotOwner) {
			t.Errorf("owner Release of the no-Owner takeover: got %v; want ErrNotOwner", err)
		}
		if consistent {
			if err := u.Consistent(); err != nil {
				t.Fatal(err)
			}
		}
		if err := u.Release(); err != nil {
			t.Fatalf("no-Owner Release after takeover (consistent %v): %v", consistent, err)
		}
		err = u.Acquire(ctx)
		if !consistent {
			if !errors.Is(err, ErrNotRecoverable) {
				t.Errorf("no-Owner Acquire of unrecoverable: got %v; want ErrNotRecoverable", err)
			}
			if err := u.Release(); !errors.Is(err, ErrNotOwner) {
				t.Errorf("no-Owner Release of unrecoverable (held by no one): got %v; want ErrNotOwner", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("no-Owner Acquire after recovery: %v", err)
		}
		if err := u.Release(); err != nil {
			t.Fatal(err)
		}
		if r.Locked() {
			t.Errorf("locked after the last no-Owner Release")
		}
	}
}

// TestRLockOwnerHandover has goroutines with distinct Owners (and some
// through the handle, for no Owner) take one RLock in turn, re-entering it. A
// goroutine that mistook itself for the holder while another holds (the
// owner slot cleared after the releasing CAS instead of before) would
// re-enter instead of waiting, and the plain counter would lose updates or
// the race detector would report it.
func TestRLockOwnerHandover(t *testing.T) {
	seg, _ := newSegment(t)
	r, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	n, per := 6, 5000
	if testing.Short() {
		per = 1000
	}
	u := r
	counter := 0
	var wg sync.WaitGroup
	for g := 0; g < n; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := context.Background()
			mine := r.As(NewOwner())
			for i := 0; i < per; i++ {
				if g%3 == 0 {
					if err := u.Acquire(ctx); err != nil {
						t.Error(err)
						return
					}
					counter++
					if err := u.Release(); err != nil {
						t.Error(err)
						return
					}
					continue
				}
				if err := mine.Acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				if d := mine.Depth(); d != 1 {
					t.Errorf("Depth after first Acquire = %d; want 1", d)
					return
				}
				if err := mine.Acquire(ctx); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := mine.Release(); err != nil {
					t.Error(err)
					return
				}
				if err := mine.Release(); err != nil {
					t.Error(err)
					return
				}
				if d := mine.Depth(); d != 0 {
					t.Errorf("Depth after last Release = %d; want 0", d)
					return
				}
			}
		}()
	}
	wg.Wait()
	if counter != n*per {
		t.Errorf("counter = %d; want %d", counter, n*per)
	}
}

// TestRLockAttachmentClosedWhileHeld: an attachment of this process closes
// while its Owner holds the RLock 2 deep (its Release never runs). Another
// attachment of the same process takes the lock over through a handle
// with no Owner (as ctypes Value.Update does) and must own that hold: Consistent and Release
// succeed, and afterwards the lock works for Owners and no-Owner handles of
// both the old and a new attachment. With one process-wide owner slot, the
// closed attachment's Owner id stayed behind and the no-Owner handle's
// Consistent and Release returned ErrNotOwner, leaving the lock held.
func TestRLockAttachmentClosedWhileHeld(t *testing.T) {
	seg, name := newSegment(t)
	r, err := NewRLock(seg, "r")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	other, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	ro, err := OpenRLock(other, "r")
	if err != nil {
		t.Fatal(err)
	}
	ro = ro.As(NewOwner())
	for i := 0; i < 2; i++ {
		if err := ro.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
	}
	other.Close()
	u := r
	if err := u.Acquire(ctx); !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("no-Owner Acquire after the holder's attachment closed: got %v; want ErrOwnerDead", err)
	}
	if got := u.Depth(); got != 1 {
		t.Errorf("no-Owner Depth after take-over = %d; want 1", got)
	}
	if err := u.Consistent(); err != nil {
		t.Errorf("no-Owner Consistent after take-over: %v", err)
	}
	if err := u.Release(); err != nil {
		t.Fatalf("no-Owner Release after take-over: %v", err)
	}
	if r.Locked() {
		t.Fatalf("still locked after the no-Owner Release")
	}
	// A new attachment and the old one's handle each work normally.
	again, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	ra, err := OpenRLock(again, "r")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*RLock{r, r.As(NewOwner()), ra, ra.As(NewOwner())} {
		if err := l.Acquire(ctx); err != nil {
			t.Fatal(err)
		}
		if err := l.Release(); err != nil {
			t.Errorf("Release: %v", err)
		}
		if l.Locked() {
			t.Fatalf("locked after Release")
		}
	}
}
