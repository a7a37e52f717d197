package ctypes_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
)

func init() {
	testproc.Register("ctypes-getlock-add", helperGetLockAdd)
}

// getLockAdd is the straight port of CPython's
//
//	for _ in range(per):
//	    with v.get_lock():
//	        v.value += 1
//
// run by goroutines goroutines at once, all sharing the handle v. A lock
// that two goroutines both believe they hold can end up held by none of
// them: a one-minute watchdog turns that hang into an error.
func getLockAdd(v *ctypes.Value[int64], goroutines, per int) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	errc := make(chan error, goroutines)
	var wg sync.WaitGroup
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				l := v.GetLock()
				if err := l.Acquire(ctx); err != nil {
					errc <- err
					return
				}
				v.Store(v.Load() + 1)
				if err := l.Release(); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	return <-errc
}

// TestGetLockExcludesGoroutines: 8 goroutines sharing one Value handle each
// add 1 under GetLock() 20,000 times (2,000 under -short); every increment
// must survive. With a lock that re-entered for every goroutine sharing the
// handle, 21,181 of 160,000 did.
func TestGetLockExcludesGoroutines(t *testing.T) {
	const goroutines = 8
	per := 20000
	if testing.Short() {
		per = 2000
	}
	for _, kind := range []string{"RLock", "Lock"} {
		t.Run("lock="+kind, func(t *testing.T) {
			seg, _ := newSegment(t, 1<<20)
			var o *ctypes.Options
			if kind == "Lock" {
				l, err := futex.NewLock(seg, "l")
				if err != nil {
					t.Fatal(err)
				}
				o = &ctypes.Options{Lock: l}
			}
			v, err := ctypes.NewValue[int64](seg, "n", 0, o)
			if err != nil {
				t.Fatal(err)
			}
			if err := getLockAdd(v, goroutines, per); err != nil {
				t.Fatal(err)
			}
			if got, want := v.Load(), int64(goroutines*per); got != want {
				t.Errorf("after %d goroutines x %d locked increments: %d; want %d", goroutines, per, got, want)
			}
		})
	}
}

// helperGetLockAdd opens the Value Arg(1) of segment Arg(0) and runs
// getLockAdd with IntArg(2) goroutines of IntArg(3) increments each, and
// as many Updates, once the parent's Event "go" is set.
func helperGetLockAdd() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	v, err := ctypes.OpenValue[int64](seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	start, err := futex.OpenEvent(seg, "go")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := start.Wait(ctx); err != nil {
		testproc.Fatalf("start: %v", err)
	}
	goroutines, per := testproc.IntArg(2), testproc.IntArg(3)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range per {
			if _, err := v.Update(ctx, func(x int64) int64 { return x + 1 }); err != nil {
				testproc.Fatalf("Update: %v", err)
			}
		}
	}()
	if err := getLockAdd(v, goroutines, per); err != nil {
		testproc.Fatalf("%v", err)
	}
	wg.Wait()
	testproc.Send("done")
}

// TestGetLockExcludesProcesses: 3 processes, each with 4 goroutines adding
// under GetLock() and one adding through Update, all at once on one
// Value; the total must be exact.
func TestGetLockExcludesProcesses(t *testing.T) {
	const procs, goroutines = 3, 4
	per := 5000
	if testing.Short() {
		per = 500
	}
	seg, name := newSegment(t, 1<<20)
	v, err := ctypes.NewValue[int64](seg, "n", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, err := futex.NewEvent(seg, "go")
	if err != nil {
		t.Fatal(err)
	}
	var cs []*testproc.Child
	for range procs {
		c := testproc.Start(t, "ctypes-getlock-add", testproc.Options{
			Args: []string{name, "n", strconv.Itoa(goroutines), strconv.Itoa(per)},
		})
		c.WaitReady()
		cs = append(cs, c)
	}
	start.Set()
	for _, c := range cs {
		if got := c.Recv(2 * time.Minute); got != "done" {
			t.Fatalf("child: got %q; want done\n%s", got, c.Output())
		}
		c.MustWait()
	}
	if got, want := v.Load(), int64(procs*(goroutines+1)*per); got != want {
		t.Errorf("after %d processes x (%d goroutines under GetLock + 1 Updating) x %d: %d; want %d", procs, goroutines, per, got, want)
	}
}

// TestUpdateWhileHoldingGetLock: Update takes the lock GetLock returns and
// never re-enters it, so an Update by a holder of GetLock() waits until its
// context ends and changes nothing (as documented), and one after the
// Release applies.
func TestUpdateWhileHoldingGetLock(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	v, err := ctypes.NewValue[int64](seg, "n", 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	l := v.GetLock()
	if err := l.Acquire(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := v.Update(ctx, func(x int64) int64 { return x + 1 }); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Update while holding GetLock(): got %v; want DeadlineExceeded", err)
	}
	if err := l.Release(); err != nil {
		t.Fatal(err)
	}
	if x, err := v.Update(context.Background(), func(x int64) int64 { return x + 1 }); err != nil || x != 2 {
		t.Errorf("Update after Release = %d, %v; want 2, nil", x, err)
	}
}
