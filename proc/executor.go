package proc

import "context"

// Shutdown is concurrent.futures' Executor.shutdown(wait=True,
// cancel_futures=cancelQueued): it closes the pool, cancels the tasks no
// worker has taken when cancelQueued is set (their futures report
// Cancelled), and waits for the workers to finish the rest and exit. It
// returns ctx.Err() if ctx ends first (the pool goes on shutting down).
// `with ProcessPoolExecutor() as ex:` is defer p.Shutdown(ctx, false);
// `with Pool() as p:` is defer p.Terminate(), as CPython's Pool.__exit__.
func (p *Pool) Shutdown(ctx context.Context, cancelQueued bool) error {
	p.Close()
	if cancelQueued {
		p.mu.Lock()
		queued := append([]*job(nil), p.q[p.head:]...)
		p.mu.Unlock()
		for _, j := range queued {
			p.cancel(j)
		}
	}
	return p.Join(ctx)
}
