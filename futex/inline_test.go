package futex

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestInlining fails if the uncontended paths stop inlining into callers.
func TestInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-gcflags=-m", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m: %v\n%s", err, out)
	}
	for _, fn := range []string{
		"(*Lock).Acquire",
		"(*Lock).Release",
		"(*RLock).Acquire", // the fast path without an Owner
		"(*lockCore).tryFast",
		"(*FastPath).TryAcquire",
		"(*FastPath).TryRelease",
		"(*semCore).tryAcquire",
		"(*Semaphore).Acquire",
	} {
		if !strings.Contains(string(out), "can inline "+fn+" ") && !strings.Contains(string(out), "can inline "+fn+"\n") {
			t.Errorf("%s does not inline", fn)
		}
	}
}
