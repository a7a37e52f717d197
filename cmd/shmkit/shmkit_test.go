package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/shmkit/shmkit/internal/benchkit"
	"github.com/shmkit/shmkit/internal/seghdr"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	// create-and-hold NAME: create a segment, say ready, sleep until
	// killed (the creator then dies without cleaning up).
	testproc.Register("create-and-hold", func() {
		if _, err := shm.Create(testproc.Arg(0), 1<<16); err != nil {
			testproc.Fatalf("create: %v", err)
		}
		testproc.Ready()
		time.Sleep(time.Hour)
	})
	// shmkit ARGS...: the command as main runs it, signals included.
	testproc.Register("shmkit", func() {
		os.Exit(run(interruptible(), testproc.Args(), os.Stdout, os.Stderr))
	})
}

// marked lists the processes whose environment holds mark.
func marked(mark string) (pids []int, benchChildren int) {
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, []byte(mark)) {
			continue
		}
		pids = append(pids, pid)
		if bytes.Contains(env, []byte("SHMKIT_REEXEC=benchkit/")) {
			benchChildren++
		}
	}
	return pids, benchChildren
}

// shmkit runs the command in-process and returns its exit code and output.
func shmkit(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(context.Background(), args, &out, &errb)
	return rc, out.String(), errb.String()
}

// privateDir points shm.Dir() at a directory of this test's own, so the
// tool sees only the segments the test made (and children inherit it).
func privateDir(t *testing.T) string {
	d := t.TempDir()
	t.Setenv("SHMKIT_DIR", d)
	return d
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// deadSegment has a child create name and then SIGKILLs and reaps it.
func deadSegment(t *testing.T, name string) {
	t.Helper()
	c := testproc.Start(t, "create-and-hold", testproc.Options{Args: []string{name}, Timeout: time.Minute})
	c.WaitReady()
	c.Kill()
	c.ExitSignal()
}

func TestGcRemovesDeadKeepsLive(t *testing.T) {
	dir := privateDir(t)
	// dead: creator killed, nobody attached → removed.
	deadSegment(t, "dead")
	// live: created by this (live) process → kept.
	live, err := shm.Create("live", 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { live.Close() })
	// orphan-attached: creator killed, but this process has it attached → kept.
	deadSegment(t, "orphan-attached")
	att, err := shm.Open("orphan-attached")
	if err != nil {
		t.Fatal(err)
	}
	// notshm: some other file → never touched.
	if err := os.WriteFile(filepath.Join(dir, "notshm"), []byte("hello, not a segment at all, long enough for a header......................"), 0o600); err != nil {
		t.Fatal(err)
	}

	rc, out, errOut := shmkit(t, "gc", "-n")
	if rc != 0 || !strings.Contains(out, "would remove dead") || strings.Contains(out, "live") || strings.Contains(out, "orphan") {
		t.Fatalf("gc -n: rc %d, out %q, stderr %q; want only dead listed", rc, out, errOut)
	}
	if !exists(filepath.Join(dir, "dead")) {
		t.Fatal("gc -n removed a segment")
	}
	rc, out, _ = shmkit(t, "gc", "-v")
	if rc != 0 {
		t.Fatalf("gc: rc %d; want 0", rc)
	}
	for name, want := range map[string]bool{"dead": false, "live": true, "orphan-attached": true, "notshm": true} {
		if got := exists(filepath.Join(dir, name)); got != want {
			t.Errorf("after gc, %s exists = %v; want %v (output %q)", name, got, want, out)
		}
	}
	if !strings.Contains(out, "kept orphan-attached (attached by a live process)") {
		t.Errorf("gc -v output %q; want the attached segment kept for that reason", out)
	}
	// Once the last attachment is gone, the orphan goes too.
	att.Close()
	shmkit(t, "gc")
	if exists(filepath.Join(dir, "orphan-attached")) {
		t.Error("gc kept orphan-attached after its last attachment closed")
	}
	if !exists(filepath.Join(dir, "live")) {
		t.Error("gc removed the live segment")
	}
}

// A creator that died before publishing the magic leaves a file with a
// valid header and no magic (only where Create falls back to O_CREAT, so
// the test writes one): gc recognises and removes it.
func TestGcRemovesHalfCreated(t *testing.T) {
	dir := privateDir(t)
	deadSegment(t, "half")
	f, err := os.OpenFile(filepath.Join(dir, "half"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(make([]byte, 8), 0) // unpublish: magic back to zero
	f.Close()
	// A file that merely starts with zeros is not taken for one.
	os.WriteFile(filepath.Join(dir, "zeros"), make([]byte, 4096), 0o600)
	rc, out, _ := shmkit(t, "gc")
	if rc != 0 || !strings.Contains(out, "removed half") || !strings.Contains(out, "never initialised") {
		t.Errorf("gc: rc %d, out %q; want half removed as never initialised", rc, out)
	}
	if exists(filepath.Join(dir, "half")) || !exists(filepath.Join(dir, "zeros")) {
		t.Errorf("after gc: half exists %v, zeros exists %v; want false, true", exists(filepath.Join(dir, "half")), exists(filepath.Join(dir, "zeros")))
	}
}

// A segment whose header has a layout major version this gc does not know
// may be a newer release's live segment: gc keeps it unless -f, and still
// removes a dead creator's segment beside it.
func TestGcKeepsUnknownVersion(t *testing.T) {
	dir := privateDir(t)
	deadSegment(t, "future")
	deadSegment(t, "dead")
	f, err := os.OpenFile(filepath.Join(dir, "future"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	var hdr [seghdr.ReadSize]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil {
		t.Fatal(err)
	}
	binary.LittleEndian.PutUint32(hdr[seghdr.VersionOff:], 2<<16|3)
	binary.LittleEndian.PutUint64(hdr[seghdr.CsumOff:], xxhash.Sum64(hdr[seghdr.CsumStart:seghdr.CsumOff]))
	if _, err := f.WriteAt(hdr[:], 0); err != nil {
		t.Fatal(err)
	}
	f.Close()

	rc, out, errOut := shmkit(t, "gc", "-v")
	if rc != 0 || !strings.Contains(out, "kept future (layout version 2.3 unknown to this shmkit (-f removes it))") ||
		!strings.Contains(out, "removed dead") {
		t.Errorf("gc -v: rc %d, out %q, stderr %q; want future kept for its version, dead removed", rc, out, errOut)
	}
	if !exists(filepath.Join(dir, "future")) || exists(filepath.Join(dir, "dead")) {
		t.Fatalf("after gc: future exists %v, dead exists %v; want true, false", exists(filepath.Join(dir, "future")), exists(filepath.Join(dir, "dead")))
	}
	if rc, out, _ := shmkit(t, "gc", "-f"); rc != 0 || !strings.Contains(out, "removed future") || exists(filepath.Join(dir, "future")) {
		t.Errorf("gc -f: rc %d, out %q, future exists %v; want it removed", rc, out, exists(filepath.Join(dir, "future")))
	}
}

func TestLsInspectRm(t *testing.T) {
	dir := privateDir(t)
	s, err := shm.Create("seg-one", 1<<16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.CreateObject("counter", shm.MakeKind("TEST"), 1<<16, 64, nil); err != nil {
		t.Fatal(err)
	}
	deadSegment(t, "seg-dead")

	rc, out, errOut := shmkit(t, "ls")
	if rc != 0 {
		t.Fatalf("ls: rc %d, stderr %q", rc, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("ls printed %d lines; want header + 2:\n%s", len(lines), out)
	}
	if !strings.Contains(lines[1], "seg-dead") || !strings.Contains(lines[1], "dead") {
		t.Errorf("ls line %q; want seg-dead with a dead creator", lines[1])
	}
	if !strings.Contains(lines[2], "seg-one") || !strings.Contains(lines[2], "alive") || !strings.Contains(lines[2], "1 live") {
		t.Errorf("ls line %q; want seg-one, creator alive, 1 live participant", lines[2])
	}

	rc, out, _ = shmkit(t, "ls", "-json")
	var rows []lsRow
	if err := json.Unmarshal([]byte(out), &rows); rc != 0 || err != nil || len(rows) != 2 ||
		rows[0].Name != "seg-dead" || rows[0].CreatorState != "dead" ||
		rows[1].Name != "seg-one" || rows[1].CreatorPid != os.Getpid() || rows[1].Live != 1 || rows[1].Objects != 1 {
		t.Errorf("ls -json: rc %d, %v, rows %+v; want seg-dead (dead creator) and seg-one (ours, 1 live, 1 object)", rc, err, rows)
	}

	rc, out, _ = shmkit(t, "inspect", "seg-one")
	if rc != 0 || !strings.Contains(out, `"counter"`) || !strings.Contains(out, "TEST") || !strings.Contains(out, "ready") {
		t.Errorf("inspect: rc %d, output:\n%s\nwant the object \"counter\" of kind TEST, ready", rc, out)
	}
	if rc, _, _ := shmkit(t, "inspect", "missing"); rc != 1 {
		t.Errorf("inspect missing: rc %d; want 1", rc)
	}

	os.WriteFile(filepath.Join(dir, "plain"), []byte("x"), 0o600)
	if rc, _, _ := shmkit(t, "rm", "plain"); rc != 1 || !exists(filepath.Join(dir, "plain")) {
		t.Errorf("rm of a non-segment: rc %d; want 1 and the file kept", rc)
	}
	if rc, out, _ := shmkit(t, "rm", "seg-one"); rc != 0 || exists(filepath.Join(dir, "seg-one")) {
		t.Errorf("rm seg-one: rc %d (%q); want 0 and the file gone", rc, out)
	}
	// The mapping keeps working after rm (docs/robustness.md F15).
	if err := s.Health(); err == nil {
		t.Error("Health after rm = nil; want ErrUnlinked")
	}
}

func TestBenchSmall(t *testing.T) {
	out := t.TempDir()
	rc, table, errOut := shmkit(t, "bench", "-placement", "pair", "-modes", "throughput,pingpong", "-sizes", "64B,4KiB", "-transports", "chan,unix,pipe", "-duration", "10ms", "-rounds", "2", "-out", out)
	if rc != 0 {
		t.Fatalf("bench: rc %d, stderr %q", rc, errOut)
	}
	for _, want := range []string{"shmkit bench ·", "cores", "unix", "pipe", "chan", "64B", "4KiB", "1.00×", "wall time"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	rep := readReport(t, out)
	if got, want := len(rep.Rows), 3*2*2; got != want {
		t.Fatalf("JSON rows %d; want %d", got, want)
	}
	for _, r := range rep.Rows {
		if r.Err != "" || len(r.Runs) != 2 || r.MsgsPerSec.Median <= 0 {
			t.Errorf("row %s %d %s: err %q, %d runs, %.0f msgs/s; want 2 clean runs", r.Transport, r.Size, r.Mode, r.Err, len(r.Runs), r.MsgsPerSec.Median)
		}
		if r.Transport == "unix" && r.Ratio != 1 {
			t.Errorf("unix ratio to itself %v; want 1", r.Ratio)
		}
	}
	svg, err := os.ReadFile(filepath.Join(out, "bench.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.HasSuffix(bytes.TrimSpace(svg), []byte("</svg>")) || bytes.Count(svg, []byte("<polyline")) != 6 {
		t.Errorf("SVG malformed or without 3 lines per panel:\n%.300s", svg)
	}
}

func TestBenchAblations(t *testing.T) {
	out := t.TempDir()
	modes := "throughput,pingpong"
	if testing.Short() {
		modes = "throughput" // ten children, not twenty: each costs a second under -race
	}
	rc, table, errOut := shmkit(t, "bench", "-ablations", "-placement", "pair", "-modes", modes, "-sizes", "512B", "-duration", "5ms", "-rounds", "1", "-out", out)
	if rc != 0 {
		t.Fatalf("bench -ablations: rc %d, stderr %q", rc, errOut)
	}
	for _, k := range benchkit.Knobs() {
		if !strings.Contains(table, "knob "+k.Name+":") {
			t.Errorf("table lacks knob %s:\n%s", k.Name, table)
		}
	}
	rep := readReport(t, out)
	own := map[string]string{}
	for _, k := range benchkit.Knobs() {
		own[k.Name] = k.Settings[0].Name
	}
	n := 0
	for _, kr := range rep.Knobs {
		if kr.Mode == "pingpong" && kr.Knob == "batch" && kr.Setting == "on" {
			if kr.Gain != 0 {
				t.Errorf("batch on, ping-pong: gain %v; want none (throughput only)", kr.Gain)
			}
			continue
		}
		if kr.Gain <= 0 {
			t.Errorf("%s=%s %s: gain %v; want > 0", kr.Knob, kr.Setting, kr.Mode, kr.Gain)
		}
		if kr.Setting == own[kr.Knob] && kr.Gain != 1 {
			t.Errorf("%s=%s is shmkit's own setting: gain %v; want 1", kr.Knob, kr.Setting, kr.Gain)
		}
		n++
	}
	if n == 0 {
		t.Errorf("JSON holds no knob comparisons")
	}
}

func TestBenchInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	var out, errb bytes.Buffer
	start := time.Now()
	rc := run(ctx, []string{"bench", "-transports", "unix", "-sizes", "64B", "-duration", "5s", "-out", ""}, &out, &errb)
	if rc != 130 {
		t.Errorf("interrupted bench: rc %d; want 130 (stderr %q)", rc, errb.String())
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("interrupted bench took %v; want it to stop soon after the cancel", d)
	}
}

// Ctrl-C in the middle of a run: the command stops its peer process,
// exits 130 and leaves nothing behind, not under SHMKIT_DIR, not in TMPDIR,
// not in the output directory, and no process.
func TestBenchCtrlC(t *testing.T) {
	dir := privateDir(t)
	tmp := t.TempDir()
	out := filepath.Join(t.TempDir(), "results")
	mark := "SHMKIT_TEST_MARK=" + testproc.Name(t)
	c := testproc.Start(t, "shmkit", testproc.Options{
		Args:    []string{"bench", "-transports", "unix,shm-spsc,shm-queue,lab", "-sizes", "64B", "-duration", "5s", "-out", out},
		Env:     []string{mark, "TMPDIR=" + tmp},
		Timeout: time.Minute,
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, n := marked(mark); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no benchmark peer process within 20s; output:\n%s", c.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	sent := time.Now()
	c.Signal(syscall.SIGINT)
	if err := c.Wait(); err == nil || !strings.Contains(err.Error(), "exit status 130") {
		t.Fatalf("after SIGINT: %v; want exit status 130", err)
	}
	// Generous: a parent left waiting 10 s in accept for a peer killed
	// before it connected was the bug this guards against.
	if d := time.Since(sent); d > 8*time.Second {
		t.Errorf("exit took %v after SIGINT; want it to stop promptly", d)
	}
	if !strings.Contains(c.Output(), "interrupted") {
		t.Errorf("output %q does not say it was interrupted", c.Output())
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		pids, _ := marked(mark)
		if len(pids) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %v outlived the interrupted bench", pids)
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, d := range []string{dir, tmp} {
		if ents, err := os.ReadDir(d); err != nil || len(ents) != 0 {
			t.Errorf("%s after the interrupted bench: %v %v; want empty", d, ents, err)
		}
	}
	if exists(out) {
		t.Errorf("interrupted bench wrote %s; want no half results", out)
	}
}

func TestUsage(t *testing.T) {
	if rc, _, _ := shmkit(t); rc != 2 {
		t.Errorf("no command: rc %d; want 2", rc)
	}
	if rc, _, errOut := shmkit(t, "frobnicate"); rc != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: rc %d, stderr %q; want 2 and a message", rc, errOut)
	}
	if rc, _, _ := shmkit(t, "bench", "-sizes", "zero"); rc != 2 {
		t.Errorf("bad size: rc %d; want 2", rc)
	}
	if rc, _, _ := shmkit(t, "bench", "-transports", "carrier-pigeon"); rc != 2 {
		t.Errorf("bad transport: rc %d; want 2", rc)
	}
}
