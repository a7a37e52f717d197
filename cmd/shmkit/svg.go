package main

import (
	"fmt"
	"html"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/shmkit/shmkit/internal/benchkit"
)

// The chart: two log-log panels side by side, throughput (GB/s) and
// round trip (µs) against message size, one line per transport: the
// baselines dashed, the Unix socket (every ratio's reference) black and
// thicker, shmkit's transports solid. Plain SVG written with fmt, so it
// needs nothing outside the standard library.

var palette = []string{"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f", "#393b79", "#637939"}

const (
	svgW, svgH   = 1100, 580
	panelW       = 450
	panelH       = 340
	panelTop     = 80
	panelLeft1   = 80
	panelLeft2   = 620
	legendTop    = 490
	legendColumn = 190
	legendPerRow = 5
)

type point struct{ x, y float64 }

// logAxis maps [lo, hi] (positive) onto [a, b] in log scale, widened to
// whole decades.
type logAxis struct{ lo, hi, a, b float64 }

func newLogAxis(lo, hi, a, b float64) logAxis {
	if lo <= 0 || hi <= 0 || lo > hi {
		lo, hi = 1, 10
	}
	lo = math.Pow(10, math.Floor(math.Log10(lo)))
	hi = math.Pow(10, math.Ceil(math.Log10(hi)))
	if lo == hi {
		hi = lo * 10
	}
	return logAxis{lo, hi, a, b}
}

func (ax logAxis) at(v float64) float64 {
	f := (math.Log10(v) - math.Log10(ax.lo)) / (math.Log10(ax.hi) - math.Log10(ax.lo))
	return ax.a + f*(ax.b-ax.a)
}

func writeSVG(w io.Writer, rep *report) {
	// The chart shows the first placement measured (free, by default:
	// what users get); the JSON holds the others.
	place := ""
	if len(rep.Placements) > 0 {
		place = rep.Placements[0]
	}
	series := func(mode string, val func(*row) float64) map[string][]point {
		out := map[string][]point{}
		for _, r := range rep.Rows {
			if r.Placement != place || r.Mode != mode || len(r.Runs) == 0 {
				continue
			}
			if v := val(r); v > 0 {
				out[r.Transport] = append(out[r.Transport], point{float64(r.Size), v})
			}
		}
		return out
	}
	tput := series(benchkit.Throughput, func(r *row) float64 { return r.BytesPerSec.Median / 1e9 })
	rtt := series(benchkit.PingPong, func(r *row) float64 { return r.RTT.Median / 1e3 })

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n", svgW, svgH, svgW, svgH)
	fmt.Fprintf(w, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(w, `<text x="%d" y="22" font-size="15" font-weight="bold">shmkit bench: %s</text>`+"\n", panelLeft1, html.EscapeString(rep.Machine.String()))
	fmt.Fprintf(w, `<text x="%d" y="42" fill="#444">%s · medians of %d interleaved rounds of %s · %s · dashed: baselines, solid: shmkit</text>`+"\n",
		panelLeft1, rep.Started.UTC().Format("2006-01-02"), rep.Rounds, html.EscapeString(rep.Duration), html.EscapeString("placement "+place+": "+rep.PlacementText[place]))
	panel(w, "throughput, GB/s (higher is better)", panelLeft1, tput, rep)
	panel(w, "round trip p50, µs (lower is better)", panelLeft2, rtt, rep)
	for i, t := range rep.Transports {
		x := panelLeft1 + (i%legendPerRow)*legendColumn
		y := legendTop + (i/legendPerRow)*22
		fmt.Fprintf(w, `<line x1="%d" y1="%d" x2="%d" y2="%d"%s/>`, x, y, x+28, y, stroke(t, i))
		fmt.Fprintf(w, `<text x="%d" y="%d">%s</text>`+"\n", x+34, y+4, html.EscapeString(t))
	}
	fmt.Fprintln(w, "</svg>")
}

func panel(w io.Writer, title string, left int, data map[string][]point, rep *report) {
	lo, hi := math.Inf(1), math.Inf(-1)
	xlo, xhi := math.Inf(1), math.Inf(-1)
	for _, ps := range data {
		for _, p := range ps {
			lo, hi = math.Min(lo, p.y), math.Max(hi, p.y)
			xlo, xhi = math.Min(xlo, p.x), math.Max(xhi, p.x)
		}
	}
	if len(data) == 0 {
		lo, hi, xlo, xhi = 1, 10, 8, 1<<20
	}
	xa := logAxis{xlo, xhi, float64(left), float64(left + panelW)}
	if xlo == xhi {
		xa = newLogAxis(xlo, xhi, float64(left), float64(left+panelW))
	}
	ya := newLogAxis(lo, hi, panelTop+panelH, panelTop)
	fmt.Fprintf(w, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", left, panelTop-12, html.EscapeString(title))
	fmt.Fprintf(w, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#444"/>`+"\n", left, panelTop, panelW, panelH)
	for d := ya.lo; d <= ya.hi*1.0001; d *= 10 {
		y := ya.at(d)
		fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ccc"/>`, left, y, left+panelW, y)
		fmt.Fprintf(w, `<text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", left-6, y+4, tick(d))
		for _, m := range []float64{2, 5} { // minor lines, unlabelled
			if d*m < ya.hi {
				y := ya.at(d * m)
				fmt.Fprintf(w, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#eee"/>`, left, y, left+panelW, y)
			}
		}
	}
	for _, s := range rep.Sizes {
		x := xa.at(float64(s))
		fmt.Fprintf(w, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#eee"/>`, x, panelTop, x, panelTop+panelH)
		fmt.Fprintf(w, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", x, panelTop+panelH+16, benchkit.SizeLabel(s))
	}
	fmt.Fprintf(w, `<text x="%d" y="%d" text-anchor="middle">message size</text>`+"\n", left+panelW/2, panelTop+panelH+34)
	for i, t := range rep.Transports {
		ps := data[t]
		if len(ps) == 0 {
			continue
		}
		fmt.Fprintf(w, `<polyline fill="none"%s points="`, stroke(t, i))
		for _, p := range ps {
			fmt.Fprintf(w, "%.1f,%.1f ", xa.at(p.x), ya.at(p.y))
		}
		fmt.Fprintln(w, `"/>`)
		for _, p := range ps {
			fmt.Fprintf(w, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, xa.at(p.x), ya.at(p.y), color(t, i))
		}
		fmt.Fprintln(w)
	}
}

// color is transport i's line colour: black for the Unix socket, the
// reference of every ratio.
func color(transport string, i int) string {
	if transport == baseline {
		return "#000000"
	}
	return palette[i%len(palette)]
}

// stroke is the line's attributes: colour, width, dashes.
func stroke(transport string, i int) string {
	width := 2
	if transport == baseline {
		width = 3
	}
	return fmt.Sprintf(` stroke="%s" stroke-width="%d"%s`, color(transport, i), width, dash(transport))
}

// dash draws the baselines (sockets, pipes, channels) dashed and shmkit's
// transports solid.
func dash(transport string) string {
	if strings.HasPrefix(transport, "shm") {
		return ""
	}
	return ` stroke-dasharray="6 4"`
}

func tick(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}
