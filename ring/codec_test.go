package ring_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shmkit/shmkit/ring"
)

type point struct {
	X, Y float64
	ID   int32
	Tag  [4]byte
}

type named struct {
	Name  string
	Items []int
	Attrs map[string]string
}

func TestPlainCodecRejectsPointers(t *testing.T) {
	if _, err := ring.NewPlain[point](); err != nil {
		t.Fatalf("NewPlain[point]: %v", err)
	}
	for name, f := range map[string]func() error{
		"string": func() error { _, err := ring.NewPlain[string](); return err },
		"slice":  func() error { _, err := ring.NewPlain[[]int](); return err },
		"ptr":    func() error { _, err := ring.NewPlain[*int](); return err },
		"struct": func() error { _, err := ring.NewPlain[named](); return err },
		"any":    func() error { _, err := ring.NewPlain[any](); return err },
	} {
		if err := f(); !errors.Is(err, ring.ErrCodec) {
			t.Errorf("NewPlain[%s]: got %v; want ErrCodec", name, err)
		}
	}
}

func TestTypedQueueAndConn(t *testing.T) {
	seg, _ := newSegment(t, 1<<20)
	ctx := context.Background()
	q, err := ring.NewQueue(seg, "q", &ring.QueueOptions{MaxSize: 16, MaxMessage: 512})
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := ring.NewPlain[point]()
	tq := ring.NewTypedQueue[point](q, plain)
	want := point{1.5, -2, 7, [4]byte{'a', 'b', 'c', 'd'}}
	if err := tq.Put(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := tq.Get(ctx); err != nil || got != want {
		t.Fatalf("typed queue: got %+v, %v; want %+v", got, err, want)
	}

	c0, c1, err := ring.NewPipe(seg, "p", &ring.PipeOptions{Capacity: 4096})
	if err != nil {
		t.Fatal(err)
	}
	g0 := ring.NewTypedConn[named](c0, ring.Gob[named]{})
	g1 := ring.NewTypedConn[named](c1, ring.Gob[named]{})
	n := named{Name: "x", Items: []int{1, 2, 3}, Attrs: map[string]string{"k": "v"}}
	if err := g0.Send(ctx, n); err != nil {
		t.Fatal(err)
	}
	got, err := g1.Recv(ctx)
	if err != nil || got.Name != "x" || len(got.Items) != 3 || got.Attrs["k"] != "v" {
		t.Fatalf("gob over pipe: got %+v, %v", got, err)
	}
	p0 := ring.NewTypedConn[point](c1, plain)
	p1 := ring.NewTypedConn[point](c0, plain)
	if err := p0.Send(ctx, want); err != nil {
		t.Fatal(err)
	}
	if got, err := p1.Recv(ctx); err != nil || got != want {
		t.Fatalf("plain over pipe: got %+v, %v; want %+v", got, err, want)
	}
	q.TryPut([]byte{1, 2, 3})
	if _, err := tq.Get(ctx); !errors.Is(err, ring.ErrCodec) {
		t.Fatalf("decoding a 3-byte message as point: got %v; want ErrCodec", err)
	}
}
