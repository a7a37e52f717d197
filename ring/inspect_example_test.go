package ring_test

import (
	"fmt"
	"log"

	"github.com/shmkit/shmkit/ring"
	"github.com/shmkit/shmkit/shm"
)

func ExampleInspect() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		log.Fatal(err)
	}
	defer seg.Close()
	q, err := ring.NewQueue(seg, "jobs", &ring.QueueOptions{MaxSize: 16, MaxMessage: 64})
	if err != nil {
		log.Fatal(err)
	}
	for _, job := range []string{"resize", "upload", "notify"} {
		q.TryPut([]byte(job))
	}
	q.TryGet()
	for _, o := range seg.Objects() {
		st, err := ring.Inspect(seg, o)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %d of %d, committed %d, consumed %d, leases held by the dead %d\n",
			o.Name, st.Queue.Len, st.Queue.MaxSize, st.Queue.Committed, st.Queue.Consumed, st.Queue.LeasesDead)
	}
	// Output:
	// jobs: 2 of 16, committed 3, consumed 1, leases held by the dead 0
}
