package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testseg"
)

var anonSegment = testseg.Anon

// TestHostileControlWords: impossible indices, lengths and kinds written
// into a ring give ErrCorrupt, never a panic, a hang or a bad access.
func TestHostileControlWords(t *testing.T) {
	const capacity = 256
	word := func(n uint64, kind uint32) uint64 { return recWord(n, kind) }
	cases := []struct {
		name       string
		head, tail uint64
		rec        map[uint64]uint64 // data offset -> header word
	}{
		{"tail beyond capacity", 0, capacity + 8, nil},
		{"tail unaligned", 0, 12, nil},
		{"tail behind head", 64, 0, nil},
		{"bad magic", 0, 16, map[uint64]uint64{0: 8 | 0xdead<<48}},
		{"unknown kind", 0, 16, map[uint64]uint64{0: word(8, 9)}},
		{"length beyond capacity", 0, 16, map[uint64]uint64{0: word(1<<31, recData)}},
		{"record beyond tail", 0, 16, map[uint64]uint64{0: word(64, recData)}},
		{"record crossing the end", 240, 256 + 16, map[uint64]uint64{240: word(24, recData)}},
		{"padding at zero", 0, 256, map[uint64]uint64{0: word(248, recPad)}},
		{"padding short of the end", 128, 256, map[uint64]uint64{128: word(8, recPad)}},
		{"padding beyond tail", 128, 136, map[uint64]uint64{128: word(120, recPad)}},
		{"padding then padding", 128, 128 + 256, map[uint64]uint64{128: word(120, recPad), 0: word(248, recPad)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seg := anonSegment(t, 1<<16)
			r, err := NewRing(seg, "r", capacity, nil)
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Consumer()
			if err != nil {
				t.Fatal(err)
			}
			c.head, c.pub, c.tailC = tc.head, tc.head, tc.head
			atomic.StoreUint64(&r.r.h.head, tc.head)
			for off, w := range tc.rec {
				binary.LittleEndian.PutUint64(r.r.data[off:], w)
			}
			atomic.StoreUint64(&r.r.h.tail, tc.tail)
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			if _, err := c.Peek(ctx); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Peek: got %v; want ErrCorrupt", err)
			}
			if _, err := c.ReadInto(ctx, make([]byte, 64)); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ReadInto after corruption: got %v; want ErrCorrupt (sticky)", err)
			}
			if _, err := r.Len(); tc.tail-tc.head > capacity && !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Len: got %v; want ErrCorrupt", err)
			}
		})
	}
	t.Run("producer sees head beyond tail", func(t *testing.T) {
		seg := anonSegment(t, 1<<16)
		r, _ := NewRing(seg, "r", capacity, nil)
		p, _ := r.Producer()
		atomic.StoreUint64(&r.r.h.head, 1<<40)
		for i := 0; i < 100; i++ {
			err := p.TryWrite(make([]byte, 40))
			if errors.Is(err, ErrCorrupt) {
				return
			}
			if err != nil {
				t.Fatalf("TryWrite: got %v; want nil until full, then ErrCorrupt", err)
			}
		}
		t.Fatal("no ErrCorrupt after 100 writes into a 256-byte ring")
	})
	t.Run("bad geometry at open", func(t *testing.T) {
		seg := anonSegment(t, 1<<16)
		r, _ := NewRing(seg, "r", capacity, nil)
		atomic.StoreUint64(&r.r.h.capacity, 3)
		if _, err := OpenRing(seg, "r", nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("OpenRing with capacity 3: got %v; want ErrCorrupt", err)
		}
		q, _ := NewQueue(seg, "q", &QueueOptions{MaxSize: 4, MaxMessage: 8})
		q.q.h.slots = 1 << 40
		if _, err := OpenQueue(seg, "q", nil); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("OpenQueue with 2^40 slots: got %v; want ErrCorrupt", err)
		}
	})
	t.Run("queue slot length", func(t *testing.T) {
		seg := anonSegment(t, 1<<16)
		q, _ := NewQueue(seg, "q", &QueueOptions{MaxSize: 4, MaxMessage: 8})
		q.TryPut([]byte("x"))
		s, _ := q.q.slot(0)
		s.len = 1 << 31
		if _, err := q.TryGet(); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("TryGet of a slot claiming 2 GiB: got %v; want ErrCorrupt", err)
		}
	})
}

// FuzzRingConsume: arbitrary head, tail and record bytes; the consumer
// either reads records or fails with ErrCorrupt/ErrEmpty/io.EOF, in at most
// capacity/8+1 calls, and never panics.
func FuzzRingConsume(f *testing.F) {
	const capacity = 256
	seg := anonSegment(f, 1<<16)
	r, err := NewRing(seg, "r", capacity, &Options{Wait: Futex})
	if err != nil {
		f.Fatal(err)
	}
	valid := func(head uint64, recs ...[]byte) []byte {
		b := make([]byte, 16+capacity)
		tail := head
		for _, m := range recs {
			off := tail % capacity
			need := recHdrSize + align8(uint64(len(m)))
			if need > capacity-off {
				binary.LittleEndian.PutUint64(b[16+off:], recWord(capacity-off-8, recPad))
				tail += capacity - off
				off = 0
			}
			binary.LittleEndian.PutUint64(b[16+off:], recWord(uint64(len(m)), recData))
			copy(b[16+off+8:], m)
			tail += need
		}
		binary.LittleEndian.PutUint64(b, head)
		binary.LittleEndian.PutUint64(b[8:], tail)
		return b
	}
	f.Add(valid(0, []byte("hello"), []byte("world")))
	f.Add(valid(200, make([]byte, 40), make([]byte, 100)))
	f.Add(valid(1<<40+248, []byte("x")))
	f.Add(make([]byte, 16+capacity))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		b := make([]byte, 16+capacity)
		copy(b, data)
		clear(r.r.data)
		copy(r.r.data, b[16:])
		atomic.StoreUint64(&r.r.h.head, binary.LittleEndian.Uint64(b))
		atomic.StoreUint64(&r.r.h.tail, binary.LittleEndian.Uint64(b[8:]))
		c, err := r.Consumer()
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("Consumer: %v", err)
			}
			return
		}
		for i := 0; i <= capacity/8+1; i++ {
			_, err := c.TryPeek()
			switch {
			case err == nil:
				c.Release()
				continue
			case errors.Is(err, ErrCorrupt), errors.Is(err, io.EOF), errors.Is(err, ErrEmpty):
				return
			default:
				t.Fatalf("ReadInto: unexpected %v", err)
			}
		}
		if _, err := c.TryPeek(); !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("after capacity/8+1 records: got %v; want ErrEmpty or ErrCorrupt", err)
		}
	})
}

// TestTombstoneDeadProducer: a slot claimed by a producer that is not alive
// (no live participant publishes the claim) is tombstoned by a waiting
// consumer between wait slices, and the next message is delivered.
func TestTombstoneDeadProducer(t *testing.T) {
	seg := anonSegment(t, 1<<16)
	q, err := NewQueue(seg, "q", &QueueOptions{MaxSize: 4, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	atomic.StoreUint64(&q.q.h.enq, 1) // position 0 claimed, never published
	if err := q.TryPut([]byte("next")); err != nil {
		t.Fatal(err)
	}
	// While a live participant (this process) holds the claim, nothing is
	// tombstoned.
	pair, _ := q.q.claims.begin(q.q.tag|opProduce, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	if _, err := q.Get(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get behind a live claim: got %v; want DeadlineExceeded", err)
	}
	cancel()
	q.q.claims.end(pair)
	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	b, err := q.Get(ctx)
	if err != nil || string(b) != "next" {
		t.Fatalf("Get behind a dead claim: got %q, %v; want \"next\"", b, err)
	}
	if n := q.Tombstoned(); n != 1 {
		t.Fatalf("Tombstoned: got %d; want 1", n)
	}
}

// TestTombstoneDeadConsumer: a slot a dead consumer claimed and never
// released is freed for a waiting producer; the message is lost and counted.
func TestTombstoneDeadConsumer(t *testing.T) {
	seg := anonSegment(t, 1<<16)
	q, err := NewQueue(seg, "q", &QueueOptions{MaxSize: 2, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	q.TryPut([]byte("a"))
	q.TryPut([]byte("b"))
	atomic.StoreUint64(&q.q.h.deq, 1) // "a" claimed by a consumer that died
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Put(ctx, []byte("c")); err != nil {
		t.Fatalf("Put into a slot held by a dead consumer: %v", err)
	}
	for _, want := range []string{"b", "c"} {
		if b, err := q.Get(ctx); err != nil || string(b) != want {
			t.Fatalf("Get: got %q, %v; want %q", b, err, want)
		}
	}
	if n := q.Tombstoned(); n != 1 {
		t.Fatalf("Tombstoned: got %d; want 1", n)
	}
}
