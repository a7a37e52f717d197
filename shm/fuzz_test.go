package shm_test

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/shm"
)

// validSegmentBytes returns the bytes of a small, valid segment holding two
// objects, for the fuzz seed corpus.
func validSegmentBytes(t testing.TB) []byte {
	s, err := shm.AnonymousWith(512, &shm.Options{Participants: 2, Objects: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []string{"alpha", "beta"} {
		if _, err := s.CreateObject(n, kindTest, 1<<16, 64, nil); err != nil {
			t.Fatal(err)
		}
	}
	b := make([]byte, s.Size())
	if _, err := s.File().ReadAt(b, 0); err != nil && err != io.EOF {
		t.Fatal(err)
	}
	return b
}

// FuzzOpenSegment feeds arbitrary bytes to FromFile and, when they pass,
// walks everything a tool would: directory, objects, participants, the
// allocator. Nothing may panic or hang; every error must be a typed one.
func FuzzOpenSegment(f *testing.F) {
	valid := validSegmentBytes(f)
	f.Add(valid)
	f.Add(valid[:255])
	f.Add(make([]byte, 4096))
	for _, off := range []int{8, 20, 24, 44, 56, 128, 256 + 2*64, 256 + 2*64 + 24, 256 + 2*64 + 40} {
		b := append([]byte(nil), valid...)
		binary.LittleEndian.PutUint64(b[off:], 0xffff_ffff_0000_0003)
		binary.LittleEndian.PutUint64(b[64:], xxhash.Sum64(b[8:64]))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := unix.MemfdCreate("fuzz", unix.MFD_CLOEXEC)
		if err != nil {
			t.Skip(err)
		}
		file := os.NewFile(uintptr(fd), "fuzz")
		if _, err := file.Write(data); err != nil {
			file.Close()
			t.Fatal(err)
		}
		start := time.Now()
		s, err := shm.FromFileWith(file, &shm.Options{Timeout: 5 * time.Millisecond})
		if err != nil {
			if !typed(err) {
				t.Fatalf("FromFile: untyped error %v", err)
			}
			return
		}
		defer s.Close()
		for _, o := range s.Objects() {
			if o.Err != nil && !typed(o.Err) {
				t.Fatalf("Objects: untyped error %v", o.Err)
			}
			if o.Name == "" {
				continue
			}
			obj, err := s.OpenObject(o.Name, o.Kind, o.Version)
			if err != nil {
				if !typed(err) {
					t.Fatalf("OpenObject(%q): untyped error %v", o.Name, err)
				}
				continue
			}
			b := obj.Bytes()
			_ = b[len(b)-1] // the whole payload lies inside the mapping
		}
		for _, p := range s.Participants() {
			_ = p.Alive
		}
		if _, err := s.CreateObject("fuzz-new", kindTest, 1<<16, 8, nil); err != nil && !typed(err) {
			t.Fatalf("CreateObject: untyped error %v", err)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Fatalf("one input took %v", d)
		}
	})
}

func typed(err error) bool {
	for _, e := range []error{shm.ErrCorrupt, shm.ErrVersion, shm.ErrNotInitialized, shm.ErrNoSpace,
		shm.ErrDirectoryFull, shm.ErrExist, shm.ErrNotExist, shm.ErrNoSlot, shm.ErrTypeMismatch, shm.ErrInvalidName} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
