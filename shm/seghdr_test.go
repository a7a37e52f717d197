package shm_test

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/shmkit/shmkit/internal/procstat"
	"github.com/shmkit/shmkit/internal/seghdr"
	"github.com/shmkit/shmkit/shm"
)

// TestHeaderFieldsForTools reads a named segment's file as the shmkit tool
// does (internal/seghdr's offsets, no attaching) and finds what Create
// wrote: the magic, the layout version, this process as the creator, a
// valid checksum.
func TestHeaderFieldsForTools(t *testing.T) {
	_, name := newSegment(t, 1<<16, nil)
	b, err := os.ReadFile(filepath.Join(shm.Dir(), name))
	if err != nil {
		t.Fatal(err)
	}
	self, err := procstat.Self()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if got := le.Uint64(b[seghdr.MagicOff:]); got != seghdr.Magic || string(b[:8]) != "SHMKTSM1" {
		t.Errorf("magic %#x; want %#x", got, seghdr.Magic)
	}
	if got := le.Uint32(b[seghdr.VersionOff:]); got != seghdr.Version || got>>16 != seghdr.Major {
		t.Errorf("version %#x; want %#x", got, seghdr.Version)
	}
	if pid, start := int(le.Uint32(b[seghdr.CreatorPidOff:])), le.Uint64(b[seghdr.CreatorStartOff:]); pid != os.Getpid() || start != self.StartTime {
		t.Errorf("creator %d started %d; want %d started %d", pid, start, os.Getpid(), self.StartTime)
	}
	if got, want := le.Uint64(b[seghdr.CsumOff:]), xxhash.Sum64(b[seghdr.CsumStart:seghdr.CsumOff]); got != want {
		t.Errorf("checksum %#x; want %#x", got, want)
	}
}
