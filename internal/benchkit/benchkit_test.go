package benchkit_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/benchkit"
)

func TestMain(m *testing.M) {
	benchkit.Main()
	os.Exit(m.Run())
}

// Every knob's settings name registered transports, all but shmkit's own
// setting ablation twins, and no two the same.
func TestKnobs(t *testing.T) {
	for _, k := range benchkit.Knobs() {
		if len(k.Settings) < 2 {
			t.Errorf("knob %s has %d settings; want at least 2", k.Name, len(k.Settings))
		}
		seen := map[string]bool{}
		for i, s := range k.Settings {
			tr, err := benchkit.Lookup(s.Transport)
			if err != nil {
				t.Errorf("knob %s set %s: %v", k.Name, s.Name, err)
				continue
			}
			if seen[s.Transport] {
				t.Errorf("knob %s: transport %s twice", k.Name, s.Transport)
			}
			seen[s.Transport] = true
			if i > 0 && k.Name != "batch" && !tr.Ablation {
				t.Errorf("knob %s set %s: %s is not marked Ablation", k.Name, s.Name, s.Transport)
			}
		}
	}
}

// Every transport carries messages both ways across a real child process,
// in both modes, and reports counts that match what was sent.
func TestTransports(t *testing.T) {
	sizes := []int{8, 64 << 10}
	if testing.Short() {
		sizes = []int{64}
	}
	for _, name := range benchkit.Names() {
		tr, err := benchkit.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if testing.Short() && tr.Ablation {
			// A twin differs from its transport only in options (ring's
			// wait) or in the lab ring's switches, which TestLabRing*
			// covers in-process; spawning costs about a second under -race.
			continue
		}
		for _, size := range sizes {
			for _, mode := range []string{benchkit.PingPong, benchkit.Throughput} {
				t.Run(name+"/"+mode+"/"+benchkit.SizeLabel(size), func(t *testing.T) {
					const n = 200
					res, err := benchkit.Run(context.Background(), tr, mode, benchkit.Options{Size: size, N: n, Placement: benchkit.Pair})
					if tr.ThroughputOnly && mode == benchkit.PingPong {
						if !errors.Is(err, benchkit.ErrMode) {
							t.Fatalf("ping-pong on %s: err %v; want ErrMode", name, err)
						}
						return
					}
					if err != nil {
						t.Fatal(err)
					}
					if res.Msgs != n || res.MsgsPerSec <= 0 || res.Elapsed <= 0 {
						t.Fatalf("got %d msgs, %.0f msgs/s in %v; want %d, > 0, > 0", res.Msgs, res.MsgsPerSec, res.Elapsed, n)
					}
					if mode == benchkit.PingPong && (res.RTTMedian <= 0 || res.RTTP99 < res.RTTMedian) {
						t.Fatalf("round trip p50 %v p99 %v; want 0 < p50 <= p99", res.RTTMedian, res.RTTP99)
					}
					if !tr.InProcess() && res.Probe <= 0 {
						t.Fatalf("probe %v; want > 0 for a cross-process run", res.Probe)
					}
				})
			}
		}
	}
}

func TestDurationBound(t *testing.T) {
	tr, _ := benchkit.Lookup("socketpair")
	start := time.Now()
	res, err := benchkit.Run(context.Background(), tr, benchkit.Throughput, benchkit.Options{Size: 512, Duration: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Msgs == 0 || res.Elapsed < 50*time.Millisecond {
		t.Errorf("got %d msgs in %v; want some, in at least 50ms", res.Msgs, res.Elapsed)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("a 50ms run took %v", d)
	}
}

func TestCancelKillsChild(t *testing.T) {
	tr, _ := benchkit.Lookup("shm-spsc")
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := benchkit.Run(ctx, tr, benchkit.PingPong, benchkit.Options{Size: 64, Duration: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v; want context.DeadlineExceeded", err)
	}
}

func TestTooLarge(t *testing.T) {
	tr, _ := benchkit.Lookup("seqpacket")
	if tr.Fits(1 << 30) {
		t.Skip("seqpacket send buffer allows 1 GiB records here")
	}
	_, err := benchkit.Run(context.Background(), tr, benchkit.PingPong, benchkit.Options{Size: 1 << 30, N: 1})
	if !errors.Is(err, benchkit.ErrTooLarge) {
		t.Fatalf("err %v; want ErrTooLarge", err)
	}
}

func TestSizes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
	}{{"8B", 8}, {"64", 64}, {"4KiB", 4096}, {"4k", 4096}, {"1MiB", 1 << 20}, {"1m", 1 << 20}} {
		got, err := benchkit.ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "x", "3GiB"} {
		if _, err := benchkit.ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted; want an error", bad)
		}
	}
	for _, n := range benchkit.Sizes {
		got, err := benchkit.ParseSize(benchkit.SizeLabel(n))
		if err != nil || got != n {
			t.Errorf("ParseSize(SizeLabel(%d)) = %d, %v", n, got, err)
		}
	}
}

func TestDescribe(t *testing.T) {
	m := benchkit.Describe()
	if m.Cores < 1 || !strings.HasPrefix(m.Go, "go") || !strings.HasPrefix(m.Kernel, "Linux") {
		t.Errorf("Describe() = %+v; want cores >= 1, a Go version and a Linux kernel", m)
	}
}

// An Idle run paces its messages (n of them take at least (n-1) intervals)
// and bills both processes' CPU; chan has no second process and refuses.
func TestIdle(t *testing.T) {
	tr, _ := benchkit.Lookup("pipe")
	const n, gap = 20, 2 * time.Millisecond
	res, err := benchkit.Run(context.Background(), tr, benchkit.Idle, benchkit.Options{Size: 64, N: n, Interval: gap})
	if err != nil {
		t.Fatal(err)
	}
	if res.Msgs != n || res.Elapsed < (n-1)*gap {
		t.Fatalf("got %d msgs in %v; want %d in at least %v", res.Msgs, res.Elapsed, n, (n-1)*gap)
	}
	if res.ChildCPU <= 0 || res.ParentCPU <= 0 || res.CPUPerMsg() <= 0 {
		t.Fatalf("CPU parent %v child %v per msg %v; want all > 0", res.ParentCPU, res.ChildCPU, res.CPUPerMsg())
	}
	ch, _ := benchkit.Lookup("chan")
	if _, err := benchkit.Run(context.Background(), ch, benchkit.Idle, benchkit.Options{Size: 64, N: 1}); !errors.Is(err, benchkit.ErrMode) {
		t.Fatalf("idle on chan: err %v; want ErrMode", err)
	}
}
