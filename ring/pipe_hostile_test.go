package ring

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestHostilePipeWords: impossible words written into a pipe's shared
// state (holder entries, lock words, indices a handle resynchronises from)
// give ErrCorrupt within a bounded time, never a panic, a hang past the
// watchdog or a bad access.
func TestHostilePipeWords(t *testing.T) {
	cases := []struct {
		name  string
		spoil func(c0, c1 *Conn)
		call  func(ctx context.Context, c0, c1 *Conn) error
	}{
		{"holder names no participant", func(c0, c1 *Conn) {
			atomic.StoreUint32(&c1.v.h.holders[1][5], 0x1fff0fff)
		}, func(ctx context.Context, c0, c1 *Conn) error {
			c1.Close() // the spoilt entry is the only other holder left
			_, err := c0.RecvBytes(ctx)
			return err
		}},
		{"holder with unknown flag bits", func(c0, c1 *Conn) {
			atomic.StoreUint32(&c1.v.h.holders[1][5], 1<<29|1)
		}, func(ctx context.Context, c0, c1 *Conn) error {
			c1.Close()
			_, err := c0.RecvBytes(ctx)
			return err
		}},
		{"send lock names no participant", func(c0, c1 *Conn) {
			atomic.StoreUint32(&c1.send.r.h.txLock, 0x1fff0fff)
		}, func(ctx context.Context, c0, c1 *Conn) error {
			return c1.SendBytes(ctx, []byte("x"))
		}},
		{"receive lock with flag bits", func(c0, c1 *Conn) {
			atomic.StoreUint32(&c0.recv.r.h.rxLock, 1<<31|1)
		}, func(ctx context.Context, c0, c1 *Conn) error {
			_, err := c0.RecvBytes(ctx)
			return err
		}},
		{"tail behind head at resync", func(c0, c1 *Conn) {
			atomic.StoreUint64(&c1.send.r.h.head, 1<<20)
			atomic.StoreUint64(&c1.send.r.h.tail, 8)
		}, func(ctx context.Context, c0, c1 *Conn) error {
			return c1.SendBytes(ctx, []byte("x"))
		}},
		{"unaligned head at resync", func(c0, c1 *Conn) {
			atomic.StoreUint64(&c0.recv.r.h.head, 12)
			atomic.StoreUint64(&c0.recv.r.h.tail, 16)
		}, func(ctx context.Context, c0, c1 *Conn) error {
			_, err := c0.RecvBytes(ctx)
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seg := anonSegment(t, 1<<20)
			c0, c1, err := NewPipe(seg, "p", &PipeOptions{OneWay: true, Capacity: 4096})
			if err != nil {
				t.Fatal(err)
			}
			tc.spoil(c0, c1)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			err = tc.call(ctx, c0, c1)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v; want ErrCorrupt", err)
			}
			if n := strings.Count(err.Error(), "ring:"); n != 1 {
				t.Fatalf("error text %q names the package %d times; want once", err, n)
			}
		})
	}
}
