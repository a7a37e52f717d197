package cgofreetests

import (
	"context"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

// The program-facing shapes docs/backends.md fixes for a second backend
// (NATS JetStream): written out here as interfaces so that the build
// breaks when a handle's method set drifts from that page.

type backendQueue[T any] interface {
	Put(ctx context.Context, v T) error
	Get(ctx context.Context) (T, error)
	TryPut(v T) error
	TryGet() (T, error)
	Close() error
}

type backendJoinableQueue[T any] interface {
	backendQueue[T]
	TaskDone() error
	Join(ctx context.Context) error
	Unfinished() int
}

type backendDict[V any] interface {
	Get(key string) (V, error)
	Lookup(key string) (v V, rev uint64, ok bool, err error)
	Set(ctx context.Context, key string, v V) (uint64, error)
	SetIfAbsent(ctx context.Context, key string, v V) (uint64, bool, error)
	CompareAndSwap(ctx context.Context, key string, old uint64, v V) (uint64, bool, error)
	Delete(ctx context.Context, key string) (bool, error)
	Items() (map[string]V, error)
	Range(fn func(key string, v V) bool) error
	Len() (int, error)
}

type backendByteDict interface {
	Get(key string) ([]byte, error)
	Lookup(dst []byte, key string) (value []byte, rev uint64, ok bool, err error)
	Set(ctx context.Context, key string, value []byte) (uint64, error)
	SetIfAbsent(ctx context.Context, key string, value []byte) (uint64, bool, error)
	CompareAndSwap(ctx context.Context, key string, old uint64, value []byte) (uint64, bool, error)
	Delete(ctx context.Context, key string) (bool, error)
	Items() (map[string][]byte, error)
	Range(fn func(key string, value []byte, rev uint64) bool) error
	Len() (int, error)
	Revision() uint64
	Watch(ctx context.Context, since uint64) (uint64, error)
	Keys() ([]string, error)
	CompareAndDelete(ctx context.Context, key string, old uint64) (bool, error)
	Clear(ctx context.Context) error
}

type backendPool interface {
	Close() error
	Join(ctx context.Context) error
	Terminate() error
	Shutdown(ctx context.Context, cancelQueued bool) error
	Workers() int
}

// TestBackendShapes checks that shmkit's handles satisfy the shapes and
// that the shapes work as documented through the interfaces alone, on a
// Manager's objects: a task through a JoinableQueue and a dict's
// compare-and-swap by revision.
func TestBackendShapes(t *testing.T) {
	var (
		_ backendQueue[int]         = (*ring.TypedQueue[int])(nil)
		_ backendJoinableQueue[int] = (*ring.TypedJoinableQueue[int])(nil)
		_ backendDict[int]          = (*dict.TypedMap[int])(nil)
		_ backendByteDict           = (*dict.Map)(nil)
		_ backendPool               = (*proc.Pool)(nil)
	)
	ctx := context.Background()
	m := proc.NewManager()
	defer m.Close()

	var q backendJoinableQueue[int] = proc.JoinableQueue[int](m)
	if err := q.Put(ctx, 7); err != nil {
		t.Fatal(err)
	}
	if v, err := q.Get(ctx); err != nil || v != 7 {
		t.Fatalf("Get = %d, %v; want 7", v, err)
	}
	if n := q.Unfinished(); n != 1 {
		t.Fatalf("Unfinished = %d before TaskDone, want 1", n)
	}
	if err := q.TaskDone(); err != nil {
		t.Fatal(err)
	}
	if err := q.Join(ctx); err != nil {
		t.Fatal(err)
	}

	var d backendDict[int] = proc.Dict[int](m)
	rev, err := d.Set(ctx, "k", 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, swapped, err := d.CompareAndSwap(ctx, "k", rev+1, 2); err != nil || swapped {
		t.Fatalf("CompareAndSwap with a wrong revision: swapped %v, %v", swapped, err)
	}
	if _, swapped, err := d.CompareAndSwap(ctx, "k", rev, 2); err != nil || !swapped {
		t.Fatalf("CompareAndSwap with the entry's revision: swapped %v, %v", swapped, err)
	}
	if v, err := d.Get("k"); err != nil || v != 2 {
		t.Fatalf("Get = %d, %v; want 2", v, err)
	}
}
