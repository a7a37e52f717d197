package ctypes_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/shmkit/shmkit/ctypes"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/internal/testseg"
	"github.com/shmkit/shmkit/shm"
)

func init() {
	testproc.Register("ctypes-any-trunc-victim", helperAnyTruncVictim)
}

// anyTruncOps are the AnyValue and AnyArray operations the victim loops on,
// one goroutine each, while this process truncates the segment.
var anyTruncOps = []string{
	"AnyValue.Get", "AnyValue.Set", "AnyValue.Add", "AnyValue.Update",
	"AnyArray.Get", "AnyArray.Set", "AnyArray.CopyTo", "AnyArray.CopyFrom", "AnyArray.Update",
}

// TestAnyTruncatedSegmentAbortsNoPeer: a process looping on every AnyValue
// and AnyArray accessor while a peer truncates the named segment's file to
// 0 and to 8 KiB reports, for each, an error (or, for the accessors with
// no error result, Get and CopyTo, a recoverable panic) wrapping
// shm.ErrSegmentTruncated, and exits normally: none dies of SIGBUS, and no
// method with an error result panics.
//
// Not under the race detector (testseg.Truncations).
func TestAnyTruncatedSegmentAbortsNoPeer(t *testing.T) {
	testseg.Truncations(t, func(t *testing.T, size int64) {
		seg, name := newSegment(t, 1<<20)
		v, err := ctypes.NewValueOf(seg, "v", 'd', 0.0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ctypes.NewArrayOf(seg, "a", 'i', 64, nil); err != nil {
			t.Fatal(err)
		}
		if int64(v.Offset()) < size {
			t.Fatalf("value at offset %d: truncating to %d leaves it mapped", v.Offset(), size)
		}
		testseg.Truncate(t, "ctypes-any-trunc-victim", name, anyTruncOps, size, 0)
	})
}

// helperAnyTruncVictim: testseg.Victims on a segment holding the locked
// AnyValue "v" and AnyArray "a", running the operations of anyTruncOps in
// loops.
func helperAnyTruncVictim() {
	var v *ctypes.AnyValue
	var a *ctypes.AnyArray
	open := func(seg *shm.Segment) {
		var err error
		if v, err = ctypes.OpenValueOf(seg, "v", 0); err != nil {
			testproc.Fatalf("OpenValueOf: %v", err)
		}
		if a, err = ctypes.OpenArrayOf(seg, "a", 0, ctypes.AnyLen); err != nil {
			testproc.Fatalf("OpenArrayOf: %v", err)
		}
	}
	// The context is only a watchdog: the loops must end by the truncation.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	step := func(op string, n int) error {
		var err error
		switch op {
		case "AnyValue.Get":
			v.Get()
		case "AnyValue.Set":
			err = v.Set(n)
		case "AnyValue.Add":
			_, err = v.Add(1)
		case "AnyValue.Update":
			_, err = v.Update(ctx, func(x any) any { return x.(float64) + 1 })
		case "AnyArray.Get":
			a.Get(n % a.Len())
		case "AnyArray.Set":
			err = a.Set(n%a.Len(), n%100)
		case "AnyArray.CopyTo":
			a.CopyTo(make([]any, a.Len()))
		case "AnyArray.CopyFrom":
			_, err = a.CopyFrom(make([]int32, a.Len()))
		case "AnyArray.Update":
			err = a.Update(ctx, func(a *ctypes.AnyArray) error {
				_, err := a.Add(0, 1)
				return err
			})
		default:
			testproc.Fatalf("unknown operation %q", op)
		}
		return err
	}
	testseg.Victims(open, func(op string, running func()) error {
		// Get and CopyTo have no error result: they panic.
		mayPanic := strings.HasSuffix(op, ".Get") || strings.HasSuffix(op, ".CopyTo")
		return testseg.Loop(mayPanic, func(n int) error {
			if n == 1 {
				running()
			}
			return step(op, n)
		})
	})
}
