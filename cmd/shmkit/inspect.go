package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// inspectReport is everything shmkit inspect shows, as -json writes it.
type inspectReport struct {
	Segment      string              `json:"segment"`
	Path         string              `json:"path"`
	Size         int                 `json:"size"`
	Free         int                 `json:"free"`
	CreationID   string              `json:"creation_id"`
	Creator      creatorReport       `json:"creator"`
	Health       string              `json:"health"`
	Participants []participantReport `json:"participants"` // this tool's own left out
	Objects      []objectReport      `json:"objects"`
}

type creatorReport struct {
	Pid   int    `json:"pid"`
	Start uint64 `json:"start"`
	State string `json:"state"` // alive, alive (detached), dead
}

type participantReport struct {
	Token shm.Token `json:"token"`
	Slot  int       `json:"slot"`
	Pid   int       `json:"pid"`
	Start uint64    `json:"start"`
	PidNS uint64    `json:"pidns"`
	Alive bool      `json:"alive"`
}

// objectReport is one directory entry and, for the kinds this tool knows,
// the object's state; Error says why a state could not be read.
type objectReport struct {
	Name    string        `json:"name"`
	Kind    string        `json:"kind"`
	Version string        `json:"version"`
	Offset  int           `json:"offset"`
	Size    int           `json:"size"`
	Creator shm.Token     `json:"creator"`
	State   string        `json:"state"` // ready, being created, or why unusable
	Error   string        `json:"error,omitempty"`
	Futex   *futex.State  `json:"futex,omitempty"`
	Ring    *ring.State   `json:"ring,omitempty"`
	Ctypes  *ctypes.State `json:"ctypes,omitempty"`
	Dict    *dictState    `json:"dict,omitempty"`
	kind    shm.Kind
}

func cmdInspect(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write the report as JSON")
	elems := fs.Int("elems", 8, "how many elements of each array to show (-1: all)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit inspect [-json] [-elems N] NAME\n\nPrints a segment's header, participants, object directory and the state\nof every lock, semaphore, event, condition, barrier, queue, pipe, ring,\nvalue, array and map in it. It reads without taking any lock.\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	s, err := openQuick(fs.Arg(0))
	if err != nil {
		fmt.Fprintf(stderr, "shmkit inspect: %v\n", err)
		return 1
	}
	defer s.Close()
	r := inspect(s, *elems)
	if *asJSON {
		return writeJSON(stdout, stderr, "inspect", r)
	}
	printReport(stdout, r)
	return 0
}

// inspect gathers the report on s.
func inspect(s *shm.Segment, elems int) inspectReport {
	pid, start := s.Creator()
	r := inspectReport{
		Segment:      s.Name(),
		Path:         filepath.Join(shm.Dir(), s.Name()),
		Size:         s.Size(),
		Free:         s.Free(),
		CreationID:   fmt.Sprintf("%016x", s.CreationID()),
		Creator:      creatorReport{Pid: pid, Start: start, State: creatorState(s)},
		Health:       "ok",
		Participants: []participantReport{},
		Objects:      []objectReport{},
	}
	if err := s.Health(); err != nil {
		r.Health = err.Error()
	}
	_, _, ps := others(s)
	for _, p := range ps {
		r.Participants = append(r.Participants, participantReport{Token: p.Token, Slot: p.Token.Slot(), Pid: p.Pid, Start: p.Start, PidNS: p.PidNS, Alive: p.Alive})
	}
	for _, o := range s.Objects() {
		r.Objects = append(r.Objects, inspectObject(s, o, elems))
	}
	return r
}

// inspectObject describes one directory entry and reads its state.
func inspectObject(s *shm.Segment, o shm.ObjectInfo, elems int) objectReport {
	or := objectReport{Name: o.Name, Kind: o.Kind.String(), Version: fmt.Sprintf("%d.%d", o.Version>>16, o.Version&0xffff),
		Offset: o.Offset, Size: o.Size, Creator: o.Creator, State: "ready", kind: o.Kind}
	switch {
	case o.Err != nil:
		or.State = o.Err.Error()
		return or
	case !o.Ready:
		or.State = "being created"
		return or
	}
	var err error
	switch {
	case futex.IsKind(o.Kind):
		var st futex.State
		if st, err = futex.Inspect(s, o); err == nil {
			or.Futex = &st
		}
	case ring.IsKind(o.Kind):
		var st ring.State
		if st, err = ring.Inspect(s, o); err == nil {
			or.Ring = &st
		}
	case o.Kind == ctypes.Kind:
		var st ctypes.State
		if st, err = ctypes.Inspect(s, o, elems); err == nil {
			or.Ctypes = &st
		}
	case isDictKind(o.Kind):
		or.Dict, err = inspectDict(s, o)
	}
	if err != nil {
		or.Error = err.Error()
	}
	return or
}

func printReport(w io.Writer, r inspectReport) {
	fmt.Fprintf(w, "segment      %s (%s)\n", r.Segment, r.Path)
	fmt.Fprintf(w, "size         %d bytes (%s), %d free in the arena\n", r.Size, human(r.Size), r.Free)
	fmt.Fprintf(w, "creation id  %s\n", r.CreationID)
	fmt.Fprintf(w, "creator      pid %d, start %d, %s\n", r.Creator.Pid, r.Creator.Start, r.Creator.State)
	fmt.Fprintf(w, "health       %s\n", r.Health)
	fmt.Fprintf(w, "\nparticipants (%d, this tool's own attachment left out)\n", len(r.Participants))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  TOKEN\tPID\tSTART\tPIDNS\tALIVE")
	for _, p := range r.Participants {
		fmt.Fprintf(tw, "  %v\t%d\t%d\t%d\t%v\n", p.Token, p.Pid, p.Start, p.PidNS, p.Alive)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nobjects (%d)\n", len(r.Objects))
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  NAME\tKIND\tVERSION\tOFFSET\tSIZE\tCREATOR\tSTATE")
	for _, o := range r.Objects {
		fmt.Fprintf(tw, "  %q\t%s\t%s\t%d\t%d\t%v\t%s\n", o.Name, o.Kind, o.Version, o.Offset, o.Size, o.Creator, o.State)
	}
	tw.Flush()
	var rows []string
	for _, o := range r.Objects {
		if st := stateText(o); st != "" {
			rows = append(rows, fmt.Sprintf("  %q\t%s\t%s", o.Name, o.Kind, st))
		}
	}
	if len(rows) > 0 {
		fmt.Fprintf(w, "\nstate (%d)\n", len(rows))
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  NAME\tKIND\tSTATE")
		for _, row := range rows {
			fmt.Fprintln(tw, row)
		}
		tw.Flush()
	}
	printDicts(w, r.Objects)
}

// kv joins key=value pairs: the state column of the text report.
func kv(pairs ...any) string {
	var b strings.Builder
	for i := 0; i+1 < len(pairs); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%v=%v", pairs[i], pairs[i+1])
	}
	return b.String()
}

// stateText is the one-line state of an object ("" for a kind with no
// state shown here: maps have their own table).
func stateText(o objectReport) string {
	switch {
	case o.Error != "":
		return "error: " + o.Error
	case o.Futex != nil:
		return futexText(o.Futex)
	case o.Ring != nil:
		return ringText(o.Ring)
	case o.Ctypes != nil:
		c := o.Ctypes
		s := kv("type", c.Code, "shape", c.Shape, "len", c.Len, "lock", fmt.Sprintf("%q", c.Lock))
		vals := make([]string, len(c.Values))
		for i, v := range c.Values {
			vals[i] = fmt.Sprint(v)
		}
		more := ""
		if len(c.Values) < c.Len {
			more = " ..."
		}
		s += " values=[" + strings.Join(vals, " ") + more + "]"
		if c.Text != "" {
			s += fmt.Sprintf(" text=%q", c.Text)
		}
		return s
	}
	return ""
}

func futexText(f *futex.State) string {
	switch {
	case f.Lock != nil:
		l := f.Lock
		if !l.Locked {
			return kv("locked", false, "not_recoverable", l.NotRecoverable, "waiters", l.Waiters)
		}
		return kv("locked", true, "holder", l.Holder, "pid", l.HolderPid, "alive", l.HolderAlive,
			"owner_died", l.OwnerDied, "not_recoverable", l.NotRecoverable, "waiters", l.Waiters)
	case f.Semaphore != nil:
		s := f.Semaphore
		return kv("value", s.Value, "bound", s.Bound, "sleepers", s.Sleepers)
	case f.Event != nil:
		e := f.Event
		return kv("set", e.Set, "sets", e.Sets, "sleepers", e.Sleepers)
	case f.Condition != nil:
		c := f.Condition
		return kv("lock", fmt.Sprintf("%q", c.Lock), "waiting", c.Waiting, "signals", c.Signals, "sleepers", c.Sleepers)
	case f.Barrier != nil:
		b := f.Barrier
		return kv("parties", b.Parties, "waiting", b.Waiting, "generation", b.Generation, "broken", b.Broken, "sleepers", b.Sleepers)
	}
	return ""
}

func ringText(r *ring.State) string {
	switch {
	case r.Queue != nil:
		q := r.Queue
		s := kv("len", q.Len, "max_size", q.MaxSize, "committed", q.Committed, "consumed", q.Consumed,
			"tombstoned", q.Tombstoned, "in_flight", q.InFlight, "corrupt", q.Corrupt,
			"leases_held", q.LeasesHeld, "leases_dead", q.LeasesDead, "orphans", q.Orphans,
			"lost", q.Lost, "redelivered", q.Redelivered, "closed", q.Closed)
		if q.Joinable {
			s += " " + kv("unfinished", q.Unfinished)
		}
		return s
	case r.Pipe != nil:
		p := r.Pipe
		var parts []string
		for e, end := range p.Ends {
			hs := make([]string, len(end.Holders))
			for i, h := range end.Holders {
				hs[i] = h.Token.String()
				if !h.Alive {
					hs[i] += "(dead)"
				}
				if h.Closing {
					hs[i] += "(closing)"
				}
				if h.Reserved {
					hs[i] += "(reserved)"
				}
			}
			parts = append(parts, fmt.Sprintf("end%d: closed=%v holders=[%s]", e, end.Closed, strings.Join(hs, " ")))
		}
		for i, rs := range p.Rings {
			parts = append(parts, fmt.Sprintf("ring%d: %s", i, kv("used", rs.Used, "capacity", rs.Capacity)))
		}
		return kv("duplex", p.Duplex) + " " + strings.Join(parts, "; ")
	case r.Ring != nil:
		rs := r.Ring
		return kv("used", rs.Used, "capacity", rs.Capacity, "published", rs.Published, "released", rs.Released,
			"producer", rs.Producer, "consumer", rs.Consumer, "producer_closed", rs.ProducerClosed, "consumer_closed", rs.ConsumerClosed)
	}
	return ""
}
