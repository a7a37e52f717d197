package shm_test

// Faults from docs/robustness.md that a single process can stage: a creator caught
// half-way (F21), a slot caught mid-takeover (F6), gc unlinking under an
// Open (D4), a re-created name (F15), a truncated file (F13), directory
// collisions and a full directory, a panicking initialiser, use after Close.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

// crashpoint installs fn as the protocol hook for the rest of the test.
func crashpoint(t *testing.T, fn func(step string)) {
	t.Helper()
	shm.SetCrashpoint(fn)
	t.Cleanup(func() { shm.SetCrashpoint(nil) })
}

// An Open that meets a creator at any step of Create finds no name
// (ErrNotExist): the name is linked only once the segment is complete. On
// the O_CREAT fallback it finds the file and waits for the creator
// (ErrNotInitialized when its timeout runs out first), never ErrCorrupt: in
// particular not while the file still has size 0.
func TestOpenDuringCreate(t *testing.T) {
	for _, path := range []string{"tmpfile", "fallback"} {
		steps := createSteps
		if path == "fallback" {
			steps = steps[:len(steps)-1]
		}
		for _, step := range steps {
			t.Run("path="+path+"/"+step, func(t *testing.T) {
				shm.SetNoTmpfile(path == "fallback")
				t.Cleanup(func() { shm.SetNoTmpfile(false) })
				testOpenDuringCreate(t, step, path == "fallback")
			})
		}
	}
}

func testOpenDuringCreate(t *testing.T, step string, fallback bool) {
	name := testproc.Name(t)
	t.Cleanup(func() { shm.Unlink(name) })
	var during error
	async := make(chan error, 1)
	hit := false
	crashpoint(t, func(s string) {
		if s != step || hit {
			return
		}
		hit = true
		shm.SetCrashpoint(nil) // the Opens below take slots too
		_, during = shm.OpenWith(name, &shm.Options{Timeout: 20 * time.Millisecond})
		if !fallback {
			return
		}
		go func() {
			s, err := shm.OpenWith(name, &shm.Options{Timeout: time.Minute})
			if err == nil {
				s.Close()
			}
			async <- err
		}()
	})
	s, err := shm.Create(name, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !hit {
		t.Fatalf("crashpoint %s never reached", step)
	}
	if !fallback {
		if !errors.Is(during, shm.ErrNotExist) {
			t.Errorf("Open at %s = %v; want ErrNotExist", step, during)
		}
		return
	}
	if !errors.Is(during, shm.ErrNotInitialized) {
		t.Errorf("Open at %s = %v; want ErrNotInitialized", step, during)
	}
	if err := <-async; err != nil {
		t.Errorf("Open started at %s, waiting for the creator = %v; want success", step, err)
	}
}

// A slot caught at every step of a takeover: the old owner's token is dead
// throughout (Alive is exact, with no "alive once more" window), and the
// joiner at work is never reaped by another joiner.
func TestTakeoverSteps(t *testing.T) {
	s, name := newSegment(t, 4096, &shm.Options{Participants: 2})
	old, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	tok := old.Token()
	old.Close()
	var seen []string
	nested := false
	crashpoint(t, func(step string) {
		if nested || !strings.HasPrefix(step, "join-") {
			return
		}
		seen = append(seen, step)
		if alive, err := s.Alive(tok); err != nil || alive {
			t.Errorf("at %s: Alive(old token %v) = %v, %v; want dead", step, tok, alive, err)
		}
		if step == "join-claimed" || step == "join-bumped" {
			nested = true
			if o, err := shm.Open(name); !errors.Is(err, shm.ErrNoSlot) {
				t.Errorf("at %s: a second joiner got %v; want ErrNoSlot (the starting participant is not reaped)", step, err)
				if err == nil {
					o.Close()
				}
			}
			nested = false
		}
	})
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := strings.Join(seen, " "); got != "join-attached join-claimed join-bumped join-locked" {
		t.Errorf("steps seen: %s", got)
	}
	if s2.Token().Slot() != tok.Slot() || s2.Token() == tok {
		t.Errorf("new token %v; want slot %d with a new generation (old %v)", s2.Token(), tok.Slot(), tok)
	}
	mustAlive(t, s, s2.Token(), true, "new owner")
	mustAlive(t, s, tok, false, "old owner")
}

// gcLock takes shmkit gc's write lock on byte 0 of the named file.
func gcLock(t *testing.T, name string) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(shm.Dir(), name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
		f.Close()
		t.Fatalf("gc lock: %v", err)
	}
	return f
}

// shmkit gc holds the write lock on byte 0 across its checks and the unlink.
// An Open caught between opening the path and taking its read lock must
// wait the lock out, and must not attach to a file gc has unlinked.
func TestOpenRacesGc(t *testing.T) {
	t.Run("unlinked", func(t *testing.T) {
		s, name := newSegment(t, 4096, nil)
		s.Close()
		crashpoint(t, func(step string) {
			if step != "open-opened" {
				return
			}
			shm.SetCrashpoint(nil)
			gc := gcLock(t, name)
			if err := shm.Unlink(name); err != nil {
				t.Error(err)
			}
			gc.Close()
		})
		s2, err := shm.Open(name)
		if err == nil {
			s2.Close()
		}
		if !errors.Is(err, shm.ErrNotExist) {
			t.Errorf("Open racing an unlink = %v; want ErrNotExist", err)
		}
	})
	t.Run("kept", func(t *testing.T) {
		s, name := newSegment(t, 4096, nil)
		s.Close()
		crashpoint(t, func(step string) {
			if step != "open-opened" {
				return
			}
			shm.SetCrashpoint(nil)
			gc := gcLock(t, name)
			time.AfterFunc(20*time.Millisecond, func() { gc.Close() })
		})
		s2, err := shm.Open(name)
		if err != nil {
			t.Fatalf("Open while gc briefly held its lock = %v; want success", err)
		}
		s2.Close()
	})
}

// F15: a process told to join the segment with a given CreationID refuses
// another segment re-created under the same name.
func TestOpenRecreated(t *testing.T) {
	s, name := newSegment(t, 4096, nil)
	id := s.CreationID()
	if err := shm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	s2, err := shm.Create(name, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := shm.OpenWith(name, &shm.Options{CreationID: id}); !errors.Is(err, shm.ErrUnlinked) {
		t.Errorf("Open(CreationID of the unlinked segment) = %v; want ErrUnlinked", err)
	}
	s3, err := shm.OpenWith(name, &shm.Options{CreationID: s2.CreationID()})
	if err != nil {
		t.Fatalf("Open(CreationID of the current segment) = %v", err)
	}
	s3.Close()
	if err := s.Health(); !errors.Is(err, shm.ErrUnlinked) {
		t.Errorf("old attachment's Health = %v; want ErrUnlinked", err)
	}
	f, err := os.OpenFile(filepath.Join(shm.Dir(), name), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shm.FromFileWith(f, &shm.Options{CreationID: id}); !errors.Is(err, shm.ErrUnlinked) {
		t.Errorf("FromFile(CreationID of another segment) = %v; want ErrUnlinked", err)
	}
}

// F13: a peer truncates a named segment under live mappings. Every shm
// method returns ErrSegmentTruncated (or its zero result) instead of
// letting SIGBUS abort the process, and Guard does the same for payloads.
func TestTruncatedUnderReader(t *testing.T) {
	s, name := newSegment(t, 1<<16, nil)
	o, err := s.CreateObject("obj", kindTest, 1<<16, 64, nil)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := os.Truncate(filepath.Join(shm.Dir(), name), 0); err != nil {
		t.Fatal(err)
	}
	trunc := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, shm.ErrSegmentTruncated) {
			t.Errorf("%s after truncation = %v; want ErrSegmentTruncated", what, err)
		}
	}
	_, err = s2.OpenObject("obj", kindTest, 1<<16)
	trunc("OpenObject", err)
	_, err = s2.CreateObject("new", kindTest, 1<<16, 8, nil)
	trunc("CreateObject", err)
	_, err = s2.Alloc(64)
	trunc("Alloc", err)
	_, err = s.Alive(s2.Token())
	trunc("Alive", err)
	trunc("Health", s.Health())
	trunc("Guard", s.Guard(func() error { o.Bytes()[0] = 1; return nil }))
	if infos := s2.Objects(); len(infos) != 1 || !errors.Is(infos[0].Err, shm.ErrSegmentTruncated) {
		t.Errorf("Objects after truncation = %+v; want one entry with ErrSegmentTruncated", infos)
	}
	if ps := s2.Participants(); len(ps) != 0 {
		t.Errorf("Participants after truncation = %+v; want none", ps)
	}
	if f, id := s2.Free(), s2.CreationID(); f != 0 || id != 0 {
		t.Errorf("Free, CreationID after truncation = %d, %d; want 0, 0", f, id)
	}
	if pid, _ := s2.Creator(); pid != 0 {
		t.Errorf("Creator after truncation = %d; want 0", pid)
	}
	if err := s2.Close(); err != nil {
		t.Errorf("Close after truncation = %v", err)
	}
	// A fault outside the mapping is a bug and still panics.
	defer func() {
		if recover() == nil {
			t.Errorf("Guard swallowed a nil dereference")
		}
	}()
	var p *int
	s.Guard(func() error { *p = 1; return nil })
}

// namesInBucket returns n object names whose hashes all start their probe
// sequence at the same entry of a directory of the given size.
func namesInBucket(n, entries int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		name := fmt.Sprintf("collide-%d", i)
		if xxhash.Sum64String(name)&uint64(entries-1) == 0 {
			out = append(out, name)
		}
	}
	return out
}

func TestDirectoryCollisions(t *testing.T) {
	const entries = 8
	s, name := newSegment(t, 1<<16, &shm.Options{Objects: entries, Participants: 1 << 2})
	names := namesInBucket(entries+1, entries)
	for _, n := range names[:entries] {
		if _, err := s.CreateObject(n, kindTest, 1<<16, 64, func(b []byte) error { copy(b, n); return nil }); err != nil {
			t.Fatalf("CreateObject(%s): %v", n, err)
		}
	}
	if _, err := s.CreateObject(names[entries], kindTest, 1<<16, 64, nil); !errors.Is(err, shm.ErrDirectoryFull) {
		t.Errorf("CreateObject into a full directory = %v; want ErrDirectoryFull", err)
	}
	if _, err := s.CreateObject(names[3], kindTest, 1<<16, 64, nil); !errors.Is(err, shm.ErrExist) {
		t.Errorf("CreateObject of a present name in a full directory = %v; want ErrExist", err)
	}
	for _, n := range names[:entries] {
		o, err := s.OpenObject(n, kindTest, 1<<16)
		if err != nil {
			t.Fatalf("OpenObject(%s): %v", n, err)
		}
		if got := strings.TrimRight(string(o.Bytes()), "\x00"); got != n {
			t.Errorf("OpenObject(%s) found the payload of %q", n, got)
		}
	}
	if _, err := s.OpenObject("missing", kindTest, 1<<16); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenObject(missing) in a full directory = %v; want ErrNotExist", err)
	}
	// An entry whose stored hash matches but whose name differs (a 64-bit
	// collision, or a scribbler) is not the object.
	path := filepath.Join(shm.Dir(), name)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const firstEntry = 256 + 4*64
	nameOff := int64(firstEntry + 48) // entry 0 holds names[0]
	if _, err := f.WriteAt([]byte("X"), nameOff); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenObject(names[0], kindTest, 1<<16); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenObject after its entry's name changed = %v; want ErrNotExist", err)
	}
	forged := "X" + names[0][1:]
	if _, err := s.OpenObject(forged, kindTest, 1<<16); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenObject(%q) matched an entry hashed for another name: %v", forged, err)
	}
	var lenBuf [4]byte
	binary.LittleEndian.PutUint32(lenBuf[:], 200) // name length beyond the 80-byte field
	if _, err := f.WriteAt(lenBuf[:], firstEntry+40); err != nil {
		t.Fatal(err)
	}
	for _, o := range s.Objects() {
		if o.Err != nil && !errors.Is(o.Err, shm.ErrCorrupt) {
			t.Errorf("Objects: %v", o.Err)
		}
	}
}

// An init that panics must not leave its entry pending: openers learn at
// once that the object is not there, and the name can be created again.
func TestCreateObjectInitPanics(t *testing.T) {
	s, name := newSegment(t, 1<<16, &shm.Options{Timeout: time.Minute})
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v; want the init's panic", r)
			}
		}()
		s.CreateObject("x", kindTest, 1<<16, 8, func([]byte) error { panic("boom") })
	}()
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.OpenObject("x", kindTest, 1<<16); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenObject after a panicking init = %v; want ErrNotExist", err)
	}
	if _, err := s.CreateObject("x", kindTest, 1<<16, 8, nil); err != nil {
		t.Errorf("CreateObject again after a panicking init = %v", err)
	}
	if _, err := s2.OpenObject("x", kindTest, 1<<16); err != nil {
		t.Errorf("OpenObject of the re-created object = %v", err)
	}
}

func TestUseAfterClose(t *testing.T) {
	s, _ := newSegment(t, 4096, nil)
	tok := s.Token()
	s.Close()
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	for what, err := range map[string]error{
		"Alloc":        second(s.Alloc(64)),
		"CreateObject": second(s.CreateObject("x", kindTest, 1<<16, 8, nil)),
		"OpenObject":   second(s.OpenObject("x", kindTest, 1<<16)),
		"Alive":        second(s.Alive(tok)),
		"Health":       s.Health(),
	} {
		if !errors.Is(err, shm.ErrClosed) {
			t.Errorf("%s after Close = %v; want ErrClosed", what, err)
		}
	}
	if len(s.Objects()) != 0 || len(s.Participants()) != 0 || s.Free() != 0 {
		t.Errorf("Objects, Participants, Free after Close not empty")
	}
}

func second[T any](_ T, err error) error { return err }
