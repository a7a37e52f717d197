package proc_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/proc"
)

var exitAfter = proc.Func("exit-after", func(ctx context.Context, code int) error {
	if code != 0 {
		return fmt.Errorf("child fails with %d", code)
	}
	return nil
})

// TestJoinAll joins children that succeed and fail: every child is
// joined, and exactly the failures come back.
func TestJoinAll(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var ps []*proc.Process
	for _, code := range []int{0, 3, 0, 5} {
		ps = append(ps, exitAfter.Start(ctx, code))
	}
	err := proc.JoinAll(ctx, ps...)
	for i, p := range ps {
		if p.IsAlive() {
			t.Errorf("child %d still alive after JoinAll", i)
		}
	}
	var ee *proc.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("JoinAll: %v; want the children's ExitErrors", err)
	}
	for _, want := range []string{"child fails with 3", "child fails with 5"} {
		if !containsErr(err, want) {
			t.Errorf("JoinAll: %v; want it to carry %q", err, want)
		}
	}
	if n := len(err.(interface{ Unwrap() []error }).Unwrap()); n != 2 {
		t.Errorf("JoinAll: %v: %d errors, want 2", err, n)
	}
	if err := proc.JoinAll(ctx); err != nil {
		t.Errorf("JoinAll of nothing: %v", err)
	}
}

// TestJoinAllContext returns the context's error when it ends first.
func TestJoinAllContext(t *testing.T) {
	p := sleeperFor.Start(context.Background(), time.Minute)
	defer func() { p.Kill(); p.Join(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := proc.JoinAll(ctx, p); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("JoinAll past its deadline: %v; want context.DeadlineExceeded", err)
	}
}

var sleeperFor = proc.Func("sleep-for", func(ctx context.Context, d time.Duration) error {
	time.Sleep(d)
	return nil
})

// containsErr reports whether one of the errors joined in err reads s.
func containsErr(err error, s string) bool {
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		if strings.HasSuffix(e.Error(), ": "+s) {
			return true
		}
	}
	return false
}

func TestMust(t *testing.T) {
	if got := proc.Must(42, nil); got != 42 {
		t.Errorf("Must(42, nil) = %d", got)
	}
	boom := errors.New("boom")
	defer func() {
		if r := recover(); r != boom {
			t.Errorf("Must(0, boom) panicked with %v; want boom", r)
		}
	}()
	proc.Must(0, boom)
	t.Error("Must(0, boom) returned")
}
