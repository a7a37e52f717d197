package ring

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ring-die-in-lease", helperDieInLease)
}

// helperQueueAndStep opens the joinable queue Arg(1) in the segment
// Arg(0) and returns it with the step Arg(2) a helper dies at.
func helperQueueAndStep() (*JoinableQueue, int) {
	q, err := OpenJoinableQueue(testseg.Open(testproc.Arg(0)), testproc.Arg(1), nil)
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	return q, testproc.IntArg(2)
}

// helperDieInLease: Arg(0) segment, Arg(1) joinable queue, Arg(2) step of
// the leased take (1 reserved, 2 claimed, 3 held, 4 released, 5 returned):
// takes one task, reports ready at that step and hangs there until killed.
func helperDieInLease() {
	q, step := helperQueueAndStep()
	hang := func() {
		testproc.Ready()
		time.Sleep(time.Hour)
	}
	testHookLease = func(s int) {
		if s == step {
			hang()
		}
	}
	testHookClaimed = func(op int) {
		if op == opConsume && step == 2 {
			hang()
		}
	}
	if _, err := q.Get(context.Background()); err != nil {
		testproc.Fatalf("%v", err)
	}
	hang() // step 5: got, before TaskDone
}

// TestLeaseKilledAtEveryStep: a consumer SIGKILLed at each step of a leased
// take neither loses a task silently nor duplicates one: under CountLost
// every task is delivered once or counted in Lost, under Redeliver every
// task is delivered exactly once (counted in Redelivered when it came back
// from the dead consumer), and Join returns either way.
func TestLeaseKilledAtEveryStep(t *testing.T) {
	for _, pol := range []DeadHolder{CountLost, Redeliver} {
		for step := 1; step <= 5; step++ {
			t.Run(fmt.Sprintf("rule=%v/step=%d", pol, step), func(t *testing.T) {
				seg, name := namedSegment(t)
				q, err := NewJoinableQueue(seg, "q", &QueueOptions{MaxSize: 4, MaxMessage: 32, Leases: 4, DeadHolder: pol})
				if err != nil {
					t.Fatal(err)
				}
				all := []string{"t0", "t1", "t2", "t3"}
				for _, m := range all {
					if err := q.TryPut([]byte(m)); err != nil {
						t.Fatal(err)
					}
				}
				child := testproc.Start(t, "ring-die-in-lease", testproc.Options{Args: []string{name, "q", fmt.Sprint(step)}})
				child.WaitReady()
				child.Kill()
				child.ExitSignal()
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				var got []string
				for {
					tctx, tcancel := context.WithTimeout(ctx, 300*time.Millisecond)
					b, err := q.Get(tctx)
					tcancel()
					if errors.Is(err, context.DeadlineExceeded) {
						break
					}
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, string(b))
					if err := q.TaskDone(); err != nil {
						t.Fatal(err)
					}
				}
				if err := q.Join(ctx); err != nil {
					t.Fatalf("Join: %v (unfinished %d)", err, q.Unfinished())
				}
				slices.Sort(got)
				wantLost := uint64(0)
				if pol == CountLost && step > 1 {
					wantLost = 1
				}
				if lost := q.Lost(); lost != wantLost || len(got)+int(lost) != len(all) {
					t.Fatalf("got %q, Lost %d; want %d delivered, Lost %d", got, lost, len(all)-int(wantLost), wantLost)
				}
				if pol == Redeliver && !slices.Equal(got, all) {
					t.Fatalf("got %q; want each of %q once", got, all)
				}
				wantRe := uint64(0)
				if pol == Redeliver && step > 1 {
					wantRe = 1
				}
				if re := q.Redelivered(); re != wantRe {
					t.Fatalf("Redelivered: got %d; want %d", re, wantRe)
				}
				if n := q.Unfinished(); n != 0 {
					t.Fatalf("Unfinished: got %d; want 0", n)
				}
			})
		}
	}
}

func init() {
	testproc.Register("ring-die-in-reclaim", helperDieInReclaim)
}

// helperDieInReclaim: Arg(0) segment, Arg(1) joinable queue, Arg(2) step
// of the reclaim (6 or 7): runs ReclaimDead, reports ready at that step and
// hangs there until killed.
func helperDieInReclaim() {
	q, step := helperQueueAndStep()
	testHookLease = func(s int) {
		if s == step {
			testproc.Ready()
			time.Sleep(time.Hour)
		}
	}
	q.ReclaimDead(nil)
	testproc.Fatalf("hook did not run")
}

// TestReclaimerKilledInsideTakeover: a reclaimer SIGKILLed after taking a
// dead holder's slot (a taker's claimed slot: step 6; a holder's unreleased
// slot: step 7) leaves neither the message nor the slot stuck: the next
// reclaim hands over exactly that message, and the ring goes on.
func TestReclaimerKilledInsideTakeover(t *testing.T) {
	for _, c := range []struct{ holderStep, reclaimStep int }{{2, 6}, {3, 7}} {
		t.Run(fmt.Sprintf("holder=%d/reclaimer=%d", c.holderStep, c.reclaimStep), func(t *testing.T) {
			seg, name := namedSegment(t)
			q, err := NewJoinableQueue(seg, "q", &QueueOptions{MaxSize: 2, MaxMessage: 32, Leases: 4, DeadHolder: Supervised})
			if err != nil {
				t.Fatal(err)
			}
			q.TryPut([]byte("held"))
			q.TryPut([]byte("next"))
			for _, h := range []struct {
				helper string
				step   int
			}{{"ring-die-in-lease", c.holderStep}, {"ring-die-in-reclaim", c.reclaimStep}} {
				child := testproc.Start(t, h.helper, testproc.Options{Args: []string{name, "q", fmt.Sprint(h.step)}})
				child.WaitReady()
				child.Kill()
				child.ExitSignal()
			}
			var seen []string
			n, err := q.ReclaimDead(func(msg []byte, _ shm.Token) bool {
				seen = append(seen, string(msg))
				return true
			})
			if err != nil || n != 1 || len(seen) != 1 || seen[0] != "held" {
				t.Fatalf("ReclaimDead after the reclaimer died: %d, %v, saw %q; want 1, nil, [held]", n, err, seen)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for _, want := range []string{"held", "next"} {
				b, err := q.Get(ctx)
				if err != nil || string(b) != want {
					t.Fatalf("Get: got %q, %v; want %q", b, err, want)
				}
				q.TaskDone()
			}
			// The slot the reclaimer held is free again: two more fit.
			if err := errors.Join(q.TryPut([]byte("a")), q.TryPut([]byte("b"))); err != nil {
				t.Fatalf("TryPut after recovery: %v", err)
			}
			if lost, re := q.Lost(), q.Redelivered(); lost != 0 || re != 1 {
				t.Fatalf("Lost %d, Redelivered %d; want 0, 1", lost, re)
			}
		})
	}
}
