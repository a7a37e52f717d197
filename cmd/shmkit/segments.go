package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/shmkit/shmkit/internal/procstat"
	"github.com/shmkit/shmkit/internal/seghdr"
	"github.com/shmkit/shmkit/shm"
	"golang.org/x/sys/unix"
)

// rawHeader is the part of a segment header the tools read with pread.
type rawHeader struct {
	published    bool // magic present
	halfMade     bool // no magic yet, but a valid checksummed header
	version      uint32
	creatorPid   int
	creatorStart uint64
}

// readHeader reads the header of the file open as f and says whether it is a
// shmkit segment (published, or created but never published).
func readHeader(f *os.File) (rawHeader, bool) {
	var b [seghdr.ReadSize]byte
	if n, err := f.ReadAt(b[:], 0); n < seghdr.ReadSize || (err != nil && err != io.EOF) {
		return rawHeader{}, false
	}
	h := rawHeader{
		version:      binary.LittleEndian.Uint32(b[seghdr.VersionOff:]),
		creatorPid:   int(binary.LittleEndian.Uint32(b[seghdr.CreatorPidOff:])),
		creatorStart: binary.LittleEndian.Uint64(b[seghdr.CreatorStartOff:]),
	}
	switch {
	case binary.LittleEndian.Uint64(b[seghdr.MagicOff:]) == seghdr.Magic:
		h.published = true
	case binary.LittleEndian.Uint64(b[seghdr.MagicOff:]) == 0 &&
		h.version>>16 == seghdr.Major &&
		xxhash.Sum64(b[seghdr.CsumStart:seghdr.CsumOff]) == binary.LittleEndian.Uint64(b[seghdr.CsumOff:]):
		// A creator that died between writing the header and publishing
		// the magic: possible only where Create falls back to naming the
		// file first (no O_TMPFILE in the shm directory).
		h.halfMade = true
	default:
		return h, false
	}
	return h, true
}

// procAlive reports whether pid is a live (not zombie) process that
// started at start (clock ticks since boot), read from /proc.
func procAlive(pid int, start uint64) bool {
	if pid <= 0 {
		return false
	}
	st, err := procstat.Read(pid)
	return err == nil && st.Live() && st.StartTime == start
}

// segmentNames lists the shmkit segments under shm.Dir(), sorted.
func segmentNames() ([]string, error) {
	ents, err := os.ReadDir(shm.Dir())
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if !e.Type().IsRegular() || shm.CheckName(e.Name()) != nil {
			continue
		}
		f, err := os.Open(filepath.Join(shm.Dir(), e.Name()))
		if err != nil {
			continue
		}
		_, ok := readHeader(f)
		f.Close()
		if ok {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// creatorState describes the creator of an attached segment.
func creatorState(s *shm.Segment) string {
	pid, start := s.Creator()
	for _, p := range s.Participants() {
		if p.Pid == pid && p.Start == start && p.Alive && p.Token != s.Token() {
			return "alive"
		}
	}
	if procAlive(pid, start) && pid != os.Getpid() {
		return "alive, detached"
	}
	return "dead"
}

// others returns the participants other than this tool's own attachment.
func others(s *shm.Segment) (live, dead int, ps []shm.Participant) {
	for _, p := range s.Participants() {
		if p.Token == s.Token() {
			continue
		}
		ps = append(ps, p)
		if p.Alive {
			live++
		} else {
			dead++
		}
	}
	return live, dead, ps
}

// openQuick attaches for inspection, giving a still-initialising creator
// only a moment.
func openQuick(name string) (*shm.Segment, error) {
	return shm.OpenWith(name, &shm.Options{Timeout: 200 * time.Millisecond})
}

// lsRow is one segment as shmkit ls shows it (and -json writes it); Error
// says why it could not be attached, and the other fields are then zero.
type lsRow struct {
	Name         string `json:"name"`
	Size         int    `json:"size"`
	CreatorPid   int    `json:"creator_pid"`
	CreatorState string `json:"creator_state"`
	Live         int    `json:"live_participants"`
	Dead         int    `json:"dead_participants"`
	Objects      int    `json:"objects"`
	Error        string `json:"error,omitempty"`
}

func cmdLs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "write the list as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit ls [-json]\n\nLists the shmkit segments under %s with their creator and participants.\n", shm.Dir())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names, err := segmentNames()
	if err != nil {
		fmt.Fprintf(stderr, "shmkit ls: %v\n", err)
		return 1
	}
	rows := []lsRow{}
	for _, n := range names {
		s, err := openQuick(n)
		if err != nil {
			rows = append(rows, lsRow{Name: n, Error: shortErr(err)})
			continue
		}
		pid, _ := s.Creator()
		live, dead, _ := others(s)
		rows = append(rows, lsRow{Name: n, Size: s.Size(), CreatorPid: pid, CreatorState: creatorState(s), Live: live, Dead: dead, Objects: len(s.Objects())})
		s.Close()
	}
	if *asJSON {
		return writeJSON(stdout, stderr, "ls", rows)
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSIZE\tCREATOR\tSTATE\tPARTICIPANTS\tOBJECTS")
	for _, r := range rows {
		if r.Error != "" {
			fmt.Fprintf(tw, "%s\t-\t-\t%s\t-\t-\n", r.Name, r.Error)
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d live, %d dead\t%d\n", r.Name, human(r.Size), r.CreatorPid, r.CreatorState, r.Live, r.Dead, r.Objects)
	}
	tw.Flush()
	return 0
}

// writeJSON writes v indented, for the -json flags.
func writeJSON(stdout, stderr io.Writer, cmd string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "shmkit %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

func shortErr(err error) string {
	for _, e := range []error{shm.ErrNotInitialized, shm.ErrCorrupt, shm.ErrVersion, shm.ErrPermission, shm.ErrNoSlot} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(e.Error(), "shm: ")
		}
	}
	return err.Error()
}

func human(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}

func cmdRm(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("rm", flag.ContinueOnError)
	fs.SetOutput(stderr)
	force := fs.Bool("f", false, "remove even a file that is not a shmkit segment")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit rm [-f] NAME...\n\nRemoves named segments from %s. Processes that have one mapped keep using it.\n", shm.Dir())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return 2
	}
	rc := 0
	for _, name := range fs.Args() {
		if err := shm.CheckName(name); err != nil {
			fmt.Fprintf(stderr, "shmkit rm: %v\n", err)
			rc = 1
			continue
		}
		if !*force {
			f, err := os.OpenFile(filepath.Join(shm.Dir(), name), os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
			if err != nil {
				fmt.Fprintf(stderr, "shmkit rm: %v\n", err)
				rc = 1
				continue
			}
			_, ok := readHeader(f)
			f.Close()
			if !ok {
				fmt.Fprintf(stderr, "shmkit rm: %s is not a shmkit segment (use -f)\n", name)
				rc = 1
				continue
			}
		}
		if err := shm.Unlink(name); err != nil {
			fmt.Fprintf(stderr, "shmkit rm: %v\n", err)
			rc = 1
			continue
		}
		fmt.Fprintf(stdout, "removed %s\n", name)
	}
	return rc
}

// gcVerdict says whether the segment name may be removed and why.
type gcVerdict struct {
	name   string
	remove bool
	why    string
}

// gcOne decides about one segment and, unless dry, removes it. A segment of
// a layout major version this tool does not know may belong to a newer
// release whose processes are alive: it is kept unless force, and then
// judged by version 1's creator fields and attach lock. It never
// attaches: it takes its own write lock on byte 0, which succeeds only when
// no process holds the attach (read) lock every attachment keeps there
// (docs/robustness.md D4); the creator's liveness comes from its pid and start
// time. The lock is held across the unlink, so no process can attach in
// between through this file.
func gcOne(name string, dry, force bool) gcVerdict {
	v := gcVerdict{name: name}
	path := filepath.Join(shm.Dir(), name)
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		v.why = err.Error()
		return v
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		v.why = "not a regular file"
		return v
	}
	h, ok := readHeader(f)
	if !ok {
		v.why = "not a shmkit segment"
		return v
	}
	if h.published && h.version>>16 != seghdr.Major && !force {
		v.why = fmt.Sprintf("layout version %d.%d unknown to this shmkit (-f removes it)", h.version>>16, h.version&0xffff)
		return v
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 1}
	if err := unix.FcntlFlock(uintptr(fd), unix.F_OFD_SETLK, &lk); err != nil {
		if err == unix.EAGAIN || err == unix.EACCES {
			v.why = "attached by a live process"
		} else {
			v.why = "attach lock: " + err.Error()
		}
		return v
	}
	if procAlive(h.creatorPid, h.creatorStart) {
		v.why = fmt.Sprintf("creator pid %d alive", h.creatorPid)
		return v
	}
	// The name must still be this file: a segment re-created under it since
	// we opened it is somebody else's.
	var cur unix.Stat_t
	if err := unix.Lstat(path, &cur); err != nil || cur.Dev != st.Dev || cur.Ino != st.Ino {
		v.why = "replaced while checking"
		return v
	}
	v.remove = true
	v.why = fmt.Sprintf("creator pid %d dead, nobody attached", h.creatorPid)
	if h.halfMade {
		v.why += ", never initialised"
	}
	if !dry {
		if err := unix.Unlink(path); err != nil {
			v.remove = false
			v.why = "unlink: " + err.Error()
		}
	}
	return v
}

func cmdGc(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dry := fs.Bool("n", false, "dry run: say what would be removed")
	verbose := fs.Bool("v", false, "also say why each kept segment stays")
	force := fs.Bool("f", false, "also judge segments of a layout version this shmkit does not know (by version 1's creator and attach-lock fields)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: shmkit gc [-n] [-v] [-f]\n\nRemoves the segments under %s whose creator is dead and that no live\nprocess has attached. Segments of an unknown layout version are kept\nunless -f.\n", shm.Dir())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	names, err := segmentNames()
	if err != nil {
		fmt.Fprintf(stderr, "shmkit gc: %v\n", err)
		return 1
	}
	verb := "removed"
	if *dry {
		verb = "would remove"
	}
	for _, n := range names {
		v := gcOne(n, *dry, *force)
		switch {
		case v.remove:
			fmt.Fprintf(stdout, "%s %s (%s)\n", verb, n, v.why)
		case *verbose:
			fmt.Fprintf(stdout, "kept %s (%s)\n", n, v.why)
		}
	}
	return 0
}
