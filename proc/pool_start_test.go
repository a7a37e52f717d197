package proc_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/poolbench"
	"github.com/shmkit/shmkit/proc"
)

// TestPoolReplacementKilledAtStart: replacement workers SIGKILLed the
// instant they appear, before their ready greeting, ran no task: they are
// replaced again, and the queued task runs (or, if a kill came after the
// greeting, fails as that worker's task with a *WorkerError), never with
// the start error of a worker that never ran it. (Found by the soak.)
func TestPoolReplacementKilledAtStart(t *testing.T) {
	for round := range 3 {
		p, err := proc.NewPool(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		seen := map[int]bool{}
		for _, c := range proc.ActiveChildren() {
			seen[c.Pid()] = true
			syscall.Kill(c.Pid(), syscall.SIGKILL) // the idle first worker
		}
		r := poolbench.Square.ApplyAsync(p, 7) // the slot starts a replacement
		kills := 0
		for end := time.Now().Add(5 * time.Second); kills < 2 && time.Now().Before(end); time.Sleep(50 * time.Microsecond) {
			for _, c := range proc.ActiveChildren() {
				if !seen[c.Pid()] {
					seen[c.Pid()] = true
					syscall.Kill(c.Pid(), syscall.SIGKILL)
					kills++
				}
			}
		}
		v, err := r.Get(ctx)
		var we *proc.WorkerError
		switch {
		case err == nil && v != 49:
			t.Errorf("round %d: Get = %d; want 49", round, v)
		case err != nil && !errors.As(err, &we):
			t.Errorf("round %d: after %d workers were killed at start, the task failed with %v; want it run, or a *WorkerError", round, kills, err)
		}
		p.Terminate()
		cancel()
	}
}
