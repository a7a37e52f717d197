package ring

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ring-die-after-claim", helperDieAfterClaim)
}

// helperDieAfterClaim: Arg(0) segment, Arg(1) queue, Arg(2) "put" or "get":
// claims a slot, reports ready and hangs there until killed.
func helperDieAfterClaim() {
	seg, err := shm.Open(testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	q, err := OpenQueue(seg, testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	want := opProduce
	if testproc.Arg(2) == "get" {
		want = opConsume
	}
	testHookClaimed = func(op int) {
		if op == want {
			testproc.Ready()
			time.Sleep(time.Hour)
		}
	}
	if want == opProduce {
		q.Put(context.Background(), []byte("never published"))
	} else {
		q.Get(context.Background())
	}
	testproc.Fatalf("hook did not run")
}

func namedSegment(t *testing.T) (*shm.Segment, string) { return testseg.Named(t, 1<<20, nil) }

// TestQueueProducerKilledAfterClaim (docs/robustness.md F7/F8): a producer process
// SIGKILLed between its claim and its publish blocks consumers only while it
// lives; once it is dead its slot is tombstoned, the messages behind it are
// delivered, and its half-written message never is.
func TestQueueProducerKilledAfterClaim(t *testing.T) {
	seg, name := namedSegment(t)
	q, err := NewQueue(seg, "q", &QueueOptions{MaxSize: 4, MaxMessage: 32})
	if err != nil {
		t.Fatal(err)
	}
	child := testproc.Start(t, "ring-die-after-claim", testproc.Options{Args: []string{name, "q", "put"}})
	child.WaitReady()
	if err := q.TryPut([]byte("after")); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	_, err = q.Get(ctx)
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get behind a live claimant: got %v; want DeadlineExceeded", err)
	}
	child.Kill()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	b, err := q.Get(ctx)
	if err != nil || string(b) != "after" {
		t.Fatalf("Get after the claimant died: got %q, %v; want \"after\"", b, err)
	}
	t.Logf("recovered %v after the kill", time.Since(start))
	if n := q.Tombstoned(); n != 1 {
		t.Fatalf("Tombstoned: got %d; want 1", n)
	}
	if b, err := q.TryGet(); !errors.Is(err, ErrEmpty) {
		t.Fatalf("TryGet: got %q, %v; want ErrEmpty", b, err)
	}
	child.ExitSignal()
}

// TestQueueConsumerKilledAfterClaim (F9): a consumer SIGKILLed between its
// claim and its release frees its slot for producers once it is dead; its
// message is lost and counted, every other one is delivered.
func TestQueueConsumerKilledAfterClaim(t *testing.T) {
	seg, name := namedSegment(t)
	q, err := NewQueue(seg, "q", &QueueOptions{MaxSize: 2, MaxMessage: 32})
	if err != nil {
		t.Fatal(err)
	}
	q.TryPut([]byte("a"))
	q.TryPut([]byte("b"))
	child := testproc.Start(t, "ring-die-after-claim", testproc.Options{Args: []string{name, "q", "get"}})
	child.WaitReady()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	err = q.Put(ctx, []byte("c"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Put behind a live consumer's claim: got %v; want DeadlineExceeded", err)
	}
	child.Kill()
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Put(ctx, []byte("c")); err != nil {
		t.Fatalf("Put after the consumer died: %v", err)
	}
	for _, want := range []string{"b", "c"} {
		if b, err := q.Get(ctx); err != nil || string(b) != want {
			t.Fatalf("Get: got %q, %v; want %q", b, err, want)
		}
	}
	if n := q.Tombstoned(); n != 1 {
		t.Fatalf("Tombstoned: got %d; want 1", n)
	}
	child.ExitSignal()
}
