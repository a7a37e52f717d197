package shm

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"github.com/shmkit/shmkit/internal/segcore"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/internal/errtext"
)

// Limits and defaults.
const (
	// MaxSize is the largest segment: 2^46 bytes, the user address space
	// of x86-64 and arm64 kernels with 4-level page tables, halved.
	MaxSize = 1 << 46
	// MaxParticipants is the largest participant table (12 token bits).
	MaxParticipants = 1<<tokenSlotBits - 2
	// MaxObjects is the largest directory.
	MaxObjects = 1 << 20

	DefaultParticipants = 128
	DefaultObjects      = 256
	DefaultTimeout      = 2 * time.Second
)

// Options tunes Create, Anonymous, Open and FromFile. The zero value gives
// the defaults.
type Options struct {
	// Participants is the number of participant slots (Create, Anonymous):
	// how many attachments may be live at once. Default 128.
	Participants int
	// Objects is the number of directory entries (Create, Anonymous),
	// rounded up to a power of two. Default 256.
	Objects int
	// Timeout bounds how long Open and OpenObject wait for a creator that
	// is still initialising. Default 2s.
	Timeout time.Duration
	// AllowForeignOwner lets Open attach to a file owned by another user.
	AllowForeignOwner bool
	// AllowGroupWritable lets Open attach to a file whose mode lets group
	// or others write it.
	AllowGroupWritable bool
	// RequireSealed makes FromFile reject a descriptor that is not a memfd
	// sealed against shrinking and growing.
	RequireSealed bool
	// CreationID, when not zero, makes Open and FromFile fail with
	// ErrUnlinked unless the segment is the one with this CreationID: a
	// process told to join a peer group's segment by name must not join
	// a different segment re-created under that name after the original
	// was unlinked (systemd RemoveIPC, rm), which would split the group.
	CreationID uint64
	// Unguarded (Create, Open, FromFile) makes the handles of futex,
	// ctypes, ring and dict on this attachment skip the truncation guard.
	// A segment whose file can shrink (a named one, or a descriptor not
	// sealed with F_SEAL_SHRINK) is guarded by default: every operation
	// runs with debug.SetPanicOnFault and a deferred recover, so that a
	// peer truncating the file makes the operation fail with
	// ErrSegmentTruncated instead of aborting this process with SIGBUS.
	// That costs about 15 ns per operation (BenchmarkGuard in
	// cgo-free-tests); set Unguarded only where every process that can
	// write the file is trusted, and a truncation may kill this one. A
	// sealed anonymous segment needs no guard and ignores this. The guard
	// does not hold in a binary built with -race: the race detector
	// performs atomic operations in its C runtime, where a fault cannot
	// become a panic.
	Unguarded bool
}

func (o *Options) withDefaults() (Options, error) {
	r := Options{}
	if o != nil {
		r = *o
	}
	if r.Participants == 0 {
		r.Participants = DefaultParticipants
	}
	if r.Objects == 0 {
		r.Objects = DefaultObjects
	}
	if r.Timeout == 0 {
		r.Timeout = DefaultTimeout
	}
	if r.Participants < 1 || r.Participants > MaxParticipants {
		return r, errtext.Errorf("shm: %d participants outside [1, %d]: %w", r.Participants, MaxParticipants, ErrInvalidSize)
	}
	if r.Objects < 1 || r.Objects > MaxObjects {
		return r, errtext.Errorf("shm: %d objects outside [1, %d]: %w", r.Objects, MaxObjects, ErrInvalidSize)
	}
	r.Objects = 1 << bits.Len(uint(r.Objects-1))
	return r, nil
}

// Segment is one process's attachment to a shared-memory segment: the
// mapping, the file, and a participant slot whose kernel-held lock tells
// other processes this one is alive. The zero value is not usable; a Segment
// is safe for concurrent use by goroutines. After Close, every handle built
// on it (locks, queues, values) answers ErrClosed, or for an accessor with
// no error result panics with an error wrapping ErrClosed; the mapping
// itself stays until neither the Segment nor any handle can reach it, so a
// late use is never a fatal fault. Keep the Segment reachable for as long as its memory is in use (handles
// do so): one garbage-collected without Close has its descriptors closed by
// their finalizers, which drops its liveness lock, and from then on other
// processes rightly judge that participant dead.
type Segment struct {
	_    noCopy
	name string // "" for anonymous
	file *os.File
	live *os.File // private OFD holding this participant's liveness lock
	data []byte
	dev  uint64
	ino  uint64

	// base keys the mapping in the registry SegmentOf searches.
	base uintptr

	slots, entries int
	arenaOff       int
	timeout        time.Duration

	token Token

	closeOnce sync.Once

	// core is what sibling packages see (segcore.Of); unmapCleanup unmaps
	// once neither the Segment nor any handle (which keeps the core) can
	// reach the mapping.
	core         segcore.Core
	unmapCleanup runtime.Cleanup
}

type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Dir is the directory that holds named segments: $SHMKIT_DIR when set (for
// tests on a small tmpfs), else /dev/shm, where POSIX shm_open and Python's
// multiprocessing.shared_memory look.
func Dir() string {
	if d := os.Getenv("SHMKIT_DIR"); d != "" {
		return d
	}
	return "/dev/shm"
}

// CheckName reports whether name is a valid segment name: 1 to 255 bytes of
// [A-Za-z0-9._-], not "." or "..".
func CheckName(name string) error {
	if name == "" || len(name) > 255 || name == "." || name == ".." {
		return errtext.Errorf("shm: segment name %q: %w", name, ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return errtext.Errorf("shm: segment name %q: byte %q: %w", name, c, ErrInvalidName)
		}
	}
	return nil
}

// layout computes the header-derived offsets for a table shape.
func layout(slots, entries int) (arenaOff int) {
	end := hdrSize + slots*slotSize + entries*entrySize
	return alignUp(end, cacheLine)
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// Create makes a new named segment of at least size bytes of object space
// under Dir(), mode 0600 whatever the umask, the whole size reserved with
// fallocate so that a full /dev/shm fails here (errors.Is(err,
// syscall.ENOSPC)) and never later with SIGBUS. A name that exists, as any
// kind of file or symlink, gives ErrExist.
//
// The name only ever leads to a complete segment: Create builds the file
// unnamed (O_TMPFILE in Dir()), reserves, maps and formats it, publishes its
// header, joins it, and only then gives it its name with linkat, which fails
// with EEXIST if the name is taken, so two creators racing for one name get
// one segment and one ErrExist. A creator that dies at any step leaves no
// name behind (its unnamed file goes with its last descriptor). Where the
// file system of Dir() lacks O_TMPFILE (a SHMKIT_DIR on some FUSE or
// network file systems; tmpfs has it), or /proc is not mounted, Create
// falls back to creating the name first with O_CREAT|O_EXCL|O_NOFOLLOW; a
// creator that dies there leaves an empty or unpublished file that Open
// reports as ErrNotInitialized and shmkit gc removes.
func Create(name string, size int) (*Segment, error) { return CreateWith(name, size, nil) }

// CreateWith is Create with options.
func CreateWith(name string, size int, o *Options) (*Segment, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	opt, total, err := plan(size, o)
	if err != nil {
		return nil, errtext.Errorf("shm: create %q: %w", name, err)
	}
	path := filepath.Join(Dir(), name)
	s, err := createUnnamed(path, name, total, opt)
	if err == errNoTmpfile {
		s, err = createNamed(path, name, total, opt)
	}
	if err != nil {
		return nil, errtext.Errorf("shm: create %q: %w", name, err)
	}
	return s, nil
}

// errNoTmpfile says that Dir() cannot hold unnamed files, or that they
// could not be named (no /proc).
var errNoTmpfile = errors.New("O_TMPFILE not supported")

// noTmpfile makes createUnnamed report errNoTmpfile, so that tests can
// exercise the fallback on a file system that has O_TMPFILE.
var noTmpfile atomic.Bool

// createUnnamed makes the segment as an unnamed file in Dir() and links it
// under path once it is complete.
func createUnnamed(path, name string, total int, opt Options) (*Segment, error) {
	if noTmpfile.Load() {
		return nil, errNoTmpfile
	}
	fd, err := unix.Open(filepath.Dir(path), unix.O_TMPFILE|unix.O_RDWR|unix.O_CLOEXEC, 0o600)
	if err != nil {
		// Kernels before 3.11 see O_TMPFILE as O_DIRECTORY and refuse to
		// open a directory for writing (EISDIR); file systems without it
		// say EOPNOTSUPP, some EINVAL.
		if err == unix.EOPNOTSUPP || err == unix.EISDIR || err == unix.EINVAL {
			return nil, errNoTmpfile
		}
		return nil, err
	}
	// linkat through /proc/self/fd with AT_SYMLINK_FOLLOW needs no
	// privilege (AT_EMPTY_PATH would need CAP_DAC_READ_SEARCH), and like
	// O_EXCL it never replaces an existing name, symlinks included. Where
	// /proc is not mounted the unnamed file could never be named.
	proc := "/proc/self/fd/" + strconv.Itoa(fd)
	var st unix.Stat_t
	if unix.Stat(proc, &st) != nil {
		unix.Close(fd)
		return nil, errNoTmpfile
	}
	f := os.NewFile(uintptr(fd), path)
	crashpoint("create-opened")
	s, err := initialize(f, name, total, opt)
	if err != nil {
		f.Close()
		return nil, err
	}
	crashpoint("create-published")
	if err := unix.Linkat(unix.AT_FDCWD, proc, unix.AT_FDCWD, path, unix.AT_SYMLINK_FOLLOW); err != nil {
		s.Close()
		if err == unix.EEXIST {
			return nil, ErrExist
		}
		return nil, errtext.Errorf("link: %w", err)
	}
	return s, nil
}

// createNamed is Create where Dir() lacks O_TMPFILE: the name exists, empty,
// from the O_CREAT on, and the segment is complete when its magic is
// published (Open waits for both).
func createNamed(path, name string, total int, opt Options) (*Segment, error) {
	fd, err := unix.Open(path, unix.O_RDWR|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		if err == unix.EEXIST {
			return nil, ErrExist
		}
		return nil, err
	}
	f := os.NewFile(uintptr(fd), path)
	crashpoint("create-opened")
	s, err := initialize(f, name, total, opt)
	if err != nil {
		unlinkIfSame(path, f)
		f.Close()
		return nil, err
	}
	return s, nil
}

// unlinkIfSame removes path if it still names f's file: a failed Create
// takes back its name, never one that a peer re-created meanwhile.
func unlinkIfSame(path string, f *os.File) {
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) == nil && unix.Lstat(path, &b) == nil && a.Dev == b.Dev && a.Ino == b.Ino {
		unix.Unlink(path)
	}
}

// Anonymous makes a segment with no name: a memfd, sealed against shrinking
// and growing once sized, that a child process inherits through File().
func Anonymous(size int) (*Segment, error) { return AnonymousWith(size, nil) }

// AnonymousWith is Anonymous with options.
func AnonymousWith(size int, o *Options) (*Segment, error) {
	opt, total, err := plan(size, o)
	if err != nil {
		return nil, errtext.Errorf("shm: anonymous: %w", err)
	}
	fd, err := unix.MemfdCreate("shmkit", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|unix.MFD_NOEXEC_SEAL)
	if err == unix.EINVAL { // kernels before 6.3 lack MFD_NOEXEC_SEAL
		fd, err = unix.MemfdCreate("shmkit", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, errtext.Errorf("shm: anonymous: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "memfd:shmkit")
	s, err := initialize(f, "", total, opt)
	if err != nil {
		f.Close()
		return nil, errtext.Errorf("shm: anonymous: %w", err)
	}
	return s, nil
}

func plan(size int, o *Options) (Options, int, error) {
	opt, err := o.withDefaults()
	if err != nil {
		return opt, 0, err
	}
	if size <= 0 || size > MaxSize {
		return opt, 0, errtext.Errorf("size %d outside [1, %d]: %w", size, int64(MaxSize), ErrInvalidSize)
	}
	total := alignUp(layout(opt.Participants, opt.Objects)+size, os.Getpagesize())
	if total > MaxSize {
		return opt, 0, errtext.Errorf("size %d plus header above %d: %w", size, int64(MaxSize), ErrInvalidSize)
	}
	return opt, total, nil
}

// initialize reserves, maps and formats a freshly created file, joins it as
// the first participant and publishes the magic last.
func initialize(f *os.File, name string, total int, opt Options) (*Segment, error) {
	fd := int(f.Fd())
	if err := unix.Fchmod(fd, 0o600); err != nil {
		return nil, errtext.Errorf("fchmod: %w", err)
	}
	if err := unix.Fallocate(fd, 0, 0, int64(total)); err != nil {
		if err != unix.EOPNOTSUPP {
			return nil, errtext.Errorf("reserve %d bytes: %w", total, err)
		}
		// A SHMKIT_DIR on a file system without fallocate: size it
		// sparsely. /dev/shm (tmpfs) always supports it.
		if err := unix.Ftruncate(fd, int64(total)); err != nil {
			return nil, errtext.Errorf("ftruncate %d: %w", total, err)
		}
	}
	if name == "" {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
			return nil, errtext.Errorf("seal: %w", err)
		}
	}
	s, err := mapFile(f, name, total, opt)
	if err != nil {
		return nil, err
	}
	if err := s.format(opt); err != nil {
		s.discard()
		return nil, err
	}
	return s, nil
}

// format writes the header of a freshly mapped segment, joins it as the
// first participant and publishes the magic last. A peer that truncates the
// file meanwhile makes it fail with ErrSegmentTruncated.
func (s *Segment) format(opt Options) (err error) {
	defer s.core.Catch(&err, segcore.Arm())
	crashpoint("create-mapped")
	total := len(s.data)
	h := s.hdr()
	h.version = segVersion
	h.byteOrder = byteOrderTag
	h.wordSize = 8
	h.cacheLine = cacheLine
	h.arenaOff = uint32(s.arenaOff)
	h.size = uint64(total)
	var id [8]byte
	rand.Read(id[:])
	h.creationID = binary.LittleEndian.Uint64(id[:])
	self := selfInfo()
	h.creatorPid = uint32(self.pid)
	h.creatorStart = self.start
	h.slots = uint32(opt.Participants)
	h.entries = uint32(opt.Objects)
	h.checksum = headerChecksum(s.data)
	atomic.StoreUint64(&h.cursor, uint64(s.arenaOff))
	if err := s.join(); err != nil {
		return err
	}
	crashpoint("create-joined")
	atomic.StoreUint64(&h.magic, segMagic)
	return nil
}

func headerChecksum(data []byte) uint64 { return xxhash.Sum64(data[hdrCsumStart:hdrCsumOff]) }

func mapFile(f *os.File, name string, total int, opt Options) (*Segment, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return nil, errtext.Errorf("fstat: %w", err)
	}
	data, err := unix.Mmap(int(f.Fd()), 0, total, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, errtext.Errorf("mmap %d bytes: %w", total, err)
	}
	s := &Segment{
		name:     name,
		file:     f,
		data:     data,
		base:     addrOf(data),
		dev:      st.Dev,
		ino:      st.Ino,
		slots:    opt.Participants,
		entries:  opt.Objects,
		arenaOff: layout(opt.Participants, opt.Objects),
		timeout:  opt.Timeout,
	}
	register(s, opt.Unguarded)
	return s, nil
}

// Open attaches to the named segment under Dir(). It checks the file before
// trusting a byte (a regular file, not a symlink, owned by this user, not
// writable by group or others, no larger than MaxSize), maps it, waits up to
// Options.Timeout for a creator still initialising it (the file still empty,
// or the magic not yet published: then ErrNotInitialized), validates every
// header field against the file size (ErrCorrupt, ErrVersion), and takes a
// participant slot. A file unlinked while Open attached to it (shmkit gc) is
// let go and the name tried again.
func Open(name string) (*Segment, error) { return OpenWith(name, nil) }

// OpenWith is Open with options.
func OpenWith(name string, o *Options) (*Segment, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	path := filepath.Join(Dir(), name)
	// shmkit gc unlinks a segment only while it holds the write lock that
	// every attachment's read lock excludes; an Open that took its read
	// lock after such an unlink attached to a file nobody can find any
	// more, so it tries the name again (which now fails, or finds the
	// segment that replaced it).
	for attempt := 1; ; attempt++ {
		fd, err := unix.Open(path, unix.O_RDWR|unix.O_NOFOLLOW|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
		if err != nil {
			switch err {
			case unix.ENOENT:
				return nil, errtext.Errorf("shm: open %q: %w", name, ErrNotExist)
			case unix.ELOOP:
				return nil, errtext.Errorf("shm: open %q: symlink refused: %w", name, err)
			case unix.EISDIR:
				return nil, errtext.Errorf("shm: open %q: a directory, not a regular file: %w", name, ErrCorrupt)
			}
			return nil, errtext.Errorf("shm: open %q: %w", name, err)
		}
		f := os.NewFile(uintptr(fd), path)
		crashpoint("open-opened")
		s, err := attach(f, name, o, true)
		if err != nil {
			f.Close()
			return nil, errtext.Errorf("shm: open %q: %w", name, err)
		}
		var st unix.Stat_t
		if err := unix.Fstat(fd, &st); err != nil || st.Nlink > 0 {
			return s, nil
		}
		s.Close()
		if attempt == 3 {
			return nil, errtext.Errorf("shm: open %q: unlinked while attaching, %d times: %w", name, attempt, ErrNotExist)
		}
	}
}

// FromFile attaches to the segment behind f, typically a descriptor a parent
// passed with Segment.File (os/exec ExtraFiles; in the child
// os.NewFile(3, "")). The Segment owns f from then on, also on error.
func FromFile(f *os.File) (*Segment, error) { return FromFileWith(f, nil) }

// FromFileWith is FromFile with options.
func FromFileWith(f *os.File, o *Options) (*Segment, error) {
	// Our own descriptor must not leak into later children.
	unix.CloseOnExec(int(f.Fd()))
	s, err := attach(f, "", o, false)
	if err != nil {
		f.Close()
		return nil, errtext.Errorf("shm: from file %q: %w", f.Name(), err)
	}
	return s, nil
}

func attach(f *os.File, name string, o *Options, named bool) (*Segment, error) {
	opt, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	fd := int(f.Fd())
	if named {
		// O_NONBLOCK only kept a FIFO from blocking the open.
		if err := unix.SetNonblock(fd, false); err != nil {
			return nil, err
		}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, errtext.Errorf("fstat: %w", err)
	}
	if named && st.Size == 0 && st.Mode&unix.S_IFMT == unix.S_IFREG {
		// Create names a segment only once it is complete, except where
		// Dir() lacks O_TMPFILE: there it makes the file with O_CREAT and
		// only then reserves its size, and a creator still between the
		// two is initialising it. (So may be a creator outside this
		// package that follows shm_open + ftruncate.)
		if err := awaitSize(fd, &st, opt.Timeout); err != nil {
			return nil, err
		}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return nil, errtext.Errorf("not a regular file (mode %v): %w", fs.FileMode(st.Mode), ErrCorrupt)
	}
	if named && !opt.AllowForeignOwner && int(st.Uid) != os.Geteuid() {
		return nil, errtext.Errorf("owned by uid %d, not %d: %w", st.Uid, os.Geteuid(), ErrPermission)
	}
	if named && !opt.AllowGroupWritable && st.Mode&0o022 != 0 {
		return nil, errtext.Errorf("mode %#o is group/other-writable: %w", st.Mode&0o777, ErrPermission)
	}
	if seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0); err == nil {
		if opt.RequireSealed && seals&(unix.F_SEAL_SHRINK|unix.F_SEAL_GROW) != unix.F_SEAL_SHRINK|unix.F_SEAL_GROW {
			return nil, errtext.Errorf("seals %#x: %w", seals, ErrNotSealed)
		}
	} else if opt.RequireSealed {
		return nil, errtext.Errorf("F_GET_SEALS: %v: %w", err, ErrNotSealed)
	}
	size := st.Size
	if size < hdrSize || size > MaxSize {
		return nil, errtext.Errorf("file size %d outside [%d, %d]: %w", size, hdrSize, int64(MaxSize), ErrCorrupt)
	}
	data, err := unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, errtext.Errorf("mmap %d bytes: %w", size, err)
	}
	s := &Segment{name: name, file: f, data: data, base: addrOf(data), dev: st.Dev, ino: st.Ino, timeout: opt.Timeout}
	register(s, opt.Unguarded)
	if err := s.validateAndJoin(opt); err != nil {
		s.discard()
		return nil, err
	}
	return s, nil
}

// awaitSize waits up to timeout for a zero-length file to be given its size.
func awaitSize(fd int, st *unix.Stat_t, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for backoff := 50 * time.Microsecond; st.Size == 0; backoff = min(2*backoff, 10*time.Millisecond) {
		if time.Now().After(deadline) {
			return errtext.Errorf("file still empty after %v: %w", timeout, ErrNotInitialized)
		}
		time.Sleep(backoff)
		if err := unix.Fstat(fd, st); err != nil {
			return errtext.Errorf("fstat: %w", err)
		}
	}
	return nil
}

// validateAndJoin validates the header of a segment just mapped (its file
// may have been truncated since the fstat) and takes a participant slot.
func (s *Segment) validateAndJoin(opt Options) (err error) {
	defer s.core.Catch(&err, segcore.Arm())
	if err := s.validate(opt.Timeout); err != nil {
		return err
	}
	if opt.CreationID != 0 && s.hdr().creationID != opt.CreationID {
		return errtext.Errorf("creation id %#x, want %#x (re-created under the same name?): %w", s.hdr().creationID, opt.CreationID, ErrUnlinked)
	}
	return s.join()
}

// validate checks the header of a mapped segment. It never reads outside
// s.data: the first hdrSize bytes are known mapped, and every derived offset
// is checked against the mapping before use.
func (s *Segment) validate(timeout time.Duration) error {
	h := s.hdr()
	deadline := time.Now().Add(timeout)
	for backoff := time.Microsecond * 50; ; backoff = min(2*backoff, 10*time.Millisecond) {
		m := atomic.LoadUint64(&h.magic)
		if m == segMagic {
			break
		}
		if m != 0 {
			return errtext.Errorf("magic %#x: %w", m, ErrCorrupt)
		}
		if time.Now().After(deadline) {
			return errtext.Errorf("magic not published after %v: %w", timeout, ErrNotInitialized)
		}
		time.Sleep(backoff)
	}
	if h.version>>16 != segVersion>>16 {
		return errtext.Errorf("layout version %d.%d, want %d.x: %w", h.version>>16, h.version&0xffff, segVersion>>16, ErrVersion)
	}
	if got := headerChecksum(s.data); got != h.checksum {
		return errtext.Errorf("header checksum %#x, want %#x: %w", h.checksum, got, ErrCorrupt)
	}
	switch {
	case h.byteOrder != byteOrderTag:
		return errtext.Errorf("byte order %#x: %w", h.byteOrder, ErrCorrupt)
	case h.wordSize != 8:
		return errtext.Errorf("word size %d: %w", h.wordSize, ErrCorrupt)
	case h.cacheLine != cacheLine:
		return errtext.Errorf("cache line %d: %w", h.cacheLine, ErrCorrupt)
	case h.flags != 0:
		return errtext.Errorf("flags %#x: %w", h.flags, ErrCorrupt)
	case h.size != uint64(len(s.data)):
		return errtext.Errorf("header size %d, file size %d: %w", h.size, len(s.data), ErrCorrupt)
	case h.slots < 1 || h.slots > MaxParticipants:
		return errtext.Errorf("participant slots %d: %w", h.slots, ErrCorrupt)
	case h.entries < 1 || h.entries > MaxObjects || h.entries&(h.entries-1) != 0:
		return errtext.Errorf("directory entries %d: %w", h.entries, ErrCorrupt)
	}
	arena := layout(int(h.slots), int(h.entries))
	if uint64(h.arenaOff) != uint64(arena) || uint64(arena) > h.size {
		return errtext.Errorf("arena offset %d (derived %d, size %d): %w", h.arenaOff, arena, h.size, ErrCorrupt)
	}
	if c := atomic.LoadUint64(&h.cursor); c < uint64(arena) || c > h.size {
		return errtext.Errorf("allocation cursor %d outside [%d, %d]: %w", c, arena, h.size, ErrCorrupt)
	}
	s.slots, s.entries, s.arenaOff = int(h.slots), int(h.entries), arena
	return nil
}

// discard undoes a half-made attachment: its participant slot (if taken)
// and its mapping. The caller closes the file.
func (s *Segment) discard() {
	if s.live != nil {
		s.live.Close()
		s.live = nil
	}
	s.unmap()
}

func (s *Segment) unmap() {
	if s.data != nil {
		unregister(s)
		s.unmapCleanup.Stop()
		unix.Munmap(s.data)
		s.data = nil
	}
}

// Close leaves the participant table (tokens of this attachment become
// dead) and closes the segment's descriptors. Handles built on the Segment
// answer ErrClosed from then on (see Segment); the memory is unmapped once
// neither the Segment nor any handle can reach it. It does not remove a
// named segment: see Unlink. Close is idempotent.
func (s *Segment) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.core.MarkClosed()
		s.leave()
		unregister(s)
		err = s.file.Close()
	})
	return err
}

// Unlink removes the named segment from Dir(). Processes that have it mapped
// keep using it; the memory is freed when the last one closes it.
func Unlink(name string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if err := unix.Unlink(filepath.Join(Dir(), name)); err != nil {
		if err == unix.ENOENT {
			return errtext.Errorf("shm: unlink %q: %w", name, ErrNotExist)
		}
		return errtext.Errorf("shm: unlink %q: %w", name, err)
	}
	return nil
}

// Name returns the segment's name, "" for an anonymous segment.
func (s *Segment) Name() string { return s.name }

// Size returns the mapped size in bytes, header included: at least the size
// asked of Create, rounded up to a page.
func (s *Segment) Size() int { return len(s.data) }

// File returns the segment's descriptor, to hand to a child process
// (os/exec Cmd.ExtraFiles) that attaches with FromFile. The Segment keeps
// ownership; do not close it.
func (s *Segment) File() *os.File { return s.file }

// CreationID returns the random identity the creator stored, which tells a
// segment apart from a later one re-created under the same name (see
// Options.CreationID). It is 0 after Close or if the file was truncated.
func (s *Segment) CreationID() (id uint64) {
	if s.core.Closed() {
		return 0
	}
	defer s.core.Ignore(segcore.Arm())
	return s.hdr().creationID
}

// Creator returns the pid and start time (clock ticks since boot) of the
// process that created the segment (zeros after Close or if the file was
// truncated).
func (s *Segment) Creator() (pid int, start uint64) {
	if s.core.Closed() {
		return 0, 0
	}
	defer s.core.Ignore(segcore.Arm())
	h := s.hdr()
	return int(h.creatorPid), h.creatorStart
}

// Free returns how many bytes of the object arena are still unallocated (0
// after Close or if the file was truncated).
func (s *Segment) Free() (n int) {
	if s.core.Closed() {
		return 0
	}
	defer s.core.Ignore(segcore.Arm())
	c := atomic.LoadUint64(&s.hdr().cursor)
	if c > uint64(len(s.data)) {
		return 0
	}
	return len(s.data) - int(c)
}

// Health reports ErrUnlinked if the segment's name was removed while it is
// mapped (systemd RemoveIPC, rm, shmkit rm), ErrSegmentTruncated if the file
// is now shorter than the mapping, and nil otherwise.
func (s *Segment) Health() error {
	if s.core.Closed() {
		return ErrClosed
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(s.file.Fd()), &st); err != nil {
		return errtext.Errorf("shm: health: %w", err)
	}
	if st.Size < int64(len(s.data)) {
		return errtext.Errorf("shm: health: file %d bytes, mapping %d: %w", st.Size, len(s.data), ErrSegmentTruncated)
	}
	if s.name == "" {
		return nil
	}
	if st.Nlink == 0 {
		return errtext.Errorf("shm: health %q: %w", s.name, ErrUnlinked)
	}
	var cur unix.Stat_t
	if err := unix.Stat(filepath.Join(Dir(), s.name), &cur); err != nil || cur.Dev != st.Dev || cur.Ino != st.Ino {
		return errtext.Errorf("shm: health %q: name now names another file: %w", s.name, ErrUnlinked)
	}
	return nil
}
