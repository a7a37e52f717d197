package ring

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// lookup is seg.Lookup for tests: a missing name gives the zero entry,
// which Inspect refuses.
func lookup(seg *shm.Segment, name string) shm.ObjectInfo { o, _ := seg.Lookup(name); return o }

func TestInspectRingStates(t *testing.T) {
	seg, err := shm.Anonymous(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	ctx := context.Background()
	q, err := NewJoinableQueue(seg, "jq", &QueueOptions{MaxSize: 4, MaxMessage: 32, Leases: 2})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"a", "b", "c"} {
		q.TryPut([]byte(m))
	}
	if _, err := q.Get(ctx); err != nil { // held until TaskDone
		t.Fatal(err)
	}
	st, err := Inspect(seg, lookup(seg, "jq"))
	if err != nil {
		t.Fatal(err)
	}
	want := QueueState{Joinable: true, DeadHolder: "count-lost", Len: 2, MaxSize: 4, MaxMessage: 32, Slots: 4,
		Committed: 3, Consumed: 1, Messages: 2, Unfinished: 3, Leases: 2, LeasesHeld: 1}
	if *st.Queue != want {
		t.Errorf("joinable queue: %+v; want %+v", *st.Queue, want)
	}
	// A slot whose flags no Get would accept is counted, not trusted.
	s, _ := q.q.q.slot(1)
	s.flags = 99
	if st, err := Inspect(seg, lookup(seg, "jq")); err != nil || st.Queue.Corrupt != 1 || st.Queue.Messages != 1 {
		t.Errorf("queue with a scribbled slot: %+v, %v; want 1 corrupt, 1 message", st.Queue, err)
	}
	s.flags = mpmcSlotPublished
	// A lease word in no known state is ErrCorrupt.
	e, _ := q.q.q.lease(1)
	atomic.StoreUint64(&e.state, uint64(7)<<segcore.TokenBits)
	if _, err := Inspect(seg, lookup(seg, "jq")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("queue with a scribbled lease: %v; want ErrCorrupt", err)
	}
	atomic.StoreUint64(&e.state, 0)

	c0, c1, err := NewPipe(seg, "pipe", &PipeOptions{OneWay: true})
	if err != nil {
		t.Fatal(err)
	}
	c1.SendBytes(ctx, []byte("hello"))
	c1.Close()
	st, err = Inspect(seg, lookup(seg, "pipe"))
	if err != nil {
		t.Fatal(err)
	}
	p := st.Pipe
	if p.Duplex || len(p.Rings) != 1 || p.Rings[0].Used == 0 || !p.Ends[1].Closed || p.Ends[0].Closed ||
		len(p.Ends[0].Holders) != 1 || p.Ends[0].Holders[0] != (PipeHolder{Token: seg.Token(), Alive: true}) || len(p.Ends[1].Holders) != 0 {
		t.Errorf("one-way pipe after the writer closed: %+v; want one ring holding a message, end 1 closed, end 0 held by us", p)
	}
	atomic.StoreUint32(&c0.v.h.holders[0][5], 1<<29)
	if _, err := Inspect(seg, lookup(seg, "pipe")); !errors.Is(err, ErrCorrupt) {
		t.Errorf("pipe with a scribbled holder: %v; want ErrCorrupt", err)
	}
	atomic.StoreUint32(&c0.v.h.holders[0][5], 0)

	if _, err := NewRing(seg, "ring", 1024, nil); err != nil {
		t.Fatal(err)
	}
	st, err = Inspect(seg, lookup(seg, "ring"))
	if err != nil || st.Ring == nil || st.Ring.Capacity != 1024 || st.Ring.Used != 0 {
		t.Errorf("bare ring: %+v, %v; want capacity 1024, empty", st.Ring, err)
	}
	if _, err := Inspect(seg, shm.ObjectInfo{Name: "x", Kind: shm.MakeKind("OTHR"), Ready: true}); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Errorf("another kind: %v; want ErrTypeMismatch", err)
	}
}
