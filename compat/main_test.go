// Package compat_test ports test cases of CPython's Lib/test/_test_multiprocessing.py
// and Lib/test/test_concurrent_futures/ to shmkit's API. Each test names the
// CPython test it ports; where shmkit deliberately differs from CPython the
// comment says so and the test checks shmkit's documented behaviour.
// Cross-process cases use real child processes (proc re-executes this test
// binary), as CPython's do.
package compat_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/shmkit/shmkit/proc"
)

func TestMain(m *testing.M) {
	proc.Main()
	os.Exit(m.Run())
}

// watchdog bounds every wait that should end; a healthy run takes
// milliseconds. It is never an assertion on how long something took.
const watchdog = time.Minute

// short is the deadline of a wait that is meant to time out (CPython's
// timeout=0.1 style arguments).
const short = 50 * time.Millisecond

// ctxT returns a context ended by the watchdog or the test's end.
func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), watchdog)
	t.Cleanup(cancel)
	return ctx
}

// ctxShort returns a context that ends after short: CPython's timeout=short.
func ctxShort(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), short)
	t.Cleanup(cancel)
	return ctx
}

// manager returns a Manager closed when the test ends.
func manager(t *testing.T) *proc.Manager {
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	return m
}

// nowait returns an already-ended context: a non-blocking check
// (CPython's block=False or poll()'s default timeout 0).
func nowait() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
