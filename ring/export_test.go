package ring

import (
	"fmt"
	"strings"
	"sync/atomic"
)

// DebugLeases describes a queue's indices, slots and lease entries, for
// failure messages of tests.
func DebugLeases(j *JoinableQueue) string {
	q := j.q.q
	var b strings.Builder
	fmt.Fprintf(&b, "enq %d deq %d orphans %d ended %d\n", atomic.LoadUint64(&q.h.enq), atomic.LoadUint64(&q.h.deq),
		atomic.LoadUint32(&q.h.orphans), atomic.LoadUint32(&q.h.ended))
	for i := uint64(0); i < q.slots; i++ {
		s, _ := q.slot(i)
		fmt.Fprintf(&b, "slot %d seq %d flags %d\n", i, int64(atomic.LoadUint64(&s.seq)), s.flags)
	}
	for i := 0; i < q.nleases; i++ {
		e, _ := q.lease(i)
		w := atomic.LoadUint64(&e.state)
		fmt.Fprintf(&b, "lease %d state %d owner %v gen %d holder %v pos %d len %d\n", i, leaseState(w), leaseOwner(w), leaseGen(w),
			e.holder, atomic.LoadUint64(&e.pos), e.len)
	}
	for _, p := range q.seg.Participants() {
		fmt.Fprintf(&b, "participant %v pid %d alive %v\n", p.Token, p.Pid, p.Alive)
	}
	return b.String()
}
