package proc_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/internal/procstat"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// FDArgs is what listFDs gets: a handle in an anonymous segment and a
// queue for the answer (the same segment).
type FDArgs struct {
	V   *ctypes.Value[int64]
	Out *ring.TypedQueue[[]string]
}

var listFDs = proc.Func("list-fds", func(ctx context.Context, a FDArgs) error {
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return err
	}
	names, err := d.Readdirnames(-1)
	d.Close()
	if err != nil {
		return err
	}
	var out []string
	for _, n := range names {
		fd, _ := strconv.Atoi(n)
		if fd < 3 {
			continue
		}
		if target, err := os.Readlink("/proc/self/fd/" + n); err == nil {
			out = append(out, fmt.Sprintf("%d %s", fd, target))
		}
	}
	wd, _ := os.Getwd()
	out = append(out, "env "+os.Getenv("PROC_TEST_ENV"), "dir "+wd)
	return a.Out.Put(ctx, out)
})

// TestNoDescriptorLeak opens descriptors in the parent, one of them
// without close-on-exec, and checks that the child holds none of them:
// only its pipes, its segment and the Go runtime's own descriptors (epoll,
// cgroup files). It also
// checks the Env and Dir options.
func TestNoDescriptorLeak(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	leak := filepath.Join(dir, "leak")
	if err := os.WriteFile(leak, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(leak, syscall.O_RDONLY, 0) // no O_CLOEXEC: exec passes it on
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	f, err := os.Open(leak)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	m := proc.NewManager()
	t.Cleanup(func() { m.Close() })
	a := FDArgs{V: proc.Value[int64](m, 0), Out: proc.Queue[[]string](m)}
	p := listFDs.New(a, &proc.Options{Env: []string{"PROC_TEST_ENV=yes"}, Dir: dir})
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
	if err := p.Join(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := a.Out.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pipes := 0
	for _, l := range got {
		switch {
		case strings.HasPrefix(l, "env "):
			if l != "env yes" {
				t.Errorf("child environment: %q; want PROC_TEST_ENV=yes", l)
			}
		case strings.HasPrefix(l, "dir "):
			if l != "dir "+dir {
				t.Errorf("child directory: %q; want %q", l, dir)
			}
		case strings.Contains(l, " pipe:"):
			pipes++
		case strings.Contains(l, " /memfd:shmkit"), strings.Contains(l, " anon_inode:"),
			strings.Contains(l, " /sys/fs/cgroup/"): // the Go runtime watches its CPU quota
		default:
			t.Errorf("child holds descriptor %s", l)
		}
	}
	if pipes != 2 { // the lifeline and the result pipe
		t.Errorf("child holds %d pipes; want 2: %q", pipes, got)
	}
}

// Pids collects the pids of the daemons a middle process starts.
type Pids struct {
	Q       *ring.TypedQueue[int]
	Daemon  bool
	Outlive bool
}

var sleeper = proc.Func("sleeper", func(ctx context.Context, _ struct{}) error {
	time.Sleep(watchdog)
	return nil
})

var middle = proc.Func("middle", func(ctx context.Context, a Pids) error {
	var pids []int
	for range 2 {
		p := sleeper.New(struct{}{}, &proc.Options{Daemon: a.Daemon, OutliveParent: a.Outlive})
		// Start from a goroutine that exits locked to its thread, which
		// makes Go end the thread: the kernel sends the parent-death
		// signal when the forking thread exits (Go issue 27505), so a
		// child forked there would die now.
		errc := make(chan error)
		go func() {
			runtime.LockOSThread()
			errc <- p.Start()
		}()
		if err := <-errc; err != nil {
			return err
		}
		pids = append(pids, p.Pid())
	}
	// A child's start and exit: time for those threads to end.
	if err := exitWith.Start(ctx, "ok").Join(ctx); err != nil {
		return err
	}
	for _, pid := range pids {
		if err := a.Q.Put(ctx, pid); err != nil {
			return err
		}
	}
	time.Sleep(watchdog)
	return nil
})

// TestChildrenDieWithParent SIGKILLs a process that started two daemon
// children (and, in the second run, two plain ones) from threads that have
// since ended: the children must live until then, and every one must be
// gone within 1 s after. In the third run the children were started with
// OutliveParent and must live on, adopted by another process.
func TestChildrenDieWithParent(t *testing.T) {
	for _, tc := range []struct{ daemon, outlive bool }{{true, false}, {false, false}, {false, true}} {
		t.Run(fmt.Sprintf("daemon=%v/outlive=%v", tc.daemon, tc.outlive), func(t *testing.T) {
			ctx := ctxT(t)
			m := proc.NewManager()
			t.Cleanup(func() { m.Close() })
			a := Pids{Q: proc.Queue[int](m), Daemon: tc.daemon, Outlive: tc.outlive}
			mid := middle.Start(ctx, a)
			var pids []int
			for range 2 {
				pid, err := a.Q.Get(ctx)
				if err != nil {
					t.Fatal(err)
				}
				pids = append(pids, pid)
			}
			t.Cleanup(func() {
				for _, pid := range pids {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			})
			for _, pid := range pids {
				if !alive(pid) {
					t.Fatalf("child %d died before its parent (killed with the thread that started it?)", pid)
				}
			}
			if err := mid.Kill(); err != nil {
				t.Fatal(err)
			}
			mid.Join(ctx)
			if tc.outlive {
				for _, pid := range pids {
					if !alive(pid) || ppid(pid) == mid.Pid() {
						t.Errorf("child %d asked to outlive its parent: alive %v, parent %d", pid, alive(pid), ppid(pid))
					}
				}
				return
			}
			deadline := time.Now().Add(time.Second) // a watchdog: death takes microseconds
			for _, pid := range pids {
				for alive(pid) {
					if time.Now().After(deadline) {
						t.Fatalf("child %d still alive 1 s after its parent was killed", pid)
					}
					time.Sleep(5 * time.Millisecond)
				}
			}
		})
	}
}

// ppid returns pid's parent pid from /proc, 0 if it cannot be read.
func ppid(pid int) int {
	st, err := procstat.Read(pid)
	if err != nil {
		return 0
	}
	return st.PPid
}
