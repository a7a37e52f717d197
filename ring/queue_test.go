package ring_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strconv"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ring-mpmc-producer", helperMPMCProducer)
	testproc.Register("ring-mpmc-consumer", helperMPMCConsumer)
	testproc.Register("ring-joinable-worker", helperJoinableWorker)
}

// TestSimpleQueue: Put and Get through two handles, Empty, and Close: Put
// refused, Get drains and then gets ErrClosed.
func TestSimpleQueue(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	a, err := ring.NewSimpleQueue(seg, "sq", &ring.QueueOptions{MaxSize: 4, MaxMessage: 16})
	if err != nil {
		t.Fatal(err)
	}
	b, err := ring.OpenSimpleQueue(seg, "sq", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if !b.Empty() {
		t.Fatal("new queue: Empty false; want true")
	}
	for _, m := range []string{"x", "yy"} {
		if err := a.Put(ctx, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	if b.Empty() {
		t.Fatal("after Put: Empty true; want false")
	}
	if got, err := b.Get(ctx); err != nil || string(got) != "x" {
		t.Fatalf("Get: got %q, %v; want \"x\"", got, err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, []byte("z")); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("Put after Close: got %v; want ErrClosed", err)
	}
	if got, err := a.Get(ctx); err != nil || string(got) != "yy" {
		t.Fatalf("Get after Close: got %q, %v; want \"yy\"", got, err)
	}
	if _, err := a.Get(ctx); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("Get on a closed, drained queue: got %v; want ErrClosed", err)
	}
}

// TestQueueCapacityInBytes: MaxBytes bounds the slot bytes held, alone or
// with MaxSize (the smaller bound wins); less than one slot is refused.
func TestQueueCapacityInBytes(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	const slot = 128 // a 100-byte message takes 16 + 100 bytes, rounded to 64
	cases := []struct {
		name              string
		maxSize, maxBytes int
		want              int
	}{
		{"bytes only", 0, 5*slot + 10, 5},
		{"bytes below size", 8, 3 * slot, 3},
		{"size below bytes", 2, 10 * slot, 2},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			q, err := ring.NewQueue(seg, "q"+strconv.Itoa(i), &ring.QueueOptions{MaxSize: c.maxSize, MaxMessage: 100, MaxBytes: c.maxBytes})
			if err != nil {
				t.Fatal(err)
			}
			if q.MaxSize() != c.want {
				t.Fatalf("MaxSize: got %d; want %d", q.MaxSize(), c.want)
			}
			for j := 0; j < c.want; j++ {
				if err := q.TryPut(make([]byte, 100)); err != nil {
					t.Fatalf("TryPut %d: %v", j, err)
				}
			}
			if err := q.TryPut([]byte{1}); !errors.Is(err, ring.ErrFull) {
				t.Fatalf("TryPut beyond %d slots: got %v; want ErrFull", c.want, err)
			}
		})
	}
	if _, err := ring.NewQueue(seg, "tiny", &ring.QueueOptions{MaxMessage: 100, MaxBytes: slot - 1}); !errors.Is(err, ring.ErrInvalid) {
		t.Fatalf("MaxBytes below one slot: got %v; want ErrInvalid", err)
	}
}

func TestQueueSemantics(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 3, MaxMessage: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !q.Empty() || q.Full() || q.Len() != 0 {
		t.Fatalf("new queue: Empty %v Full %v Len %d; want true false 0", q.Empty(), q.Full(), q.Len())
	}
	if _, err := q.TryGet(); !errors.Is(err, ring.ErrEmpty) {
		t.Fatalf("TryGet on empty: got %v; want ErrEmpty", err)
	}
	for i := 0; i < 3; i++ {
		if err := q.TryPut([]byte{byte(i)}); err != nil {
			t.Fatalf("TryPut %d: %v", i, err)
		}
	}
	if err := q.TryPut([]byte{9}); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("TryPut on full (maxsize 3): got %v; want ErrFull", err)
	}
	if !q.Full() || q.Len() != 3 {
		t.Fatalf("full queue: Full %v Len %d; want true 3", q.Full(), q.Len())
	}
	if err := q.TryPut(make([]byte, 101)); !errors.Is(err, ring.ErrTooLarge) {
		t.Fatalf("oversized message: got %v; want ErrTooLarge", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if err := q.Put(ctx, []byte{9}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put on full with deadline: got %v; want DeadlineExceeded", err)
	}
	small := make([]byte, 0)
	if n, err := q.GetInto(context.Background(), small); !errors.Is(err, ring.ErrBufferTooShort) || n != 1 {
		t.Fatalf("GetInto short buffer: got %d, %v; want 1, ErrBufferTooShort", n, err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	if err := q.TryPut([]byte{1}); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("TryPut after Close: got %v; want ErrClosed", err)
	}
	for i := 0; i < 3; i++ {
		b, err := q.Get(context.Background())
		if err != nil || len(b) != 1 || b[0] != byte(i) {
			t.Fatalf("Get %d after Close: got %v, %v; want [%d]", i, b, err, i)
		}
	}
	if _, err := q.Get(context.Background()); !errors.Is(err, ring.ErrClosed) {
		t.Fatalf("Get on closed, drained queue: got %v; want ErrClosed", err)
	}
}

// TestQueueGetDeadline: a Get blocked on an empty queue returns
// context.DeadlineExceeded at its deadline (not long after), with the
// queue unchanged.
func TestQueueGetDeadline(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []time.Duration{time.Millisecond, 50 * time.Millisecond, 120 * time.Millisecond} {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		deadline, _ := ctx.Deadline()
		_, err := q.Get(ctx)
		late := time.Since(deadline)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Get with %v deadline: got %v; want DeadlineExceeded", d, err)
		}
		// Generous bound: a loaded 2-core VM may be slow to schedule us.
		if late < 0 || late > time.Second {
			t.Errorf("Get with %v deadline returned %v after the deadline", d, late)
		}
	}
	if q.Len() != 0 {
		t.Fatalf("Len after timed-out Gets: got %d; want 0", q.Len())
	}
}

func TestJoinableQueueTaskDone(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	q, err := ring.NewJoinableQueue(seg, "q", &ring.QueueOptions{MaxSize: 8, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, ring.ErrTaskDone) {
		t.Fatalf("TaskDone on a fresh queue: got %v; want ErrTaskDone", err)
	}
	if err := q.Join(context.Background()); err != nil {
		t.Fatalf("Join with nothing put: %v", err)
	}
	q.Put(context.Background(), []byte("a"))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := q.Join(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Join with a task unfinished: got %v; want DeadlineExceeded", err)
	}
	q.Get(context.Background())
	if err := q.TaskDone(); err != nil {
		t.Fatal(err)
	}
	if err := q.TaskDone(); !errors.Is(err, ring.ErrTaskDone) {
		t.Fatalf("second TaskDone: got %v; want ErrTaskDone", err)
	}
	if err := q.Join(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func mpmcPerProducer() int {
	if testing.Short() {
		return 20_000
	}
	return 1_000_000
}

// helperMPMCProducer: Arg(0) segment, Arg(1) queue, Arg(2) producer id,
// Arg(3) messages. Each message is id u32, sequence u32, padding.
func helperMPMCProducer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	q, err := ring.OpenQueue(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	id, n := testproc.IntArg(2), testproc.IntArg(3)
	msg := make([]byte, 24)
	for i := 0; i < n; i++ {
		binary.LittleEndian.PutUint32(msg, uint32(id))
		binary.LittleEndian.PutUint32(msg[4:], uint32(i))
		if err := q.Put(context.Background(), msg); err != nil {
			testproc.Fatalf("put %d: %v", i, err)
		}
	}
}

// helperMPMCConsumer: Arg(0) segment, Arg(1) queue, Arg(2) consumer index,
// Arg(3) producers, Arg(4) messages per producer. Gets until ErrClosed,
// checks per-producer order, and writes its bitmap of message ids into the
// object "bitmap-<index>".
func helperMPMCConsumer() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	q, err := ring.OpenQueue(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	idx, producers, per := testproc.IntArg(2), testproc.IntArg(3), testproc.IntArg(4)
	obj, err := seg.OpenObject("bitmap-"+strconv.Itoa(idx), kindBitmap, 1<<16)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	bm := make([]uint64, (producers*per+63)/64)
	last := make([]int64, producers)
	for i := range last {
		last[i] = -1
	}
	buf := make([]byte, 64)
	for {
		n, err := q.GetInto(context.Background(), buf)
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		if err != nil {
			testproc.Fatalf("get: %v", err)
		}
		if n != 24 {
			testproc.Fatalf("message of %d bytes; want 24", n)
		}
		p, s := int(binary.LittleEndian.Uint32(buf)), int64(binary.LittleEndian.Uint32(buf[4:]))
		if p >= producers || s >= int64(per) {
			testproc.Fatalf("message id %d/%d out of range", p, s)
		}
		if s <= last[p] {
			testproc.Fatalf("producer %d: sequence %d after %d", p, s, last[p])
		}
		last[p] = s
		id := p*per + int(s)
		if bm[id/64]&(1<<(id%64)) != 0 {
			testproc.Fatalf("message %d/%d twice", p, s)
		}
		bm[id/64] |= 1 << (id % 64)
	}
	out := obj.Bytes()
	for i, w := range bm {
		binary.LittleEndian.PutUint64(out[8*i:], w)
	}
}

var kindBitmap = shm.MakeKind("TBMP")

// TestMPMCCrossProcess: 3 producer and 3 consumer processes; every message
// is received exactly once (the consumers' id bitmaps are disjoint and cover
// every id) and in per-producer order by each consumer.
func TestMPMCCrossProcess(t *testing.T) {
	const producers, consumers = 3, 3
	per := mpmcPerProducer()
	words := (producers*per + 63) / 64
	seg, name := newSegment(t, 8<<20+consumers*words*8)
	q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 256, MaxMessage: 48})
	if err != nil {
		t.Fatal(err)
	}
	var objs []shm.Object
	for i := 0; i < consumers; i++ {
		o, err := seg.CreateObject("bitmap-"+strconv.Itoa(i), kindBitmap, 1<<16, words*8, nil)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, o)
	}
	var cs, ps []*testproc.Child
	for i := 0; i < consumers; i++ {
		cs = append(cs, testproc.Start(t, "ring-mpmc-consumer", testproc.Options{Args: []string{name, "q", strconv.Itoa(i), strconv.Itoa(producers), strconv.Itoa(per)}}))
	}
	for i := 0; i < producers; i++ {
		ps = append(ps, testproc.Start(t, "ring-mpmc-producer", testproc.Options{Args: []string{name, "q", strconv.Itoa(i), strconv.Itoa(per)}}))
	}
	for _, p := range ps {
		p.MustWait()
	}
	q.Close()
	for _, c := range cs {
		c.MustWait()
	}
	total := 0
	for w := 0; w < words; w++ {
		var or uint64
		for _, o := range objs {
			v := binary.LittleEndian.Uint64(o.Bytes()[8*w:])
			if or&v != 0 {
				t.Fatalf("word %d: a message received by two consumers (%#x & %#x)", w, or, v)
			}
			or |= v
		}
		total += bits.OnesCount64(or)
	}
	if total != producers*per {
		t.Fatalf("received %d distinct messages; want %d", total, producers*per)
	}
	if got := q.Tombstoned(); got != 0 {
		t.Fatalf("Tombstoned: got %d; want 0", got)
	}
}

// helperJoinableWorker: Gets tasks until ErrClosed, TaskDone for each, and
// reports how many it did.
func helperJoinableWorker() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	q, err := ring.OpenJoinableQueue(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	done := 0
	for {
		_, err := q.Get(context.Background())
		if errors.Is(err, ring.ErrClosed) {
			break
		}
		if err != nil {
			testproc.Fatalf("get: %v", err)
		}
		if err := q.TaskDone(); err != nil {
			testproc.Fatalf("task done: %v", err)
		}
		done++
	}
	testproc.Send("%d", done)
}

// TestJoinableQueueCrossProcess: 10,000 tasks, 3 worker processes; Join
// returns only once every task was marked done.
func TestJoinableQueueCrossProcess(t *testing.T) {
	seg, name := newSegment(t, 4<<20)
	q, err := ring.NewJoinableQueue(seg, "jq", &ring.QueueOptions{MaxSize: 64, MaxMessage: 32})
	if err != nil {
		t.Fatal(err)
	}
	const tasks = 10_000
	var ws []*testproc.Child
	for i := 0; i < 3; i++ {
		ws = append(ws, testproc.Start(t, "ring-joinable-worker", testproc.Options{Args: []string{name, "jq"}}))
	}
	ctx := context.Background()
	for i := 0; i < tasks; i++ {
		if err := q.Put(ctx, []byte(fmt.Sprint("task ", i))); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}
	if n := q.Unfinished(); n != 0 {
		t.Fatalf("Unfinished after Join: got %d; want 0", n)
	}
	if n := q.Len(); n != 0 {
		t.Fatalf("Len after Join: got %d; want 0", n)
	}
	q.Close()
	sum := 0
	for _, w := range ws {
		n, _ := strconv.Atoi(w.Recv(10 * time.Second))
		sum += n
		w.MustWait()
	}
	if sum != tasks {
		t.Fatalf("workers did %d tasks; want %d", sum, tasks)
	}
}
