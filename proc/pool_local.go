package proc

import (
	"context"
	"fmt"
)

// The in-process backend: each worker slot is a goroutine that calls the
// tasks directly (multiprocessing.dummy). A worker "incarnation" is a run
// of the initializer followed by up to MaxTasksPerChild tasks.

func (p *Pool) localSlot(_ int, started chan<- error) {
	defer p.slots.Done()
	first := true
	for {
		var initErr error
		if in := p.opt.Initializer; in != nil {
			if err := in.local(p.ctx); err != nil {
				initErr = fmt.Errorf("%w: %q: %w", ErrInitializer, in.name, err)
			}
		}
		if first {
			first = false
			started <- initErr
			if initErr != nil {
				return
			}
		}
		for n := 0; p.opt.MaxTasksPerChild == 0 || n < p.opt.MaxTasksPerChild; n++ {
			j := p.take(0)
			if j == nil {
				return
			}
			if initErr != nil {
				p.fail(j, initErr)
				break // try the initializer again
			}
			p.runLocal(j)
		}
	}
}

func (p *Pool) runLocal(j *job) {
	if p.opt.TaskTimeout == 0 {
		deliver := j.w.runLocal(p.ctx)
		if p.claim(j) {
			deliver()
			j.w.finish(nil)
		}
		return
	}
	ctx, cancel := context.WithTimeout(p.ctx, p.opt.TaskTimeout)
	defer cancel()
	ch := make(chan func(), 1)
	go func() { ch <- j.w.runLocal(ctx) }()
	select {
	case deliver := <-ch:
		if p.claim(j) {
			deliver()
			j.w.finish(nil)
		}
	case <-ctx.Done():
		// The goroutine cannot be killed: it is abandoned with a cancelled
		// context, and whatever it returns is dropped.
		p.fail(j, &WorkerError{Task: j.task, ExitCode: -1, Err: ErrTimeout})
	}
}
