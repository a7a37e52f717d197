// Command value-array: a child sets a shared Value('d') to 3.1415927 and
// negates a shared Array('i', range(10)); the parent prints both (the
// shared-memory example of Python's multiprocessing documentation).
//
//	go run ./examples/value-array
package main

import (
	"context"
	"fmt"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/proc"
)

// Args are the child's arguments: the two shared objects.
type Args struct {
	Num *ctypes.Value[float64]
	Arr *ctypes.Array[int32]
}

var f = proc.Func("f", func(ctx context.Context, a Args) error {
	a.Num.Store(3.1415927)
	return a.Arr.Update(ctx, func(arr *ctypes.RawArray[int32]) error {
		v := arr.View() // the elements, in shared memory
		for i := range v {
			v[i] = -v[i]
		}
		return nil
	})
})

func main() {
	proc.Main()
	ctx := context.Background()
	num, arr := proc.Value[float64](nil, 0), proc.ArrayFrom(nil, []int32{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Start(ctx, Args{num, arr}).Join(ctx)
	fmt.Println(num.Load())
	fmt.Println(arr.View())
}
