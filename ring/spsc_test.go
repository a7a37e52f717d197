package ring_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ring"
)

func TestRingInProcess(t *testing.T) {
	for _, w := range []ring.WaitStrategy{ring.Hybrid, ring.Spin, ring.Yield, ring.Futex} {
		t.Run("wait="+w.String(), func(t *testing.T) {
			seg, _ := newSegment(t, 1<<20)
			r, err := ring.NewRing(seg, "r", 4096, &ring.Options{Wait: w})
			if err != nil {
				t.Fatal(err)
			}
			p, err := r.Producer()
			if err != nil {
				t.Fatal(err)
			}
			c, err := r.Consumer()
			if err != nil {
				t.Fatal(err)
			}
			const n = 20000
			ctx := context.Background()
			done := make(chan error, 1)
			go func() {
				rng := rand.New(rand.NewPCG(1, 2))
				buf := make([]byte, 2000)
				for i := 0; i < n; i++ {
					m := buf[:8+rng.IntN(1000)]
					binary.LittleEndian.PutUint64(m, uint64(i))
					for j := 8; j < len(m); j++ {
						m[j] = byte(i + j)
					}
					if err := p.Write(ctx, m); err != nil {
						done <- err
						return
					}
				}
				done <- p.Close()
			}()
			buf := make([]byte, 2000)
			for i := 0; ; i++ {
				k, err := c.ReadInto(ctx, buf)
				if err == io.EOF {
					if i != n {
						t.Fatalf("EOF after %d records; want %d", i, n)
					}
					break
				}
				if err != nil {
					t.Fatalf("record %d: %v", i, err)
				}
				if got := binary.LittleEndian.Uint64(buf); got != uint64(i) {
					t.Fatalf("record %d: got sequence %d", i, got)
				}
				for j := 8; j < k; j++ {
					if buf[j] != byte(i+j) {
						t.Fatalf("record %d byte %d: got %d; want %d", i, j, buf[j], byte(i+j))
					}
				}
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestRingTryAndBatch(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	r, err := ring.NewRing(seg, "r", 256, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Producer()
	c, _ := r.Consumer()
	if _, err := c.TryPeek(); !errors.Is(err, ring.ErrEmpty) {
		t.Fatalf("TryPeek on empty: got %v; want ErrEmpty", err)
	}
	msg := bytes.Repeat([]byte{7}, 56) // 64-byte records: 4 fit
	var batch [][]byte
	for i := 0; i < 4; i++ {
		batch = append(batch, msg)
	}
	if err := p.WriteBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	if err := p.TryWrite(msg); !errors.Is(err, ring.ErrFull) {
		t.Fatalf("TryWrite on full: got %v; want ErrFull", err)
	}
	if err := p.TryWrite(make([]byte, 300)); !errors.Is(err, ring.ErrTooLarge) {
		t.Fatalf("oversized record: got %v; want ErrTooLarge", err)
	}
	got, err := c.Consume(context.Background(), 10, func(b []byte) error {
		if !bytes.Equal(b, msg) {
			t.Errorf("record: got %v", b)
		}
		return nil
	})
	if err != nil || got != 4 {
		t.Fatalf("Consume: got %d, %v; want 4, nil", got, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := c.Peek(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Peek on empty with deadline: got %v; want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Peek returned after %v", d)
	}
}

// TestBatchPublishesInChunks: a batch of staged records is published every
// 32 KiB (a quarter of a smaller ring) without waiting for Flush, and
// Consume releases the head at the same pace, so that producer and consumer
// overlap on large batches.
func TestBatchPublishesInChunks(t *testing.T) {
	seg, _ := newSegment(t, 2<<20)
	r, err := ring.NewRing(seg, "r", 1<<20, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := r.Producer()
	c, _ := r.Consumer()
	const rec = 1024 // bytes per record, header included: 32 per chunk
	for i := 0; i < 64; i++ {
		if i == 31 || i == 32 {
			n, _ := r.Len()
			if want := (i / 32) * 32 * rec; n != want {
				t.Fatalf("after staging %d records: Len %d; want %d", i, n, want)
			}
		}
		b, err := p.TryReserve(rec - 8)
		if err != nil {
			t.Fatal(err)
		}
		binary.LittleEndian.PutUint64(b, uint64(i))
		if err := p.Stage(rec - 8); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := r.Len(); n != 64*rec {
		t.Fatalf("after staging 64 records: Len %d; want %d (auto-published)", n, 64*rec)
	}
	i := 0
	got, err := c.Consume(context.Background(), 100, func(b []byte) error {
		if k := binary.LittleEndian.Uint64(b); k != uint64(i) {
			t.Errorf("record %d: got %d", i, k)
		}
		n, _ := r.Len()
		if want := 64*rec - (i/32)*32*rec; n != want {
			t.Errorf("consuming record %d: Len %d; want %d", i, n, want)
		}
		i++
		return nil
	})
	if err != nil || got != 64 {
		t.Fatalf("Consume: got %d, %v; want 64, nil", got, err)
	}
	if n, _ := r.Len(); n != 0 {
		t.Fatalf("after Consume: Len %d; want 0", n)
	}
}
