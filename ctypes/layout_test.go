package ctypes_test

import (
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/internal/testseg"
)

// TestUnsafeConfined: of the package's own files only layout.go imports
// unsafe.
func TestUnsafeConfined(t *testing.T) { testseg.UnsafeConfined(t) }

// TestLayoutOffsets checks the documented layout from the outside: element
// 0 sits 128 bytes after the shm payload and the header fields hold what
// doc.go says.
func TestLayoutOffsets(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ctypes.NewArrayFrom(seg, "arr", []int16{-1, 2, -3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	o, err := seg.OpenObject("arr", ctypes.Kind, ctypes.Version)
	if err != nil {
		t.Fatal(err)
	}
	p := o.Bytes()
	if got := a.Offset() - o.Offset(); got != 128 {
		t.Fatalf("element 0 at payload offset %d; want 128", got)
	}
	le := binary.LittleEndian
	lockName := string(p[32 : 32+le.Uint32(p[16:])])
	if p[0] != 'h' || p[1] != 2 || p[2] != 'A' || p[3] != 1 || le.Uint32(p[4:]) != 128 || le.Uint64(p[8:]) != 3 || lockName != "arr.lock" {
		t.Errorf("header % x; want typecode h, size 2, shape A, flags 1, dataOff 128, length 3, lock arr.lock", p[:48])
	}
	if got := []int16{int16(le.Uint16(p[128:])), int16(le.Uint16(p[130:])), int16(le.Uint16(p[132:]))}; got[0] != -1 || got[1] != 2 || got[2] != -3 {
		t.Errorf("elements %v; want [-1 2 -3]", got)
	}
	if len(p) != 136 {
		t.Errorf("payload %d bytes; want 128 + 6 padded to 8 = 136", len(p))
	}
}

// FuzzOpenHeader writes arbitrary bytes over an object's header and data
// size fields: opening must give a handle whose every access stays in
// bounds, or an error, never a panic.
func FuzzOpenHeader(f *testing.F) {
	f.Add([]byte{'d', 8, 'A', 0, 128, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{'b', 1, 'V', 1, 128, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9})
	f.Add([]byte{'Q', 8, 'A', 0, 128, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	seg, _ := newSegment(f, 1<<20)
	const name = "victim"
	if _, err := ctypes.NewRawArray[uint8](seg, name, 64, nil); err != nil {
		f.Fatal(err)
	}
	o, err := seg.OpenObject(name, ctypes.Kind, ctypes.Version)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, hdr []byte) {
		h := o.Bytes()[:128]
		clear(h)
		copy(h, hdr)
		if a, err := ctypes.OpenArrayOf(seg, name, 0, ctypes.AnyLen); err == nil {
			for i := range a.Len() {
				a.Get(i)
				a.Set(i, 1)
			}
		}
		if v, err := ctypes.OpenValueOf(seg, name, 0); err == nil {
			v.Set(1)
			v.Get()
		}
		if a, err := ctypes.OpenRawArray[uint64](seg, name, ctypes.AnyLen); err == nil {
			out := make([]uint64, a.Len())
			a.CopyTo(out)
			a.CopyFrom(out)
		}
	})
}

// TestInlining fails if the accessors of an integer RawValue stop
// inlining into their caller (Load for every integer type, Store, Swap and
// Add for the 8-byte ones): on an open segment that cannot shrink each is
// then one load of the segment's state and the atomic operation, as
// sync/atomic's (BenchmarkLoad, BenchmarkAdd, cgo-free-tests'
// BenchmarkGuard), their other cases one call out of line; or if the
// generic atomic operations stop inlining into those out-of-line paths; or
// if the lock's fast path (futex.FastPath) stops inlining into the locked
// operations (Value.Update, guard.do and leave).
func TestInlining(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the compiler")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "build", "-gcflags=-m", "-o", os.DevNull, "./testdata/inline").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m ./testdata/inline: %v\n%s", err, out)
	}
	for _, want := range []string{
		"inlining call to ctypes.atomicLoad[go.shape.float64]",
		"main.go:31:20: inlining call to ctypes.(*RawValue[go.shape.int64]).Load",
		"main.go:26:9: inlining call to ctypes.(*RawValue[go.shape.int64]).Store",
		"main.go:27:7: inlining call to ctypes.(*RawValue[go.shape.int64]).Add",
		"main.go:28:8: inlining call to ctypes.(*RawValue[go.shape.int64]).Swap",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("compiler output lacks %q", want)
		}
	}
	out, err = exec.Command(gobin, "build", "-gcflags=-m", "-o", os.DevNull, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build -gcflags=-m .: %v\n%s", err, out)
	}
	for _, want := range []string{
		"inlining call to futex.(*FastPath).TryAcquire",
		"inlining call to futex.(*FastPath).TryRelease",
	} {
		if n := strings.Count(string(out), want); n < 2 {
			t.Errorf("compiler output has %q %d times; want 2 or more (Update's and guard's)", want, n)
		}
	}
}
