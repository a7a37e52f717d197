package benchkit

import (
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// bellPair lays both ends of a doorbell connection over one anonymous
// shared mapping in this process, the two ends sharing the bells.
func bellPair(t *testing.T, k bellKind, size int) (parent, child *bellConn) {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, 2*bellDirSize(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	var bells []bell
	for range 4 {
		b, err := k.make()
		if err != nil {
			t.Fatal(err)
		}
		bells = append(bells, b)
	}
	t.Cleanup(func() {
		for _, b := range bells {
			b.close()
		}
		unix.Munmap(mem)
	})
	return newBellConn(mem, size, bells, false), newBellConn(mem, size, bells, true)
}

// Messages go both ways whole and in order, each side parking on its bell
// whenever the other has not caught up; the echo ends with io.EOF after
// CloseWrite, with every kind of bell.
func TestBellEchoAndEOF(t *testing.T) {
	const n, size = 2000, 100
	for name, k := range bellKinds {
		t.Run(name, func(t *testing.T) {
			parent, child := bellPair(t, k, size)
			errc := make(chan error, 1)
			go func() { // the child echoes until EOF
				buf := make([]byte, size)
				for {
					err := child.Recv(buf)
					if err == io.EOF {
						errc <- child.CloseWrite()
						return
					}
					if err == nil {
						err = child.Send(buf)
					}
					if err != nil {
						errc <- err
						return
					}
				}
			}()
			out, in := make([]byte, size), make([]byte, size)
			for i := range n {
				for j := range out {
					out[j] = byte(i + j)
				}
				if err := parent.Send(out); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				if err := parent.Recv(in); err != nil {
					t.Fatalf("receive %d: %v", i, err)
				}
				for j, b := range in {
					if b != byte(i+j) {
						t.Fatalf("message %d byte %d = %d; want %d", i, j, b, byte(i+j))
					}
				}
			}
			if err := parent.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if err := parent.Recv(in); err != io.EOF {
				t.Fatalf("after the child's CloseWrite: %v; want io.EOF", err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("child: %v", err)
			}
		})
	}
}

// A receive parked on an empty mailbox gives up once the peer is known
// dead (the watcher rings every bell), and a message of the wrong size is
// an error, not a short copy.
func TestBellDeadPeerAndSize(t *testing.T) {
	for name, k := range bellKinds {
		t.Run(name, func(t *testing.T) {
			parent, child := bellPair(t, k, 64)
			exited := make(chan struct{})
			parent.watch(exited)
			// The watcher rings every bell after the receive below has
			// returned: wait for it before bellPair's cleanup closes them.
			t.Cleanup(parent.watcher.Wait)
			time.AfterFunc(5*time.Millisecond, func() { close(exited) })
			done := make(chan error, 1)
			go func() { done <- parent.Recv(make([]byte, 64)) }()
			select {
			case err := <-done:
				if !errors.Is(err, errPeerGone) {
					t.Fatalf("receive from a dead peer: %v; want errPeerGone", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("receive from a dead peer still parked after 10 s")
			}
			if err := parent.Send(make([]byte, 32)); err != nil {
				t.Fatal(err)
			}
			if err := child.Recv(make([]byte, 64)); err == nil {
				t.Fatal("32-byte message received as 64 bytes; want an error")
			}
		})
	}
}
