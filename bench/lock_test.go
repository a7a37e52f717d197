package bench

// Naming key:
//
//	BenchmarkLock/impl=I/contention=C
//	    one Lock+Unlock pair per op.
//	    I: sync.Mutex (in-process reference), flock (flock(2) LOCK_EX on a
//	       temp file), fcntl (F_OFD_SETLKW write lock on byte 0), and
//	       shmkit's futex.Lock, futex.RLock and futex.Semaphore(1) (see
//	       sync_test.go).
//	    C: none (one goroutine, nobody else touches the lock), 2proc (a
//	       child process locks and unlocks the same lock in a loop),
//	       2goroutine (sync.Mutex only, which cannot cross processes: a
//	       second goroutine does the same).

import (
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/shmkit/shmkit/internal/testproc"
	"golang.org/x/sys/unix"
)

// fileLock is a lock over a file descriptor.
type fileLock struct {
	lock, unlock func() error
}

func flockOn(f *os.File) fileLock {
	fd := int(f.Fd())
	return fileLock{
		lock:   func() error { return retryEINTR(func() error { return unix.Flock(fd, unix.LOCK_EX) }) },
		unlock: func() error { return unix.Flock(fd, unix.LOCK_UN) },
	}
}

func fcntlOn(f *os.File) fileLock {
	fd := f.Fd()
	wr := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 1}
	un := unix.Flock_t{Type: unix.F_UNLCK, Start: 0, Len: 1}
	return fileLock{
		lock:   func() error { return retryEINTR(func() error { return unix.FcntlFlock(fd, unix.F_OFD_SETLKW, &wr) }) },
		unlock: func() error { return unix.FcntlFlock(fd, unix.F_OFD_SETLK, &un) },
	}
}

func retryEINTR(f func() error) error {
	for {
		if err := f(); err != unix.EINTR {
			return err
		}
	}
}

var fileLocks = map[string]func(*os.File) fileLock{"flock": flockOn, "fcntl": fcntlOn}

func init() {
	// lock-hammer IMPL PATH CPU: lock and unlock the file lock until killed.
	testproc.Register("lock-hammer", func() {
		pinChild(2)
		f, err := os.OpenFile(testproc.Arg(1), os.O_RDWR, 0)
		if err != nil {
			testproc.Fatalf("open: %v", err)
		}
		l := fileLocks[testproc.Arg(0)](f)
		probeAndReady()
		for {
			if err := l.lock(); err != nil {
				testproc.Fatalf("lock: %v", err)
			}
			if err := l.unlock(); err != nil {
				testproc.Fatalf("unlock: %v", err)
			}
		}
	})
}

func BenchmarkLock(b *testing.B) {
	b.Run("impl=sync.Mutex/contention=none", func(b *testing.B) {
		var mu sync.Mutex
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			mu.Unlock()
		}
	})
	b.Run("impl=sync.Mutex/contention=2goroutine", func(b *testing.B) {
		var mu sync.Mutex
		var stop atomic.Bool
		done := make(chan struct{})
		go func() {
			defer close(done)
			for !stop.Load() {
				mu.Lock()
				mu.Unlock()
			}
		}()
		b.ReportAllocs()
		for b.Loop() {
			mu.Lock()
			mu.Unlock()
		}
		stop.Store(true)
		<-done
	})
	for _, impl := range []string{"shm-lock", "shm-rlock", "shm-semaphore"} {
		for _, contention := range []string{"none", "2proc"} {
			b.Run("impl="+impl+"/contention="+contention, func(b *testing.B) { benchShmLock(b, impl, contention) })
		}
	}
	for _, impl := range []string{"flock", "fcntl"} {
		for _, contention := range []string{"none", "2proc"} {
			b.Run("impl="+impl+"/contention="+contention, func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "lock")
				f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				l := fileLocks[impl](f)
				if contention == "2proc" {
					startPinned(b, "lock-hammer", nil, impl, path)
				}
				b.ReportAllocs()
				for b.Loop() {
					if err := l.lock(); err != nil {
						b.Fatal(err)
					}
					if err := l.unlock(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
