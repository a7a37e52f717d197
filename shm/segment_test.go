package shm_test

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

var kindTest = shm.MakeKind("TEST")

func TestCreateOpenObject(t *testing.T) {
	s, name := newSegment(t, 1<<20, nil)
	if s.Name() != name {
		t.Errorf("Name() = %q; want %q", s.Name(), name)
	}
	if s.Size() < 1<<20 || s.Size()%os.Getpagesize() != 0 {
		t.Errorf("Size() = %d; want a page multiple >= %d", s.Size(), 1<<20)
	}
	o, err := s.CreateObject("greeting", kindTest, 1<<16, 100, func(b []byte) error {
		copy(b, "hello")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.Offset()%64 != 0 {
		t.Errorf("payload offset %d not 64-byte aligned", o.Offset())
	}
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.CreationID() != s.CreationID() {
		t.Errorf("CreationID differs between attachments")
	}
	o2, err := s2.OpenObject("greeting", kindTest, 1<<16|3)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(o2.Bytes()[:5]); got != "hello" {
		t.Errorf("payload = %q; want hello", got)
	}
	if o2.Size() != 100 || o2.Offset() != o.Offset() {
		t.Errorf("got size %d off %d; want 100, %d", o2.Size(), o2.Offset(), o.Offset())
	}
	for _, tc := range []struct {
		name    string
		kind    shm.Kind
		version uint32
		want    error
	}{
		{"missing", kindTest, 1 << 16, shm.ErrNotExist},
		{"greeting", shm.MakeKind("LOCK"), 1 << 16, shm.ErrTypeMismatch},
		{"greeting", kindTest, 2 << 16, shm.ErrVersion},
		{"", kindTest, 1 << 16, shm.ErrInvalidName},
		{string(make([]byte, 81)), kindTest, 1 << 16, shm.ErrInvalidName},
	} {
		if _, err := s2.OpenObject(tc.name, tc.kind, tc.version); !errors.Is(err, tc.want) {
			t.Errorf("OpenObject(%q, %v, %#x) = %v; want %v", tc.name, tc.kind, tc.version, err, tc.want)
		}
	}
	if _, err := s2.CreateObject("greeting", kindTest, 1<<16, 8, nil); !errors.Is(err, shm.ErrExist) {
		t.Errorf("second CreateObject = %v; want ErrExist", err)
	}
	infos := s.Objects()
	if len(infos) != 1 || infos[0].Name != "greeting" || !infos[0].Ready || infos[0].Kind != kindTest {
		t.Errorf("Objects() = %+v; want one ready TEST object named greeting", infos)
	}
}

func TestCreateObjectFailures(t *testing.T) {
	s, _ := newSegment(t, 4096, &shm.Options{Objects: 4})
	boom := errors.New("boom")
	if _, err := s.CreateObject("bad-init", kindTest, 1<<16, 8, func([]byte) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("init error = %v; want boom", err)
	}
	if _, err := s.OpenObject("bad-init", kindTest, 1<<16); !errors.Is(err, shm.ErrNotExist) && !errors.Is(err, shm.ErrNotInitialized) {
		t.Errorf("open of failed object = %v; want ErrNotExist or ErrNotInitialized", err)
	}
	if _, err := s.CreateObject("huge", kindTest, 1<<16, 1<<20, nil); !errors.Is(err, shm.ErrNoSpace) {
		t.Errorf("oversized object = %v; want ErrNoSpace", err)
	}
	for i := 0; ; i++ {
		_, err := s.CreateObject(string(rune('a'+i)), kindTest, 1<<16, 8, nil)
		if errors.Is(err, shm.ErrDirectoryFull) {
			if i != 2 { // 4 entries, two burnt by the failures above
				t.Errorf("directory full after %d objects; want 2", i)
			}
			break
		}
		if err != nil || i > 4 {
			t.Fatalf("object %d: %v", i, err)
		}
	}
	if _, err := s.CreateObject("x", kindTest, 1<<16, 0, nil); !errors.Is(err, shm.ErrInvalidSize) {
		t.Errorf("size 0 = %v; want ErrInvalidSize", err)
	}
}

func TestCreateObjectRace(t *testing.T) {
	s, _ := newSegment(t, 1<<20, nil)
	for round := 0; round < 50; round++ {
		name := "race-" + string(rune('A'+round%26)) + string(rune('a'+round/26))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.CreateObject(name, kindTest, 1<<16, 64, nil)
				if err == nil {
					mu.Lock()
					wins++
					mu.Unlock()
				} else if !errors.Is(err, shm.ErrExist) {
					t.Errorf("CreateObject: %v", err)
				}
			}()
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%s: %d creators won; want exactly 1", name, wins)
		}
	}
}

func TestBadArguments(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want error
	}{
		{"", 4096, shm.ErrInvalidName},
		{"a/b", 4096, shm.ErrInvalidName},
		{"..", 4096, shm.ErrInvalidName},
		{string(make([]byte, 256)), 4096, shm.ErrInvalidName},
		{"sp ace", 4096, shm.ErrInvalidName},
		{"ok-name", 0, shm.ErrInvalidSize},
		{"ok-name", -1, shm.ErrInvalidSize},
		{"ok-name", shm.MaxSize + 1, shm.ErrInvalidSize},
		{"ok-name", 1<<62 + 1<<61, shm.ErrInvalidSize},
	} {
		if _, err := shm.Create(tc.name, tc.size); !errors.Is(err, tc.want) {
			t.Errorf("Create(%q, %d) = %v; want %v", tc.name, tc.size, err, tc.want)
		}
	}
	if _, err := shm.CreateWith("ok-name", 4096, &shm.Options{Participants: shm.MaxParticipants + 1}); !errors.Is(err, shm.ErrInvalidSize) {
		t.Errorf("too many participants = %v; want ErrInvalidSize", err)
	}
	if _, err := shm.Anonymous(0); !errors.Is(err, shm.ErrInvalidSize) {
		t.Errorf("Anonymous(0) = %v; want ErrInvalidSize", err)
	}
	if _, err := shm.Open(testproc.Name(t)); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("Open(missing) = %v; want ErrNotExist", err)
	}
	if err := shm.Unlink(testproc.Name(t)); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("Unlink(missing) = %v; want ErrNotExist", err)
	}
}

// useDir points SHMKIT_DIR at a fresh temporary directory.
func useDir(t *testing.T) string {
	d := t.TempDir()
	t.Setenv("SHMKIT_DIR", d)
	return d
}

// Create's mode and exclusivity hold on both of its paths.
func TestCreateSecurity(t *testing.T) {
	for _, path := range []string{"tmpfile", "fallback"} {
		t.Run("path="+path, func(t *testing.T) {
			shm.SetNoTmpfile(path == "fallback")
			t.Cleanup(func() { shm.SetNoTmpfile(false) })
			testCreateSecurity(t)
		})
	}
}

func testCreateSecurity(t *testing.T) {
	dir := useDir(t)
	old := syscall.Umask(0)
	s, err := shm.Create("umask0", 4096)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	fi, err := os.Stat(filepath.Join(dir, "umask0"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode under umask 0 = %v; want 0600", fi.Mode().Perm())
	}

	target := filepath.Join(dir, "target")
	os.WriteFile(target, nil, 0o600)
	os.Symlink(target, filepath.Join(dir, "link"))
	os.Symlink(filepath.Join(dir, "nowhere"), filepath.Join(dir, "dangling"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600)
	os.Mkdir(filepath.Join(dir, "dir"), 0o700)
	for _, n := range []string{"umask0", "link", "dangling", "fifo", "dir", "target"} {
		if _, err := shm.Create(n, 4096); !errors.Is(err, shm.ErrExist) {
			t.Errorf("Create over %s = %v; want ErrExist", n, err)
		}
	}
	if fi, _ := os.Stat(target); fi.Size() != 0 {
		t.Errorf("Create through a symlink wrote the target (%d bytes)", fi.Size())
	}
	if _, err := os.Lstat(filepath.Join(dir, "nowhere")); !os.IsNotExist(err) {
		t.Errorf("Create through a dangling symlink made its target: %v", err)
	}
	if _, err := shm.Open("link"); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Open(symlink) = %v; want ELOOP", err)
	}
	done := make(chan error, 1)
	go func() { _, err := shm.Open("fifo"); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, shm.ErrCorrupt) {
			t.Errorf("Open(fifo) = %v; want not-a-regular-file ErrCorrupt", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Open(fifo) blocked")
	}
	if _, err := shm.Open("dir"); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("Open(dir) = %v; want not-a-regular-file ErrCorrupt", err)
	}
	os.Chmod(filepath.Join(dir, "umask0"), 0o666)
	if _, err := shm.Open("umask0"); !errors.Is(err, shm.ErrPermission) {
		t.Errorf("Open(mode 0666) = %v; want ErrPermission", err)
	}
	s, err = shm.OpenWith("umask0", &shm.Options{AllowGroupWritable: true})
	if err != nil {
		t.Errorf("Open(mode 0666, allowed) = %v", err)
	} else {
		s.Close()
	}
	if os.Geteuid() == 0 {
		os.Chmod(filepath.Join(dir, "umask0"), 0o600)
		os.Chown(filepath.Join(dir, "umask0"), 12345, 12345)
		if _, err := shm.Open("umask0"); !errors.Is(err, shm.ErrPermission) {
			t.Errorf("Open(foreign owner) = %v; want ErrPermission", err)
		}
	}
}

func TestShmFull(t *testing.T) {
	// A tmpfs of our own needs privileges; /dev/shm itself is never filled.
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=1m"); err != nil {
		t.Skipf("cannot mount a small tmpfs here (%v): needs CAP_SYS_ADMIN", err)
	}
	t.Cleanup(func() { unix.Unmount(dir, unix.MNT_DETACH) })
	t.Setenv("SHMKIT_DIR", dir)
	_, err := shm.Create("too-big", 8<<20)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("Create(8 MiB) on a 1 MiB tmpfs = %v; want ENOSPC", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "too-big")); !os.IsNotExist(err) {
		t.Errorf("failed Create left its file behind: %v", err)
	}
}

func TestHealth(t *testing.T) {
	s, name := newSegment(t, 4096, nil)
	if err := s.Health(); err != nil {
		t.Fatalf("Health() = %v", err)
	}
	if err := shm.Unlink(name); err != nil {
		t.Fatal(err)
	}
	if err := s.Health(); !errors.Is(err, shm.ErrUnlinked) {
		t.Errorf("Health() after Unlink = %v; want ErrUnlinked", err)
	}
	s2, err := shm.Create(name, 4096) // re-created under the same name
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if s2.CreationID() == s.CreationID() {
		t.Errorf("re-created segment has the same CreationID")
	}
	a, _ := shm.Anonymous(4096)
	defer a.Close()
	if err := a.Health(); err != nil {
		t.Errorf("anonymous Health() = %v", err)
	}
}

// Header field offsets, as documented in doc.go.
const (
	offMagic     = 0
	offVersion   = 8
	offByteOrder = 12
	offWordSize  = 16
	offCacheLine = 17
	offArena     = 20
	offSize      = 24
	offSlots     = 44
	offEntries   = 56
	offFlags     = 60
	offChecksum  = 64
	offCursor    = 128
)

func TestHeaderValidation(t *testing.T) {
	_, name := newSegment(t, 4096, nil)
	path := filepath.Join(shm.Dir(), name)
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	put32 := func(off int, v uint32) func([]byte) {
		return func(b []byte) { binary.LittleEndian.PutUint32(b[off:], v) }
	}
	put64 := func(off int, v uint64) func([]byte) {
		return func(b []byte) { binary.LittleEndian.PutUint64(b[off:], v) }
	}
	for _, tc := range []struct {
		name  string
		edit  func([]byte)
		resum bool // recompute the checksum so the field check itself is reached
		want  error
	}{
		{"magic", put64(offMagic, 0xdeadbeef), false, shm.ErrCorrupt},
		{"major version", put32(offVersion, 2<<16), true, shm.ErrVersion},
		{"checksum", put32(offSlots, 7), false, shm.ErrCorrupt},
		{"byte order", put32(offByteOrder, 0x04030201), true, shm.ErrCorrupt},
		{"word size", func(b []byte) { b[offWordSize] = 4 }, true, shm.ErrCorrupt},
		{"cache line", func(b []byte) { b[offCacheLine] = 128 }, true, shm.ErrCorrupt},
		{"flags", put32(offFlags, 1), true, shm.ErrCorrupt},
		{"size > file", put64(offSize, 1<<40), true, shm.ErrCorrupt},
		{"size < file", put64(offSize, 4096), true, shm.ErrCorrupt},
		{"slots 0", put32(offSlots, 0), true, shm.ErrCorrupt},
		{"slots huge", put32(offSlots, 1<<31), true, shm.ErrCorrupt},
		{"entries not pow2", put32(offEntries, 3), true, shm.ErrCorrupt},
		{"entries overflow", put32(offEntries, 1<<30), true, shm.ErrCorrupt},
		{"arena offset", put32(offArena, 64), true, shm.ErrCorrupt},
		{"directory past end", func(b []byte) {
			binary.LittleEndian.PutUint32(b[offEntries:], 1<<20)
			binary.LittleEndian.PutUint32(b[offArena:], uint32(256+128*64+(1<<20)*128))
		}, true, shm.ErrCorrupt},
		{"cursor past end", put64(offCursor, 1<<50), false, shm.ErrCorrupt},
		{"cursor before arena", put64(offCursor, 8), false, shm.ErrCorrupt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := append([]byte(nil), orig...)
			tc.edit(b)
			if tc.resum {
				binary.LittleEndian.PutUint64(b[offChecksum:], xxhash.Sum64(b[8:64]))
			}
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := shm.Open(name)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Open = %v; want %v", err, tc.want)
			}
		})
	}
	for _, n := range []int{0, 100, 255, 4096} {
		os.WriteFile(path, orig[:n], 0o600)
		// An empty file is what a creator leaves between O_CREAT and
		// fallocate: Open waits for it. Any other short size is corrupt.
		want := shm.ErrCorrupt
		if n == 0 {
			want = shm.ErrNotInitialized
		}
		if _, err := shm.OpenWith(name, &shm.Options{Timeout: 20 * time.Millisecond}); !errors.Is(err, want) {
			t.Errorf("Open of %d-byte truncation = %v; want %v", n, err, want)
		}
	}
	os.WriteFile(path, make([]byte, len(orig)), 0o600)
	start := time.Now()
	_, err = shm.OpenWith(name, &shm.Options{Timeout: 50 * time.Millisecond})
	if !errors.Is(err, shm.ErrNotInitialized) {
		t.Errorf("Open of zeroed file = %v; want ErrNotInitialized", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open of zeroed file took %v with a 50ms timeout", d)
	}
}

func TestAllocConcurrent(t *testing.T) {
	s, _ := newSegment(t, 1<<20, nil)
	var mu sync.Mutex
	var ranges [][2]int
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				n := 1 + (i*37+g)%300
				off, err := s.Alloc(n)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ranges = append(ranges, [2]int{off, n})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	checkDisjoint(t, ranges)
	if _, err := s.Alloc(0); !errors.Is(err, shm.ErrInvalidSize) {
		t.Errorf("Alloc(0) = %v; want ErrInvalidSize", err)
	}
	if _, err := s.Alloc(s.Free() + 64); !errors.Is(err, shm.ErrNoSpace) {
		t.Errorf("Alloc(beyond Free) = %v; want ErrNoSpace", err)
	}
}

func checkDisjoint(t *testing.T, ranges [][2]int) {
	t.Helper()
	seen := map[int]bool{}
	for _, r := range ranges {
		if r[0]%64 != 0 {
			t.Fatalf("allocation at %d not 64-byte aligned", r[0])
		}
		// One mark per 64-byte line is enough: allocations are aligned
		// and every byte of [off, off+n) lies in a line starting in range.
		for line := r[0]; line < r[0]+r[1]; line += 64 {
			if seen[line] {
				t.Fatalf("allocations overlap at %d", line)
			}
			seen[line] = true
		}
	}
}
