package futex

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestConditionSharedHandle: 4 producers and 4 consumers share one
// Condition handle over its default RLock (no Owner). Producers add items
// under the lock and Notify; consumers WaitFor an item and take it. Every
// item is taken exactly once and the plain counters agree. When the handle
// acted for one Owner, a Wait's re-acquisition re-entered whichever
// goroutine held the lock, so two goroutines ran inside the lock at once.
func TestConditionSharedHandle(t *testing.T) {
	seg, _ := newSegment(t)
	c, err := NewCondition(seg, "c", nil)
	if err != nil {
		t.Fatal(err)
	}
	const producers, consumers = 4, 4
	per := 2000
	if testing.Short() {
		per = 300
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	items, taken := 0, 0 // guarded by c's lock
	errc := make(chan error, producers+consumers)
	var wg sync.WaitGroup
	for range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per {
				if err := c.Acquire(ctx); err != nil {
					errc <- err
					return
				}
				items++
				err := c.Notify(1)
				if rerr := c.Release(); err == nil {
					err = rerr
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	for range consumers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range per * producers / consumers {
				if err := c.Acquire(ctx); err != nil {
					errc <- err
					return
				}
				_, err := c.WaitFor(ctx, func() bool { return items > 0 })
				if err == nil {
					items--
					taken++
				}
				if rerr := c.Release(); err == nil {
					err = rerr
				}
				if err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if items != 0 || taken != producers*per {
		t.Errorf("items left %d, taken %d; want 0, %d", items, taken, producers*per)
	}
}
