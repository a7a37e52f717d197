package soak_test

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

var soakFor = flag.Duration("soak", 5*time.Second, "how long TestSoak kills and stops processes (60s in CI, 10m by hand)")

func TestMain(m *testing.M) {
	proc.Main()
	os.Exit(m.Run())
}

// How many processes of each role run at once.
const (
	nLock = 3
	nProd = 3
	nDict = 2
	nPool = 2
)

// opTimeout bounds every blocking call, in the children and the parent:
// a call still blocked after it is a hang, reported as an error. It is a
// watchdog, hundreds of times the longest pause the test itself causes.
const opTimeout = time.Minute

// Indexes into the shared counters array (Shared.C).
const (
	iTotal      = 0                // lock role: increments of everyone
	iDone       = 1                // lock role: nLock per-process increments
	iTorn       = iDone + nLock    // lock role: critical sections repaired after a death
	iOwnerDead  = iTorn + 1        // lock role: ErrOwnerDead returned
	iNext       = iOwnerDead + 1   // produce role: nProd, the next sequence number (set before Put)
	iPutDone    = iNext + nProd    // produce role: nProd, one past the last Put that returned
	iPipeSent   = iPutDone + nProd // pipe role: Sends that returned (this pipe's writer)
	iDictIntent = iPipeSent + 1    // dict role: nDict, the count being written
	nCounters   = iDictIntent + nDict
)

// msg is what a producer puts: its role index and a sequence number.
type msg struct{ P, Seq int64 }

// dval is a dict value; Check is ^N, so a torn value shows.
type dval struct{ N, Check int64 }

// Shared holds the objects every child receives.
type Shared struct {
	Stop *futex.Event // set when the run is over: children return nil
	Mu   *futex.Lock
	C    *ctypes.Array[int64]
	Q    *ring.TypedQueue[msg]
	D    *dict.TypedMap[dval]
}

type roleArgs struct {
	S Shared
	I int
}

type pipeArgs struct {
	S Shared
	W *ring.Conn
}

// scratch creates a named segment in $SHMKIT_DIR (the test's private
// directory) that only a child that exits normally removes: a killed one
// leaves it for the final shmkit gc.
func scratch() (remove func(), err error) {
	name := "soak-" + strconv.Itoa(os.Getpid())
	seg, err := shm.Create(name, 64<<10)
	if err != nil {
		return nil, err
	}
	return func() {
		seg.Close()
		shm.Unlink(name)
	}, nil
}

// child runs step until the run is over, in a process that has made its
// scratch segment.
func child(s Shared, step func(ctx context.Context) error) error {
	remove, err := scratch()
	if err != nil {
		return err
	}
	defer remove()
	for !s.Stop.IsSet() {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err := step(ctx)
		cancel()
		if err != nil {
			return err
		}
	}
	return nil
}

var (
	locker = proc.Func("soak.lock", func(_ context.Context, a roleArgs) error {
		return child(a.S, func(ctx context.Context) error { return lockStep(ctx, a.S, a.I) })
	})

	producer = proc.Func("soak.produce", func(_ context.Context, a roleArgs) error {
		c := a.S.C
		// A killed predecessor's in-flight number is skipped: the parent has
		// recorded it as in doubt before starting this process.
		seq := c.Get(iNext + a.I)
		c.Set(iPutDone+a.I, seq)
		return child(a.S, func(ctx context.Context) error {
			c.Set(iNext+a.I, seq+1)
			if err := a.S.Q.Put(ctx, msg{int64(a.I), seq}); err != nil {
				return fmt.Errorf("Put %d: %w", seq, err)
			}
			c.Set(iPutDone+a.I, seq+1)
			seq++
			return nil
		})
	})

	piper = proc.Func("soak.pipe", func(_ context.Context, a pipeArgs) error {
		var n int64
		b := make([]byte, 8)
		err := child(a.S, func(ctx context.Context) error {
			binary.LittleEndian.PutUint64(b, uint64(n))
			if err := a.W.SendBytes(ctx, b); err != nil {
				return fmt.Errorf("SendBytes %d: %w", n, err)
			}
			n++
			a.S.C.Set(iPipeSent, n)
			return nil
		})
		if err != nil {
			return err
		}
		return a.W.Close()
	})

	dicter = proc.Func("soak.dict", func(_ context.Context, a roleArgs) error {
		c, d := a.S.C, a.S.D
		key, other := dictKey(a.I), dictKey((a.I+1)%nDict)
		v, err := dictGet(d, key)
		if err != nil {
			return err
		}
		if intent := c.Get(iDictIntent + a.I); v.N != intent && v.N != intent-1 {
			return fmt.Errorf("dict %q holds %d; the last writer was writing %d", key, v.N, intent)
		}
		n := v.N
		return child(a.S, func(ctx context.Context) error {
			c.Set(iDictIntent+a.I, n+1)
			if _, err := d.Set(ctx, key, dval{n + 1, ^(n + 1)}); err != nil {
				return fmt.Errorf("Set %q: %w", key, err)
			}
			n++
			_, err := dictGet(d, other)
			return err
		})
	})

	square = proc.Task("soak.square", func(_ context.Context, x int64) (int64, error) {
		time.Sleep(time.Millisecond)
		return x * x, nil
	})
)

func dictKey(i int) string { return "w" + strconv.Itoa(i) }

// dictGet reads a dict count (0 if absent) and checks it is not torn.
func dictGet(d *dict.TypedMap[dval], key string) (dval, error) {
	v, err := d.Get(key)
	if errors.Is(err, dict.ErrNotFound) {
		return dval{0, ^0}, nil
	}
	if err != nil {
		return v, fmt.Errorf("Get %q: %w", key, err)
	}
	if v.Check != ^v.N {
		return v, fmt.Errorf("dict %q torn: %d, check %d", key, v.N, v.Check)
	}
	return v, nil
}

// lockStep does one critical section: it checks that the total equals the
// sum of the per-process counts (no lost update, so no two holders at
// once), then increments the total and its own count with a pause in
// between, so a holder killed there (most kills land there) leaves the
// total one ahead.
func lockStep(ctx context.Context, s Shared, i int) error {
	err := s.Mu.Acquire(ctx)
	if errors.Is(err, futex.ErrOwnerDead) {
		err = repair(s)
	}
	if err != nil {
		return fmt.Errorf("Acquire: %w", err)
	}
	c := s.C
	if total, sum := c.Get(iTotal), doneSum(c); total != sum {
		return fmt.Errorf("under the lock the total is %d, the counts add up to %d", total, sum)
	}
	c.Set(iTotal, c.Get(iTotal)+1)
	time.Sleep(50 * time.Microsecond)
	c.Set(iDone+i, c.Get(iDone+i)+1)
	return s.Mu.Release()
}

func doneSum(c *ctypes.Array[int64]) int64 {
	var sum int64
	for j := range nLock {
		sum += c.Get(iDone + j)
	}
	return sum
}

// repair runs holding a lock whose holder died: the dead holder may have
// incremented the total and not its count (a difference of exactly one);
// anything else is a broken lock.
func repair(s Shared) error {
	c := s.C
	c.Add(iOwnerDead, 1)
	d := c.Get(iTotal) - doneSum(c)
	if d < 0 || d > 1 {
		return fmt.Errorf("after an owner death the total is %d ahead of the counts", d)
	}
	c.Set(iTotal, doneSum(c))
	c.Add(iTorn, d)
	return s.Mu.Consistent()
}

// member is a running child of the soak.
type member struct {
	role   string
	p      *proc.Process
	killed bool // the test sent it SIGKILL
}

type soak struct {
	t        *testing.T
	s        Shared
	deadline time.Time

	mu         sync.Mutex
	live       map[int]*member // by pid
	kills      map[string]int  // SIGKILLs sent, by role ("pool" for workers)
	stops      int
	poolKilled map[int]bool
	failed     bool

	progress atomic.Int64 // anything done by anyone: the watchdog's pulse
	inDoubt  [nProd]map[int64]bool
}

func (k *soak) errorf(format string, args ...any) {
	k.mu.Lock()
	k.failed = true
	k.mu.Unlock()
	k.t.Errorf(format, args...)
}

func (k *soak) over() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.failed || time.Now().After(k.deadline)
}

// run keeps one process of a role running until the run is over: start
// returns the process (started) and a check to run once it has exited,
// told whether the test killed it.
func (k *soak) run(role string, start func() (*proc.Process, func(killed bool)), wg *sync.WaitGroup) {
	defer wg.Done()
	for n := 0; n == 0 || !k.over(); n++ {
		p, check := start()
		if p == nil {
			return
		}
		m := &member{role: role, p: p}
		k.mu.Lock()
		k.live[p.Pid()] = m
		k.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), *soakFor+2*opTimeout)
		err := p.Join(ctx)
		cancel()
		k.mu.Lock()
		delete(k.live, p.Pid())
		killed := m.killed
		k.mu.Unlock()
		if err != nil && !(killed && errors.Is(err, proc.ErrSignaled)) {
			k.errorf("%s process %d: %v", role, p.Pid(), err)
			return
		}
		if check != nil {
			check(killed)
		}
	}
}

// start starts a target, failing the test (and returning nil) if it cannot.
func start[A any](k *soak, f *proc.Target[A], a A) *proc.Process {
	p := f.New(a, nil)
	if err := p.Start(); err != nil {
		k.errorf("start %s: %v", f.Name(), err)
		return nil
	}
	return p
}

// killer sends, until the run is over, SIGKILL or SIGSTOP (SIGCONT 10-300
// ms later) to a random child: a role process or a pool worker.
func (k *soak) killer(done chan<- struct{}) {
	defer close(done)
	for !k.over() {
		time.Sleep(time.Duration(20+rand.IntN(130)) * time.Millisecond)
		k.mu.Lock()
		var pids []int
		for pid := range k.live {
			pids = append(pids, pid)
		}
		for _, p := range proc.ActiveChildren() {
			// A pool worker, by the name the pool gives it (a role process
			// just started may not be in k.live yet).
			if strings.HasPrefix(p.Name(), "PoolWorker-") {
				pids = append(pids, -p.Pid())
			}
		}
		if len(pids) == 0 {
			k.mu.Unlock()
			continue
		}
		pid := pids[rand.IntN(len(pids))]
		if rand.IntN(10) < 4 {
			k.stops++
			k.mu.Unlock()
			pid = max(pid, -pid)
			syscall.Kill(pid, syscall.SIGSTOP)
			time.Sleep(time.Duration(10+rand.IntN(290)) * time.Millisecond)
			syscall.Kill(pid, syscall.SIGCONT)
			continue
		}
		if pid < 0 {
			pid = -pid
			k.poolKilled[pid] = true
			k.kills["pool"]++
		} else {
			k.live[pid].killed = true
			k.kills[k.live[pid].role]++
		}
		k.mu.Unlock()
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// consume gets the producers' messages until they are all gone and the
// queue is empty, checking that each producer's numbers rise; it returns
// the numbers missing between those received.
func (k *soak) consume(prodDone <-chan struct{}) (received int64, missing [nProd][]int64, last [nProd]int64) {
	for p := range last {
		last[p] = -1
	}
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m, err := k.s.Q.Get(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			select {
			case <-prodDone:
				if k.s.Q.Len() == 0 {
					return
				}
			default:
			}
			continue
		}
		if err != nil {
			k.errorf("queue Get: %v", err)
			return
		}
		if m.P < 0 || m.P >= nProd || m.Seq <= last[m.P] {
			k.errorf("producer %d: got %d after %d (duplicate, reordered or garbage)", m.P, m.Seq, last[m.P])
			return
		}
		for s := last[m.P] + 1; s < m.Seq; s++ {
			missing[m.P] = append(missing[m.P], s)
		}
		last[m.P] = m.Seq
		received++
		k.progress.Add(1)
	}
}

// readPipe reads the pipe writer's numbers until the end: 0, 1, 2, ...
func (k *soak) readPipe(r *ring.Conn) (n int64, err error) {
	buf := make([]byte, 64)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		m, err := r.RecvBytesInto(ctx, buf)
		cancel()
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF): // a message cut by the writer's death
			continue
		case errors.Is(err, io.EOF), errors.Is(err, ring.ErrPeerDead):
			return n, nil
		case err != nil:
			return n, err
		case m != 8 || int64(binary.LittleEndian.Uint64(buf)) != n:
			return n, fmt.Errorf("pipe message %d is % x", n, buf[:m])
		}
		n++
		k.progress.Add(1)
	}
}

// pool submits batches of tasks until the run is over: every task returns
// its square or fails with ErrWorkerDied from a worker the test killed, at
// most one task per killed worker.
func (k *soak) pool(p *proc.Pool) (ok, died int) {
	failedOn := map[int]int{}
	for x := int64(0); !k.over(); {
		rs := make([]*proc.AsyncResult[int64], 16)
		for i := range rs {
			rs[i] = square.ApplyAsync(p, x+int64(i))
		}
		for i, r := range rs {
			ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
			v, err := r.Get(ctx)
			cancel()
			var we *proc.WorkerError
			switch {
			case err == nil && v == (x+int64(i))*(x+int64(i)):
				ok++
				k.progress.Add(1)
			case errors.Is(err, proc.ErrWorkerDied) && errors.As(err, &we) && we.Signal == syscall.SIGKILL:
				k.mu.Lock()
				ours := k.poolKilled[we.Pid]
				k.mu.Unlock()
				if failedOn[we.Pid]++; !ours || failedOn[we.Pid] > 1 {
					k.errorf("task %d failed on worker %d (killed by the test: %v, its failures: %d)", x+int64(i), we.Pid, ours, failedOn[we.Pid])
				}
				died++
			default:
				k.errorf("task %d: %d, %v", x+int64(i), v, err)
				return
			}
		}
		x += int64(len(rs))
	}
	return ok, died
}

// counts returns the number of open descriptors and of threads of this
// process.
func counts(t *testing.T) (fds, threads int) {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	return len(ents), threads
}

// watchdog fails the run, after dumping every goroutine of this process
// and (SIGQUIT) of every child, when nothing progresses for a minute or
// the run overruns its deadline by 3 minutes. It stops when stop closes.
func (k *soak) watchdog(stop <-chan struct{}) {
	last, since := k.progress.Load(), time.Now()
	limit := k.deadline.Add(3 * time.Minute)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if n := k.progress.Load(); n != last {
			last, since = n, time.Now()
		}
		stalled := time.Since(since) > time.Minute && time.Now().Before(k.deadline)
		if !stalled && time.Now().Before(limit) {
			continue
		}
		fmt.Fprintf(os.Stderr, "soak: watchdog: no progress since %v (deadline %v); goroutines:\n", since, k.deadline)
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		for _, p := range proc.ActiveChildren() {
			syscall.Kill(p.Pid(), syscall.SIGCONT)
			syscall.Kill(p.Pid(), syscall.SIGQUIT)
		}
		time.Sleep(2 * time.Second)
		panic("soak: watchdog: the run hangs (goroutines of every process above)")
	}
}

// shmkitGC builds the shmkit command and runs `shmkit gc -v` on dir.
func shmkitGC(t *testing.T, dir string) string {
	gobin, err := exec.LookPath("go")
	if err != nil {
		gobin = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "shmkit")
	build := exec.Command(gobin, "build", "-o", bin, "github.com/shmkit/shmkit/cmd/shmkit")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build shmkit: %v\n%s", err, out)
	}
	gc := exec.Command(bin, "gc", "-v")
	gc.Env = append(os.Environ(), "SHMKIT_DIR="+dir)
	out, err := gc.CombinedOutput()
	if err != nil {
		t.Fatalf("shmkit gc: %v\n%s", err, out)
	}
	return string(out)
}

func dirNames(t *testing.T, dir string) []string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// TestSoak runs every role at once for -soak while killing and stopping
// processes at random, then checks the conservation rules of each role
// (see the package documentation), the parent's descriptors and threads,
// and that shmkit gc leaves nothing of the run in its SHMKIT_DIR.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("runs 11 processes for -soak (5 s by default)")
	}
	dir := t.TempDir()
	t.Setenv("SHMKIT_DIR", dir)
	baseFDs, _ := counts(t)

	m := proc.NewManager()
	s := Shared{
		Stop: proc.Event(m),
		Mu:   proc.Lock(m),
		C:    proc.Array[int64](m, nCounters),
		Q:    proc.Queue[msg](m),
		D:    proc.Dict[dval](m),
	}
	pool, err := proc.NewPool(nPool, nil)
	if err != nil {
		t.Fatal(err)
	}
	k := &soak{
		t: t, s: s, deadline: time.Now().Add(*soakFor),
		live: map[int]*member{}, kills: map[string]int{}, poolKilled: map[int]bool{},
	}
	for p := range k.inDoubt {
		k.inDoubt[p] = map[int64]bool{}
	}
	watchStop := make(chan struct{})
	go k.watchdog(watchStop)

	var roles, prods sync.WaitGroup
	for i := range nLock {
		roles.Add(1)
		go k.run("lock", func() (*proc.Process, func(bool)) {
			return start(k, locker, roleArgs{s, i}), nil
		}, &roles)
	}
	for i := range nDict {
		roles.Add(1)
		go k.run("dict", func() (*proc.Process, func(bool)) {
			return start(k, dicter, roleArgs{s, i}), nil
		}, &roles)
	}
	for i := range nProd {
		prods.Add(1)
		go k.run("produce", func() (*proc.Process, func(bool)) {
			return start(k, producer, roleArgs{s, i}), func(killed bool) {
				next, putDone := s.C.Get(iNext+i), s.C.Get(iPutDone+i)
				switch {
				case next == putDone:
				case killed && next == putDone+1:
					k.mu.Lock()
					k.inDoubt[i][next-1] = true
					k.mu.Unlock()
				default:
					k.errorf("producer %d ended with next %d, put done %d (killed: %v)", i, next, putDone, killed)
				}
			}
		}, &prods)
	}
	var pipeMsgs atomic.Int64
	roles.Add(1)
	go k.run("pipe", func() (*proc.Process, func(bool)) {
		seg, err := shm.Anonymous(1 << 20)
		if err != nil {
			k.errorf("pipe segment: %v", err)
			return nil, nil
		}
		r, w, err := ring.NewPipe(seg, "pipe", &ring.PipeOptions{OneWay: true, Capacity: 64 << 10})
		if err != nil {
			seg.Close()
			k.errorf("NewPipe: %v", err)
			return nil, nil
		}
		s.C.Set(iPipeSent, 0)
		p := start(k, piper, pipeArgs{s, w})
		w.Close()
		if p == nil {
			seg.Close()
			return nil, nil
		}
		type result struct {
			n   int64
			err error
		}
		read := make(chan result, 1)
		go func() {
			n, err := k.readPipe(r)
			read <- result{n, err}
		}()
		return p, func(killed bool) {
			res := <-read
			r.Close()
			seg.Close()
			pipeMsgs.Add(res.n)
			sent := s.C.Get(iPipeSent)
			switch {
			case res.err != nil:
				k.errorf("pipe reader after %d messages: %v", res.n, res.err)
			case res.n < sent || res.n > sent+1 || (!killed && res.n != sent):
				k.errorf("pipe: %d messages read, %d sends returned (writer killed: %v)", res.n, sent, killed)
			}
		}
	}, &roles)

	prodDone := make(chan struct{})
	go func() { prods.Wait(); close(prodDone) }()
	type consumed struct {
		received int64
		missing  [nProd][]int64
		last     [nProd]int64
	}
	consumer := make(chan consumed, 1)
	go func() {
		var c consumed
		c.received, c.missing, c.last = k.consume(prodDone)
		consumer <- c
	}()
	var poolOK, poolDied int
	poolDone := make(chan struct{})
	go func() { defer close(poolDone); poolOK, poolDied = k.pool(pool) }()

	// The descriptor and thread counts while everything runs: their
	// highest in the first and in the last quarter of the run.
	killerDone := make(chan struct{})
	go k.killer(killerDone)
	var earlyFDs, earlyThreads, lateFDs, lateThreads int
	for sampling := true; sampling; {
		select {
		case <-killerDone:
			sampling = false
		case <-time.After(100 * time.Millisecond):
		}
		fds, threads := counts(t)
		switch left := time.Until(k.deadline); {
		case left > *soakFor*3/4:
			earlyFDs, earlyThreads = max(earlyFDs, fds), max(earlyThreads, threads)
		case left < *soakFor/4:
			lateFDs, lateThreads = max(lateFDs, fds), max(lateThreads, threads)
		}
	}

	s.Stop.Set()
	<-poolDone
	roles.Wait()
	c := <-consumer
	close(watchStop)

	// Conservation, role by role.
	cs := s.C
	if total, sum := cs.Get(iTotal), doneSum(cs); total != sum {
		// The last holder may have been killed in its critical section.
		if err := s.Mu.Acquire(context.Background()); !errors.Is(err, futex.ErrOwnerDead) {
			t.Errorf("lock: total %d, counts %d, and the lock was not left by a dead holder (%v)", total, sum, err)
		} else if err := repair(s); err != nil {
			t.Errorf("lock: %v", err)
		}
	}
	lockTotal, ownerDead, torn := cs.Get(iTotal), cs.Get(iOwnerDead), cs.Get(iTorn)
	if int(ownerDead) > k.kills["lock"] || torn > ownerDead {
		t.Errorf("lock: %d ErrOwnerDead, %d repairs for %d holders killed", ownerDead, torn, k.kills["lock"])
	}
	var missing int
	for p := range nProd {
		for s := c.last[p] + 1; s < cs.Get(iNext+p); s++ {
			c.missing[p] = append(c.missing[p], s)
		}
		for _, s := range c.missing[p] {
			if !k.inDoubt[p][s] {
				t.Errorf("producer %d: message %d lost, and no killed producer had it in flight", p, s)
			}
		}
		missing += len(c.missing[p])
	}
	tomb := s.Q.Queue().Tombstoned()
	if missing > k.kills["produce"] || tomb > uint64(missing) {
		t.Errorf("queue: %d messages missing, %d tombstoned, %d producers killed", missing, tomb, k.kills["produce"])
	}
	var dictSum int64
	for i := range nDict {
		v, err := dictGet(s.D, dictKey(i))
		if err != nil {
			t.Error(err)
		}
		if intent := cs.Get(iDictIntent + i); v.N != intent && v.N != intent-1 {
			t.Errorf("dict %q: %d; its last writer was writing %d", dictKey(i), v.N, intent)
		}
		dictSum += v.N
	}

	if lateFDs > earlyFDs+16 || lateThreads > earlyThreads+16 {
		t.Errorf("during the run descriptors went from %d to %d and threads from %d to %d", earlyFDs, lateFDs, earlyThreads, lateThreads)
	}
	pool.Close()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	if err := pool.Join(ctx); err != nil {
		t.Errorf("pool Join: %v", err)
	}
	if err := m.Close(); err != nil {
		t.Errorf("Manager.Close: %v", err)
	}
	endFDs, endThreads := counts(t)
	if endFDs > baseFDs+4 {
		t.Errorf("%d descriptors open after the run; %d before it", endFDs, baseFDs)
	}

	left := dirNames(t, dir)
	out := shmkitGC(t, dir)
	if names := dirNames(t, dir); len(names) != 0 {
		t.Errorf("after shmkit gc %s still holds %v\n%s", dir, names, out)
	}

	t.Logf("%v: kills %v, stops %d; lock %d increments (%d owner deaths, %d repaired); queue %d received, %d missing, %d tombstoned; pipe %d messages; dict %d writes; pool %d tasks, %d failed with their worker; descriptors %d/%d/%d/%d (before/early/late/after), threads %d/%d/%d; gc removed %d segments",
		*soakFor, k.kills, k.stops, lockTotal, ownerDead, torn, c.received, missing, tomb, pipeMsgs.Load(), dictSum, poolOK, poolDied,
		baseFDs, earlyFDs, lateFDs, endFDs, earlyThreads, lateThreads, endThreads, len(left))
}
