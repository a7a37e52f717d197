package cgofreetests

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func TestMain(m *testing.M) { testproc.Main(m) }

func init() { testproc.Register("it-worker", itWorker) }

var kindCounter = shm.MakeKind("CNTR")

// libraryPackages are the packages users import: none may need cgo.
var libraryPackages = []string{
	"github.com/shmkit/shmkit/shm",
	"github.com/shmkit/shmkit/futex",
	"github.com/shmkit/shmkit/ring",
	"github.com/shmkit/shmkit/ctypes",
}

// TestLibraryIsCgoFree lists the library's dependencies with cgo enabled
// and fails if any of them has cgo files or pulls in runtime/cgo.
func TestLibraryIsCgoFree(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	cmd := exec.Command(gobin, append([]string{"list", "-deps", "-f", "{{.ImportPath}} {{len .CgoFiles}}"}, libraryPackages...)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if len(f) != 2 {
			t.Fatalf("unexpected go list line %q", line)
		}
		seen++
		if f[0] == "runtime/cgo" || f[0] == "C" || f[1] != "0" {
			t.Errorf("library depends on cgo through %s (%s cgo files)", f[0], f[1])
		}
	}
	if seen < len(libraryPackages) {
		t.Fatalf("go list reported %d packages; want at least %d", seen, len(libraryPackages))
	}
}

// itWorker opens segment Arg(0), takes jobs from queue "jobs" until it is
// closed, and for each adds the job's value to a plain, non-atomic counter
// under lock "mu". It sends how many jobs it did.
func itWorker() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seg, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer seg.Close()
	jobs, err := ring.OpenQueue(seg, "jobs", nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	mu, err := futex.OpenLock(seg, "mu")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	counter, err := seg.OpenObject("counter", kindCounter, 1<<16)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	done := 0
	for {
		msg, err := jobs.Get(ctx)
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		if err != nil {
			testproc.Fatalf("Get: %v", err)
		}
		if err := mu.Acquire(ctx); err != nil {
			testproc.Fatalf("Acquire: %v", err)
		}
		b := counter.Bytes()
		// Deliberately a non-atomic read-modify-write: only the lock
		// keeps the total exact.
		v := binary.LittleEndian.Uint64(b)
		binary.LittleEndian.PutUint64(b, v+binary.LittleEndian.Uint64(msg))
		if err := mu.Release(); err != nil {
			testproc.Fatalf("Release: %v", err)
		}
		done++
	}
	testproc.Send("%d", done)
}

// TestQueueAndLockAcrossProcesses: 3 worker processes share one Queue and
// one Lock; every job is done exactly once and the locked total is exact.
func TestQueueAndLockAcrossProcesses(t *testing.T) {
	jobsN := 30000
	if testing.Short() {
		jobsN = 3000
	}
	name := testproc.Name(t)
	seg, err := shm.Create(name, 4<<20)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { seg.Close(); shm.Unlink(name) })
	jobs, err := ring.NewQueue(seg, "jobs", &ring.QueueOptions{MaxSize: 256, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := futex.NewLock(seg, "mu"); err != nil {
		t.Fatal(err)
	}
	counter, err := seg.CreateObject("counter", kindCounter, 1<<16, 8, nil)
	if err != nil {
		t.Fatal(err)
	}
	var workers []*testproc.Child
	for i := 0; i < 3; i++ {
		workers = append(workers, testproc.Start(t, "it-worker", testproc.Options{Args: []string{name}}))
	}
	for _, w := range workers {
		w.WaitReady()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	want := uint64(0)
	for i := 1; i <= jobsN; i++ {
		if err := jobs.Put(ctx, binary.LittleEndian.AppendUint64(nil, uint64(i))); err != nil {
			t.Fatalf("Put %d: %v", i, err)
		}
		want += uint64(i)
	}
	if err := jobs.Close(); err != nil {
		t.Fatal(err)
	}
	done := 0
	for _, w := range workers {
		n, err := strconv.Atoi(w.Recv(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		done += n
		w.MustWait()
	}
	if done != jobsN {
		t.Errorf("workers did %d jobs; want %d", done, jobsN)
	}
	if got := binary.LittleEndian.Uint64(counter.Bytes()); got != want {
		t.Errorf("total = %d; want %d", got, want)
	}
}

// TestReadmeShowsExample checks that the README's Go block is the example
// program verbatim, so the front door never shows code that does not build,
// and that the README names the two commands a newcomer needs.
func TestReadmeShowsExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("../examples/queue-and-lock/main.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "```go\n")
	if !ok {
		t.Fatal("README.md has no ```go block")
	}
	block, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("README.md's ```go block is not closed")
	}
	if block != string(src) {
		t.Errorf("README.md's Go block differs from examples/queue-and-lock/main.go; copy the file into it")
	}
	for _, cmd := range []string{"go run ./cmd/shmkit bench", "CGO_ENABLED=0 go test ./..."} {
		if !strings.Contains(string(readme), cmd) {
			t.Errorf("README.md does not show the command %q", cmd)
		}
	}
}

// TestReadmeExample builds the README's two-process example with
// CGO_ENABLED=0 and runs it.
func TestReadmeExample(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program; skipped under -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not on PATH")
	}
	exe := filepath.Join(t.TempDir(), "queue-and-lock")
	build := exec.Command(gobin, "build", "-o", exe, "github.com/shmkit/shmkit/examples/queue-and-lock")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(exe).CombinedOutput()
	if err != nil {
		t.Fatalf("run: %v\n%s", err, out)
	}
	want := "worker: did 10 jobs\nparent: total = 55\n"
	if string(out) != want {
		t.Errorf("output:\n%s\nwant:\n%s", out, want)
	}
}
