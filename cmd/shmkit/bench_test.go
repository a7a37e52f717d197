package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The default placements are all measured, interleaved, each against its
// own Unix socket figure, with the CPU bill on every cross-process row and
// an idle table at the smallest size only.
func TestBenchPlacementsAndIdle(t *testing.T) {
	out := t.TempDir()
	rc, table, errOut := shmkit(t, "bench", "-sizes", "64B,4KiB", "-transports", "unix,pipe", "-duration", "10ms", "-idle", "20ms", "-rounds", "1", "-out", out)
	if rc != 0 {
		t.Fatalf("bench: rc %d, stderr %q", rc, errOut)
	}
	for _, want := range []string{"placement free:", "placement pair:", "placement shared:", "cpu/msg", "cpu/rtt", "idle waiter:", "free: waiter"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	rep := readReport(t, out)
	if got := strings.Join(rep.Placements, ","); got != "free,pair,shared" {
		t.Errorf("placements %q; want free,pair,shared", got)
	}
	// 3 placements × 2 transports × (2 sizes × 2 modes + 1 idle).
	if got, want := len(rep.Rows), 3*2*(2*2+1); got != want {
		t.Fatalf("JSON rows %d; want %d", got, want)
	}
	for _, r := range rep.Rows {
		if r.Err != "" || len(r.Runs) != 1 {
			t.Errorf("%s %s %d %s: err %q, %d runs; want 1 clean run", r.Placement, r.Transport, r.Size, r.Mode, r.Err, len(r.Runs))
			continue
		}
		if r.Mode == "idle" && r.Size != 64 {
			t.Errorf("idle row at %d bytes; want the smallest size only", r.Size)
		}
		if r.CPUPerMsg.Median <= 0 || r.Cores.Median <= 0 {
			t.Errorf("%s %s %d %s: cpu/msg %v, cores %v; want both > 0", r.Placement, r.Transport, r.Size, r.Mode, r.CPUPerMsg.Median, r.Cores.Median)
		}
		if r.Transport == "unix" && r.Mode != "idle" && r.Ratio != 1 {
			t.Errorf("%s unix ratio to itself %v; want 1", r.Placement, r.Ratio)
		}
	}
}

// readReport reads the bench.json that a bench run wrote to dir.
func readReport(t *testing.T, dir string) report {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "bench.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	return rep
}

// -markdown prints the README's tables: one column group per placement.
func TestBenchMarkdown(t *testing.T) {
	rc, md, errOut := shmkit(t, "bench", "-markdown", "-placement", "free,pair", "-sizes", "64B", "-transports", "unix,pipe", "-duration", "5ms", "-idle", "10ms", "-rounds", "1", "-out", "")
	if rc != 0 {
		t.Fatalf("bench -markdown: rc %d, stderr %q", rc, errOut)
	}
	for _, want := range []string{"| size | transport | free msgs/s | ×unix | cpu/msg | pair msgs/s |", "free round trip", "| 64B | unix |", "| 64B | pipe |", "Idle waiter", "| transport | free | pair |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
