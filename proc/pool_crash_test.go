package proc

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/procstat"
)

type slowArg struct {
	X int
	D time.Duration
}

var (
	slowSquare = Task("test.slowSquare", func(_ context.Context, a slowArg) (int, error) {
		time.Sleep(a.D)
		return a.X * a.X, nil
	})
	// dieHow ends its worker process the way its argument says.
	dieHow = Task("test.die", func(_ context.Context, how string) (int, error) {
		switch how {
		case "exit":
			os.Exit(3)
		case "sigkill":
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			time.Sleep(time.Minute)
		case "crash": // a panic no one recovers, in another goroutine
			done := make(chan int)
			go func() { panic("crash in a goroutine") }()
			<-done
		}
		return 0, nil
	})
)

// procState returns the state letter of /proc/pid/stat, or 0 if the
// process is gone.
func procState(pid int) byte {
	st, err := procstat.Read(pid)
	if err != nil {
		return 0
	}
	return st.State
}

// killBusyWorker stops a random worker process of p and kills it if it is
// running a task it has not begun to answer (so that exactly that task is
// lost); otherwise it lets it go on. It returns the killed pid, or 0.
func killBusyWorker(t *testing.T, p *Pool) int {
	p.procs.mu.Lock()
	defer p.procs.mu.Unlock()
	var ws []*procWorker
	for w := range p.procs.m {
		ws = append(ws, w)
	}
	if len(ws) == 0 {
		return 0
	}
	w := ws[rand.IntN(len(ws))]
	pid := w.proc.Pid()
	if syscall.Kill(pid, syscall.SIGSTOP) != nil {
		return 0
	}
	for deadline := time.Now().Add(10 * time.Second); procState(pid) != 'T'; {
		if s := procState(pid); s == 0 || s == 'Z' || time.Now().After(deadline) {
			return 0
		}
		time.Sleep(100 * time.Microsecond)
	}
	if m := w.mark.Load(); m == 0 || m&markAnswering != 0 {
		syscall.Kill(pid, syscall.SIGCONT)
		return 0
	}
	syscall.Kill(pid, syscall.SIGKILL)
	return pid
}

func TestPoolWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills worker processes for seconds")
	}
	for _, retries := range []int{0, 10} {
		t.Run("retries="+strconv.Itoa(retries), func(t *testing.T) {
			p := newTestPool(t, 4, PoolOptions{Retries: retries})
			ctx := testCtx(t, 2*time.Minute)
			const tasks, kills = 1000, 10
			rs := make([]*AsyncResult[int], tasks)
			for i := range rs {
				rs[i] = slowSquare.ApplyAsync(p, slowArg{i, 5 * time.Millisecond})
			}
			killed := map[int]bool{}
			for len(killed) < kills {
				if rs[tasks-1].Ready() {
					t.Fatalf("all tasks done after %d kills; want %d during the run", len(killed), kills)
				}
				if pid := killBusyWorker(t, p); pid != 0 {
					killed[pid] = true
				}
				time.Sleep(5 * time.Millisecond)
			}
			failedBy := map[int]int{}
			for i, r := range rs {
				v, err := r.Get(ctx)
				if err == nil {
					if v != i*i {
						t.Fatalf("task %d: %d; want %d", i, v, i*i)
					}
					continue
				}
				var we *WorkerError
				if !errors.Is(err, ErrWorkerDied) || !errors.As(err, &we) || we.Signal != syscall.SIGKILL || we.ExitCode != -9 {
					t.Fatalf("task %d: %v; want ErrWorkerDied by SIGKILL", i, err)
				}
				if !killed[we.Pid] {
					t.Fatalf("task %d failed on worker %d, which the test did not kill", i, we.Pid)
				}
				failedBy[we.Pid]++
			}
			want := kills
			if retries > 0 {
				want = 0
			}
			if len(failedBy) != want {
				t.Fatalf("%d tasks failed (%v); want %d, one per kill", len(failedBy), failedBy, want)
			}
			for pid, n := range failedBy {
				if n != 1 {
					t.Fatalf("%d tasks failed on killed worker %d; want 1", n, pid)
				}
			}
			p.Close()
			if err := p.Join(testCtx(t, 5*time.Second)); err != nil {
				t.Fatalf("Join after Close: %v", err)
			}
		})
	}
}

func TestPoolWorkerExits(t *testing.T) {
	p := newTestPool(t, 2, PoolOptions{})
	ctx := testCtx(t, time.Minute)
	for _, tc := range []struct {
		how  string
		code int
	}{{"exit", 3}, {"sigkill", -9}, {"crash", 2}} {
		// A watchdog 100 times the few milliseconds a death takes to be
		// noticed (the worker's pipe once kept a dead worker's task waiting
		// for a drain timeout).
		_, err := dieHow.Apply(testCtx(t, 5*time.Second), p, tc.how)
		var we *WorkerError
		if !errors.Is(err, ErrWorkerDied) || !errors.As(err, &we) || we.ExitCode != tc.code {
			t.Fatalf("%s: %v; want ErrWorkerDied with exit code %d", tc.how, err, tc.code)
		}
		got, err := square.Map(ctx, p, ints(100))
		if err != nil || got[99] != 99*99 {
			t.Fatalf("after %s: %v", tc.how, err)
		}
	}
}

// ownerArgs is what the pool-owning helper process receives.
type ownerArgs struct{ PidFile string }

// daemonSleeper waits to be killed.
var daemonSleeper = Func("test.daemon-sleeper", func(ctx context.Context, _ struct{}) error {
	time.Sleep(time.Hour)
	return nil
})

// poolOwner starts a pool and two daemon processes, writes their pids to a
// file and waits to be killed.
var poolOwner = Func("test.pool-owner", func(ctx context.Context, a ownerArgs) error {
	p, err := NewPool(3, nil)
	if err != nil {
		return err
	}
	pids := p.procs.pids()
	for range 2 {
		d := daemonSleeper.New(struct{}{}, &Options{Daemon: true})
		if err := d.Start(); err != nil {
			return err
		}
		pids = append(pids, d.Pid())
	}
	var b []byte
	for _, pid := range pids {
		b = strconv.AppendInt(b, int64(pid), 10)
		b = append(b, '\n')
	}
	if err := os.WriteFile(a.PidFile+".tmp", b, 0o600); err != nil {
		return err
	}
	if err := os.Rename(a.PidFile+".tmp", a.PidFile); err != nil {
		return err
	}
	<-ctx.Done()
	time.Sleep(time.Hour)
	return nil
})

func TestPoolOwnerKilled(t *testing.T) {
	ctx := testCtx(t, time.Minute)
	pidFile := filepath.Join(t.TempDir(), "pids")
	owner := poolOwner.Start(ctx, ownerArgs{PidFile: pidFile})
	t.Cleanup(func() { owner.Kill(); owner.Join(context.Background()) })
	var pids []int
	for {
		if b, err := os.ReadFile(pidFile); err == nil {
			for _, f := range strings.Fields(string(b)) {
				pid, _ := strconv.Atoi(f)
				pids = append(pids, pid)
			}
			break
		}
		select {
		case <-owner.Done():
			t.Fatalf("pool owner exited: %v", owner.Err())
		case <-ctx.Done():
			t.Fatal("pool owner never wrote its workers' pids")
		case <-time.After(5 * time.Millisecond):
		}
	}
	if len(pids) != 5 {
		t.Fatalf("owner reported %d children; want 3 workers and 2 daemons", len(pids))
	}
	if err := owner.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	for {
		alive := slices.DeleteFunc(slices.Clone(pids), func(pid int) bool {
			s := procState(pid)
			return s == 0 || s == 'Z'
		})
		if len(alive) == 0 {
			break
		}
		if time.Since(killed) > time.Second {
			t.Fatalf("children %v (of workers and daemons %v) still alive 1 s after their owner was SIGKILLed", alive, pids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
