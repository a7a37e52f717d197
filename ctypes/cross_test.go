package ctypes_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/internal/testproc"
)

func init() {
	testproc.Register("ctypes-add", helperAdd)
	testproc.Register("ctypes-fill", helperFill)
}

// helperAdd adds 1 to the int64 value Arg(1) of segment Arg(0), Arg(2)
// times, starting when the parent's "go" value becomes 1.
func helperAdd() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	v, err := ctypes.OpenRawValue[int64](seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	start, err := ctypes.OpenRawValue[int32](seg, "go")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	for start.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	for range testproc.IntArg(2) {
		v.Add(1)
	}
	testproc.Send("done")
}

// helperFill fills the float64 array Arg(1) of segment Arg(0) with i*1.5.
func helperFill() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	a, err := ctypes.OpenRawArray[float64](seg, testproc.Arg(1), testproc.IntArg(2))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	for i := range a.Len() {
		a.Set(i, float64(i)*1.5)
	}
	// A wrong typecode or length is refused in the child too.
	if _, err := ctypes.OpenRawArray[int64](seg, testproc.Arg(1), testproc.IntArg(2)); err == nil {
		testproc.Fatalf("OpenRawArray[int64] on a float64 array succeeded")
	}
	if _, err := ctypes.OpenRawArray[float64](seg, testproc.Arg(1), testproc.IntArg(2)+1); err == nil {
		testproc.Fatalf("OpenRawArray with the wrong length succeeded")
	}
	testproc.Send("filled")
}

// TestCrossProcessAdd has 4 processes add 1 to one shared int64 50,000
// times each (5,000 under -short); the total must be exact.
func TestCrossProcessAdd(t *testing.T) {
	const procs = 4
	per := 50000
	if testing.Short() {
		per = 5000
	}
	seg, name := newSegment(t, 1<<20)
	v, err := ctypes.NewRawValue[int64](seg, "counter", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	start, err := ctypes.NewRawValue[int32](seg, "go", 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	var cs []*testproc.Child
	for range procs {
		c := testproc.Start(t, "ctypes-add", testproc.Options{Args: []string{name, "counter", strconv.Itoa(per)}})
		cs = append(cs, c)
	}
	for _, c := range cs {
		c.WaitReady()
	}
	start.Store(1)
	for _, c := range cs {
		if got := c.Recv(time.Minute); got != "done" {
			t.Fatalf("child sent %q; want done", got)
		}
		c.MustWait()
	}
	if got, want := v.Load(), int64(procs*per); got != want {
		t.Errorf("counter = %d; want %d", got, want)
	}
}

// TestChildFillsArray has a child fill a float64 array that the parent
// then reads.
func TestChildFillsArray(t *testing.T) {
	const n = 1000
	seg, name := newSegment(t, 1<<20)
	a, err := ctypes.NewRawArray[float64](seg, "arr", n, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "ctypes-fill", testproc.Options{Args: []string{name, "arr", strconv.Itoa(n)}})
	if got := c.Recv(time.Minute); got != "filled" {
		t.Fatalf("child sent %q; want filled", got)
	}
	c.MustWait()
	got := make([]float64, n)
	if k := a.CopyTo(got); k != n {
		t.Fatalf("CopyTo = %d; want %d", k, n)
	}
	for i, x := range got {
		if want := float64(i) * 1.5; x != want {
			t.Fatalf("arr[%d] = %v; want %v", i, x, want)
		}
	}
}
