package proc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// The process backend. Each worker process has its own anonymous segment
// holding a duplex pipe (tasks one way, results the other: two SPSC rings)
// and a mark word where the worker writes the sequence number of the task
// it is running (0 when idle; markAnswering added while it sends the
// result). The parent's slot goroutine sends a worker
// jobs ahead (see take), reads their results in order, and keeps the jobs
// sent and not answered. When the worker dies, the parent reads what it
// answered before dying, then the mark: the job under the mark is the one
// that was running, and fails with ErrWorkerDied (or is retried); the jobs
// behind it never started and go back to the front of the queue.
//
// Why per-worker pipes rather than one shared task queue whose Gets take
// leases (ring.Queue.GetLease, with ring.Supervised and ReclaimDead on a
// worker's death, which the design first had in mind): a queue's messages
// live in fixed-size slots and lease entries of MaxMessage bytes each,
// while a chunk of Map has no size limit (pipes fragment); each pipe has
// one producer and one consumer, the cheapest ring, with no claim to
// recover; the parent must know which task each worker is running anyway,
// for TaskTimeout, which the mark tells it; a task stays in the parent, and
// cancellable, until a worker is ready for it, instead of being committed
// to a shared queue; and the parent balances the load itself.

// Messages, worker to parent: a kind byte; then for msgResult and
// msgFailed the job's sequence number (8 bytes, little-endian) and the
// results (see TaskFunc.serve) or the error's text; for msgInitFailed the
// error's text. Parent to worker: the sequence number, the task's name
// (uvarint length first), then the arguments.
const (
	msgReady      = 1
	msgInitFailed = 2
	msgResult     = 3
	msgFailed     = 4
)

// markAnswering is set in the mark while the worker sends the result of
// the task it ran: a worker stopped with a mark without it has not begun to
// answer.
const markAnswering = 1 << 63

const (
	// workerPipeCap is each direction's ring capacity; messages above a
	// quarter of it travel as fragments.
	workerPipeCap = 256 << 10
	// workerSegSize holds the pipe and the mark (the segment's own tables
	// come on top).
	workerSegSize = 2*workerPipeCap + 64<<10
	// drainTimeout bounds the reading of a dead worker's last message (it is
	// in shared memory already: a watchdog, never reached).
	drainTimeout = 10 * time.Second
)

// workerSegOptions: the parent and the worker are the segment's only
// participants, the pipe and the mark its only objects.
var workerSegOptions = shm.Options{Participants: 4, Objects: 4}

// workerArgs is what a worker process receives, its handles open.
type workerArgs struct {
	Conn     *ring.Conn
	Mark     *ctypes.RawValue[uint64]
	Init     string
	InitArg  []byte
	MaxTasks int
}

var poolWorker = Func("shmkit/pool-worker", runWorker)

// runWorker is a worker process's body.
func runWorker(ctx context.Context, a workerArgs) error {
	c := a.Conn
	if a.Init != "" {
		if err := runInit(ctx, a.Init, a.InitArg); err != nil {
			msg := append([]byte{msgInitFailed}, err.Error()...)
			return errors.Join(err, c.SendBytes(ctx, msg))
		}
	}
	if err := c.SendBytes(ctx, []byte{msgReady}); err != nil {
		return err
	}
	in := make([]byte, 64<<10)
	var out []byte
	for done := 0; a.MaxTasks == 0 || done < a.MaxTasks; done++ {
		n, err := c.RecvBytesInto(ctx, in)
		if errors.Is(err, ring.ErrBufferTooShort) {
			in = make([]byte, n)
			n, err = c.RecvBytesInto(ctx, in)
		}
		if err == io.EOF {
			return nil // the pool closed this worker's pipe
		}
		if err != nil {
			return err
		}
		msg := in[:n]
		if len(msg) < 8 {
			return fmt.Errorf("%w: %d-byte task message", ErrMessage, len(msg))
		}
		seq := binary.LittleEndian.Uint64(msg)
		a.Mark.Store(seq)
		out = binary.LittleEndian.AppendUint64(append(out[:0], msgResult), seq)
		r := msgReader{b: msg[8:]}
		name := r.bytes()
		e := lookupTask(string(name))
		switch {
		case r.err != nil:
			err = r.err
		case e == nil:
			err = fmt.Errorf("%w: %q", ErrNoTask, name)
		default:
			out, err = e.serve(ctx, r.b, out)
		}
		if err != nil {
			out = binary.LittleEndian.AppendUint64(append(out[:0], msgFailed), seq)
			out = append(out, err.Error()...)
		}
		a.Mark.Store(seq | markAnswering)
		if err := c.SendBytes(ctx, out); err != nil {
			return err
		}
		a.Mark.Store(0)
	}
	return c.Close()
}

// procWorker is the parent's side of one worker process.
type procWorker struct {
	proc     *Process
	seg      *shm.Segment
	conn     *ring.Conn
	mark     *ctypes.RawValue[uint64]
	ctx      context.Context // ends when the process exits or the pool is terminated
	cancel   context.CancelFunc
	jobs     []*job   // sent and not answered, in order
	seqs     []uint64 // their sequence numbers
	seq      uint64
	sent     int
	timedOut atomic.Uint64 // the sequence number killed for its timeout
	buf, in  []byte
	// Tasks sent ahead (while others are in flight) go through a sender
	// goroutine, so that this one keeps reading results: a worker blocked
	// sending a large result to a parent blocked sending it a large task
	// would be a deadlock of two full rings.
	ahead      chan []byte // messages for the sender; nil until first needed
	free       chan []byte // their buffers, back for reuse
	senderDone chan struct{}
}

// procSet holds a pool's live worker processes.
type procSet struct {
	mu sync.Mutex
	m  map[*procWorker]struct{}
}

func (s *procSet) add(w *procWorker) {
	s.mu.Lock()
	if s.m == nil {
		s.m = map[*procWorker]struct{}{}
	}
	s.m[w] = struct{}{}
	s.mu.Unlock()
}

func (s *procSet) remove(w *procWorker) {
	s.mu.Lock()
	delete(s.m, w)
	s.mu.Unlock()
}

func (s *procSet) killAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for w := range s.m {
		w.proc.Kill()
	}
}

// pids returns the live workers' process ids.
func (s *procSet) pids() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for w := range s.m {
		out = append(out, w.proc.Pid())
	}
	return out
}

// maxStartDeaths is how many replacements in a row may die before their
// greeting before the slot gives up and fails the next task with the
// reason: a worker that cannot start at all must not be respawned for
// ever.
const maxStartDeaths = 3

// procSlot runs worker processes in slot i, one after another.
func (p *Pool) procSlot(i int, started chan<- error) {
	defer p.slots.Done()
	first, deaths := true, 0
	for {
		w, err := p.spawnWorker(i)
		if first {
			first = false
			started <- err
			if err != nil {
				return
			}
		}
		if err != nil && !errors.Is(err, ErrInitializer) && !p.terminated() && deaths < maxStartDeaths {
			// A replacement that died before its greeting (killed, the
			// OOM killer) ran no task: start another.
			deaths++
			continue
		}
		if err != nil {
			// A replacement that cannot start (its initializer fails, or
			// it keeps dying before its greeting) fails the next task,
			// so that nothing waits for it for ever.
			deaths = 0
			j := p.take(0)
			if j == nil {
				return
			}
			p.fail(j, err)
			continue
		}
		deaths = 0
		again := w.serve(p)
		p.procs.remove(w)
		w.cancel()
		w.seg.Close()
		if !again {
			return
		}
	}
}

func (p *Pool) spawnWorker(slot int) (_ *procWorker, err error) {
	seg, err := shm.AnonymousWith(workerSegSize, &workerSegOptions)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			seg.Close()
		}
	}()
	c0, c1, err := ring.NewPipe(seg, "pool", &ring.PipeOptions{Capacity: workerPipeCap})
	if err != nil {
		return nil, err
	}
	mark, err := ctypes.NewRawValue[uint64](seg, "mark", 0, nil)
	if err != nil {
		return nil, err
	}
	args := workerArgs{Conn: c1, Mark: mark, MaxTasks: p.opt.MaxTasksPerChild}
	if in := p.opt.Initializer; in != nil {
		args.Init, args.InitArg = in.name, in.arg
	}
	pr := poolWorker.New(args, &Options{Name: fmt.Sprintf("PoolWorker-%d", slot+1), Daemon: true})
	err = pr.Start()
	// The child holds end 1 now (a ticket reserved by the argument passing):
	// the parent's copy would keep the end alive after the worker died.
	c1.Close()
	if err != nil {
		return nil, err
	}
	w := &procWorker{proc: pr, seg: seg, conn: c0, mark: mark, in: make([]byte, 64<<10)}
	w.ctx, w.cancel = context.WithCancel(p.ctx)
	go func() {
		select {
		case <-pr.Done():
			w.cancel()
		case <-w.ctx.Done():
		}
	}()
	p.procs.add(w)
	msg, err := w.recv(w.ctx)
	switch {
	case err != nil:
	case len(msg) > 0 && msg[0] == msgInitFailed:
		err = fmt.Errorf("%w: %s", ErrInitializer, msg[1:])
	case len(msg) != 1 || msg[0] != msgReady:
		err = fmt.Errorf("%w: %d-byte greeting", ErrMessage, len(msg))
	}
	if err != nil {
		pr.Kill()
		<-pr.Done()
		p.procs.remove(w)
		w.cancel()
		if perr := pr.Err(); perr != nil && !errors.Is(err, ErrInitializer) {
			err = fmt.Errorf("proc: pool worker %s: %w", pr.Name(), perr)
		}
		return nil, err
	}
	return w, nil
}

// recv reads the worker's next message into w.in (valid until the next).
func (w *procWorker) recv(ctx context.Context) ([]byte, error) {
	n, err := w.conn.RecvBytesInto(ctx, w.in)
	if errors.Is(err, ring.ErrBufferTooShort) {
		w.in = make([]byte, n)
		n, err = w.conn.RecvBytesInto(ctx, w.in)
	}
	if err != nil {
		return nil, err
	}
	return w.in[:n], nil
}

// serve feeds the worker and reads its results until it exits: it returns
// whether the slot should start another worker.
func (w *procWorker) serve(p *Pool) bool {
	max := p.opt.MaxTasksPerChild
	for {
		for max == 0 || w.sent < max {
			j := p.take(len(w.jobs))
			if j == nil {
				break
			}
			if !w.send(p, j) {
				return w.died(p)
			}
		}
		if len(w.jobs) == 0 {
			// The pool is stopping (or this worker has run its tasks): close
			// its pipe, so that it exits, and wait for it.
			w.stopSender()
			w.conn.Close()
			select {
			case <-w.proc.Done():
			case <-p.ctx.Done():
				w.proc.Kill()
				<-w.proc.Done()
			}
			return max != 0 && w.sent == max && p.running()
		}
		msg, err := w.recv(w.ctx)
		if err != nil || !w.complete(p, msg) {
			return w.died(p)
		}
	}
}

// send writes job j to the worker; false means the worker is gone. A
// worker with nothing in flight is reading tasks, so the first is written
// here; later ones are handed to the sender goroutine (never blocking: at
// most maxAhead are in flight).
func (w *procWorker) send(p *Pool, j *job) bool {
	direct := len(w.jobs) == 0
	buf := w.buf[:0]
	if !direct {
		w.startSender()
		select {
		case buf = <-w.free:
		default:
			buf = nil
		}
	}
	w.seq++
	b := binary.LittleEndian.AppendUint64(buf, w.seq)
	b = binary.AppendUvarint(b, uint64(len(j.task)))
	b = append(b, j.task...)
	b, err := j.w.appendArgs(b)
	if direct {
		w.buf = b[:0]
	}
	if err != nil {
		p.fail(j, err)
		return true
	}
	w.jobs, w.seqs = append(w.jobs, j), append(w.seqs, w.seq)
	w.sent++
	if direct {
		return w.conn.SendBytes(w.ctx, b) == nil
	}
	w.ahead <- b
	return true
}

func (w *procWorker) startSender() {
	if w.ahead != nil {
		return
	}
	w.ahead, w.free, w.senderDone = make(chan []byte, maxAhead), make(chan []byte, maxAhead), make(chan struct{})
	go func() {
		defer close(w.senderDone)
		for b := range w.ahead {
			if w.ctx.Err() == nil && w.conn.SendBytes(w.ctx, b) != nil {
				w.cancel() // the worker is gone: the reader notices
			}
			select {
			case w.free <- b[:0]:
			default:
			}
		}
	}()
}

// stopSender ends the sender goroutine (once the worker is done with, or
// w.ctx is cancelled, so that it sends nothing more).
func (w *procWorker) stopSender() {
	if w.ahead != nil {
		close(w.ahead)
		<-w.senderDone
		w.ahead = nil
	}
}

// complete handles one result message; false means it was malformed.
func (w *procWorker) complete(p *Pool, msg []byte) bool {
	if len(msg) < 9 || len(w.jobs) == 0 || binary.LittleEndian.Uint64(msg[1:]) != w.seqs[0] {
		return false
	}
	j := w.jobs[0]
	w.jobs, w.seqs = w.jobs[1:], w.seqs[1:]
	switch msg[0] {
	case msgResult:
		if p.claim(j) {
			j.w.finish(j.w.decode(msg[9:]))
		}
	case msgFailed:
		p.fail(j, fmt.Errorf("proc: task %q: %s", j.task, msg[9:]))
	default:
		return false
	}
	return true
}

// died handles the worker's death (or a protocol error, or Terminate):
// results it sent are delivered, the job it was running fails or is
// retried, the jobs it never started are queued again. It returns whether
// the slot should start another worker.
func (w *procWorker) died(p *Pool) bool {
	w.proc.Kill() // when it is alive still: a protocol error, or Terminate
	<-w.proc.Done()
	w.cancel()
	w.stopSender()
	// The worker is reaped: what it published is in the ring, what it did
	// not never will be. Read while a message is there (Poll with an ended
	// context does not wait); drainTimeout only guards a message cut short.
	now, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	ctx, cancel := context.WithTimeout(context.Background(), drainTimeout)
	for len(w.jobs) > 0 {
		if ok, _ := w.conn.Poll(now); !ok {
			break
		}
		msg, err := w.recv(ctx)
		if err != nil || !w.complete(p, msg) {
			break
		}
	}
	cancel()
	running := w.mark.Load() &^ markAnswering
	code, _ := w.proc.ExitCode()
	var again []*job
	for k, j := range w.jobs {
		if w.seqs[k] != running {
			again = append(again, j) // never started
			continue
		}
		why := ErrWorkerDied
		if w.timedOut.Load() == running {
			why = ErrTimeout
		} else if j.tries < p.opt.Retries {
			j.tries++
			again = append(again, j)
			continue
		}
		we := &WorkerError{Task: j.task, Pid: w.proc.Pid(), ExitCode: code, Err: why}
		if code < 0 {
			we.Signal = syscall.Signal(-code)
		}
		p.fail(j, we)
	}
	w.jobs, w.seqs = nil, nil
	p.requeue(again)
	return !p.terminated()
}

// watchTimeouts kills a worker whose task runs past TaskTimeout. It looks
// at each worker's mark every quarter of the timeout: a task is killed
// between one and one and a half timeouts after it started.
func (p *Pool) watchTimeouts() {
	tick := min(max(p.opt.TaskTimeout/4, time.Millisecond), 100*time.Millisecond)
	type seen struct {
		seq   uint64
		since time.Time
	}
	last := map[*procWorker]seen{}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.ended:
			return
		case <-t.C:
		}
		now := time.Now()
		p.procs.mu.Lock() // the marks live in segments a removed worker closes
		for w := range last {
			if _, ok := p.procs.m[w]; !ok {
				delete(last, w)
			}
		}
		for w := range p.procs.m {
			cur, s := w.mark.Load(), last[w]
			switch {
			case cur == 0 || cur != s.seq:
				last[w] = seen{cur, now}
			case now.Sub(s.since) >= p.opt.TaskTimeout && w.timedOut.Load() != cur:
				w.timedOut.Store(cur)
				w.proc.Kill()
			}
		}
		p.procs.mu.Unlock()
	}
}
