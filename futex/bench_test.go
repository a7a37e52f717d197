package futex

// Benchmark names follow the key
//
//	BenchmarkUncontended/prim={Lock,RLock,RLockOwner,Semaphore}/impl={futex,sync}
//	BenchmarkPingPong/transport={futex,unix}
//
// impl=sync is the in-process baseline (sync.Mutex, a buffered channel for
// the semaphore), measured in the same run. PingPong is one round trip
// between this process and a re-executed child: a futex word in shared
// memory (FUTEX_WAKE and FUTEX_WAIT each way) against one byte each way over
// a Unix socket pair. Compare runs with benchstat:
//
//	go test -run '^$' -bench . -count 5 ./futex/ | tee new.txt
//	benchstat new.txt

import (
	"context"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/internal/view"
)

func init() {
	testproc.Register("futex-pong", helperPong)
	testproc.Register("futex-pong-unix", helperPongUnix)
}

// BenchmarkUncontended measures each primitive's uncontended fast path,
// on an anonymous segment (unguarded: the default of proc.Manager), beside
// its sync counterpart. cgo-free-tests' BenchmarkGuard measures the
// truncation guard of named segments.
func BenchmarkUncontended(b *testing.B) {
	ctx := context.Background()
	b.Run("prim=Lock/impl=futex", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		l, err := NewLock(seg, "l")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			l.Acquire(ctx)
			l.Release()
		}
	})
	b.Run("prim=Lock/impl=sync", func(b *testing.B) {
		var mu sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			mu.Unlock()
		}
	})
	b.Run("prim=RLock/impl=futex", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		r, err := NewRLock(seg, "r")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			r.Acquire(ctx)
			r.Release()
		}
	})
	b.Run("prim=RLockOwner/impl=futex", func(b *testing.B) {
		// An Owner's view: re-entrant, stores its id in the owner slot.
		seg := testseg.Anon(b, 1<<20)
		r, err := NewRLock(seg, "r")
		if err != nil {
			b.Fatal(err)
		}
		o := r.As(NewOwner())
		b.ReportAllocs()
		for b.Loop() {
			o.Acquire(ctx)
			o.Release()
		}
	})
	b.Run("prim=Semaphore/impl=futex", func(b *testing.B) {
		seg := testseg.Anon(b, 1<<20)
		s, err := NewSemaphore(seg, "s", 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			s.Acquire(ctx)
			s.Release()
		}
	})
	b.Run("prim=Semaphore/impl=sync", func(b *testing.B) {
		ch := make(chan struct{}, 1)
		b.ReportAllocs()
		for b.Loop() {
			ch <- struct{}{}
			<-ch
		}
	})
}

// Ping-pong word values.
const (
	pingIdle = iota
	pingPing
	pingPong
	pingStop
)

var kindPing = kindWords

// helperPong: segment. Answers every ping on word "pp" with a pong.
func helperPong() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	o, err := seg.OpenObject("pp", kindPing, 1<<16)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	w := view.Ptr[uint32](o.Bytes(), 0)
	testproc.Ready()
	for {
		v := atomic.LoadUint32(w)
		switch v {
		case pingStop:
			return
		case pingPing:
			atomic.StoreUint32(w, pingPong)
			Wake(w, 1)
		default:
			Wait(w, v, time.Second)
		}
	}
}

// helperPongUnix answers every byte on inherited socket 0 with a byte.
func helperPongUnix() {
	f := testproc.File(0)
	testproc.Ready()
	buf := make([]byte, 1)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
		if _, err := f.Write(buf); err != nil {
			return
		}
	}
}

func BenchmarkPingPong(b *testing.B) {
	b.Run("transport=futex", func(b *testing.B) {
		seg, name := newSegment(b)
		o, err := seg.CreateObject("pp", kindPing, 1<<16, 64, nil)
		if err != nil {
			b.Fatal(err)
		}
		w := view.Ptr[uint32](o.Bytes(), 0)
		c := testproc.Start(b, "futex-pong", testproc.Options{Args: []string{name}})
		c.WaitReady()
		b.ReportAllocs()
		for b.Loop() {
			atomic.StoreUint32(w, pingPing)
			Wake(w, 1)
			for {
				v := atomic.LoadUint32(w)
				if v == pingPong {
					break
				}
				Wait(w, v, time.Second)
			}
		}
		b.StopTimer()
		atomic.StoreUint32(w, pingStop)
		Wake(w, 1)
		c.MustWait()
	})
	b.Run("transport=unix", func(b *testing.B) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
		if err != nil {
			b.Fatal(err)
		}
		mine, theirs := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
		defer mine.Close()
		c := testproc.Start(b, "futex-pong-unix", testproc.Options{Files: []*os.File{theirs}})
		theirs.Close()
		c.WaitReady()
		buf := []byte{1}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := mine.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := mine.Read(buf); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		mine.Close()
		c.MustWait()
	})
}
