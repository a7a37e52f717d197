// Command tickets: 10 buyer processes check and buy from a stock of 100
// tickets in shared memory. With the Lock no ticket is sold twice; with
// -unlocked the check and the sale race and the shop oversells.
//
//	go run ./examples/tickets [-unlocked]
package main

import (
	"context"
	"flag"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/futex"
	"github.com/shmkit/shmkit/proc"
)

// Shop is what every buyer shares.
type Shop struct {
	Stock, Sold *ctypes.Value[int64]
	Mu          *futex.Lock
	Locked      bool
}

var buyer = proc.Func("buyer", func(ctx context.Context, s Shop) error {
	for range 20 {
		if s.Locked {
			s.Mu.Acquire(ctx)
		}
		if s.Stock.Load() > 0 {
			time.Sleep(time.Millisecond) // the payment
			s.Stock.Store(s.Stock.Load() - 1)
			s.Sold.Add(1)
		}
		if s.Locked {
			s.Mu.Release()
		}
	}
	return nil
})

func main() {
	proc.Main()
	unlocked := flag.Bool("unlocked", false, "sell without the lock")
	flag.Parse()
	ctx := context.Background()
	shop := Shop{proc.Value[int64](nil, 100), proc.Value[int64](nil, 0), proc.Lock(nil), !*unlocked}
	var ps []*proc.Process
	for range 10 {
		ps = append(ps, buyer.Start(ctx, shop))
	}
	proc.JoinAll(ctx, ps...)
	fmt.Printf("sold %d of 100 tickets, stock %d\n", shop.Sold.Load(), shop.Stock.Load())
}
