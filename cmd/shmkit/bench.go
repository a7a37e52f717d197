package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shmkit/shmkit/internal/benchkit"
	"golang.org/x/sys/unix"
)

// baseline is the transport every ratio is taken against.
const baseline = "unix"

// defaultTransports: the in-process reference, the socket and pipe
// baselines worth a row, and shmkit's transports with the default (hybrid)
// wait plus the futex-only wait (the other wait ablations are in bench/).
func defaultTransports() []string {
	out := []string{"chan", "unix", "pipe", "tcp"}
	for _, n := range benchkit.Names() {
		if strings.HasPrefix(n, "shm") && !strings.HasSuffix(n, "-spin") && !strings.HasSuffix(n, "-yield") {
			out = append(out, n)
		}
	}
	return out
}

// stat summarises one figure over the rounds of a cell.
type stat struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

func summarise(v []float64) stat {
	if len(v) == 0 {
		return stat{}
	}
	s := slices.Clone(v)
	slices.Sort(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return stat{Median: m, Min: s[0], Max: s[len(s)-1]}
}

// row is one transport × size × mode, over all rounds.
type row struct {
	Transport   string            `json:"transport"`
	Size        int               `json:"size"`
	Mode        string            `json:"mode"`
	Runs        []benchkit.Result `json:"runs"`
	Err         string            `json:"error,omitempty"`
	MsgsPerSec  stat              `json:"msgs_per_sec"`
	BytesPerSec stat              `json:"bytes_per_sec"`
	RTT         stat              `json:"rtt_p50_ns"`
	RTTP99      stat              `json:"rtt_p99_ns"`
	Probe       stat              `json:"probe_rtt_ns"`
	// Ratio to the Unix socket in the same run: msgs/s ÷ its msgs/s
	// (throughput), its round trip ÷ this round trip (ping-pong).
	// Both read "times better than the Unix socket".
	Ratio float64 `json:"ratio_to_unix,omitempty"`
}

func (r *row) finish() {
	var mps, bps, rtt, p99, probe []float64
	for _, x := range r.Runs {
		mps = append(mps, x.MsgsPerSec)
		bps = append(bps, x.BytesPerSec)
		if x.Mode == benchkit.PingPong {
			rtt = append(rtt, float64(x.RTTMedian))
			p99 = append(p99, float64(x.RTTP99))
		}
		if x.Probe > 0 {
			probe = append(probe, float64(x.Probe))
		}
	}
	r.MsgsPerSec, r.BytesPerSec = summarise(mps), summarise(bps)
	r.RTT, r.RTTP99, r.Probe = summarise(rtt), summarise(p99), summarise(probe)
}

// report is what bench writes as JSON.
type report struct {
	Machine    benchkit.Machine `json:"machine"`
	Started    time.Time        `json:"started"`
	WallSec    float64          `json:"wall_seconds"`
	Placement  string           `json:"placement"`
	Rounds     int              `json:"rounds"`
	Duration   string           `json:"duration_per_run"`
	Sizes      []int            `json:"sizes"`
	Transports []string         `json:"transports"`
	Rows       []*row           `json:"rows"`
	Notes      []string         `json:"notes,omitempty"`
}

func (rep *report) find(t string, size int, mode string) *row {
	for _, r := range rep.Rows {
		if r.Transport == t && r.Size == size && r.Mode == mode {
			return r
		}
	}
	return nil
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizesFlag := fs.String("sizes", "8B,64B,512B,4KiB,64KiB,1MiB", "message sizes, comma-separated")
	transFlag := fs.String("transports", strings.Join(defaultTransports(), ","), "transports, comma-separated, or \"all\" (have: "+strings.Join(benchkit.Names(), ",")+")")
	modesFlag := fs.String("modes", "throughput,pingpong", "what to measure: throughput, pingpong")
	dur := fs.Duration("duration", 150*time.Millisecond, "length of one measurement")
	rounds := fs.Int("rounds", 3, "measurements per transport and size, interleaved A B A B")
	placeFlag := fs.String("placement", "pair", "where the two processes run: pair (two CPUs, pinned), shared (one CPU), free (the scheduler decides)")
	out := fs.String("out", "bench-results", "directory for bench.json and bench.svg (\"\" writes neither)")
	jsonOut := fs.Bool("json", false, "print the JSON report on stdout instead of the table")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit bench [flags]\n\nCompares shmkit with Unix sockets, pipes and TCP loopback across two processes.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *rounds < 1 || *dur <= 0 {
		fs.Usage()
		return 2
	}
	var sizes []int
	for _, s := range strings.Split(*sizesFlag, ",") {
		n, err := benchkit.ParseSize(s)
		if err != nil {
			fmt.Fprintf(stderr, "shmkit bench: %v\n", err)
			return 2
		}
		sizes = append(sizes, n)
	}
	names := strings.Split(*transFlag, ",")
	if *transFlag == "all" {
		names = benchkit.Names()
	}
	var trs []*benchkit.Transport
	for _, n := range names {
		t, err := benchkit.Lookup(strings.TrimSpace(n))
		if err != nil {
			fmt.Fprintf(stderr, "shmkit bench: %v\n", err)
			return 2
		}
		trs = append(trs, t)
	}
	place, err := benchkit.ParsePlacement(*placeFlag)
	if err != nil {
		fmt.Fprintf(stderr, "shmkit bench: %v\n", err)
		return 2
	}
	var modes []string
	for _, m := range strings.Split(*modesFlag, ",") {
		if m != benchkit.Throughput && m != benchkit.PingPong {
			fmt.Fprintf(stderr, "shmkit bench: unknown mode %q\n", m)
			return 2
		}
		modes = append(modes, m)
	}

	rep := &report{
		Machine: benchkit.Describe(), Started: time.Now(), Rounds: *rounds,
		Duration: dur.String(), Sizes: sizes, Transports: names,
	}
	rep.Placement = placementText(place)
	prog := newProgress(stderr, len(sizes)*len(modes)*len(trs)**rounds)
	// Interleave: for each size and mode, round r runs every transport once
	// before round r+1 starts, so placement drift hits all of them alike.
	for _, size := range sizes {
		for _, mode := range modes {
			cell := make([]*row, len(trs))
			for i, t := range trs {
				cell[i] = &row{Transport: t.Name, Size: size, Mode: mode}
				rep.Rows = append(rep.Rows, cell[i])
			}
			for r := 0; r < *rounds; r++ {
				for i, t := range trs {
					if ctx.Err() != nil {
						prog.done()
						fmt.Fprintln(stderr, "shmkit bench: interrupted; child processes stopped, nothing left behind")
						return 130
					}
					prog.step(fmt.Sprintf("%-10s %-6s %-10s round %d/%d", mode, benchkit.SizeLabel(size), t.Name, r+1, *rounds))
					if cell[i].Err != "" {
						continue
					}
					res, err := benchkit.Run(ctx, t, mode, benchkit.Options{Size: size, Duration: *dur, Placement: place})
					if err != nil {
						if ctx.Err() != nil {
							continue
						}
						switch {
						case errors.Is(err, benchkit.ErrTooLarge):
							cell[i].Err = "too large"
						case errors.Is(err, benchkit.ErrMode):
							cell[i].Err = "n/a"
						default:
							cell[i].Err = err.Error()
						}
						continue
					}
					cell[i].Runs = append(cell[i].Runs, res)
				}
			}
			for _, r := range cell {
				r.finish()
			}
		}
	}
	prog.done()
	for _, r := range rep.Rows {
		base := rep.find(baseline, r.Size, r.Mode)
		if base == nil || len(base.Runs) == 0 || len(r.Runs) == 0 {
			continue
		}
		switch r.Mode {
		case benchkit.Throughput:
			r.Ratio = r.MsgsPerSec.Median / base.MsgsPerSec.Median
		case benchkit.PingPong:
			if r.RTT.Median > 0 {
				r.Ratio = base.RTT.Median / r.RTT.Median
			}
		}
	}
	rep.WallSec = time.Since(rep.Started).Seconds()
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else {
		printTable(stdout, rep, trs, sizes)
	}
	if *out != "" {
		if err := writeFiles(*out, rep); err != nil {
			fmt.Fprintf(stderr, "shmkit bench: %v\n", err)
			return 1
		}
		if !*jsonOut {
			fmt.Fprintf(stdout, "\nwrote %s and %s\n", filepath.Join(*out, "bench.json"), filepath.Join(*out, "bench.svg"))
		}
	}
	return 0
}

func writeFiles(dir string, rep *report) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "bench.svg"))
	if err != nil {
		return err
	}
	writeSVG(f, rep)
	return f.Close()
}

// progress keeps one status line on a terminal, or prints a line per
// step elsewhere (CI logs).
type progress struct {
	w     io.Writer
	tty   bool
	n, of int
	t0    time.Time
}

func newProgress(w io.Writer, of int) *progress {
	p := &progress{w: w, of: of, t0: time.Now()}
	if f, ok := w.(*os.File); ok {
		_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
		p.tty = err == nil
	}
	return p
}

func (p *progress) step(what string) {
	p.n++
	line := fmt.Sprintf("[%3d/%d %5.1fs] %s", p.n, p.of, time.Since(p.t0).Seconds(), what)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else if p.n == 1 || p.n%20 == 0 || p.n == p.of {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// Formatting helpers for the table.

func si(v float64) string {
	switch {
	case v >= 1e9:
		return fmt.Sprintf("%.2fG", v/1e9)
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	}
	return fmt.Sprintf("%.0f", v)
}

func dur(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2fµs", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}

func ratio(r float64) string {
	if r == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
		return "-"
	}
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func printTable(w io.Writer, rep *report, trs []*benchkit.Transport, sizes []int) {
	fmt.Fprintf(w, "shmkit bench · %s\n", rep.Machine)
	fmt.Fprintf(w, "%d interleaved rounds of %s per cell, %s; medians [min–max]; ×unix = times better than the Unix stream socket in this run; probe = spin ping-pong round trip beside each result (placement)\n\n",
		rep.Rounds, rep.Duration, rep.Placement)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "transport\tsize\tmsgs/s\t[min–max]\tGB/s\t×unix\trtt p50\t[min–max]\tp99\t×unix\tprobe\t")
	for _, size := range sizes {
		for _, t := range trs {
			tp := rep.find(t.Name, size, benchkit.Throughput)
			pp := rep.find(t.Name, size, benchkit.PingPong)
			cols := []string{t.Name, benchkit.SizeLabel(size)}
			var probes []float64
			if tp != nil && len(tp.Runs) > 0 {
				cols = append(cols, si(tp.MsgsPerSec.Median), "["+si(tp.MsgsPerSec.Min)+"–"+si(tp.MsgsPerSec.Max)+"]",
					fmt.Sprintf("%.3f", tp.BytesPerSec.Median/1e9), ratio(tp.Ratio))
				for _, r := range tp.Runs {
					probes = append(probes, float64(r.Probe))
				}
			} else {
				cols = append(cols, cellErr(tp), "", "", "")
			}
			if pp != nil && len(pp.Runs) > 0 {
				cols = append(cols, dur(pp.RTT.Median), "["+dur(pp.RTT.Min)+"–"+dur(pp.RTT.Max)+"]", dur(pp.RTTP99.Median), ratio(pp.Ratio))
				for _, r := range pp.Runs {
					probes = append(probes, float64(r.Probe))
				}
			} else {
				cols = append(cols, cellErr(pp), "", "", "")
			}
			if p := summarise(probes); t.InProcess() || p.Median == 0 {
				cols = append(cols, "-")
			} else {
				cols = append(cols, dur(p.Median))
			}
			fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
		}
	}
	tw.Flush()
	for _, r := range rep.Rows {
		if r.Err != "" && r.Err != "too large" && r.Err != "n/a" {
			fmt.Fprintf(w, "error: %s %s %s: %s\n", r.Transport, benchkit.SizeLabel(r.Size), r.Mode, r.Err)
		}
	}
	fmt.Fprintf(w, "\nwall time %.1fs\n", rep.WallSec)
}

func cellErr(r *row) string {
	if r == nil {
		return "-"
	}
	if r.Err == "too large" || r.Err == "n/a" {
		return r.Err
	}
	if r.Err != "" {
		return "error"
	}
	return "-"
}

// placementText says in words where the processes ran.
func placementText(p benchkit.Placement) string {
	switch p {
	case benchkit.Pair:
		if a, b, ok := benchkit.PinPair(); ok {
			return fmt.Sprintf("parent pinned to CPU %d, child to CPU %d", a, b)
		}
		return "not pinned (fewer than 2 CPUs allowed)"
	case benchkit.Shared:
		return "both processes pinned to one CPU"
	}
	return "placement left to the scheduler"
}
