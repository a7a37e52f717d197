package ring_test

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

// A duplex pipe: both ends here for brevity; another process would open
// a handle on end 1 with ring.OpenPipe(seg, "chat", 1, nil), or receive
// the child end in its proc arguments.
func ExampleNewPipe() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	parent, child, err := ring.NewPipe(seg, "chat", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	parent.SendBytes(ctx, []byte("ping"))
	msg, _ := child.RecvBytes(ctx)
	child.SendBytes(ctx, append(msg, " pong"...))
	reply, _ := parent.RecvBytes(ctx)
	fmt.Println(string(reply))

	// A buffer too short keeps the message for a retry.
	child.SendBytes(ctx, []byte("a longer message"))
	small := make([]byte, 4)
	n, err := parent.RecvBytesInto(ctx, small)
	fmt.Println(n, errors.Is(err, ring.ErrBufferTooShort))
	buf := make([]byte, n)
	parent.RecvBytesInto(ctx, buf)
	fmt.Println(string(buf))

	child.Close()
	_, err = parent.RecvBytes(ctx)
	fmt.Println(err == io.EOF)
	// Output:
	// ping pong
	// 16 true
	// a longer message
	// true
}

// Send and Recv carry values, as CPython's conn.send(obj) and conn.recv().
func ExampleConn_Send() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	parent, child, err := ring.NewPipe(seg, "p", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	type result struct {
		Worker int
		Primes []int
	}
	child.Send(ctx, result{Worker: 1, Primes: []int{2, 3, 5, 7}})
	var r result
	if err := parent.Recv(ctx, &r); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%+v\n", r)
	// Output:
	// {Worker:1 Primes:[2 3 5 7]}
}

// A Queue with multiprocessing.Queue semantics.
func ExampleQueue() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	q, err := ring.NewQueue(seg, "jobs", &ring.QueueOptions{MaxSize: 2, MaxMessage: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	q.TryPut([]byte("one"))
	q.TryPut([]byte("two"))
	fmt.Println(q.Len(), q.Full(), errors.Is(q.TryPut([]byte("three")), ring.ErrFull))
	q.Close()
	for {
		b, err := q.Get(context.Background())
		if err != nil {
			fmt.Println(errors.Is(err, ring.ErrClosed))
			break
		}
		fmt.Println(string(b))
	}
	// Output:
	// 2 true true
	// one
	// two
	// true
}

// Zero-copy writing and reading of an SPSC ring.
func ExampleProducer_Reserve() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	r, err := ring.NewRing(seg, "r", 4096, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := r.Producer()
	c, _ := r.Consumer()
	ctx := context.Background()
	b, _ := p.Reserve(ctx, 5)
	copy(b, "hello")
	p.Commit(5)
	rec, _ := c.Peek(ctx)
	fmt.Println(string(rec))
	c.Release()
	// Output: hello
}

// Typed messages with the zero-copy Plain codec.
func ExampleNewPlain() {
	type tick struct {
		Seq   uint64
		Price float64
	}
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	q, _ := ring.NewQueue(seg, "ticks", &ring.QueueOptions{MaxSize: 8, MaxMessage: 16})
	codec, err := ring.NewPlain[tick]()
	if err != nil {
		fmt.Println(err)
		return
	}
	tq := ring.NewTypedQueue[tick](q, codec)
	tq.Put(context.Background(), tick{1, 99.5})
	v, _ := tq.Get(context.Background())
	fmt.Printf("%+v\n", v)
	// Output: {Seq:1 Price:99.5}
}

// Batches: many records published with one store of the tail and released
// with one store of the head.
func ExampleConsumer_Consume() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	r, err := ring.NewRing(seg, "r", 4096, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := r.Producer()
	c, _ := r.Consumer()
	ctx := context.Background()
	p.WriteBatch(ctx, [][]byte{[]byte("a"), []byte("bb"), []byte("ccc")})
	n, err := c.Consume(ctx, 64, func(rec []byte) error {
		fmt.Print(string(rec), " ")
		return nil
	})
	fmt.Println(n, err)
	// Output: a bb ccc 3 <nil>
}

// A JoinableQueue: Join returns once every task put was marked done (the
// worker would be another process, with ring.OpenJoinableQueue).
func ExampleJoinableQueue() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	q, err := ring.NewJoinableQueue(seg, "tasks", &ring.QueueOptions{MaxSize: 8, MaxMessage: 64})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	for _, task := range []string{"wash", "dry"} {
		q.Put(ctx, []byte(task))
	}
	go func() {
		for i := 0; i < 2; i++ {
			b, _ := q.Get(ctx)
			fmt.Println("done:", string(b))
			q.TaskDone()
		}
	}()
	fmt.Println(q.Join(ctx), q.Unfinished())
	fmt.Println(errors.Is(q.TaskDone(), ring.ErrTaskDone))
	// Output:
	// done: wash
	// done: dry
	// <nil> 0
	// true
}

// A typed view of a JoinableQueue keeps its task accounting; with a nil
// codec a plain struct travels as its bytes (DefaultCodec).
func ExampleNewTypedJoinableQueue() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	jq, err := ring.NewJoinableQueue(seg, "jobs", nil) // defaults fit 1 MiB
	if err != nil {
		fmt.Println(err)
		return
	}
	type job struct{ ID, Size int32 }
	q := ring.NewTypedJoinableQueue[job](jq, nil)
	ctx := context.Background()
	q.Put(ctx, job{ID: 1, Size: 10})
	fmt.Println("unfinished:", q.Unfinished())
	j, _ := q.Get(ctx)
	fmt.Printf("got %+v\n", j)
	q.TaskDone()
	fmt.Println(q.Join(ctx), q.Unfinished())
	// Output:
	// unfinished: 1
	// got {ID:1 Size:10}
	// <nil> 0
}

// A supervisor's view of leases: a message taken with GetLease stays
// recorded against its holder until Done; ReclaimDead hands the supervisor
// the messages of holders that died (here none) to fail or redeliver.
func ExampleQueue_GetLease() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	q, err := ring.NewQueue(seg, "tasks", &ring.QueueOptions{MaxMessage: 64, DeadHolder: ring.Supervised})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	q.Put(ctx, []byte("task 7"))
	l, err := q.GetLease(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(l.Bytes()))
	n, err := q.ReclaimDead(func(msg []byte, holder shm.Token) bool {
		fmt.Printf("%s died holding %q\n", holder, msg)
		return false
	})
	fmt.Println(n, err)
	fmt.Println(l.Done(), errors.Is(l.Done(), ring.ErrTaskDone))
	// Output:
	// task 7
	// 0 <nil>
	// <nil> true
}
