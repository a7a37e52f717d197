package shm_test

// Cross-process faults: a process SIGKILLed at every step of creating or
// joining a segment (docs/robustness.md F6, F21), processes racing to create
// the same segment and object, and a join/leave/kill storm (bounded).

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/view"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("shm-crash-at", helperCrashAt)
	testproc.Register("shm-create-race", helperCreateRace)
	testproc.Register("shm-join-storm", helperJoinStorm)
	testproc.Register("shm-die-in-init", helperDieInInit)
}

// helperDieInInit opens segment Arg(0) and SIGKILLs itself inside the init
// of object Arg(1); with Arg(2) "wait" it first reports "ready" and waits
// for a byte on File(0).
func helperDieInInit() {
	s, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	_, err = s.CreateObject(testproc.Arg(1), kindTest, 1<<16, 64, func([]byte) error {
		if testproc.Arg(2) == "wait" {
			testproc.Ready()
			testproc.File(0).Read(make([]byte, 1))
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	})
	testproc.Fatalf("CreateObject returned %v", err)
}

// A creator killed inside its init leaves neither an object nor a burnt
// name: openers get ErrNotExist, including one already waiting for it, and
// the name can be created again.
func TestCreatorKilledInInit(t *testing.T) {
	s, name := newSegment(t, 1<<16, &shm.Options{Timeout: time.Minute})
	c := testproc.Start(t, "shm-die-in-init", testproc.Options{Args: []string{name, "db", "now"}})
	if sig := c.ExitSignal(); sig != syscall.SIGKILL {
		t.Fatalf("creator exit signal %v; want SIGKILL; output:\n%s", sig, c.Output())
	}
	if _, err := s.OpenObject("db", kindTest, 1<<16); !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenObject of an object whose creator died in init = %v; want ErrNotExist", err)
	}
	if _, err := s.CreateObject("db", kindTest, 1<<16, 64, nil); err != nil {
		t.Errorf("CreateObject after its first creator died = %v", err)
	}
	if _, err := s.OpenObject("db", kindTest, 1<<16); err != nil {
		t.Errorf("OpenObject of the re-created object = %v", err)
	}

	// An opener already waiting when the creator dies.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	c = testproc.Start(t, "shm-die-in-init", testproc.Options{Args: []string{name, "cache", "wait"}, Files: []*os.File{r}})
	r.Close()
	c.WaitReady()
	got := make(chan error, 1)
	go func() {
		_, err := s.OpenObject("cache", kindTest, 1<<16)
		got <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the opener start waiting
	w.Write([]byte{1})
	c.ExitSignal()
	if err := <-got; !errors.Is(err, shm.ErrNotExist) {
		t.Errorf("OpenObject waiting when the creator died = %v; want ErrNotExist", err)
	}
}

// helperCrashAt runs Create or Open (Arg(0)) of segment Arg(1) and SIGKILLs
// itself at crashpoint Arg(2); Arg(3) "fallback" makes Create take its
// O_CREAT path.
func helperCrashAt() {
	mode, name, step := testproc.Arg(0), testproc.Arg(1), testproc.Arg(2)
	shm.SetNoTmpfile(testproc.Arg(3) == "fallback")
	shm.SetCrashpoint(func(s string) {
		if s == step {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {}
		}
	})
	var err error
	if mode == "create" {
		_, err = shm.Create(name, 4096)
	} else {
		_, err = shm.Open(name)
	}
	testproc.Fatalf("%s %s returned (%v) without reaching %s", mode, name, err, step)
}

func TestJoinerKilled(t *testing.T) {
	for _, step := range []string{"join-attached", "join-claimed", "join-bumped", "join-locked"} {
		t.Run(step, func(t *testing.T) {
			// Two slots: ours and the one the dying joiner takes.
			s, name := newSegment(t, 4096, &shm.Options{Participants: 2})
			c := testproc.Start(t, "shm-crash-at", testproc.Options{Args: []string{"open", name, step, ""}})
			if sig := c.ExitSignal(); sig != syscall.SIGKILL {
				t.Fatalf("joiner exit signal %v; want SIGKILL; output:\n%s", sig, c.Output())
			}
			for _, p := range s.Participants() {
				if p.Alive && p.Token != s.Token() {
					t.Errorf("dead joiner listed alive: %+v", p)
				}
			}
			// Its half-taken slot is the only one left: it must be
			// reclaimable, and its generation's tokens dead.
			s2, err := shm.Open(name)
			if err != nil {
				t.Fatalf("Open after a joiner died at %s = %v", step, err)
			}
			defer s2.Close()
			mustAlive(t, s, s2.Token(), true, "new owner of the slot")
			if _, err := shm.Open(name); !errors.Is(err, shm.ErrNoSlot) {
				t.Errorf("third Open = %v; want ErrNoSlot", err)
			}
		})
	}
}

// createSteps are Create's crashpoints, in order.
var createSteps = []string{"create-opened", "create-mapped", "join-attached", "join-claimed",
	"join-bumped", "join-locked", "create-joined", "create-published"}

// A creator killed at any step of Create leaves no name behind: the name
// is linked only once the segment is complete.
func TestCreatorKilled(t *testing.T) {
	for _, step := range createSteps {
		t.Run(step, func(t *testing.T) {
			name := testproc.Name(t)
			t.Cleanup(func() { shm.Unlink(name) })
			c := testproc.Start(t, "shm-crash-at", testproc.Options{Args: []string{"create", name, step, ""}})
			if sig := c.ExitSignal(); sig != syscall.SIGKILL {
				t.Fatalf("creator exit signal %v; want SIGKILL; output:\n%s", sig, c.Output())
			}
			if _, err := os.Lstat(filepath.Join(shm.Dir(), name)); !os.IsNotExist(err) {
				t.Errorf("a creator killed at %s left its name behind (lstat: %v)", step, err)
			}
			if _, err := shm.Open(name); !errors.Is(err, shm.ErrNotExist) {
				t.Errorf("Open after the creator died at %s = %v; want ErrNotExist", step, err)
			}
			s, err := shm.Create(name, 4096)
			if err != nil {
				t.Fatalf("Create after the creator died at %s = %v", step, err)
			}
			s.Close()
		})
	}
}

// On the O_CREAT fallback (no O_TMPFILE) a dead creator's file keeps the
// name: Open says ErrNotInitialized, and shmkit gc removes it.
func TestCreatorKilledFallback(t *testing.T) {
	for _, step := range createSteps[:len(createSteps)-1] {
		t.Run(step, func(t *testing.T) {
			name := testproc.Name(t)
			t.Cleanup(func() { shm.Unlink(name) })
			c := testproc.Start(t, "shm-crash-at", testproc.Options{Args: []string{"create", name, step, "fallback"}})
			if sig := c.ExitSignal(); sig != syscall.SIGKILL {
				t.Fatalf("creator exit signal %v; want SIGKILL; output:\n%s", sig, c.Output())
			}
			if _, err := shm.OpenWith(name, &shm.Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, shm.ErrNotInitialized) {
				t.Errorf("Open of a segment whose creator died at %s = %v; want ErrNotInitialized", step, err)
			}
			if _, err := shm.Create(name, 4096); !errors.Is(err, shm.ErrExist) {
				t.Errorf("Create over the leftover = %v; want ErrExist", err)
			}
		})
	}
}

// ctlBarrier is a cross-process barrier in a control segment: each arrival
// adds one to a shared counter and waits until it reaches n*(round+1).
type ctlBarrier struct{ n *uint64 }

func openBarrier(s *shm.Segment, create bool) (ctlBarrier, error) {
	var o shm.Object
	var err error
	if create {
		o, err = s.CreateObject("barrier", kindTest, 1<<16, 8, nil)
	} else {
		o, err = s.OpenObject("barrier", kindTest, 1<<16)
	}
	if err != nil {
		return ctlBarrier{}, err
	}
	return ctlBarrier{view.Ptr[uint64](o.Bytes(), 0)}, nil
}

// wait gives up (the helper fails) if a party has not arrived within 10 s,
// so that one party's failure does not leave the others spinning.
func (b ctlBarrier) wait(parties, round int) {
	atomic.AddUint64(b.n, 1)
	deadline := time.Now().Add(10 * time.Second)
	for atomic.LoadUint64(b.n) < uint64(parties*(round+1)) {
		if time.Now().After(deadline) {
			testproc.Fatalf("barrier round %d: %d arrivals of %d", round, atomic.LoadUint64(b.n), parties*(round+1))
		}
		time.Sleep(20 * time.Microsecond)
	}
}

// helperCreateRace: control segment Arg(0), segment names Arg(1)-<round>,
// Arg(2) rounds, Arg(3) parties, Arg(4) "fallback" for Create's O_CREAT
// path. Each round every party tries Create and,
// on ErrExist, Open; then tries to create the object "winner". It sends
// one "<created|opened>:<creation id>:<won|lost>" word per round.
func helperCreateRace() {
	ctl, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	defer ctl.Close()
	b, err := openBarrier(ctl, false)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	rounds, parties := testproc.IntArg(2), testproc.IntArg(3)
	shm.SetNoTmpfile(testproc.Arg(4) == "fallback")
	var out []string
	for r := 0; r < rounds; r++ {
		name := fmt.Sprintf("%s-%d", testproc.Arg(1), r)
		b.wait(parties, r)
		how := "created"
		s, err := shm.Create(name, 4096)
		if errors.Is(err, shm.ErrExist) {
			how = "opened"
			s, err = shm.OpenWith(name, &shm.Options{Timeout: time.Minute})
		}
		if err != nil {
			testproc.Fatalf("round %d: %v", r, err)
		}
		won := "won"
		if _, err := s.CreateObject("winner", kindTest, 1<<16, 8, nil); errors.Is(err, shm.ErrExist) {
			won = "lost"
		} else if err != nil {
			testproc.Fatalf("round %d: CreateObject: %v", r, err)
		}
		out = append(out, fmt.Sprintf("%s:%d:%s", how, s.CreationID(), won))
		s.Close()
	}
	testproc.Send("%s", strings.Join(out, " "))
}

// Four processes race to Create each name: exactly one creates it, the
// others get ErrExist (any other error fails the helper) and open the
// winner's segment, on both of Create's paths.
func TestConcurrentCreate(t *testing.T) {
	for _, path := range []string{"tmpfile", "fallback"} {
		t.Run("path="+path, func(t *testing.T) { testConcurrentCreate(t, path) })
	}
}

func testConcurrentCreate(t *testing.T, path string) {
	const parties = 4
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	ctl, ctlName := newSegment(t, 4096, nil)
	if _, err := openBarrier(ctl, true); err != nil {
		t.Fatal(err)
	}
	base := testproc.Name(t)
	t.Cleanup(func() {
		for r := 0; r < rounds; r++ {
			shm.Unlink(fmt.Sprintf("%s-%d", base, r))
		}
	})
	var cs []*testproc.Child
	for i := 0; i < parties; i++ {
		cs = append(cs, testproc.Start(t, "shm-create-race", testproc.Options{
			Args: []string{ctlName, base, strconv.Itoa(rounds), strconv.Itoa(parties), path},
		}))
	}
	results := make([][]string, parties)
	for i, c := range cs {
		results[i] = strings.Fields(c.Recv(time.Minute))
		c.MustWait()
		if len(results[i]) != rounds {
			t.Fatalf("child %d reported %d rounds; want %d", i, len(results[i]), rounds)
		}
	}
	for r := 0; r < rounds; r++ {
		created, won := 0, 0
		ids := map[string]bool{}
		for i := range cs {
			f := strings.Split(results[i][r], ":")
			if f[0] == "created" {
				created++
			}
			if f[2] == "won" {
				won++
			}
			ids[f[1]] = true
		}
		if created != 1 || won != 1 || len(ids) != 1 {
			t.Errorf("round %d: %d creators, %d object creators, %d creation ids; want 1, 1, 1", r, created, won, len(ids))
		}
	}
}

// helperJoinStorm opens and closes segment Arg(0) Arg(1) times. While
// attached it checks that its slot is still its own (no one reaped a live
// participant). It sends "ready" first and "<joins> <no-slot>" at the end.
func helperJoinStorm() {
	testproc.Ready()
	joins, noSlot := 0, 0
	for i := 0; i < testproc.IntArg(1); i++ {
		s, err := shm.Open(testproc.Arg(0))
		if errors.Is(err, shm.ErrNoSlot) {
			noSlot++
			time.Sleep(100 * time.Microsecond)
			continue
		}
		if err != nil {
			testproc.Fatalf("join %d: %v", i, err)
		}
		mine := false
		for _, p := range s.Participants() {
			if p.Token == s.Token() {
				mine = p.Pid == os.Getpid() && p.Alive
			}
		}
		if !mine {
			testproc.Fatalf("join %d: slot of token %v taken over while attached: %+v", i, s.Token(), s.Participants())
		}
		joins++
		s.Close()
	}
	testproc.Send("%d %d", joins, noSlot)
}

func TestJoinStorm(t *testing.T) {
	workers, victims, rounds := 6, 3, 300
	if testing.Short() {
		workers, victims, rounds = 4, 2, 100
	}
	// Fewer slots than processes, so that joins contend and dead slots
	// must be reclaimed for the workers to get on.
	s, name := newSegment(t, 4096, &shm.Options{Participants: 4})
	var ws, vs []*testproc.Child
	for i := 0; i < workers; i++ {
		ws = append(ws, testproc.Start(t, "shm-join-storm", testproc.Options{Args: []string{name, strconv.Itoa(rounds)}}))
	}
	for i := 0; i < victims; i++ {
		vs = append(vs, testproc.Start(t, "shm-join-storm", testproc.Options{Args: []string{name, "1000000"}}))
	}
	for _, c := range append(append([]*testproc.Child(nil), ws...), vs...) {
		c.WaitReady()
	}
	// Kill the victims at whatever step of joining or leaving they are.
	for i, c := range vs {
		time.Sleep(time.Duration(1+i) * time.Millisecond)
		c.Kill()
		c.ExitSignal()
	}
	joins, noSlot := 0, 0
	for _, c := range ws {
		var j, n int
		if _, err := fmt.Sscanf(c.Recv(2*time.Minute), "%d %d", &j, &n); err != nil {
			t.Fatal(err)
		}
		c.MustWait()
		joins += j
		noSlot += n
	}
	t.Logf("%d joins, %d ErrNoSlot", joins, noSlot)
	if joins == 0 {
		t.Errorf("no worker ever joined")
	}
	for _, p := range s.Participants() {
		if p.Alive && p.Token != s.Token() {
			t.Errorf("participant %+v alive after every other process ended", p)
		}
	}
	// Every slot is reclaimable: fill the table.
	for i := 0; i < 3; i++ {
		o, err := shm.Open(name)
		if err != nil {
			t.Fatalf("join %d after the storm: %v", i, err)
		}
		defer o.Close()
	}
}
