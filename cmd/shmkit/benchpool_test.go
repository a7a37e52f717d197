package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/internal/poolbench"
)

// TestBenchPool runs a tiny `shmkit bench pool` (no CPython, to stay
// fast) and checks a row per op with its ratio to the socket loop.
func TestBenchPool(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes; skipped under -short")
	}
	rc, out, errOut := shmkit(t, "bench", "pool", "-rounds", "1", "-scale", "0.01", "-no-python")
	if rc != 0 {
		t.Fatalf("bench pool: rc %d, stderr %q", rc, errOut)
	}
	for _, op := range poolbench.Ops {
		re := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(op) + `\s+\S+\s+-\s+-\s+[0-9.]+×\s*$`)
		if !re.MatchString(out) {
			t.Errorf("no row for %s in:\n%s", op, out)
		}
	}
	if !strings.Contains(out, "socket:") {
		t.Errorf("no socket baseline line in:\n%s", out)
	}
	if rc, _, _ := shmkit(t, "bench", "pool", "-workers", "0"); rc != 2 {
		t.Errorf("bench pool -workers 0: rc %d, want 2", rc)
	}
}
