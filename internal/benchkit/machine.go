package benchkit

import (
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Machine describes where a run happened.
type Machine struct {
	CPU    string `json:"cpu"`
	Cores  int    `json:"cores"`
	Kernel string `json:"kernel"`
	Go     string `json:"go"`
	Arch   string `json:"arch"`
}

// Describe reads the machine's CPU model, core count, kernel and Go version.
// Some hypervisors shorten the model name (to "AMD EPYC", say); the CPU
// family, model and stepping numbers from /proc/cpuinfo and the clock then
// follow it, so the part can still be told apart.
func Describe() Machine {
	m := Machine{CPU: "unknown CPU", Cores: runtime.NumCPU(), Go: runtime.Version(), Arch: runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPU = cpuModel(string(b))
	}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	return m
}

// cpuModel names the first processor in a /proc/cpuinfo text: its model
// name, and, when that names no numbered part, "(family F model M stepping
// S, N MHz)" as well.
func cpuModel(cpuinfo string) string {
	f := map[string]string{}
	for _, line := range strings.Split(cpuinfo, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			if len(f) > 0 && strings.TrimSpace(line) == "" {
				break // the end of the first processor
			}
			continue
		}
		f[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	name := f["model name"]
	if name == "" {
		name = "unknown CPU"
	}
	if strings.ContainsAny(name, "0123456789") || f["cpu family"] == "" {
		return name
	}
	var extra []string
	extra = append(extra, "family "+f["cpu family"], "model "+f["model"])
	if st := f["stepping"]; st != "" {
		extra = append(extra, "stepping "+st)
	}
	id := strings.Join(extra, " ")
	if mhz, err := strconv.ParseFloat(f["cpu MHz"], 64); err == nil && mhz > 0 {
		id += fmt.Sprintf(", %.0f MHz", mhz)
	}
	return name + " (" + id + ")"
}

// String is the one-line form printed above result tables.
func (m Machine) String() string {
	return fmt.Sprintf("%s · %d cores · %s · %s %s", m.CPU, m.Cores, m.Kernel, m.Go, m.Arch)
}
