package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestQueueClaimsManyGoroutines: more goroutines of one process than it has
// pending-word pairs put and get on one Queue at once; every message is
// delivered exactly once and every pair is free (tag word 0) afterwards.
func TestQueueClaimsManyGoroutines(t *testing.T) {
	seg := anonSegment(t, 1<<20)
	q, err := NewQueue(seg, "q", &QueueOptions{MaxSize: 16, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 6, 2000
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // a watchdog
	defer cancel()
	seen := make([]atomic.Uint32, workers*each)
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := 0; w < workers; w++ {
		wg.Add(2)
		go func() {
			defer wg.Done()
			var msg [8]byte
			for i := 0; i < each; i++ {
				binary.LittleEndian.PutUint64(msg[:], uint64(w*each+i))
				if err := q.Put(ctx, msg[:]); err != nil {
					errs <- err
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			buf := make([]byte, 8)
			for i := 0; i < each; i++ {
				n, err := q.GetInto(ctx, buf)
				if err != nil || n != 8 {
					errs <- errors.Join(err, errors.New("short message"))
					return
				}
				seen[binary.LittleEndian.Uint64(buf)].Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for i := range seen {
		if n := seen[i].Load(); n != 1 {
			t.Fatalf("message %d delivered %d times; want 1", i, n)
		}
	}
	for i := 0; i < len(q.q.claims.words); i += 2 { // the tags; positions stay
		if w := q.q.claims.words[i]; w != 0 {
			t.Fatalf("pending tag word %d: got %#x after every claim ended; want 0", i, w)
		}
	}
}

// TestQueueClaimsCorruptPendingWords: a peer that writes this process's
// pending words so that both pairs look held makes Put and Get fail with
// ErrCorrupt after a bounded number of turns instead of waiting forever;
// the queue works again once the words are cleared.
func TestQueueClaimsCorruptPendingWords(t *testing.T) {
	seg := anonSegment(t, 1<<16)
	q, err := NewQueue(seg, "q", &QueueOptions{MaxSize: 4, MaxMessage: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.TryPut([]byte("first")); err != nil {
		t.Fatal(err)
	}
	words := q.q.claims.words
	atomic.StoreUint64(&words[0], 0xbad)
	atomic.StoreUint64(&words[2], 0xbad)
	if err := q.TryPut([]byte("x")); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("TryPut with both pairs held by garbage: got %v; want ErrCorrupt", err)
	}
	if _, err := q.TryGet(); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("TryGet with both pairs held by garbage: got %v; want ErrCorrupt", err)
	}
	atomic.StoreUint64(&words[2], 0)
	if b, err := q.TryGet(); err != nil || string(b) != "first" {
		t.Fatalf("TryGet with a pair free: got %q, %v; want \"first\"", b, err)
	}
}
