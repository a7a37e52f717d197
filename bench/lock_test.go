package bench

// Naming key:
//
//	BenchmarkLock/impl=I/procs=N
//	    one Lock+Unlock pair per op, by the timed process.
//	    I: sync.Mutex (in-process reference), flock (flock(2) LOCK_EX on a
//	       temp file), fcntl (F_OFD_SETLKW write lock on byte 0), and
//	       shmkit's futex.Lock, futex.RLock and futex.Semaphore(1) (see
//	       sync_test.go).
//	    N: 1, 2, 4, … up to runtime.NumCPU(): the timed process and N-1
//	       children locking and unlocking the same lock in a loop
//	       (goroutines=N for sync.Mutex, which cannot cross processes).
//	    cpu-ns/op counts every process's CPU time (sync_test.go).

import (
	"os"
	"path/filepath"
	"strconv"
	"sync"
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
		pinHelper()
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
	for _, n := range procCounts() {
		b.Run("impl=sync.Mutex/goroutines="+strconv.Itoa(n), func(b *testing.B) {
			var mu sync.Mutex
			stop := hammer(n-1, func() { mu.Lock(); mu.Unlock() })
			defer stop()
			b.ReportAllocs()
			bl := startBill(nil)
			for b.Loop() {
				mu.Lock()
				mu.Unlock()
			}
			bl.report(b, b.N)
		})
	}
	for _, impl := range []string{"shm-lock", "shm-rlock", "shm-semaphore"} {
		for _, n := range procCounts() {
			b.Run("impl="+impl+"/procs="+strconv.Itoa(n), func(b *testing.B) { benchShmLock(b, impl, n) })
		}
	}
	for _, impl := range []string{"flock", "fcntl"} {
		for _, n := range procCounts() {
			b.Run("impl="+impl+"/procs="+strconv.Itoa(n), func(b *testing.B) {
				path := filepath.Join(b.TempDir(), "lock")
				f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
				if err != nil {
					b.Fatal(err)
				}
				defer f.Close()
				l := fileLocks[impl](f)
				cs := startHelpers(b, n-1, "lock-hammer", nil, impl, path)
				b.ReportAllocs()
				bl := startBill(cs)
				for b.Loop() {
					if err := l.lock(); err != nil {
						b.Fatal(err)
					}
					if err := l.unlock(); err != nil {
						b.Fatal(err)
					}
				}
				bl.report(b, b.N)
			})
		}
	}
}
