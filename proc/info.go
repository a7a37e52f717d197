package proc

import (
	"os"
	"runtime"
	"slices"
	"sync"
)

// childSet is the set of started, unreaped children (ActiveChildren).
type childSet struct {
	sync.Mutex
	m map[*Process]struct{}
}

var children childSet

func (c *childSet) add(p *Process) {
	c.Lock()
	defer c.Unlock()
	if c.m == nil {
		c.m = make(map[*Process]struct{})
	}
	c.m[p] = struct{}{}
}

func (c *childSet) remove(p *Process) {
	c.Lock()
	defer c.Unlock()
	delete(c.m, p)
}

// ActiveChildren returns the children of this process that have started
// and not yet been reaped, ordered by pid.
func ActiveChildren() []*Process {
	children.Lock()
	out := make([]*Process, 0, len(children.m))
	for p := range children.m {
		out = append(out, p)
	}
	children.Unlock()
	slices.SortFunc(out, func(a, b *Process) int { return a.Pid() - b.Pid() })
	return out
}

// CurrentProcess returns the Process of this process: "MainProcess" in
// the original, the name its parent gave in a child. It can be asked for
// its Name, Pid and Daemon; Join, Terminate and Kill return ErrNotChild.
func CurrentProcess() *Process {
	return &Process{kind: kindCurrent, name: self.name, daemon: self.daemon, pid: os.Getpid(), started: true, done: make(chan struct{})}
}

// ParentProcess returns the Process of this process's parent in a child
// started by proc, nil in the original process (CPython's
// parent_process()). Its IsAlive reports whether the parent still runs.
func ParentProcess() *Process {
	if !self.child {
		return nil
	}
	return &Process{kind: kindParent, name: self.parent, pid: self.ppid, started: true, done: make(chan struct{})}
}

// CPUCount returns the number of CPUs this process may run on (CPython's
// cpu_count, or process_cpu_count since 3.13).
func CPUCount() int { return runtime.NumCPU() }
