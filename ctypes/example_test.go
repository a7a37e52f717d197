package ctypes_test

import (
	"context"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/shm"
)

// FArgs are the arguments of f: handles reach the child open.
type FArgs struct {
	Num *ctypes.AnyValue
	Arr *ctypes.AnyArray
}

// f is the child of Python's classic example, registered with package
// proc (Go cannot fork: the child is this test binary started again, and
// TestMain's testproc.Main runs f there).
var f = proc.Func("ctypes-example-f", func(ctx context.Context, a FArgs) error {
	if err := a.Num.Set(3.14); err != nil {
		return err
	}
	return a.Arr.Update(ctx, func(a *ctypes.AnyArray) error {
		for i := range a.Len() {
			if err := a.Set(i, -a.Int64(i)); err != nil {
				return err
			}
		}
		return nil
	})
})

// Example is Python's multiprocessing example for shared ctypes objects:
//
//	num = Value('d', 0.0)
//	arr = Array('i', range(10))
//	p = Process(target=f, args=(num, arr)); p.start(); p.join()
//	print(num.value); print(arr[:])
func Example() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()

	num, err := ctypes.NewValueOf(seg, "num", 'd', 0.0, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	arr, err := ctypes.NewArrayOf(seg, "arr", 'i', []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}

	// p = Process(target=f, args=(num, arr)); p.start(); p.join()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := f.Start(ctx, FArgs{num, arr}).Join(ctx); err != nil {
		fmt.Println("child:", err)
		return
	}

	fmt.Println(num.Get())
	out := make([]any, arr.Len()) // arr[:]
	arr.CopyTo(out)
	fmt.Println(out)
	// Output:
	// 3.14
	// [0 -1 -2 -3 -4 -5 -6 -7 -8 -9]
}

// ExampleRawValue counts across processes without a lock: Add is one
// atomic instruction on the shared word.
func ExampleRawValue() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	hits, err := ctypes.NewRawValue[int64](seg, "hits", 0, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for range 5 {
		hits.Add(1)
	}
	fmt.Println(hits.Load(), hits.CompareAndSwap(5, 100), hits.Load())
	// Output: 5 true 100
}

// ExampleValue_Update applies a read-modify-write under the value's lock,
// like "with v.get_lock(): v.value += 1.5" in Python.
func ExampleValue_Update() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	v, err := ctypes.NewValue(seg, "balance", 10.0, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	got, err := v.Update(context.Background(), func(x float64) float64 { return x * 1.5 })
	fmt.Println(got, err, v.GetLock().Name())
	// Output: 15 <nil> balance.lock
}

// ExampleRawArray shows the typed array API: bounds errors instead of
// panics, slices sharing memory, bulk copies.
func ExampleRawArray() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	a, err := ctypes.NewRawArrayFrom(seg, "samples", []float32{1, 2, 3, 4}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Get(3)) // a.Get(4) would panic, as a slice index does
	mid, _ := a.Slice(1, 3)
	mid.Set(0, 20)
	out := make([]float32, a.Len())
	a.CopyTo(out)
	fmt.Println(out, a.Typecode())
	// Output:
	// 4
	// [1 20 3 4] f
}
