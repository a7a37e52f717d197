package testproc_test

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
)

func init() {
	testproc.Register("echo", func() {
		f := testproc.File(0)
		b := make([]byte, 64)
		n, _ := f.Read(b)
		testproc.Send("%s %s", testproc.Arg(0), b[:n])
	})
	testproc.Register("hang", func() {
		testproc.Ready()
		hangHere()
	})
	testproc.Register("fail", func() { testproc.Fatalf("on purpose") })
}

//go:noinline
func hangHere() { time.Sleep(time.Hour) }

func TestMain(m *testing.M) { testproc.Main(m) }

func TestArgsFilesAndReport(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w.WriteString("through fd")
	w.Close()
	c := testproc.Start(t, "echo", testproc.Options{Args: []string{"arg0"}, Files: []*os.File{r}})
	if got := c.Recv(time.Minute); got != "arg0 through fd" {
		t.Errorf("Recv = %q; want %q", got, "arg0 through fd")
	}
	c.MustWait()
}

func TestFailureReported(t *testing.T) {
	c := testproc.Start(t, "fail", testproc.Options{})
	err := c.Wait()
	if err == nil || !strings.Contains(err.Error(), "on purpose") {
		t.Errorf("Wait = %v; want the helper's message", err)
	}
}

// The deadline kills a hung helper and the report shows where it hung.
func TestDeadline(t *testing.T) {
	c := testproc.Start(t, "hang", testproc.Options{Timeout: 200 * time.Millisecond})
	c.WaitReady()
	err := c.Wait()
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Fatalf("Wait = %v; want a deadline error", err)
	}
	if !strings.Contains(err.Error(), "hangHere") {
		t.Errorf("deadline report lacks the goroutine dump:\n%v", err)
	}
}

// A helper the test leaves running is killed and reaped when the test ends.
func TestCleanupKills(t *testing.T) {
	var pid int
	t.Run("leaves a child", func(t *testing.T) {
		c := testproc.Start(t, "hang", testproc.Options{})
		c.WaitReady()
		pid = c.Pid()
	})
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("kill(%d, 0) after the test ended = %v; want ESRCH (killed and reaped)", pid, err)
	}
}

func TestName(t *testing.T) {
	a, b := testproc.Name(t), testproc.Name(t)
	if a == b {
		t.Errorf("Name returned %q twice", a)
	}
	for _, c := range a {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.ContainsRune("._-", c)) {
			t.Errorf("Name %q holds %q", a, c)
		}
	}
}
