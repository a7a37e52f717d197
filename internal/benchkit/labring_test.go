package benchkit

import (
	"errors"
	"io"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

var allKnobs = map[string]labKnobs{
	"default":    {},
	"nopad":      {noPad: true},
	"nocache":    {noCache: true},
	"checksum":   {checksum: true},
	"wakealways": {wakeAlways: true},
}

// labPair lays both ends of a lab connection over one anonymous shared
// mapping in this process.
func labPair(t *testing.T, k labKnobs, capacity int) (parent, child *labConn) {
	t.Helper()
	mem, err := unix.Mmap(-1, 0, labMapping(capacity), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Munmap(mem) })
	return &labConn{p: newLabConn(mem, k, capacity, false).p, c: newLabConn(mem, k, capacity, false).c},
		&labConn{p: newLabConn(mem, k, capacity, true).p, c: newLabConn(mem, k, capacity, true).c}
}

// Records that do not divide the ring make it pad at the wrap; every
// message arrives whole and in order, then io.EOF, with every knob.
func TestLabRingWrapAndEOF(t *testing.T) {
	const n, size = 5000, 200
	for name, k := range allKnobs {
		t.Run(name, func(t *testing.T) {
			parent, child := labPair(t, k, 4096)
			errc := make(chan error, 1)
			go func() {
				msg := make([]byte, size)
				for i := 0; i < n; i++ {
					for j := range msg {
						msg[j] = byte(i + j)
					}
					if err := parent.Send(msg); err != nil {
						errc <- err
						return
					}
				}
				errc <- parent.CloseWrite()
			}()
			buf := make([]byte, size)
			for i := 0; i < n; i++ {
				if err := child.Recv(buf); err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				for j, b := range buf {
					if b != byte(i+j) {
						t.Fatalf("message %d byte %d = %d; want %d", i, j, b, byte(i+j))
					}
				}
			}
			if err := child.Recv(buf); err != io.EOF {
				t.Fatalf("after the last message: %v; want io.EOF", err)
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestLabChecksumCatchesCorruption(t *testing.T) {
	parent, child := labPair(t, labKnobs{checksum: true}, 4096)
	if err := parent.Send([]byte("sixteen bytes...")); err != nil {
		t.Fatal(err)
	}
	parent.p.r.data[labRecHdr+3] ^= 0xff
	if err := child.Recv(make([]byte, 16)); !errors.Is(err, errLabChecked) {
		t.Fatalf("corrupted payload: %v; want errLabChecked", err)
	}
}

func TestLabCorruptHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		hdr  uint64
	}{
		{"bad kind", 16 | 9<<32},
		{"length past the end", 1<<20 | labRecData<<32},
		{"wrong length", 8 | labRecData<<32},
		{"short padding", 8 | labRecPad<<32},
	} {
		t.Run(tc.name, func(t *testing.T) {
			parent, child := labPair(t, labKnobs{}, 4096)
			if err := parent.Send(make([]byte, 16)); err != nil {
				t.Fatal(err)
			}
			for i := 0; i < 8; i++ {
				parent.p.r.data[i] = byte(tc.hdr >> (8 * i))
			}
			if err := child.Recv(make([]byte, 16)); !errors.Is(err, errLabCorrupt) {
				t.Fatalf("header %#x: %v; want errLabCorrupt", tc.hdr, err)
			}
		})
	}
}

// A receive on an empty ring gives up once the peer is known dead, and a
// send into a full ring once the consumer closed: never a hang.
func TestLabDeadOrClosedPeer(t *testing.T) {
	parent, child := labPair(t, labKnobs{}, 4096)
	exited := make(chan struct{})
	child.watch(exited)
	time.AfterFunc(5*time.Millisecond, func() { close(exited) })
	if err := child.Recv(make([]byte, 8)); !errors.Is(err, errPeerExited) {
		t.Fatalf("receive from a dead peer: %v; want errPeerExited", err)
	}
	msg := make([]byte, 1000)
	time.AfterFunc(5*time.Millisecond, child.c.close)
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		err = parent.Send(msg)
	}
	if !errors.Is(err, errLabClosed) {
		t.Fatalf("send into a full ring, consumer closed: %v; want errLabClosed", err)
	}
}

func TestCPUModel(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz\ncpu family\t: 6\n", "Intel(R) Xeon(R) Platinum 8375C CPU @ 2.90GHz"},
		{"processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\nmodel\t\t: 17\nmodel name\t: AMD EPYC\nstepping\t: 1\ncpu MHz\t\t: 2596.132\n\nprocessor\t: 1\nmodel name\t: other\n",
			"AMD EPYC (family 25 model 17 stepping 1, 2596 MHz)"},
		{"", "unknown CPU"},
	} {
		if got := cpuModel(tc.in); got != tc.want {
			t.Errorf("cpuModel(%q) = %q; want %q", tc.in, got, tc.want)
		}
	}
}

func TestLabRecordTooLarge(t *testing.T) {
	parent, _ := labPair(t, labKnobs{}, 4096)
	if err := parent.Send(make([]byte, 2048)); err == nil {
		t.Fatal("2048-byte record in a 4096-byte ring accepted; want an error (it may never fit after padding)")
	}
	if err := parent.Send(make([]byte, 2000)); err != nil {
		t.Fatalf("2000-byte record in a 4096-byte ring: %v", err)
	}
}
