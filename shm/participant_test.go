package shm_test

import (
	"errors"
	"fmt"
	"github.com/shmkit/shmkit/internal/segcore"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("shm-create-objects", helperCreateObjects)
	testproc.Register("shm-read-inherited", helperReadInherited)
	testproc.Register("shm-attach-and-hold", helperAttachAndHold)
	testproc.Register("shm-alloc", helperAlloc)
	testproc.Register("shm-sleep", func() { testproc.Ready(); time.Sleep(time.Hour) })
}

// helperCreateObjects opens segment Arg(0) and creates Arg(1) objects
// named obj-<i>, each holding its own name.
func helperCreateObjects() {
	s, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer s.Close()
	for i := 0; i < testproc.IntArg(1); i++ {
		name := fmt.Sprintf("obj-%d", i)
		if _, err := s.CreateObject(name, kindTest, 1<<16, 64, func(b []byte) error {
			copy(b, name)
			return nil
		}); err != nil {
			testproc.Fatalf("%v", err)
		}
	}
}

func TestChildCreatesParentOpens(t *testing.T) {
	s, name := newSegment(t, 1<<20, nil)
	testproc.Start(t, "shm-create-objects", testproc.Options{Args: []string{name, "20"}}).MustWait()
	for i := 0; i < 20; i++ {
		want := fmt.Sprintf("obj-%d", i)
		o, err := s.OpenObject(want, kindTest, 1<<16)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.TrimRight(string(o.Bytes()), "\x00"); got != want {
			t.Errorf("object %s holds %q", want, got)
		}
	}
}

// helperReadInherited attaches to the inherited anonymous segment and
// sends back the string in object "msg", then writes a reply into it.
func helperReadInherited() {
	s, err := shm.FromFileWith(testproc.File(0), &shm.Options{RequireSealed: true})
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer s.Close()
	o, err := s.OpenObject("msg", kindTest, 1<<16)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Send("%s", strings.TrimRight(string(o.Bytes()), "\x00"))
	copy(o.Bytes(), "reply from child\x00")
}

func TestAnonymousInherited(t *testing.T) {
	s, err := shm.Anonymous(1 << 16)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o, err := s.CreateObject("msg", kindTest, 1<<16, 64, func(b []byte) error {
		copy(b, "hello from parent")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "shm-read-inherited", testproc.Options{Files: []*os.File{s.File()}})
	if got := c.Recv(time.Minute); got != "hello from parent" {
		t.Errorf("child read %q", got)
	}
	c.MustWait()
	if got := strings.TrimRight(string(o.Bytes()), "\x00"); got != "reply from child" {
		t.Errorf("parent read %q after child wrote", got)
	}
	if err := syscall.Ftruncate(int(s.File().Fd()), 0); !errors.Is(err, syscall.EPERM) {
		t.Errorf("ftruncate of sealed memfd = %v; want EPERM", err)
	}
	const want = unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL
	if seals, err := unix.FcntlInt(s.File().Fd(), unix.F_GET_SEALS, 0); err != nil || seals&want != want {
		t.Errorf("F_GET_SEALS = %#x, %v; want shrink, grow and seal (%#x)", seals, err, want)
	}
}

func TestFromFileRequireSealed(t *testing.T) {
	_, name := newSegment(t, 4096, nil)
	f, err := os.OpenFile(shm.Dir()+"/"+name, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := shm.FromFileWith(f, &shm.Options{RequireSealed: true}); !errors.Is(err, shm.ErrNotSealed) {
		t.Errorf("FromFile(unsealed, RequireSealed) = %v; want ErrNotSealed", err)
	}
}

// helperAttachAndHold opens segment Arg(0), reports its token and waits
// until killed or its stdin-less life ends at the deadline.
func helperAttachAndHold() {
	s, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Send("%d", s.Token())
	time.Sleep(time.Hour)
}

func startHolder(t *testing.T, name string) (*testproc.Child, shm.Token) {
	c := testproc.Start(t, "shm-attach-and-hold", testproc.Options{Args: []string{name}})
	n, err := strconv.ParseUint(c.Recv(time.Minute), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return c, shm.Token(n)
}

func mustAlive(t *testing.T, s *shm.Segment, tok shm.Token, want bool, what string) {
	t.Helper()
	got, err := s.Alive(tok)
	if err != nil {
		t.Fatalf("%s: Alive(%v): %v", what, tok, err)
	}
	if got != want {
		t.Fatalf("%s: Alive(%v) = %v; want %v", what, tok, got, want)
	}
}

func TestLivenessKilledUnreaped(t *testing.T) {
	s, name := newSegment(t, 4096, nil)
	c, tok := startHolder(t, name)
	mustAlive(t, s, tok, true, "running child")
	c.Kill()
	// Wait for the process to die without reaping it.
	deadline := time.Now().Add(10 * time.Second)
	for c.ProcState() != 'Z' {
		if time.Now().After(deadline) {
			t.Fatalf("child never became a zombie (state %q)", c.ProcState())
		}
		time.Sleep(time.Millisecond)
	}
	if err := syscall.Kill(c.Pid(), 0); err != nil {
		t.Fatalf("kill(zombie, 0) = %v; the test relies on the zombie still looking alive to kill(2)", err)
	}
	// The group leader shows 'Z' as soon as it exits; the other threads of
	// a Go process (and with them the descriptor table holding the lock)
	// may take a moment longer. Death must be seen while still unreaped.
	for {
		alive, err := s.Alive(tok)
		if err != nil {
			t.Fatal(err)
		}
		if !alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("killed child still judged alive after 10s")
		}
		time.Sleep(100 * time.Microsecond)
	}
	if c.ProcState() != 'Z' {
		t.Fatalf("child state %q; want still an unreaped zombie", c.ProcState())
	}
	if sig := c.ExitSignal(); sig != syscall.SIGKILL {
		t.Errorf("child exit signal %v; want SIGKILL", sig)
	}
	mustAlive(t, s, tok, false, "reaped child")
}

func TestLivenessStoppedIsAlive(t *testing.T) {
	s, name := newSegment(t, 4096, nil)
	c, tok := startHolder(t, name)
	c.Signal(syscall.SIGSTOP)
	deadline := time.Now().Add(10 * time.Second)
	for c.ProcState() != 'T' {
		if time.Now().After(deadline) {
			t.Fatalf("child never stopped (state %q)", c.ProcState())
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; i < 10; i++ {
		mustAlive(t, s, tok, true, "stopped child")
		time.Sleep(5 * time.Millisecond)
	}
	c.Signal(syscall.SIGCONT)
	mustAlive(t, s, tok, true, "continued child")
	c.Kill()
	c.ExitSignal()
	mustAlive(t, s, tok, false, "killed child")
}

func TestLivenessSlotReuse(t *testing.T) {
	// One slot for the parent and one for the children: the second child
	// must take over the first one's slot with a new generation.
	s, name := newSegment(t, 4096, &shm.Options{Participants: 2})
	c1, tok1 := startHolder(t, name)
	c1.Kill()
	c1.ExitSignal()
	c2, tok2 := startHolder(t, name)
	if tok1.Slot() != tok2.Slot() {
		t.Fatalf("second child took slot %d; want the dead child's slot %d", tok2.Slot(), tok1.Slot())
	}
	if tok1 == tok2 {
		t.Fatalf("reused slot kept token %v", tok1)
	}
	mustAlive(t, s, tok1, false, "old token of a reused slot")
	mustAlive(t, s, tok2, true, "new owner")
	if _, err := shm.Open(name); !errors.Is(err, shm.ErrNoSlot) {
		t.Errorf("Open with a full table = %v; want ErrNoSlot", err)
	}
	c2.Kill()
	c2.ExitSignal()
	ps := s.Participants()
	alive := 0
	for _, p := range ps {
		if p.Alive {
			alive++
			if p.Pid != os.Getpid() {
				t.Errorf("live participant pid %d; want only ours (%d)", p.Pid, os.Getpid())
			}
		}
	}
	if alive != 1 {
		t.Errorf("%d live participants; want 1: %+v", alive, ps)
	}
}

// The liveness lock sits on a private descriptor: a child that inherited
// the segment's File() (to attach to it later, say) does not keep an
// attachment that has closed, or died, alive.
func TestLivenessNotInherited(t *testing.T) {
	s, name := newSegment(t, 4096, nil)
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	tok := s2.Token()
	c := testproc.Start(t, "shm-sleep", testproc.Options{Files: []*os.File{s2.File()}})
	c.WaitReady()
	s2.Close()
	mustAlive(t, s, tok, false, "closed attachment whose descriptor a child inherited")
	a, err := shm.Anonymous(4096)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	c2 := testproc.Start(t, "shm-sleep", testproc.Options{Files: []*os.File{a.File()}})
	c2.WaitReady()
	f, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", a.File().Fd()), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	a2, err := shm.FromFile(f)
	if err != nil {
		t.Fatal(err)
	}
	tok = a2.Token()
	mustAlive(t, a, tok, true, "second attachment to the anonymous segment")
	a2.Close()
	mustAlive(t, a, tok, false, "closed attachment to the anonymous segment")
}

func TestLivenessInProcess(t *testing.T) {
	s, name := newSegment(t, 4096, nil)
	s2, err := shm.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	tok := s2.Token()
	mustAlive(t, s, tok, true, "second attachment")
	mustAlive(t, s, s.Token(), true, "own token")
	s2.Close()
	mustAlive(t, s, tok, false, "closed attachment")
	if _, err := s.Alive(shm.Token(0)); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("Alive(0) = %v; want ErrCorrupt", err)
	}
	if _, err := s.Alive(shm.Token(segcore.TokenMask)); !errors.Is(err, shm.ErrCorrupt) {
		t.Errorf("Alive(out-of-range slot) = %v; want ErrCorrupt", err)
	}
}

// helperAlloc opens segment Arg(0), makes Arg(1) allocations of varied size
// and sends each "off size".
func helperAlloc() {
	s, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer s.Close()
	testproc.Ready()
	n := testproc.IntArg(1)
	var b strings.Builder
	for i := 0; i < n; i++ {
		size := 1 + (i*131+os.Getpid())%500
		off, err := s.Alloc(size)
		if err != nil {
			testproc.Fatalf("alloc %d: %v", i, err)
		}
		fmt.Fprintf(&b, "%d:%d ", off, size)
	}
	testproc.Send("%s", b.String())
}

func TestAllocAcrossProcesses(t *testing.T) {
	_, name := newSegment(t, 8<<20, nil)
	const procs, each = 4, 2000
	var cs []*testproc.Child
	for i := 0; i < procs; i++ {
		cs = append(cs, testproc.Start(t, "shm-alloc", testproc.Options{Args: []string{name, strconv.Itoa(each)}}))
	}
	for _, c := range cs {
		c.WaitReady()
	}
	var ranges [][2]int
	for _, c := range cs {
		for _, f := range strings.Fields(c.Recv(time.Minute)) {
			var off, size int
			if _, err := fmt.Sscanf(f, "%d:%d", &off, &size); err != nil {
				t.Fatal(err)
			}
			ranges = append(ranges, [2]int{off, size})
		}
		c.MustWait()
	}
	if len(ranges) != procs*each {
		t.Fatalf("%d allocations reported; want %d", len(ranges), procs*each)
	}
	checkDisjoint(t, ranges)
}
