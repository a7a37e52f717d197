package benchkit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sys/unix"

	"github.com/shmkit/shmkit/futex"
)

// The ablation ring ("lab"): a minimal SPSC ring of ring's design, small
// enough that each design choice ring makes for good is a switch here.
// ring itself has none of these switches (it always pads head and tail,
// caches the peer's index, wakes only a parked peer and keeps no
// checksums), so these transports measure what each choice is worth, one at
// a time, against a twin that differs in nothing else:
//
//	lab             the defaults, as in ring: head, tail and the wait words
//	                each on their own cache line; the peer's index cached and
//	                reloaded only when the ring seems full (empty); FUTEX_WAKE
//	                only when the peer's parked count is non-zero; no checksum
//	lab-nopad       head, tail, closed and the parked counts on one line
//	lab-nocache     every send reloads head, every receive reloads tail
//	lab-checksum    xxhash64 of each payload, written by the producer
//	                and checked by the consumer after its copy
//	lab-wakealways  FUTEX_WAKE after every publish, parked peer or not
//
// What it shares with ring: variable-length records (a 16-byte header:
// length and kind, then the checksum word, written as 0 when checksums are
// off so the memory traffic is the same), 8-byte aligned, a padding record
// at the wrap; a record is visible only through the release-store of tail,
// freed only through that of head; the wait spins for 20 µs, yields for
// 100 µs (ring's DefaultSpinTime and DefaultYieldTime, without its adaptive
// budget) and then parks on the index's low 32 bits in 1 ms slices,
// raising the parked count first. What it leaves out: participants (the
// parent learns of a dead child from the control pipe), tombstones,
// multi-record batches and zero-copy calls.

// labKnobs are the switches; the zero value is ring's design.
type labKnobs struct {
	noPad, noCache, checksum, wakeAlways bool
}

const (
	labSpin      = 20 * time.Microsecond
	labYield     = 100 * time.Microsecond
	labSlice     = time.Millisecond
	labRecHdr    = 16
	labRecData   = 1
	labRecPad    = 2
	labRecEOF    = 3
	labMaxRecord = maxRingMessage
)

func init() {
	for _, v := range []struct {
		name, desc string
		k          labKnobs
	}{
		{"lab", "ablation ring, ring's design (padded, cached index, wake when parked, no checksum)", labKnobs{}},
		{"lab-nopad", "ablation ring, head/tail/wait words on one cache line", labKnobs{noPad: true}},
		{"lab-nocache", "ablation ring, peer index reloaded on every call", labKnobs{noCache: true}},
		{"lab-checksum", "ablation ring, xxhash64 per record", labKnobs{checksum: true}},
		{"lab-wakealways", "ablation ring, FUTEX_WAKE after every publish", labKnobs{wakeAlways: true}},
	} {
		k := v.k
		register(&Transport{
			Name:     v.name,
			Desc:     v.desc,
			Max:      func() int { return labMaxRecord },
			Ablation: true,
			prepare:  func(size int) (*setup, error) { return prepareLab(size, k) },
			open:     func(args []string, fds []int, _ int) (Conn, error) { return openLab(args, fds, k) },
		})
	}
}

// labRing is one direction: the header words and the data area.
type labRing struct {
	tail, head         *uint64 // 8-aligned words in the header
	tailWord, headWord *uint32 // their low halves: the futex words
	closed             *uint32 // 1 once the consumer closed
	consWait, prodWait *uint32 // parked counts
	data               []byte
	capacity, mask     uint64
}

func newLabRing(mem []byte, k labKnobs, capacity int) *labRing {
	lay := labPadded
	if k.noPad {
		lay = labPacked
	}
	r := &labRing{
		tail: labU64(mem, lay.tail), head: labU64(mem, lay.head),
		tailWord: labU32(mem, lay.tail), headWord: labU32(mem, lay.head),
		closed:   labU32(mem, lay.closed),
		consWait: labU32(mem, lay.consWait), prodWait: labU32(mem, lay.prodWait),
		data:     mem[labHdrSize : labHdrSize+capacity : labHdrSize+capacity],
		capacity: uint64(capacity), mask: uint64(capacity - 1),
	}
	return r
}

func align8(n uint64) uint64 { return (n + 7) &^ 7 }

var (
	errLabCorrupt = errors.New("benchkit: lab ring corrupt")
	errLabClosed  = errors.New("benchkit: lab ring: consumer closed")
	errLabChecked = errors.New("benchkit: lab ring: checksum mismatch")
	errPeerExited = errors.New("benchkit: peer process exited")
)

// labEnd is what both ends share: the knobs and the peer's liveness.
type labEnd struct {
	r      *labRing
	k      labKnobs
	exited <-chan struct{} // closed when the peer died; nil: never (the child)
}

func (e *labEnd) peerGone() bool {
	if e.exited == nil {
		return false
	}
	select {
	case <-e.exited:
		return true
	default:
		return false
	}
}

// wake wakes a peer parked on word: only when its parked count says one
// is there, or always (the ablation).
func (e *labEnd) wake(word, parked *uint32) {
	if e.k.wakeAlways || atomic.LoadUint32(parked) != 0 {
		futex.Wake(word, 1)
	}
}

// wait returns once ready does: spin, yield, then park on word with the
// parked count raised before the last check (the waker publishes before it
// reads the count; both are sequentially consistent, so no wake is lost).
func (e *labEnd) wait(ready func() bool, word, parked *uint32, check func() error) error {
	start := time.Now()
	for n := 1; ; n++ {
		if ready() {
			return nil
		}
		if n%64 == 0 && time.Since(start) >= labSpin {
			break
		}
	}
	for n := 1; ; n++ {
		schedYield()
		if ready() {
			return nil
		}
		if n%4 == 0 && time.Since(start) >= labSpin+labYield {
			break
		}
	}
	for {
		val := atomic.LoadUint32(word)
		atomic.AddUint32(parked, 1)
		ok := ready()
		if !ok {
			futex.Wait(word, val, labSlice) // nil or ErrTimeout: re-check either way
		}
		atomic.AddUint32(parked, ^uint32(0))
		if ok || ready() {
			return nil
		}
		if err := check(); err != nil {
			return err
		}
	}
}

// labProducer writes one labRing.
type labProducer struct {
	labEnd
	tail   uint64 // local copy of the published tail
	headC  uint64 // cached head
	need   uint64 // bytes the current wait is for
	ready  func() bool
	check  func() error
	closed bool
}

func newLabProducer(r *labRing, k labKnobs) *labProducer {
	p := &labProducer{labEnd: labEnd{r: r, k: k}}
	p.ready = func() bool { ok, _ := p.room(p.need); return ok }
	p.check = func() error {
		if atomic.LoadUint32(r.closed) != 0 {
			return errLabClosed
		}
		if p.peerGone() {
			return errPeerExited
		}
		return nil
	}
	return p
}

// room reports whether total more bytes fit, reloading head only when the
// cached copy says they do not (always, with noCache).
func (p *labProducer) room(total uint64) (bool, error) {
	if !p.k.noCache && p.tail+total-p.headC <= p.r.capacity {
		return true, nil
	}
	h := atomic.LoadUint64(p.r.head)
	if p.tail-h > p.r.capacity {
		return false, fmt.Errorf("%w: head %d, tail %d", errLabCorrupt, h, p.tail)
	}
	p.headC = h
	return p.tail+total-h <= p.r.capacity, nil
}

// reserve waits for room for one record of n payload bytes, writes the
// padding record first when it would cross the end, and returns the
// record's offset.
func (p *labProducer) reserve(n int) (uint64, error) {
	need := labRecHdr + align8(uint64(n))
	if need > p.r.capacity/2 {
		// Larger records could need padding plus record beyond the ring
		// and never fit (ringCapacity gives four messages' room).
		return 0, fmt.Errorf("benchkit: lab record of %d bytes in a %d-byte ring", n, p.r.capacity)
	}
	off := p.tail & p.r.mask
	toEnd := p.r.capacity - off
	total := need
	if need > toEnd {
		total += toEnd
	}
	ok, err := p.room(total)
	if err != nil {
		return 0, err
	}
	if !ok {
		p.need = total
		if err := p.wait(p.ready, p.r.headWord, p.r.prodWait, p.check); err != nil {
			return 0, err
		}
	}
	if need > toEnd {
		binary.LittleEndian.PutUint64(p.r.data[off:], uint64(toEnd)|labRecPad<<32)
		p.tail += toEnd
		off = 0
	}
	return off, nil
}

// publish release-stores tail and wakes a parked consumer.
func (p *labProducer) publish(off uint64, n int, kind uint64) {
	binary.LittleEndian.PutUint64(p.r.data[off:], uint64(n)|kind<<32)
	p.tail += labRecHdr + align8(uint64(n))
	atomic.StoreUint64(p.r.tail, p.tail)
	p.wake(p.r.tailWord, p.r.consWait)
}

func (p *labProducer) send(msg []byte) error {
	off, err := p.reserve(len(msg))
	if err != nil {
		return err
	}
	copyCached(p.r.data[off+labRecHdr:], msg)
	var sum uint64
	if p.k.checksum {
		sum = xxhash.Sum64(msg)
	}
	binary.LittleEndian.PutUint64(p.r.data[off+8:], sum)
	p.publish(off, len(msg), labRecData)
	return nil
}

// close appends the end-of-stream record.
func (p *labProducer) close() error {
	if p.closed {
		return nil
	}
	p.closed = true
	off, err := p.reserve(0)
	if err != nil {
		return err
	}
	binary.LittleEndian.PutUint64(p.r.data[off+8:], 0)
	p.publish(off, 0, labRecEOF)
	futex.Wake(p.r.tailWord, 1)
	return nil
}

// labConsumer reads one labRing.
type labConsumer struct {
	labEnd
	head  uint64
	tailC uint64
	ready func() bool
	check func() error
}

func newLabConsumer(r *labRing, k labKnobs) *labConsumer {
	c := &labConsumer{labEnd: labEnd{r: r, k: k}}
	c.ready = func() bool { return atomic.LoadUint64(r.tail) != c.head }
	c.check = func() error {
		if c.peerGone() {
			return errPeerExited
		}
		return nil
	}
	return c
}

// recv copies the next record into p (which must be its exact size); io.EOF
// at the end-of-stream record.
func (c *labConsumer) recv(p []byte) error {
	for step := 0; step < 2; step++ {
		if c.k.noCache || c.head == c.tailC {
			t := atomic.LoadUint64(c.r.tail)
			for t == c.head {
				if err := c.wait(c.ready, c.r.tailWord, c.r.consWait, c.check); err != nil {
					return err
				}
				t = atomic.LoadUint64(c.r.tail)
			}
			if t-c.head > c.r.capacity {
				return fmt.Errorf("%w: tail %d, head %d", errLabCorrupt, t, c.head)
			}
			c.tailC = t
		}
		off := c.head & c.r.mask
		w := binary.LittleEndian.Uint64(c.r.data[off:])
		n, kind := w&0xffffffff, w>>32
		avail, toEnd := c.tailC-c.head, c.r.capacity-off
		switch {
		case kind == labRecPad && n == toEnd && avail >= toEnd:
			c.head += toEnd
			continue
		case kind == labRecEOF && n == 0:
			return io.EOF
		case kind != labRecData || n != uint64(len(p)) || labRecHdr+align8(n) > min(avail, toEnd):
			return fmt.Errorf("%w: record %#x at %d, %d bytes published", errLabCorrupt, w, c.head, avail)
		}
		copyCached(p, c.r.data[off+labRecHdr:off+labRecHdr+n])
		if c.k.checksum && xxhash.Sum64(p) != binary.LittleEndian.Uint64(c.r.data[off+8:]) {
			return fmt.Errorf("%w at %d", errLabChecked, c.head)
		}
		c.head += labRecHdr + align8(n)
		atomic.StoreUint64(c.r.head, c.head)
		c.wake(c.r.headWord, c.r.prodWait)
		return nil
	}
	return fmt.Errorf("%w: padding follows padding at %d", errLabCorrupt, c.head)
}

func (c *labConsumer) close() {
	atomic.StoreUint32(c.r.closed, 1)
	futex.Wake(c.r.headWord, 1)
}

// labConn is a Conn over two lab rings in one memfd mapping: ring 0 carries
// parent → child, ring 1 child → parent.
type labConn struct {
	mem []byte
	p   *labProducer
	c   *labConsumer
}

func (l *labConn) Send(msg []byte) error { return l.p.send(msg) }
func (l *labConn) Recv(p []byte) error   { return l.c.recv(p) }
func (l *labConn) CloseWrite() error     { return l.p.close() }

func (l *labConn) Close() error {
	if l.mem == nil {
		return nil
	}
	l.c.close()
	err := unix.Munmap(l.mem)
	l.mem = nil
	return err
}

// watch implements peerWatcher: waits give up once exited is closed.
func (l *labConn) watch(exited <-chan struct{}) { l.p.exited, l.c.exited = exited, exited }

func labMapping(capacity int) int { return 2 * (labHdrSize + capacity) }

// newLabConn lays the two rings over mem; child swaps the directions.
func newLabConn(mem []byte, k labKnobs, capacity int, child bool) *labConn {
	stride := labHdrSize + capacity
	r0 := newLabRing(mem[:stride], k, capacity)
	r1 := newLabRing(mem[stride:], k, capacity)
	if child {
		r0, r1 = r1, r0
	}
	return &labConn{mem: mem, p: newLabProducer(r0, k), c: newLabConsumer(r1, k)}
}

func prepareLab(size int, k labKnobs) (*setup, error) {
	capacity := ringCapacity(size)
	fd, err := unix.MemfdCreate("shmkit-bench-lab", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("lab memfd: %w", err)
	}
	f := os.NewFile(uintptr(fd), "lab")
	mem, err := mapLab(fd, capacity)
	if err != nil {
		f.Close()
		return nil, err
	}
	mine := newLabConn(mem, k, capacity, false)
	return &setup{
		args:    []string{strconv.Itoa(capacity)},
		files:   []*os.File{f},
		accept:  func(<-chan struct{}) (Conn, error) { return mine, nil },
		cleanup: func() { mine.Close() },
	}, nil
}

func mapLab(fd, capacity int) ([]byte, error) {
	n := labMapping(capacity)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("lab stat: %w", err)
	}
	if st.Size == 0 {
		if err := unix.Ftruncate(fd, int64(n)); err != nil {
			return nil, fmt.Errorf("lab size: %w", err)
		}
	} else if st.Size != int64(n) {
		return nil, fmt.Errorf("lab mapping of %d bytes, want %d", st.Size, n)
	}
	mem, err := unix.Mmap(fd, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("lab mmap: %w", err)
	}
	return mem, nil
}

func openLab(args []string, fds []int, k labKnobs) (Conn, error) {
	if len(args) < 1 || len(fds) < 1 {
		return nil, fmt.Errorf("lab: want capacity and descriptor, got %q %v", args, fds)
	}
	capacity, err := strconv.Atoi(args[0])
	if err != nil || capacity < 1<<12 || capacity > 1<<30 || capacity&(capacity-1) != 0 {
		return nil, fmt.Errorf("lab: capacity %q", args[0])
	}
	mem, err := mapLab(fds[0], capacity)
	unix.Close(fds[0])
	if err != nil {
		return nil, err
	}
	return newLabConn(mem, k, capacity, true), nil
}
