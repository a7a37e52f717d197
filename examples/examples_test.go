// Package examples_test builds every example program with CGO_ENABLED=0,
// runs it and checks its output, and holds each port of a Python
// multiprocessing tutorial to at most twice the Python program's length.
package examples_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/procstat"
)

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
	buildOut  []byte
)

// build compiles every example into one temporary directory, once.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs programs; skipped under -short")
	}
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "shmkit-examples-")
		if buildErr != nil {
			return
		}
		cmd := exec.Command("go", "build", "-o", binDir+string(os.PathSeparator), "./...")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("go build ./examples/...: %v\n%s", buildErr, buildOut)
	}
	return binDir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// run runs example name with args and returns its output lines; it fails
// the test on a non-zero exit or after a generous watchdog.
func run(t *testing.T, name string, args ...string) []string {
	t.Helper()
	cmd := exec.Command(filepath.Join(build(t), name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(60 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
	}()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return strings.Split(strings.TrimRight(string(out), "\n"), "\n")
}

// wantLines checks that got holds exactly the lines of want, in any order.
func wantLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	g, w := slices.Sorted(slices.Values(got)), slices.Sorted(slices.Values(want))
	if !slices.Equal(g, w) {
		t.Errorf("output lines (sorted):\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(w, "\n"))
	}
}

// wantOrdered checks that got is exactly want, in order.
func wantOrdered(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestHello(t *testing.T) {
	out := run(t, "hello")
	parent := regexp.MustCompile(`^parent pid (\d+)$`).FindStringSubmatch(out[0])
	if parent == nil {
		t.Fatalf("first line %q names no parent pid", out[0])
	}
	child := regexp.MustCompile(`^(?:hello (\d)|hi bob) from (Process-\d+), pid (\d+), parent (\d+)$`)
	seen, pids := map[string]bool{}, map[string]bool{}
	for _, l := range out[1:] {
		m := child.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		if m[4] != parent[1] || m[3] == parent[1] || pids[m[3]] {
			t.Errorf("line %q: want a distinct child pid whose parent is %s", l, parent[1])
		}
		pids[m[3]] = true
		seen[m[1]] = true
	}
	for _, k := range []string{"0", "1", "2", "3", "4", ""} {
		if !seen[k] {
			t.Errorf("no line from child %q in\n%s", k, strings.Join(out, "\n"))
		}
	}
}

func TestLifecycle(t *testing.T) {
	out := run(t, "lifecycle")
	wantOrdered(t, out[:3], "before start: alive false", "started: alive true", "terminated: alive false exit code -15")
	m := regexp.MustCompile(`^daemon pid (\d+) dies with this process$`).FindStringSubmatch(out[len(out)-1])
	if m == nil {
		t.Fatalf("last line %q names no daemon pid", out[len(out)-1])
	}
	pid, _ := strconv.Atoi(m[1])
	deadline := time.Now().Add(10 * time.Second)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("daemon %d still alive 10 s after its parent exited", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	st, err := procstat.Read(pid)
	return err == nil && st.Live()
}

func TestTickets(t *testing.T) {
	wantOrdered(t, run(t, "tickets"), "sold 100 of 100 tickets, stock 0")
	// Unlocked, the check and the sale race: the shop oversells. A run
	// can be lucky, so allow a few.
	for try := 0; ; try++ {
		out := run(t, "tickets", "-unlocked")
		var sold, stock int
		if _, err := fmt.Sscanf(out[0], "sold %d of 100 tickets, stock %d", &sold, &stock); err != nil {
			t.Fatalf("output %q: %v", out[0], err)
		}
		if sold > 100 || stock < 0 {
			break
		}
		if try == 4 {
			t.Fatalf("5 unlocked runs never oversold (last: %q)", out[0])
		}
	}
}

func TestQueue(t *testing.T) {
	out := run(t, "queue")
	wantLines(t, out[:3], "message from child 0", "message from child 1", "message from child 2")
	wantOrdered(t, out[3:], "put timed out: the queue holds 3", "[0 1 2]", "get timed out: the queue is empty")
}

func TestProducerConsumer(t *testing.T) {
	out := run(t, "producer-consumer")
	last := out[len(out)-1]
	if last != "all 10 items done; the daemon consumers die with the parent" {
		t.Errorf("last line %q", last)
	}
	re := regexp.MustCompile(`^c[12] consumed (p[12]-[0-4])$`)
	var items []string
	for _, l := range out[:len(out)-1] {
		m := re.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("unexpected line %q", l)
		}
		items = append(items, m[1])
	}
	want := []string{"p1-0", "p1-1", "p1-2", "p1-3", "p1-4", "p2-0", "p2-1", "p2-2", "p2-3", "p2-4"}
	if slices.Sort(items); !slices.Equal(items, want) {
		t.Errorf("consumed %v, want each of %v once", items, want)
	}
}

func TestPool(t *testing.T) {
	out := run(t, "pool")
	squares := "[0 1 4 9 16 25 36 49 64 81]"
	if out[0] != squares+" <nil>" {
		t.Errorf("Map printed %q", out[0])
	}
	var cb []string
	for _, v := range []int{0, 1, 4, 9, 16, 25, 36, 49, 64, 81} {
		cb = append(cb, "callback got "+strconv.Itoa(v))
	}
	wantLines(t, out[1:11], cb...)
	wantOrdered(t, out[11:], squares, "get timed out")
}

func TestFutures(t *testing.T) {
	for _, args := range [][]string{nil, {"-threads"}} {
		out := run(t, "futures", args...)
		wantLines(t, out[:5], "completed 0", "completed 1", "completed 4", "completed 9", "completed 16")
		wantOrdered(t, out[5:], "[0 1 4 9 16] <nil>")
	}
}

func TestSemaphore(t *testing.T) {
	out := run(t, "semaphore")
	wantLines(t, out[:5], "user 0 is in a room", "user 1 is in a room", "user 2 is in a room", "user 3 is in a room", "user 4 is in a room")
	if last := out[len(out)-1]; last != "at most 2 users were in the rooms at once" && last != "at most 1 users were in the rooms at once" {
		t.Errorf("last line %q: more than 2 users inside at once?", last)
	}
}

func TestEvent(t *testing.T) {
	wantOrdered(t, run(t, "event"), "timeout waiter: Wait(100ms) returned false", "main: setting the event", "blocking waiter: the event is set")
}

func TestCondition(t *testing.T) {
	wantOrdered(t, run(t, "condition"), "stage 1 done", "stage 2 done")
}

func TestBarrier(t *testing.T) {
	out := run(t, "barrier")
	if len(out) != 8 {
		t.Fatalf("want 8 lines, got\n%s", strings.Join(out, "\n"))
	}
	wantLines(t, out[:4], "worker 0 is waiting", "worker 1 is waiting", "worker 2 is waiting", "worker 3 is waiting")
	wantLines(t, out[4:], "worker 0 passed the barrier", "worker 1 passed the barrier", "worker 2 passed the barrier", "worker 3 passed the barrier")
}

// TestShortAsPython holds every example that ports a Python program (the
// main.py beside it) to at most twice its length, counting neither
// imports, blank lines nor comments.
func TestShortAsPython(t *testing.T) {
	pys, err := filepath.Glob("*/main.py")
	if err != nil || len(pys) == 0 {
		t.Fatalf("no */main.py: %v", err)
	}
	for _, py := range pys {
		dir := filepath.Dir(py)
		g, p := codeLines(t, filepath.Join(dir, "main.go"), "//"), codeLines(t, py, "#")
		t.Logf("%-18s Go %3d lines, Python %3d lines, ratio %.2f", dir, g, p, float64(g)/float64(p))
		if g > 2*p {
			t.Errorf("%s: the Go port has %d lines, more than twice the Python's %d", dir, g, p)
		}
	}
}

// codeLines counts the lines of path that are not blank, not comments
// (lines starting with comment) and not imports.
func codeLines(t *testing.T, path, comment string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n, inImport := 0, false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		l := strings.TrimSpace(sc.Text())
		switch {
		case inImport:
			inImport = l != ")"
		case l == "import (":
			inImport = true
		case l == "", strings.HasPrefix(l, comment), strings.HasPrefix(l, "import "),
			comment == "#" && strings.HasPrefix(l, "from ") && strings.Contains(l, " import "):
		default:
			n++
		}
	}
	return n
}

func TestCrash(t *testing.T) {
	out := run(t, "crash")
	wantOrdered(t, out[:2], "the holder died mid-transfer: A=70 B=0", "repaired: A=100 B=0")
	if len(out) != 12 {
		t.Fatalf("want 12 lines, got\n%s", strings.Join(out, "\n"))
	}
	for x, l := range out[2:] {
		want := fmt.Sprintf("task %d: %d", x, x*x)
		if x == 7 {
			if !regexp.MustCompile(`^task 7: its worker died \(.*signal.*\); the pool goes on$`).MatchString(l) {
				t.Errorf("line %q: want task 7 failed by its worker's death", l)
			}
		} else if l != want {
			t.Errorf("line %q, want %q", l, want)
		}
	}
}

func TestPipe(t *testing.T) {
	wantOrdered(t, run(t, "pipe"), "hello from the child", "PING", "PONG", "EOF: the child closed its end")
}

func TestManager(t *testing.T) {
	out := run(t, "manager")
	if len(out) != 3 {
		t.Fatalf("want 3 lines, got\n%s", strings.Join(out, "\n"))
	}
	if want := "map[k0:0 k1:1 k2:4 k3:9 k4:16 k5:25 k6:36 k7:49 k8:64 k9:81]"; out[0] != want {
		t.Errorf("dict: %q; want %q", out[0], want)
	}
	list := strings.Fields(strings.Trim(out[1], "[]"))
	if slices.Sort(list); !slices.Equal(list, strings.Fields("0 1 2 3 4 5 6 7 8 9")) {
		t.Errorf("list %q: want each of 0..9 once", out[1])
	}
	if out[2] != "Namespace(a=10)" {
		t.Errorf("namespace: %q", out[2])
	}
}

func TestValueArray(t *testing.T) {
	wantOrdered(t, run(t, "value-array"), "3.1415927", "[0 -1 -2 -3 -4 -5 -6 -7 -8 -9]")
}
