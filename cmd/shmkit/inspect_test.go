package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	// hold-lock SEG LOCK live|die: acquire LOCK, then report ready and
	// sleep until killed, or SIGKILL itself holding it.
	testproc.Register("hold-lock", func() {
		s, err := shm.Open(testproc.Arg(0))
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		l, err := futex.OpenLock(s, testproc.Arg(1))
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		if err := l.Acquire(context.Background()); err != nil {
			testproc.Fatalf("acquire: %v", err)
		}
		if testproc.Arg(2) == "die" {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
		testproc.Ready()
		time.Sleep(time.Hour)
	})
	// lease-and-die SEG QUEUE: take one message under a lease and SIGKILL
	// itself holding it.
	testproc.Register("lease-and-die", func() {
		s, err := shm.Open(testproc.Arg(0))
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		q, err := ring.OpenQueue(s, testproc.Arg(1), nil)
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		if _, err := q.GetLease(context.Background()); err != nil {
			testproc.Fatalf("lease: %v", err)
		}
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
	})
}

// killed runs helper with args and waits for it to die of SIGKILL.
func killed(t *testing.T, helper string, args ...string) {
	t.Helper()
	c := testproc.Start(t, helper, testproc.Options{Args: args, Timeout: time.Minute})
	if sig := c.ExitSignal(); sig != syscall.SIGKILL {
		t.Fatalf("%s exit signal %v; want SIGKILL; output:\n%s", helper, sig, c.Output())
	}
}

// A segment holding one of each kind in known states: inspect shows each
// state in its text report and in -json.
func TestInspectEveryKind(t *testing.T) {
	privateDir(t)
	const seg = "seg-all"
	s, err := shm.Create(seg, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}

	_, err = futex.NewLock(s, "held-live")
	must(err)
	_, err = futex.NewLock(s, "held-dead")
	must(err)
	live := testproc.Start(t, "hold-lock", testproc.Options{Args: []string{seg, "held-live", "live"}, Timeout: time.Minute})
	live.WaitReady()
	defer func() { live.Kill(); live.ExitSignal() }()
	killed(t, "hold-lock", seg, "held-dead", "die")
	// taken-over: its holder died and this process took it over
	// (ErrOwnerDead) without calling Consistent yet.
	taken, err := futex.NewLock(s, "taken-over")
	must(err)
	killed(t, "hold-lock", seg, "taken-over", "die")
	if err := taken.Acquire(ctx); !errors.Is(err, futex.ErrOwnerDead) {
		t.Fatalf("Acquire of a dead holder's lock = %v; want ErrOwnerDead", err)
	}

	sem, err := futex.NewBoundedSemaphore(s, "sem", 3)
	must(err)
	must(sem.Acquire(ctx))
	ev, err := futex.NewEvent(s, "event")
	must(err)
	ev.Set()
	bar, err := futex.NewBarrier(s, "barrier", 3)
	must(err)
	bar.Abort()
	_, err = futex.NewCondition(s, "cond", nil)
	must(err)

	q, err := ring.NewQueue(s, "queue", &ring.QueueOptions{MaxSize: 8, MaxMessage: 64})
	must(err)
	for i := 0; i < 3; i++ {
		must(q.TryPut([]byte("msg-" + strconv.Itoa(i))))
	}
	killed(t, "lease-and-die", seg, "queue")

	c0, c1, err := ring.NewPipe(s, "pipe", nil)
	must(err)
	defer c0.Close()
	defer c1.Close()
	must(c1.SendBytes(ctx, []byte("hello")))

	_, err = ctypes.NewValue(s, "value", 2.5, nil)
	must(err)
	_, err = ctypes.NewArrayFrom(s, "array", []int32{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, nil)
	must(err)

	rc, out, errOut := shmkit(t, "inspect", seg)
	if rc != 0 {
		t.Fatalf("inspect: rc %d, stderr %q", rc, errOut)
	}
	t.Logf("shmkit inspect %s:\n%s", seg, out)
	livePid := strconv.Itoa(live.Pid())
	for _, want := range []string{
		`"held-live"\s+LOCK\s+locked=true holder=\S+ pid=` + livePid + ` alive=true owner_died=false not_recoverable=false`,
		`"held-dead"\s+LOCK\s+locked=true holder=\S+ pid=\d+ alive=false owner_died=false`,
		`"taken-over"\s+LOCK\s+locked=true holder=\S+ pid=` + strconv.Itoa(os.Getpid()) + ` alive=true owner_died=true not_recoverable=false`,
		`"sem"\s+BSEM\s+value=2 bound=3 sleepers=0`,
		`"event"\s+EVNT\s+set=true sets=1 sleepers=0`,
		`"barrier"\s+BARR\s+parties=3 waiting=0 generation=\d+ broken=true`,
		`"cond"\s+COND\s+lock="cond.lock" waiting=0 signals=0`,
		`"queue"\s+RMPM\s+len=2 max_size=8 committed=3 consumed=1 tombstoned=0 in_flight=0 corrupt=0 leases_held=1 leases_dead=1 orphans=0 lost=0 redelivered=0 closed=false`,
		`"pipe"\s+PIPE\s+duplex=true end0: closed=false holders=\[\S+\]; end1: closed=false holders=\[\S+\]; ring0: used=\d+ capacity=\d+`,
		`"value"\s+CTYP\s+type=d shape=value len=1 lock="value.lock" values=\[2.5\]`,
		`"array"\s+CTYP\s+type=i shape=array len=10 lock="array.lock" values=\[1 2 3 4 5 6 7 8 \.\.\.\]`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("inspect output lacks a line matching %s", want)
		}
	}

	rc, out, errOut = shmkit(t, "inspect", "-json", "-elems", "-1", seg)
	if rc != 0 {
		t.Fatalf("inspect -json: rc %d, stderr %q", rc, errOut)
	}
	var r inspectReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("inspect -json output does not parse: %v\n%s", err, out)
	}
	if r.Segment != seg || r.Size != s.Size() || r.Creator.Pid != os.Getpid() || r.Health != "ok" {
		t.Errorf("JSON header: segment %q size %d creator %d health %q; want %q %d %d ok", r.Segment, r.Size, r.Creator.Pid, r.Health, seg, s.Size(), os.Getpid())
	}
	// Alive: the test's own attachment and the lock-holding child; dead:
	// the three children killed holding a lock or a lease.
	alive, dead := map[int]bool{}, 0
	for _, p := range r.Participants {
		if p.Alive {
			alive[p.Pid] = true
		} else {
			dead++
		}
	}
	if len(alive) != 2 || !alive[os.Getpid()] || !alive[live.Pid()] || dead != 3 {
		t.Errorf("JSON participants %+v; want this process and child %d alive, three dead", r.Participants, live.Pid())
	}
	objs := map[string]objectReport{}
	for _, o := range r.Objects {
		objs[o.Name] = o
		if o.Error != "" {
			t.Errorf("JSON object %q: error %q", o.Name, o.Error)
		}
	}
	if l := objs["held-live"].Futex; l == nil || l.Lock == nil || !l.Lock.Locked || !l.Lock.HolderAlive || l.Lock.HolderPid != live.Pid() {
		t.Errorf("JSON held-live: %+v; want locked by the live child, alive", l)
	}
	if l := objs["held-dead"].Futex; l == nil || l.Lock == nil || !l.Lock.Locked || l.Lock.HolderAlive {
		t.Errorf("JSON held-dead: %+v; want locked by a dead holder", l)
	}
	if l := objs["taken-over"].Futex; l == nil || l.Lock == nil || !l.Lock.OwnerDied || l.Lock.Holder != s.Token() {
		t.Errorf("JSON taken-over: %+v; want held by this process, owner died", l)
	}
	if f := objs["sem"].Futex; f == nil || f.Semaphore == nil || *f.Semaphore != (futex.SemaphoreState{Value: 2, Bound: 3}) {
		t.Errorf("JSON sem: %+v; want value 2 bound 3", f)
	}
	if f := objs["event"].Futex; f == nil || f.Event == nil || !f.Event.Set {
		t.Errorf("JSON event: %+v; want set", f)
	}
	if f := objs["barrier"].Futex; f == nil || f.Barrier == nil || !f.Barrier.Broken || f.Barrier.Parties != 3 {
		t.Errorf("JSON barrier: %+v; want 3 parties, broken", f)
	}
	if f := objs["cond"].Futex; f == nil || f.Condition == nil || f.Condition.Lock != "cond.lock" {
		t.Errorf("JSON cond: %+v; want its lock cond.lock", f)
	}
	want := ring.QueueState{DeadHolder: "count-lost", Len: 2, MaxSize: 8, MaxMessage: 64, Slots: 8, Committed: 3, Consumed: 1,
		Messages: 2, LeasesHeld: 1, LeasesDead: 1}
	if g := objs["queue"].Ring; g == nil || g.Queue == nil {
		t.Errorf("JSON queue: no queue state")
	} else if got := *g.Queue; got.Leases == 0 || func() bool { got.Leases = 0; return got != want }() {
		t.Errorf("JSON queue: %+v; want %+v and some leases", *g.Queue, want)
	}
	if g := objs["pipe"].Ring; g == nil || g.Pipe == nil || !g.Pipe.Duplex || len(g.Pipe.Rings) != 2 ||
		len(g.Pipe.Ends[0].Holders) != 1 || len(g.Pipe.Ends[1].Holders) != 1 || !g.Pipe.Ends[0].Holders[0].Alive ||
		g.Pipe.Rings[0].Used == 0 || g.Pipe.Rings[1].Used != 0 {
		t.Errorf("JSON pipe: %+v; want duplex, one live holder per end, a message in ring 0 only", g)
	}
	if c := objs["value"].Ctypes; c == nil || c.Code != "d" || c.Shape != "value" || len(c.Values) != 1 || c.Values[0] != 2.5 {
		t.Errorf("JSON value: %+v; want d value 2.5", c)
	}
	if c := objs["array"].Ctypes; c == nil || c.Code != "i" || c.Len != 10 || len(c.Values) != 10 || c.Values[9] != 10.0 {
		t.Errorf("JSON array: %+v; want i array of 10, all shown (-elems -1), last 10", c)
	}
}
