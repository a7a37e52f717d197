package dict_test

import (
	"context"
	"fmt"
	"sort"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/shm"
)

// The seeds' Manager program, in one process for the example: in real use
// each process opens the same objects by name (or receives them through
// proc's argument passing).
func Example() {
	seg, err := shm.Anonymous(1 << 20)
	if err != nil {
		panic(err)
	}
	defer seg.Close()
	ctx := context.Background()

	d, _ := dict.NewMap(seg, "d", nil) // d = manager.dict()
	d.Set(ctx, "1", []byte("1"))       // d[1] = '1'
	d.Set(ctx, "2", []byte("2"))
	l, _ := dict.NewList(seg, "l", nil) // l = manager.list(range(5))
	for i := 0; i < 5; i++ {
		l.Append(ctx, []byte{byte('0' + i)})
	}
	n, _ := dict.NewNamespace(seg, "n", nil) // n = manager.Namespace()
	n.Set(ctx, "a", 10)                      // n.a = 10

	v, _ := d.Get("2")
	last, _ := l.Get(-1)
	a, _ := n.Get("a")
	fmt.Println(string(v), l.Len(), string(last), a)
	// Output: 2 5 4 10
}

func ExampleMap_CompareAndSwap() {
	seg, _ := shm.Anonymous(1 << 20)
	defer seg.Close()
	ctx := context.Background()
	m, _ := dict.NewMap(seg, "m", nil)

	rev, _ := m.Set(ctx, "config", []byte("v1"))
	_, ok, _ := m.CompareAndSwap(ctx, "config", rev, []byte("v2"))
	fmt.Println("first swap:", ok)
	_, ok, _ = m.CompareAndSwap(ctx, "config", rev, []byte("v3")) // rev is stale now
	fmt.Println("stale swap:", ok)
	v, _ := m.Get("config")
	fmt.Println(string(v))
	// Output:
	// first swap: true
	// stale swap: false
	// v2
}

func ExampleMap_Watch() {
	seg, _ := shm.Anonymous(1 << 20)
	defer seg.Close()
	ctx := context.Background()
	m, _ := dict.NewMap(seg, "m", nil)

	since := m.Revision()
	go m.Set(ctx, "k", []byte("changed")) // another process, in real use
	rev, err := m.Watch(ctx, since)
	v, _ := m.Get("k")
	fmt.Println(rev > since, err, string(v))
	// Output: true <nil> changed
}

func ExampleTypedMap() {
	seg, _ := shm.Anonymous(1 << 20)
	defer seg.Close()
	ctx := context.Background()
	m, _ := dict.NewMap(seg, "prices", nil)

	type quote struct {
		Bid, Ask float64
	}
	prices := dict.NewTypedMap[quote](m, nil) // ring.Plain: the struct's bytes
	prices.Set(ctx, "EURUSD", quote{1.08, 1.09})
	q, _ := prices.Get("EURUSD")
	fmt.Println(q.Bid, q.Ask)
	// Output: 1.08 1.09
}

func ExampleStruct() {
	seg, _ := shm.Anonymous(1 << 20)
	defer seg.Close()
	ctx := context.Background()
	n, _ := dict.NewNamespace(seg, "job", nil)

	type status struct {
		Done  int
		Stage string
	}
	s, _ := dict.NewStruct[status](n)
	s.Store(ctx, status{Done: 3, Stage: "indexing"})
	n.Set(ctx, "Done", 4) // one attribute, as n.Done = 4
	got, _ := s.Load()
	fmt.Printf("%+v\n", got)
	// Output: {Done:4 Stage:indexing}
}

func ExampleMap_Range() {
	seg, _ := shm.Anonymous(1 << 20)
	defer seg.Close()
	ctx := context.Background()
	m, _ := dict.NewMap(seg, "m", nil)
	m.Update(ctx, map[string][]byte{"a": []byte("1"), "b": []byte("2")})

	var keys []string
	m.Range(func(k string, v []byte, rev uint64) bool {
		keys = append(keys, k+"="+string(v))
		return true
	})
	sort.Strings(keys)
	fmt.Println(keys)
	// Output: [a=1 b=2]
}
