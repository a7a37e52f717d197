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
// wait plus the futex-only wait (the other wait settings, like every other
// ablation, run with -ablations; TCP loopback with -transports).
func defaultTransports() []string {
	out := []string{"chan", "unix", "pipe"}
	for _, n := range benchkit.Names() {
		if t, _ := benchkit.Lookup(n); strings.HasPrefix(n, "shm") && (!t.Ablation || n == "shm-spsc-futex") {
			out = append(out, n)
		}
	}
	return out
}

// ablationTransports are the transports the knobs' settings name, each
// once, in the order of benchkit.Knobs.
func ablationTransports() []string {
	var out []string
	for _, k := range benchkit.Knobs() {
		for _, s := range k.Settings {
			if !slices.Contains(out, s.Transport) {
				out = append(out, s.Transport)
			}
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

// row is one placement × transport × size × mode, over all rounds.
type row struct {
	Placement   string            `json:"placement"`
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
	// RunqShare: the share of each run its two hot threads spent waiting
	// for a CPU that other load held (benchkit.Result.RunqShare).
	RunqShare stat `json:"runq_share"`
	// CPUPerMsg is the CPU time (user + system) both processes used per
	// message or round trip, in ns; Cores the same over the elapsed time
	// (2: both busy throughout); Waiter the child's share of one core
	// (the figure of an idle run).
	CPUPerMsg stat `json:"cpu_ns_per_msg"`
	Cores     stat `json:"cores"`
	Waiter    stat `json:"waiter_core_share"`
	// Ratio to the Unix socket in the same run and placement: msgs/s ÷ its msgs/s
	// (throughput), its round trip ÷ this round trip (ping-pong).
	// Both read "times better than the Unix socket".
	Ratio float64 `json:"ratio_to_unix,omitempty"`
}

func (r *row) finish() {
	var mps, bps, rtt, p99, probe, runq, cpu, cores, waiter []float64
	for _, x := range r.Runs {
		runq = append(runq, x.RunqShare())
		if x.ChildCPU > 0 || x.ParentCPU > 0 {
			cpu = append(cpu, float64(x.CPUPerMsg()))
			cores = append(cores, x.Cores())
			waiter = append(waiter, x.WaiterShare())
		}
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
	r.RunqShare = summarise(runq)
	r.CPUPerMsg, r.Cores, r.Waiter = summarise(cpu), summarise(cores), summarise(waiter)
}

// report is what bench writes as JSON.
type report struct {
	Machine benchkit.Machine `json:"machine"`
	Started time.Time        `json:"started"`
	WallSec float64          `json:"wall_seconds"`
	// Placements lists the placements measured (benchkit names: free,
	// pair, shared), interleaved within each round; PlacementText says
	// each in words, on this machine.
	Placements    []string          `json:"placements"`
	PlacementText map[string]string `json:"placement_text"`
	Rounds        int               `json:"rounds"`
	Duration      string            `json:"duration_per_run"`
	// Idle is the length of each idle run (one message per millisecond).
	Idle       string   `json:"idle_duration_per_run,omitempty"`
	Sizes      []int    `json:"sizes"`
	Transports []string `json:"transports"`
	Rows       []*row   `json:"rows"`
	// Knobs (with -ablations) compares each knob's settings, measured
	// interleaved in the same run.
	Knobs []knobRow `json:"knobs,omitempty"`
}

// knobRow is one setting of a design choice at one size and mode.
type knobRow struct {
	Placement string `json:"placement"`
	Knob      string `json:"knob"`
	Setting   string `json:"setting"`
	Transport string `json:"transport"`
	Size      int    `json:"size"`
	Mode      string `json:"mode"`
	// Gain is how many times better shmkit's setting (the knob's first)
	// did than this one: its msgs/s ÷ this msgs/s (throughput), this
	// round trip ÷ its round trip (ping-pong). 1 for shmkit's own.
	Gain float64 `json:"shmkit_setting_gain,omitempty"`
}

func (rep *report) find(place, t string, size int, mode string) *row {
	for _, r := range rep.Rows {
		if r.Placement == place && r.Transport == t && r.Size == size && r.Mode == mode {
			return r
		}
	}
	return nil
}

func cmdBench(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sizesFlag := fs.String("sizes", "64B,4KiB,64KiB", "message sizes, comma-separated (have: 8B,64B,512B,4KiB,64KiB,1MiB or any)")
	transFlag := fs.String("transports", strings.Join(defaultTransports(), ","), "transports, comma-separated, or \"all\" (have: "+strings.Join(benchkit.Names(), ",")+")")
	modesFlag := fs.String("modes", "throughput,pingpong,idle", "what to measure: throughput, pingpong, idle (one message per millisecond at the smallest size: the waiting side's CPU bill)")
	dur := fs.Duration("duration", 100*time.Millisecond, "length of one measurement")
	idleDur := fs.Duration("idle", 300*time.Millisecond, "length of one idle measurement")
	rounds := fs.Int("rounds", 5, "measurements per transport and size, interleaved A B A B")
	ablations := fs.Bool("ablations", false, "measure the design-choice ablations instead (wait, batch, padding, cached-index, checksum, wake, sleep): each knob's settings interleaved, compared with shmkit's choice (replaces -transports)")
	placeFlag := fs.String("placement", "free,pair,shared", "where the two processes run, comma-separated, interleaved within each round: free (the scheduler decides: what users get), pair (two CPUs, pinned), shared (both pinned to one CPU)")
	out := fs.String("out", "bench-results", "directory for bench.json and bench.svg (\"\" writes neither)")
	jsonOut := fs.Bool("json", false, "print the JSON report on stdout instead of the table")
	mdOut := fs.Bool("markdown", false, "print Markdown tables (the README's) instead of the text table: each placement's throughput, round trip and CPU side by side, and the idle waiter")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit bench [flags]\n\nCompares shmkit with Unix sockets, pipes and TCP loopback across two processes.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *rounds < 1 || *dur <= 0 || *idleDur <= 0 {
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
	if *ablations {
		names = ablationTransports()
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
	var places []benchkit.Placement
	var placeNames []string
	for _, p := range strings.Split(*placeFlag, ",") {
		place, err := benchkit.ParsePlacement(strings.TrimSpace(p))
		if err != nil {
			fmt.Fprintf(stderr, "shmkit bench: %v\n", err)
			return 2
		}
		places = append(places, place)
		placeNames = append(placeNames, placeName(place))
	}
	var modes []string
	for _, m := range strings.Split(*modesFlag, ",") {
		if m != benchkit.Throughput && m != benchkit.PingPong && m != benchkit.Idle {
			fmt.Fprintf(stderr, "shmkit bench: unknown mode %q\n", m)
			return 2
		}
		modes = append(modes, m)
	}

	rep := &report{
		Machine: benchkit.Describe(), Started: time.Now(), Rounds: *rounds,
		Duration: dur.String(), Sizes: sizes, Transports: names,
		Placements: placeNames, PlacementText: map[string]string{},
	}
	for _, p := range places {
		rep.PlacementText[placeName(p)] = placementText(p)
	}
	if slices.Contains(modes, benchkit.Idle) {
		rep.Idle = idleDur.String()
	}
	prog := newProgress(stderr, cells(sizes, modes)*len(places)*len(trs)**rounds)
	if !measure(ctx, rep, trs, modes, places, *rounds, benchkit.Options{Duration: *dur}, *idleDur, prog) {
		fmt.Fprintln(stderr, "shmkit bench: interrupted; child processes stopped, nothing left behind")
		return 130
	}
	for _, r := range rep.Rows {
		base := rep.find(r.Placement, baseline, r.Size, r.Mode)
		if base != nil {
			r.Ratio = gain(r, base)
		}
	}
	if *ablations {
		rep.Knobs = knobRows(rep)
	}
	rep.WallSec = time.Since(rep.Started).Seconds()
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	} else if *mdOut && !*ablations {
		printMarkdown(stdout, rep, trs, sizes)
	} else if *ablations {
		printKnobs(stdout, rep)
	} else {
		printTable(stdout, rep, trs, sizes)
		if rep.Idle != "" {
			printIdle(stdout, rep, trs)
		}
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

// cells counts the size × mode cells measured: idle runs at the smallest
// size only (a waiter's cost does not depend on the message size).
func cells(sizes []int, modes []string) int {
	n := 0
	for _, m := range modes {
		if m == benchkit.Idle {
			n++
		} else {
			n += len(sizes)
		}
	}
	return n
}

// placeName is the placement's flag value.
func placeName(p benchkit.Placement) string {
	if p == benchkit.Free {
		return "free"
	}
	return string(p)
}

// measure fills rep.Rows: for each size and mode, round r runs every
// placement and, within it, every transport once before round r+1 starts
// (A B A B …), so placement drift and other load hit all of them alike. It
// returns false when ctx ended first.
func measure(ctx context.Context, rep *report, trs []*benchkit.Transport, modes []string, places []benchkit.Placement, rounds int, o benchkit.Options, idle time.Duration, prog *progress) bool {
	defer prog.done()
	for si, size := range rep.Sizes {
		for _, mode := range modes {
			if mode == benchkit.Idle && si > 0 {
				continue
			}
			cell := make([]*row, len(trs)*len(places))
			for pi, p := range places {
				for i, t := range trs {
					cell[pi*len(trs)+i] = &row{Placement: placeName(p), Transport: t.Name, Size: size, Mode: mode}
					rep.Rows = append(rep.Rows, cell[pi*len(trs)+i])
				}
			}
			for r := 0; r < rounds; r++ {
				for ci, c := range cell {
					t := trs[ci%len(trs)]
					if ctx.Err() != nil {
						return false
					}
					prog.step(fmt.Sprintf("%-10s %-6s %-6s %-14s round %d/%d", mode, benchkit.SizeLabel(size), c.Placement, t.Name, r+1, rounds))
					if c.Err != "" {
						continue
					}
					o.Size, o.Placement = size, places[ci/len(trs)]
					run := o
					if mode == benchkit.Idle {
						run.Duration = idle
					}
					res, err := benchkit.Run(ctx, t, mode, run)
					if err != nil {
						if ctx.Err() != nil {
							return false
						}
						switch {
						case errors.Is(err, benchkit.ErrTooLarge):
							c.Err = "too large"
						case errors.Is(err, benchkit.ErrMode):
							c.Err = "n/a"
						default:
							c.Err = err.Error()
						}
						continue
					}
					c.Runs = append(c.Runs, res)
				}
			}
			for _, r := range cell {
				r.finish()
			}
		}
	}
	return true
}

// gain is how many times better r did than base, in the same run:
// msgs/s ÷ base msgs/s (throughput), base round trip ÷ round trip
// (ping-pong); 0 when either has no figure.
func gain(r, base *row) float64 {
	if len(base.Runs) == 0 || len(r.Runs) == 0 {
		return 0
	}
	switch r.Mode {
	case benchkit.Throughput:
		if base.MsgsPerSec.Median > 0 {
			return r.MsgsPerSec.Median / base.MsgsPerSec.Median
		}
	case benchkit.PingPong:
		if r.RTT.Median > 0 {
			return base.RTT.Median / r.RTT.Median
		}
	}
	return 0
}

// knobRows compares every knob's settings with its first (shmkit's), in
// each placement.
func knobRows(rep *report) []knobRow {
	var out []knobRow
	for _, place := range rep.Placements {
		for _, k := range benchkit.Knobs() {
			for _, size := range rep.Sizes {
				for _, mode := range []string{benchkit.Throughput, benchkit.PingPong} {
					mine := rep.find(place, k.Settings[0].Transport, size, mode)
					if mine == nil {
						continue
					}
					for _, s := range k.Settings {
						r := rep.find(place, s.Transport, size, mode)
						if r == nil {
							continue
						}
						out = append(out, knobRow{Placement: place, Knob: k.Name, Setting: s.Name, Transport: s.Transport, Size: size, Mode: mode, Gain: gain(mine, r)})
					}
				}
			}
		}
	}
	return out
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

// legend explains the columns every table shares.
const legend = "medians [min–max]; ×unix = times better than the Unix stream socket in the same run and placement; cpu = CPU time (user+system) both processes used per message or round trip, so spinning shows; probe = spin ping-pong round trip beside each result (where the two processes sat); runq = share of the run the two hot threads waited for a CPU held by other load"

func printTable(w io.Writer, rep *report, trs []*benchkit.Transport, sizes []int) {
	fmt.Fprintf(w, "shmkit bench · %s\n", rep.Machine)
	fmt.Fprintf(w, "%d interleaved rounds of %s per cell, placements interleaved too; %s\n", rep.Rounds, rep.Duration, legend)
	for _, place := range rep.Placements {
		fmt.Fprintf(w, "\nplacement %s: %s\n", place, rep.PlacementText[place])
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "transport\tsize\tmsgs/s\t[min–max]\tGB/s\t×unix\tcpu/msg\trtt p50\t[min–max]\tp99\t×unix\tcpu/rtt\tprobe\trunq\t")
		for _, size := range sizes {
			for _, t := range trs {
				tp := rep.find(place, t.Name, size, benchkit.Throughput)
				pp := rep.find(place, t.Name, size, benchkit.PingPong)
				if tp == nil && pp == nil {
					continue
				}
				cols := []string{t.Name, benchkit.SizeLabel(size)}
				var runs []benchkit.Result
				if tp != nil && len(tp.Runs) > 0 {
					cols = append(cols, si(tp.MsgsPerSec.Median), "["+si(tp.MsgsPerSec.Min)+"–"+si(tp.MsgsPerSec.Max)+"]",
						fmt.Sprintf("%.3f", tp.BytesPerSec.Median/1e9), ratio(tp.Ratio), cpuCol(tp))
					runs = append(runs, tp.Runs...)
				} else {
					cols = append(cols, cellErr(tp), "", "", "", "")
				}
				if pp != nil && len(pp.Runs) > 0 {
					cols = append(cols, dur(pp.RTT.Median), "["+dur(pp.RTT.Min)+"–"+dur(pp.RTT.Max)+"]", dur(pp.RTTP99.Median), ratio(pp.Ratio), cpuCol(pp))
					runs = append(runs, pp.Runs...)
				} else {
					cols = append(cols, cellErr(pp), "", "", "", "")
				}
				cols = append(cols, noiseCols(runs)...)
				fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
			}
		}
		tw.Flush()
	}
	printErrors(w, rep)
	fmt.Fprintf(w, "\nwall time %.1fs\n", rep.WallSec)
}

// printMarkdown prints the README's tables: per size and transport, each
// placement's throughput and round trip with their ratios to the Unix
// socket and the CPU bill, placements side by side; then the idle waiter.
func printMarkdown(w io.Writer, rep *report, trs []*benchkit.Transport, sizes []int) {
	fmt.Fprintf(w, "%s; %d interleaved rounds of %s per cell, placements interleaved too; medians; wall time %.0f s.\n\n", rep.Machine, rep.Rounds, rep.Duration, rep.WallSec)
	for _, place := range rep.Placements {
		fmt.Fprintf(w, "- %s: %s\n", place, rep.PlacementText[place])
	}
	for _, mode := range []string{benchkit.Throughput, benchkit.PingPong} {
		if !slices.ContainsFunc(rep.Rows, func(r *row) bool { return r.Mode == mode }) {
			continue
		}
		fmt.Fprintln(w)
		head, rule := "| size | transport |", "|---|---|"
		for _, place := range rep.Placements {
			if mode == benchkit.Throughput {
				head += " " + place + " msgs/s | ×unix | cpu/msg |"
			} else {
				head += " " + place + " round trip | ×unix | cpu/rtt |"
			}
			rule += "---:|---:|---:|"
		}
		fmt.Fprintln(w, head)
		fmt.Fprintln(w, rule)
		for _, size := range sizes {
			for _, t := range trs {
				line := "| " + benchkit.SizeLabel(size) + " | " + mdName(t.Name) + " |"
				seen := false
				for _, place := range rep.Placements {
					r := rep.find(place, t.Name, size, mode)
					if r == nil || len(r.Runs) == 0 {
						line += " – | – | – |"
						continue
					}
					seen = true
					v := si(r.MsgsPerSec.Median)
					if mode == benchkit.PingPong {
						v = dur(r.RTT.Median)
					}
					line += " " + v + " | " + ratio(r.Ratio) + " | " + cpuCol(r) + " |"
				}
				if seen {
					fmt.Fprintln(w, line)
				}
			}
		}
	}
	if rep.Idle == "" {
		return
	}
	fmt.Fprintf(w, "\nIdle waiter: one %s message every %v for %s; the waiting process's CPU time, %% of one core (median [min–max]).\n\n",
		benchkit.SizeLabel(rep.Sizes[0]), benchkit.DefaultInterval, rep.Idle)
	head, rule := "| transport |", "|---|"
	for _, place := range rep.Placements {
		head += " " + place + " |"
		rule += "---:|"
	}
	fmt.Fprintln(w, head)
	fmt.Fprintln(w, rule)
	for _, t := range trs {
		line := "| " + mdName(t.Name) + " |"
		seen := false
		for _, place := range rep.Placements {
			r := rep.find(place, t.Name, rep.Sizes[0], benchkit.Idle)
			if r == nil || len(r.Runs) == 0 {
				line += " – |"
				continue
			}
			seen = true
			line += " " + pct(r.Waiter.Median) + " [" + pct(r.Waiter.Min) + "–" + pct(r.Waiter.Max) + "] |"
		}
		if seen {
			fmt.Fprintln(w, line)
		}
	}
}

// mdName sets shmkit's transports in bold.
func mdName(t string) string {
	if strings.HasPrefix(t, "shm") {
		return "**" + t + "**"
	}
	return t
}

// printIdle prints the idle table: what the waiting side costs when one
// message arrives every millisecond, in each placement.
func printIdle(w io.Writer, rep *report, trs []*benchkit.Transport) {
	fmt.Fprintf(w, "\nidle waiter: one %s message every %v for %s, %d rounds; waiter = the child's CPU time over the run, %% of one core [min–max]; both = both processes, %% of one core\n",
		benchkit.SizeLabel(rep.Sizes[0]), benchkit.DefaultInterval, rep.Idle, rep.Rounds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	head := "transport\t"
	for _, place := range rep.Placements {
		head += place + ": waiter\t[min–max]\tboth\t"
	}
	fmt.Fprintln(tw, head)
	for _, t := range trs {
		cols := []string{t.Name}
		seen := false
		for _, place := range rep.Placements {
			r := rep.find(place, t.Name, rep.Sizes[0], benchkit.Idle)
			if r == nil || len(r.Runs) == 0 {
				cols = append(cols, cellErr(r), "", "")
				continue
			}
			seen = true
			cols = append(cols, pct(r.Waiter.Median), "["+pct(r.Waiter.Min)+"–"+pct(r.Waiter.Max)+"]", pct(r.Cores.Median))
		}
		if seen {
			fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
		}
	}
	tw.Flush()
}

func pct(share float64) string { return fmt.Sprintf("%.1f%%", 100*share) }

// cpuCol is a row's CPU time per message or round trip, "-" without one.
func cpuCol(r *row) string {
	if r.CPUPerMsg.Median <= 0 {
		return "-"
	}
	return dur(r.CPUPerMsg.Median)
}

func printErrors(w io.Writer, rep *report) {
	for _, r := range rep.Rows {
		if r.Err != "" && r.Err != "too large" && r.Err != "n/a" {
			fmt.Fprintf(w, "error: %s %s %s %s: %s\n", r.Placement, r.Transport, benchkit.SizeLabel(r.Size), r.Mode, r.Err)
		}
	}
}

// printKnobs prints the ablation table: per placement, knob and size, each
// setting's throughput and round trip and how many times better shmkit's
// setting did.
func printKnobs(w io.Writer, rep *report) {
	fmt.Fprintf(w, "shmkit bench -ablations · %s\n", rep.Machine)
	fmt.Fprintf(w, "%d interleaved rounds of %s per cell; gain = times better shmkit's setting (the first of each knob) did than this one in the same run and placement; %s\n",
		rep.Rounds, rep.Duration, legend)
	for _, place := range rep.Placements {
		fmt.Fprintf(w, "\nplacement %s: %s\n", place, rep.PlacementText[place])
		for _, k := range benchkit.Knobs() {
			fmt.Fprintf(w, "\nknob %s: %s\n", k.Name, k.Desc)
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
			fmt.Fprintln(tw, "set\tsize\tmsgs/s\t[min–max]\tgain\tcpu/msg\trtt p50\t[min–max]\tgain\tcpu/rtt\tprobe\trunq\t")
			for _, size := range rep.Sizes {
				for _, s := range k.Settings {
					cols := []string{s.Name, benchkit.SizeLabel(size)}
					var runs []benchkit.Result
					for _, mode := range []string{benchkit.Throughput, benchkit.PingPong} {
						r := rep.find(place, s.Transport, size, mode)
						if r == nil || len(r.Runs) == 0 {
							cols = append(cols, cellErr(r), "", "", "")
							continue
						}
						g := 0.0
						for _, kr := range rep.Knobs {
							if kr.Placement == place && kr.Knob == k.Name && kr.Setting == s.Name && kr.Size == size && kr.Mode == mode {
								g = kr.Gain
							}
						}
						if mode == benchkit.Throughput {
							cols = append(cols, si(r.MsgsPerSec.Median), "["+si(r.MsgsPerSec.Min)+"–"+si(r.MsgsPerSec.Max)+"]", ratio(g), cpuCol(r))
						} else {
							cols = append(cols, dur(r.RTT.Median), "["+dur(r.RTT.Min)+"–"+dur(r.RTT.Max)+"]", ratio(g), cpuCol(r))
						}
						runs = append(runs, r.Runs...)
					}
					cols = append(cols, noiseCols(runs)...)
					fmt.Fprintln(tw, strings.Join(cols, "\t")+"\t")
				}
			}
			tw.Flush()
		}
	}
	printErrors(w, rep)
	fmt.Fprintf(w, "\nwall time %.1fs\n", rep.WallSec)
}

// noiseCols are a row's probe and runq columns: the medians over its
// cross-process runs ("-" for in-process ones).
func noiseCols(runs []benchkit.Result) []string {
	var probes, runq []float64
	for _, r := range runs {
		if r.Probe > 0 {
			probes = append(probes, float64(r.Probe))
			runq = append(runq, r.RunqShare())
		}
	}
	if len(probes) == 0 {
		return []string{"-", "-"}
	}
	return []string{dur(summarise(probes).Median), fmt.Sprintf("%.0f%%", 100*summarise(runq).Median)}
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
