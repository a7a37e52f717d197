package reexec_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/internal/reexec"
)

func init() {
	reexec.Register("write-args", func() {
		f := reexec.File(0)
		fmt.Fprintf(f, "%s %s %s", reexec.Role(), strings.Join(os.Args[1:], ","), os.Getenv("REEXEC_TEST"))
		f.Close()
	})
	reexec.Register("fail", func() { os.Exit(5) })
}

func TestMain(m *testing.M) {
	reexec.Main()
	os.Exit(m.Run())
}

// TestCommand runs a role with arguments, an environment entry and a
// descriptor, and reads what it wrote there.
func TestCommand(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c, err := reexec.Command("write-args", reexec.Options{Args: []string{"a", "b"}, Files: []*os.File{w}, Env: []string{"REEXEC_TEST=x"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); err != nil {
		t.Fatal(err)
	}
	if want := "write-args a,b x"; string(got) != want {
		t.Errorf("child wrote %q; want %q", got, want)
	}
}

// TestExitStatus checks that a role's exit status reaches Wait, and that an
// unknown role is refused before anything starts.
func TestExitStatus(t *testing.T) {
	c, err := reexec.Command("fail", reexec.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Wait(); c.ProcessState.ExitCode() != 5 {
		t.Errorf("Wait: %v, exit code %d; want 5", err, c.ProcessState.ExitCode())
	}
	if _, err := reexec.Command("no-such-role", reexec.Options{}); !errors.Is(err, reexec.ErrNoRole) {
		t.Errorf("unknown role: got %v; want ErrNoRole", err)
	}
}
