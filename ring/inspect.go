package ring

import (
	"fmt"
	"sync/atomic"

	"github.com/shmkit/shmkit/internal/segcore"
	"github.com/shmkit/shmkit/shm"
)

// State is a snapshot of one ring object, for tools such as shmkit
// inspect: exactly one of its pointers is set. Each word is read with one
// atomic load, so a snapshot of a busy object may mix moments.
type State struct {
	Kind  shm.Kind    `json:"-"`
	Queue *QueueState `json:"queue,omitempty"` // Queue, SimpleQueue, JoinableQueue, typed queues
	Pipe  *PipeState  `json:"pipe,omitempty"`  // Pipe (its Conns)
	Ring  *RingState  `json:"ring,omitempty"`  // a bare SPSC Ring
}

// QueueState is the state of an MPMC queue.
type QueueState struct {
	Joinable   bool   `json:"joinable"`
	DeadHolder string `json:"dead_holder"` // the lease policy: count-lost, redeliver, supervised
	Closed     bool   `json:"closed"`
	Len        int    `json:"len"`      // messages in the ring (tombstones included)
	MaxSize    int    `json:"max_size"` // capacity in messages
	MaxMessage int    `json:"max_message"`
	Slots      int    `json:"slots"`
	// Committed and Consumed are the ring positions claimed so far by
	// producers and by consumers: their difference is Len.
	Committed uint64 `json:"committed"`
	Consumed  uint64 `json:"consumed"`
	// Tombstoned counts positions given up because their producer or
	// consumer died mid-claim (no message lost that was ever committed).
	Tombstoned uint64 `json:"tombstoned"`
	// Messages, Tombstones, InFlight and Corrupt classify the slots between
	// Consumed and Committed: published messages, tombstones not yet
	// skipped, claimed by a producer still copying (or dead), and slots
	// whose flags or length no Get would accept.
	Messages   int `json:"messages"`
	Tombstones int `json:"tombstones"`
	InFlight   int `json:"in_flight"`
	Corrupt    int `json:"corrupt"`
	// Unfinished is a JoinableQueue's count of tasks put and not yet done
	// (what Join waits for): Len plus the leases held.
	Unfinished int `json:"unfinished"`
	// Leases is the size of the lease table; LeasesHeld the entries taken
	// by a Get (GetLease, or a JoinableQueue's Get) and not yet done;
	// LeasesDead those of them whose holder died; Orphans dead holders'
	// messages waiting for redelivery.
	Leases      int    `json:"leases"`
	LeasesHeld  int    `json:"leases_held"`
	LeasesDead  int    `json:"leases_dead"`
	Orphans     int    `json:"orphans"`
	Lost        uint64 `json:"lost"`        // dead holders' messages counted lost
	Redelivered uint64 `json:"redelivered"` // dead holders' messages handed out again
}

// PipeState is the state of a pipe: its ends' holders and its rings.
type PipeState struct {
	Duplex bool       `json:"duplex"`
	Ends   [2]PipeEnd `json:"ends"`
	// Rings[0] carries end 1 -> end 0; Rings[1] (duplex only) end 0 -> end 1.
	Rings []RingState `json:"rings"`
}

// PipeEnd is one end of a pipe.
type PipeEnd struct {
	// Closed: every handle on the end was closed (the other end sees EOF).
	Closed bool `json:"closed"`
	// HolderDied: a holder was found dead without closing its handle.
	HolderDied bool         `json:"holder_died"`
	Holders    []PipeHolder `json:"holders"`
}

// PipeHolder is one open handle (Conn) on a pipe end.
type PipeHolder struct {
	Token    shm.Token `json:"token"` // its process's participant
	Alive    bool      `json:"alive"`
	Closing  bool      `json:"closing"`  // Close under way
	Reserved bool      `json:"reserved"` // Conn.Reserve'd for a child not yet attached
}

// RingState is the state of one SPSC ring.
type RingState struct {
	Capacity int `json:"capacity"` // data bytes
	Used     int `json:"used"`     // bytes of records not yet released
	// Published and Released count the bytes the producer published and
	// the consumer released, ever.
	Published uint64 `json:"published"`
	Released  uint64 `json:"released"`
	// ProducerClosed and ConsumerClosed: the closed flags.
	ProducerClosed bool `json:"producer_closed"`
	ConsumerClosed bool `json:"consumer_closed"`
	// Producer and Consumer are a bare ring's attached participants;
	// Sender and Receiver the pipe handles' processes holding the send and
	// receive sides right now (0: none).
	Producer shm.Token `json:"producer,omitempty"`
	Consumer shm.Token `json:"consumer,omitempty"`
	Sender   shm.Token `json:"sender,omitempty"`
	Receiver shm.Token `json:"receiver,omitempty"`
}

var kindVersions = map[shm.Kind]uint32{kindMPMC: mpmcVersion, kindPipe: pipeVersion, kindSPSC: spscVersion}

// IsKind reports whether k is the kind of a ring object (queue, pipe or
// bare ring).
func IsKind(k shm.Kind) bool { _, ok := kindVersions[k]; return ok }

// Inspect reads the state of the ring object info describes (an entry of
// seg.Objects()). It never blocks and never writes, and trusts nothing it
// reads: an object still being created gives shm.ErrNotInitialized,
// another package's kind shm.ErrTypeMismatch, another major layout version
// shm.ErrVersion, a header or word that does not hold together
// ErrCorrupt, a truncated segment shm.ErrSegmentTruncated. It asks
// Segment.Alive (one fcntl) about each lease and pipe holder.
func Inspect(seg *shm.Segment, info shm.ObjectInfo) (State, error) {
	st := State{Kind: info.Kind}
	version, ok := kindVersions[info.Kind]
	if !ok {
		return st, errorf(shm.ErrTypeMismatch, "inspect %q: kind %v", info.Name, info.Kind)
	}
	o, err := seg.OpenInfo(info, version)
	if err != nil {
		return st, errorf(err, "inspect")
	}
	err = seg.Guard(func() error {
		switch info.Kind {
		case kindMPMC:
			st.Queue, err = inspectQueue(seg, info.Name, o)
		case kindPipe:
			st.Pipe, err = inspectPipe(seg, info.Name, o)
		case kindSPSC:
			var r *spsc
			if r, err = attachSPSC(seg, info.Name, o.Bytes(), o.Offset()); err == nil {
				st.Ring, err = inspectRing(r)
			}
		}
		return err
	})
	if err != nil {
		return State{Kind: info.Kind}, errorf(err, "inspect")
	}
	return st, nil
}

func inspectQueue(seg *shm.Segment, name string, o shm.Object) (*QueueState, error) {
	q, err := attachMPMC(seg, name, o)
	if err != nil {
		return nil, err
	}
	h := q.h
	flags := atomic.LoadUint32(&h.flags)
	qs := &QueueState{
		Joinable:    flags&mpmcJoinable != 0,
		DeadHolder:  q.policy().String(),
		Closed:      q.closed(),
		Len:         q.length(),
		MaxSize:     int(q.maxSize),
		MaxMessage:  q.maxMsg,
		Slots:       int(q.slots),
		Committed:   atomic.LoadUint64(&h.enq),
		Consumed:    atomic.LoadUint64(&h.deq),
		Tombstoned:  atomic.LoadUint64(&h.tombstoned),
		Leases:      q.nleases,
		Lost:        atomic.LoadUint64(&h.lost),
		Redelivered: atomic.LoadUint64(&h.redelivered),
	}
	// The window between the indices, bounded by the ring: a peer that
	// scribbled on the indices cannot make this loop long.
	n := min(qs.Committed-qs.Consumed, q.slots)
	if int64(qs.Committed-qs.Consumed) < 0 {
		n = 0
	}
	for pos := qs.Consumed; pos < qs.Consumed+n; pos++ {
		s, _ := q.slot(pos)
		switch seq := atomic.LoadUint64(&s.seq); {
		case seq == pos:
			qs.InFlight++
		case seq != pos+1:
			// Taken and released meanwhile, or a reclaimer's marker.
		case s.flags == mpmcSlotTombstone:
			qs.Tombstones++
		case s.flags == mpmcSlotPublished && s.len <= uint32(q.maxMsg):
			qs.Messages++
		default:
			qs.Corrupt++
		}
	}
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		w := atomic.LoadUint64(&e.state)
		switch leaseState(w) {
		case leaseFree:
			continue
		case leaseOrphan:
			qs.Orphans++
			continue
		case leaseTaking, leaseHeld, leaseReclaim, leaseSalvage:
		default:
			return nil, errorf(ErrCorrupt, "queue %q: lease %d state %#x", name, i, w)
		}
		qs.LeasesHeld++
		alive, err := seg.Alive(leaseOwner(w))
		if err != nil {
			return nil, errorf(ErrCorrupt, "queue %q: lease %d owner: %v", name, i, err)
		}
		if !alive {
			qs.LeasesDead++
		}
	}
	if qs.Joinable {
		qs.Unfinished = qs.Len + qs.LeasesHeld + qs.Orphans
	}
	return qs, nil
}

func inspectPipe(seg *shm.Segment, name string, o shm.Object) (*PipeState, error) {
	b := o.Bytes()
	if len(b) < pipeHdrSize {
		return nil, errorf(ErrCorrupt, "pipe %q: %d bytes", name, len(b))
	}
	h := pipeHdrAt(b)
	duplex := atomic.LoadUint32(&h.duplex)
	region := atomic.LoadUint64(&h.ringSize)
	rings := uint64(1) + uint64(duplex)
	if atomic.LoadUint32(&h.magic) != pipeMagic || duplex > 1 || region < spscHdrSize+MinCapacity ||
		region > uint64(len(b)) || rings*region > uint64(len(b)-pipeHdrSize) {
		return nil, errorf(ErrCorrupt, "pipe %q: header", name)
	}
	ps := &PipeState{Duplex: duplex == 1}
	var r0 *spsc
	for i := 0; i < int(rings); i++ {
		off := pipeHdrSize + i*int(region)
		r, err := attachSPSC(seg, fmt.Sprintf("%s[%d]", name, i), b[off:off+int(region)], o.Offset()+off)
		if err != nil {
			return nil, err
		}
		rs, err := inspectRing(r)
		if err != nil {
			return nil, err
		}
		rs.Sender = shm.Token(atomic.LoadUint32(&r.h.txLock) & segcore.TokenMask)
		rs.Receiver = shm.Token(atomic.LoadUint32(&r.h.rxLock) & segcore.TokenMask)
		ps.Rings = append(ps.Rings, *rs)
		if i == 0 {
			r0 = r
		}
	}
	// An end's closed state lives in ring 0's flags: bit 0 for end 1 (its
	// producer), bit 1 for end 0 (its consumer).
	closed := r0.closedBits()
	ps.Ends[0].Closed, ps.Ends[1].Closed = closed&2 != 0, closed&1 != 0
	for end := range ps.Ends {
		pe := &ps.Ends[end]
		pe.HolderDied = atomic.LoadUint32(&h.died[end]) != 0
		pe.Holders = []PipeHolder{}
		for i := range h.holders[end] {
			w := atomic.LoadUint32(&h.holders[end][i])
			if w == 0 {
				continue
			}
			tok := w &^ (holderClosing | holderReserved)
			if tok&^segcore.TokenMask != 0 {
				return nil, errorf(ErrCorrupt, "pipe %q: end %d holder %#x", name, end, w)
			}
			alive, err := seg.Alive(shm.Token(tok))
			if err != nil {
				return nil, errorf(ErrCorrupt, "pipe %q: end %d holder: %v", name, end, err)
			}
			pe.Holders = append(pe.Holders, PipeHolder{Token: shm.Token(tok), Alive: alive,
				Closing: w&holderClosing != 0, Reserved: w&holderReserved != 0})
		}
	}
	return ps, nil
}

func inspectRing(r *spsc) (*RingState, error) {
	head, tail, err := r.indices()
	if err != nil {
		return nil, err
	}
	c := r.closedBits()
	return &RingState{
		Capacity:       int(r.capacity),
		Used:           int(tail - head),
		Published:      tail,
		Released:       head,
		ProducerClosed: c&1 != 0,
		ConsumerClosed: c&2 != 0,
		Producer:       shm.Token(atomic.LoadUint32(&r.h.prodTok) & segcore.TokenMask),
		Consumer:       shm.Token(atomic.LoadUint32(&r.h.consTok) & segcore.TokenMask),
	}, nil
}
