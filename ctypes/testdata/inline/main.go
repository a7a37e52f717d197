// Command inline uses the hot methods of ctypes handles so that
// TestInlining can see, in the compiler's -m output, whether they inline
// into a caller (generic methods are compiled where they are used).
package main

import (
	"fmt"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/shm"
)

func main() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		panic(err)
	}
	v, err := ctypes.NewRawValue[int64](seg, "v", 0, nil)
	if err != nil {
		panic(err)
	}
	f, err := ctypes.NewRawValue(seg, "f", 0.5, nil)
	if err != nil {
		panic(err)
	}
	v.Store(1)
	v.Add(2)
	v.Swap(3)
	v.CompareAndSwap(3, 4)
	f.Store(f.Load() + 1)
	fmt.Println(v.Load(), f.Load())
}
