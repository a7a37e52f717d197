package proc

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. They mirror the AssertionErrors and ValueErrors of
// CPython's multiprocessing.process; test with errors.Is.
var (
	// ErrStartedTwice: Start on a Process already started (CPython: "cannot
	// start a process twice").
	ErrStartedTwice = errors.New("proc: cannot start a process twice")
	// ErrNotStarted: Join, Terminate or Kill on a Process not started
	// ("can only join a started process").
	ErrNotStarted = errors.New("proc: process not started")
	// ErrNotChild: Join, Terminate or Kill on the Process of CurrentProcess
	// or ParentProcess ("can only join a child process").
	ErrNotChild = errors.New("proc: not a child of this process")
	// ErrDaemonAfterStart: SetDaemon on a started Process.
	ErrDaemonAfterStart = errors.New("proc: daemon can only be set before start")
	// ErrDaemonChildren: Start in a daemon process ("daemonic processes are
	// not allowed to have children").
	ErrDaemonChildren = errors.New("proc: daemonic processes are not allowed to have children")
	// ErrNoMain: Start in a binary whose main (or TestMain) did not call
	// Main first. The child would run main again instead of its target.
	ErrNoMain = errors.New("proc: Main was not called first in main (or TestMain)")
	// ErrNotRegistered: Start of a Runner type never registered with
	// Register.
	ErrNotRegistered = errors.New("proc: type not registered")
	// ErrArgs: an argument value that cannot travel to a child (a handle
	// whose segment is closed or whose codec is not shmkit's, a handle
	// inside a map or interface, a value gob cannot encode).
	ErrArgs = errors.New("proc: cannot pass argument")
	// ErrPanic: the child's target panicked; the ExitError holds the value
	// and the stack.
	ErrPanic = errors.New("proc: child panicked")
	// ErrSignaled: the child was killed by a signal (ExitCode -N).
	ErrSignaled = errors.New("proc: child killed by signal")
)

// ExitError is how a child that did not succeed is reported by Join and
// Err: the error its target returned, or the panic it raised (value and
// stack), or its exit status. errors.Is(err, ErrPanic) and
// errors.Is(err, ErrSignaled) tell the cases apart.
type ExitError struct {
	Name  string // the Process's name
	Pid   int
	Code  int    // the exit code: N for exit(N), -N for signal N
	Err   string // the target's error text, "" if none was reported
	Panic string // the panic value, "" if it did not panic
	Stack string // the panicking goroutine's stack
}

// Error describes the failure in one line (the stack is left out).
func (e *ExitError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "proc: %s (pid %d): ", e.Name, e.Pid)
	switch {
	case e.Panic != "":
		fmt.Fprintf(&b, "panic: %s", e.Panic)
	case e.Err != "":
		b.WriteString(e.Err)
	case e.Code < 0:
		fmt.Fprintf(&b, "killed by signal %d", -e.Code)
	default:
		fmt.Fprintf(&b, "exit status %d", e.Code)
	}
	return b.String()
}

// Is reports ErrPanic for a panic and ErrSignaled for a signal death.
func (e *ExitError) Is(target error) bool {
	return target == ErrPanic && e.Panic != "" || target == ErrSignaled && e.Code < 0
}
