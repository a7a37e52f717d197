// Package procstat reads /proc/<pid>/stat, for shm's participant records,
// the shmkit tool's liveness checks and the tests: the repository's one
// parser of that file.
package procstat

import (
	"bytes"
	"errors"
	"os"
	"strconv"
)

// Stat holds the fields of /proc/<pid>/stat that shmkit uses.
type Stat struct {
	// State is field 3: 'R' running, 'S' sleeping, 'D' disk sleep, 'T'
	// stopped, 't' traced, 'Z' zombie, 'X' dead, ...
	State byte
	// PPid is field 4, the parent's pid.
	PPid int
	// StartTime is field 22, the start time in clock ticks since boot: with
	// the pid, it tells a process apart from a later one given the same pid.
	StartTime uint64
}

// ErrFormat reports a stat file that does not parse.
var ErrFormat = errors.New("procstat: malformed stat")

// Parse parses the contents of a /proc/<pid>/stat file. The command name
// (field 2) may hold spaces and parentheses, so fields are counted from the
// last ')'.
func Parse(b []byte) (Stat, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return Stat{}, ErrFormat
	}
	f := bytes.Fields(b[i+1:])
	// Field 3 (state) is f[0], so field n is f[n-3].
	if len(f) < 20 || len(f[0]) != 1 {
		return Stat{}, ErrFormat
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return Stat{}, ErrFormat
	}
	start, err := strconv.ParseUint(string(f[19]), 10, 64)
	if err != nil {
		return Stat{}, ErrFormat
	}
	return Stat{State: f[0][0], PPid: ppid, StartTime: start}, nil
}

// Read reads and parses /proc/<pid>/stat.
func Read(pid int) (Stat, error) { return readFile("/proc/" + strconv.Itoa(pid) + "/stat") }

// Self reads and parses /proc/self/stat.
func Self() (Stat, error) { return readFile("/proc/self/stat") }

func readFile(path string) (Stat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Stat{}, err
	}
	return Parse(b)
}

// Live reports whether st is of a process that has not exited (neither a
// zombie nor dead).
func (st Stat) Live() bool { return st.State != 'Z' && st.State != 'X' }
