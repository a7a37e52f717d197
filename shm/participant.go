package shm

import (
	"fmt"
	"github.com/shmkit/shmkit/internal/segcore"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/internal/errtext"
	"github.com/shmkit/shmkit/internal/procstat"
)

// Token names one participant (a process's attachment to a segment) in a
// 29-bit word that fits beside three flag bits in a 32-bit futex word: bits
// 0-11 hold the slot index + 1 (so a token is never zero), bits 12-28 the low
// 17 bits of the slot's generation, which changes whenever the slot gets a new
// owner. Identity is slot + generation, never a pid, so pid reuse and pid
// namespaces cannot confuse it.
type Token uint32

const (
	tokenSlotBits = segcore.TokenSlotBits
	tokenGenBits  = segcore.TokenGenBits
	genMask       = 1<<tokenGenBits - 1
)

func makeToken(slotIdx int, gen uint32) Token {
	return Token(uint32(slotIdx+1) | (gen&genMask)<<tokenSlotBits)
}

// Slot returns the participant slot index the token names (-1 for zero).
func (t Token) Slot() int { return int(t&(1<<tokenSlotBits-1)) - 1 }

func (t Token) gen() uint32 { return uint32(t>>tokenSlotBits) & genMask }

// String formats the token as slot/generation.
func (t Token) String() string { return fmt.Sprintf("%d/%d", t.Slot(), t.gen()) }

func (s *Segment) slotOff(i int) int  { return hdrSize + i*slotSize }
func (s *Segment) entryOff(i int) int { return hdrSize + s.slots*slotSize + i*entrySize }

// ofdLock takes (typ F_WRLCK/F_RDLCK) or drops (F_UNLCK) an open-file-
// description lock on one byte, without blocking.
func ofdLock(f *os.File, typ int16, off int) error {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: int64(off), Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
		if err != unix.EINTR {
			return err
		}
	}
}

// ofdLocked reports whether some open file description other than f's holds
// a lock on byte off that would conflict with a write lock.
func ofdLocked(f *os.File, off int) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: int64(off), Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return false, err
		}
		return lk.Type != unix.F_UNLCK, nil
	}
}

// openPrivate opens a second, private open file description of the segment
// file: O_CLOEXEC, never handed to a child, so the OFD locks it holds belong
// to this process alone and die with it. (The main descriptor may be shared
// with children, and OFD locks are shared with the descriptor.)
func (s *Segment) openPrivate() (*os.File, error) {
	p := "/proc/self/fd/" + strconv.Itoa(int(s.file.Fd()))
	f, err := os.OpenFile(p, os.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil && s.name != "" {
		f, err = os.OpenFile(s.file.Name(), os.O_RDWR|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	}
	if err != nil {
		return nil, errtext.Errorf("open liveness descriptor: %w", err)
	}
	var a, b unix.Stat_t
	if unix.Fstat(int(f.Fd()), &a) != nil || unix.Fstat(int(s.file.Fd()), &b) != nil || a.Ino != b.Ino || a.Dev != b.Dev {
		f.Close()
		return nil, errtext.Errorf("liveness descriptor names another file: %w", ErrUnlinked)
	}
	return f, nil
}

// crashpoint marks a step of a multi-step protocol (segment creation, slot
// takeover) at which a test may kill the process or act (export_test.go);
// unset, and one atomic load, outside tests.
var crashpointHook atomic.Pointer[func(step string)]

func crashpoint(step string) {
	if fn := crashpointHook.Load(); fn != nil {
		(*fn)(step)
	}
}

// Lock bytes of the segment file. All are open-file-description locks
// through the attachment's private descriptor, so the kernel drops them the
// instant the holder dies, reaped or not:
//
//	byte 0           read lock, held by every attachment; shmkit gc takes
//	                 it for writing across an unlink (nobody attached)
//	slotOff(i)       slot i's liveness lock, write-locked by its owner
//	                 for as long as it is attached
//	slotOff(i) + 1   slot i's claim lock, write-locked by a joiner while
//	                 it takes the slot over
func liveByte(slotOff int) int  { return slotOff }
func claimByte(slotOff int) int { return slotOff + 1 }

func busy(err error) bool { return err == unix.EAGAIN || err == unix.EACCES }

// join takes a participant slot. Taking over a slot is serialised by its
// claim lock: the joiner holding it checks that the liveness lock is free
// (the owner died or left), bumps the generation, and only then takes the
// liveness lock for good. So whenever a liveness lock is held, the slot's
// generation is its holder's, which is what makes Alive exact. A joiner that
// dies at any step leaves its locks free: the slot is reusable, and a token
// of the generation it may have bumped is dead; a joiner still at work holds
// the claim lock and is never reaped (docs/robustness.md F6).
func (s *Segment) join() error {
	live, err := s.openPrivate()
	if err != nil {
		return err
	}
	if err := s.attachLock(live); err != nil {
		live.Close()
		return err
	}
	crashpoint("join-attached")
	// First pass prefers slots marked free; the second reaps dead ones.
	for pass := 0; pass < 2; pass++ {
		for i := 0; i < s.slots; i++ {
			if (atomic.LoadUint32(&s.slotAt(i).state) == slotStateFree) != (pass == 0) {
				continue
			}
			tok, err := s.claim(live, i)
			if err != nil {
				live.Close()
				return err
			}
			if tok != 0 {
				s.live = live
				s.token = tok
				return nil
			}
		}
	}
	live.Close()
	return errtext.Errorf("%d slots: %w", s.slots, ErrNoSlot)
}

// attachLock takes the read lock on byte 0, the "someone has this segment
// attached" count that gc consults (docs/robustness.md D4). gc holds the write lock
// only across its checks and the unlink, so a conflict is waited out for up
// to the segment's timeout.
func (s *Segment) attachLock(live *os.File) error {
	deadline := time.Now().Add(s.timeout)
	for backoff := 50 * time.Microsecond; ; backoff = min(2*backoff, 10*time.Millisecond) {
		err := ofdLock(live, unix.F_RDLCK, 0)
		if err == nil {
			return nil
		}
		if !busy(err) {
			return errtext.Errorf("attach lock: %w", err)
		}
		if time.Now().After(deadline) {
			return errtext.Errorf("attach lock write-locked (by shmkit gc?) for over %v: %w", s.timeout, ErrNotInitialized)
		}
		time.Sleep(backoff)
	}
}

// claim tries to take slot i over and returns the new token, or 0 if the
// slot belongs to a live participant or another joiner.
func (s *Segment) claim(live *os.File, i int) (Token, error) {
	off := s.slotOff(i)
	if err := ofdLock(live, unix.F_WRLCK, claimByte(off)); err != nil {
		if busy(err) {
			return 0, nil
		}
		return 0, errtext.Errorf("claim lock: %w", err)
	}
	// Failing to drop the claim lock would only keep other joiners off a
	// slot that is ours for as long as we hold it anyway.
	defer ofdLock(live, unix.F_UNLCK, claimByte(off))
	crashpoint("join-claimed")
	if held, err := ofdLocked(live, liveByte(off)); err != nil || held {
		if err != nil {
			return 0, errtext.Errorf("liveness lock: %w", err)
		}
		return 0, nil
	}
	self := selfInfo()
	sl := s.slotAt(i)
	atomic.StoreUint32(&sl.state, slotStateFree)
	gen := atomic.AddUint32(&sl.gen, 1)
	atomic.StoreUint32(&sl.pid, uint32(self.pid))
	atomic.StoreUint64(&sl.start, self.start)
	atomic.StoreUint64(&sl.pidNS, self.pidNS)
	for j := range sl.pending {
		atomic.StoreUint64(&sl.pending[j], 0)
	}
	crashpoint("join-bumped")
	if err := ofdLock(live, unix.F_WRLCK, liveByte(off)); err != nil {
		if busy(err) {
			// Only a process that ignores the claim lock gets here.
			return 0, nil
		}
		return 0, errtext.Errorf("liveness lock: %w", err)
	}
	crashpoint("join-locked")
	atomic.StoreUint32(&sl.state, slotStateAlive)
	return makeToken(i, gen), nil
}

// leave frees the participant slot; a truncated file only skips the store.
func (s *Segment) leave() {
	if s.live == nil {
		return
	}
	func() {
		defer s.core.Ignore(segcore.Arm())
		atomic.StoreUint32(&s.slotAt(s.token.Slot()).state, slotStateFree)
	}()
	s.live.Close() // drops the liveness and attach locks
	s.live = nil
}

// Token returns this attachment's participant token. Primitives store it in
// lock words and claims so that other processes can ask Alive.
func (s *Segment) Token() Token { return s.token }

// Alive reports whether the participant behind t is alive, definitively:
// the slot's generation changed (the slot was taken over) → dead; the slot's
// kernel-held liveness lock is free (the owner died, even if not yet reaped,
// or left) → dead; otherwise alive, also when the owner is stopped or slow.
// Nothing is ever judged dead on a timeout. A token naming no slot gives
// ErrCorrupt; a closed Segment ErrClosed; a truncated file
// ErrSegmentTruncated.
//
// The answer is exact, not a guess that later calls correct: a joiner bumps
// a slot's generation before it takes the slot's liveness lock, so a held
// lock always belongs to the generation read after it. Alive costs one
// fcntl system call; call it on slow paths only.
func (s *Segment) Alive(t Token) (alive bool, err error) {
	if s.core.Closed() {
		return false, errtext.Errorf("shm: liveness of %v: %w", t, ErrClosed)
	}
	i := t.Slot()
	if i < 0 || i >= s.slots {
		return false, errtext.Errorf("shm: token %v names no slot of %d: %w", t, s.slots, ErrCorrupt)
	}
	if t == s.token && t != 0 { // this attachment, not closed (checked above); s.live is Close's to clear
		return true, nil
	}
	defer s.core.Catch(&err, segcore.Arm())
	sl := s.slotAt(i)
	if atomic.LoadUint32(&sl.gen)&genMask != t.gen() {
		return false, nil
	}
	locked, err := ofdLocked(s.file, liveByte(s.slotOff(i)))
	if err != nil {
		return false, errtext.Errorf("shm: liveness of %v: %w", t, err)
	}
	if !locked {
		return false, nil
	}
	return atomic.LoadUint32(&sl.gen)&genMask == t.gen(), nil
}

// pending returns the protocol words of the participant slot t names
// (segcore.Core.Pending, which sibling packages call). The words are reset
// when a new owner takes the slot.
func (s *Segment) pending(token uint32) (*[segcore.PendingWords]uint64, error) {
	t := Token(token)
	i := t.Slot()
	if i < 0 || i >= s.slots {
		return nil, errtext.Errorf("shm: token %v names no slot of %d: %w", t, s.slots, ErrCorrupt)
	}
	return &s.slotAt(i).pending, nil
}

// Participant describes one occupied participant slot, for tools.
type Participant struct {
	Token Token
	Pid   int
	Start uint64 // clock ticks since boot
	PidNS uint64 // pid namespace inode
	Alive bool
}

// Participants lists the slots that are marked occupied, with their
// liveness. A slot whose owner died shows Alive false until reused. After
// Close it is empty; if the file was truncated it stops at the fault.
func (s *Segment) Participants() (out []Participant) {
	if s.core.Closed() {
		return nil
	}
	defer s.core.Ignore(segcore.Arm())
	for i := 0; i < s.slots; i++ {
		sl := s.slotAt(i)
		if atomic.LoadUint32(&sl.state) == slotStateFree {
			continue
		}
		t := makeToken(i, atomic.LoadUint32(&sl.gen))
		alive, _ := s.Alive(t)
		out = append(out, Participant{
			Token: t,
			Pid:   int(atomic.LoadUint32(&sl.pid)),
			Start: atomic.LoadUint64(&sl.start),
			PidNS: atomic.LoadUint64(&sl.pidNS),
			Alive: alive,
		})
	}
	return out
}

type procInfo struct {
	pid   int
	start uint64
	pidNS uint64
}

var self struct {
	once sync.Once
	info procInfo
}

// selfInfo returns this process's pid, start time and pid namespace, read
// once from /proc (zeros where /proc is hidden: they are informational).
func selfInfo() procInfo {
	self.once.Do(func() {
		self.info.pid = os.Getpid()
		if st, err := procstat.Self(); err == nil {
			self.info.start = st.StartTime
		}
		var st unix.Stat_t
		if unix.Stat("/proc/self/ns/pid", &st) == nil {
			self.info.pidNS = st.Ino
		}
	})
	return self.info
}
