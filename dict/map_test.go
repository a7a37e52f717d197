package dict_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/shm"
)

var bg = context.Background()

func newMap(t *testing.T, o *dict.Options) (*dict.Map, *shm.Segment) {
	t.Helper()
	seg, _ := newSegment(t, 32<<20)
	m, err := dict.NewMap(seg, "m", o)
	if err != nil {
		t.Fatalf("NewMap: %v", err)
	}
	return m, seg
}

func TestMapBasics(t *testing.T) {
	m, seg := newMap(t, nil)
	if _, err := m.Get("a"); !errors.Is(err, dict.ErrNotFound) {
		t.Fatalf("Get(a) on empty map: err %v; want ErrNotFound", err)
	}
	r1, err := m.Set(bg, "a", []byte("one"))
	if err != nil {
		t.Fatal(err)
	}
	v, rev, ok, err := m.Lookup(nil, "a")
	if err != nil || !ok || string(v) != "one" || rev != r1 {
		t.Fatalf("Lookup(a) = %q, %d, %v, %v; want one, %d, true, nil", v, rev, ok, err, r1)
	}
	if _, stored, _ := m.SetIfAbsent(bg, "a", []byte("x")); stored {
		t.Fatalf("SetIfAbsent(a) stored over an existing key")
	}
	if _, swapped, _ := m.CompareAndSwap(bg, "a", r1+100, []byte("x")); swapped {
		t.Fatalf("CompareAndSwap with a wrong revision swapped")
	}
	r2, swapped, err := m.CompareAndSwap(bg, "a", r1, []byte("two"))
	if err != nil || !swapped || r2 <= r1 {
		t.Fatalf("CompareAndSwap(a, %d) = %d, %v, %v; want a newer revision, true, nil", r1, r2, swapped, err)
	}
	if _, swapped, _ := m.CompareAndSwap(bg, "new", 0, []byte("n")); !swapped {
		t.Fatalf("CompareAndSwap(new, 0) did not create the absent key")
	}
	if n, _ := m.Len(); n != 2 {
		t.Fatalf("Len = %d; want 2", n)
	}
	if ok, _ := m.CompareAndDelete(bg, "a", r1); ok {
		t.Fatalf("CompareAndDelete with a stale revision deleted")
	}
	if ok, err := m.Delete(bg, "a"); !ok || err != nil {
		t.Fatalf("Delete(a) = %v, %v; want true, nil", ok, err)
	}
	if ok, _ := m.Delete(bg, "a"); ok {
		t.Fatalf("second Delete(a) reported present")
	}
	if err := m.Update(bg, map[string][]byte{"x": []byte("1"), "y": []byte("2")}); err != nil {
		t.Fatal(err)
	}
	keys, _ := m.Keys()
	sort.Strings(keys)
	if fmt.Sprint(keys) != "[new x y]" {
		t.Fatalf("Keys = %v; want [new x y]", keys)
	}
	if err := m.Clear(bg); err != nil {
		t.Fatal(err)
	}
	if n, _ := m.Len(); n != 0 {
		t.Fatalf("Len after Clear = %d; want 0", n)
	}
	if rev := m.Revision(); rev < r2 {
		t.Fatalf("Revision %d below a completed write's %d", rev, r2)
	}
	m2, err := dict.OpenMap(seg, "m")
	if err != nil {
		t.Fatal(err)
	}
	m.Set(bg, "shared", []byte("yes"))
	if v, err := m2.Get("shared"); string(v) != "yes" || err != nil {
		t.Fatalf("second handle Get = %q, %v", v, err)
	}
	if _, err := dict.OpenList(seg, "m"); !errors.Is(err, shm.ErrTypeMismatch) {
		t.Fatalf("OpenList on a map: %v; want shm.ErrTypeMismatch", err)
	}
	if _, err := dict.NewMap(seg, "m", nil); !errors.Is(err, shm.ErrExist) {
		t.Fatalf("NewMap of an existing name: %v; want shm.ErrExist", err)
	}
	if _, err := dict.OpenMap(seg, "nothing"); !errors.Is(err, shm.ErrNotExist) {
		t.Fatalf("OpenMap of a missing name: %v; want shm.ErrNotExist", err)
	}
	if _, err := dict.NewMap(seg, strings.Repeat("n", 57), nil); !errors.Is(err, dict.ErrInvalid) {
		t.Fatalf("NewMap with a 57-byte name: %v; want ErrInvalid", err)
	}
}

func TestMapLimits(t *testing.T) {
	m, _ := newMap(t, &dict.Options{KeyMax: 8, ValueMax: 16})
	_, err := m.Set(bg, "123456789", nil)
	if !errors.Is(err, dict.ErrTooLarge) || !bytes.Contains([]byte(err.Error()), []byte("KeyMax is 8")) {
		t.Fatalf("9-byte key: %v; want ErrTooLarge naming KeyMax is 8", err)
	}
	_, err = m.Set(bg, "k", make([]byte, 17))
	if !errors.Is(err, dict.ErrTooLarge) || !bytes.Contains([]byte(err.Error()), []byte("ValueMax is 16")) {
		t.Fatalf("17-byte value: %v; want ErrTooLarge naming ValueMax is 16", err)
	}
	if _, err := m.Set(bg, "12345678", make([]byte, 16)); err != nil {
		t.Fatalf("key and value at the limits: %v", err)
	}
	for _, o := range []dict.Options{{Stripes: 3}, {KeyMax: -1}, {ValueMax: 1 << 21}, {Stripes: 128}} {
		seg, _ := newSegment(t, 1<<20)
		if _, err := dict.NewMap(seg, "bad", &o); !errors.Is(err, dict.ErrInvalid) {
			t.Errorf("NewMap(%+v): %v; want ErrInvalid", o, err)
		}
	}
}

// TestMapGrowthAndReuse checks against a Go map: growth from the smallest
// table to thousands of entries, then a long set/delete workload with a
// small Len that must not grow the table further (deleted slots are
// reused).
func TestMapGrowthAndReuse(t *testing.T) {
	m, _ := newMap(t, &dict.Options{Capacity: 1, Stripes: 4})
	model := map[string]string{}
	for i := 0; i < 5000; i++ {
		k := fmt.Sprintf("key-%d", i)
		v := fmt.Sprintf("value-%d", i*7)
		if _, err := m.Set(bg, k, []byte(v)); err != nil {
			t.Fatalf("Set %d: %v", i, err)
		}
		model[k] = v
	}
	checkModel(t, m, model)
	for k := range model {
		if ok, err := m.Delete(bg, k); !ok || err != nil {
			t.Fatalf("Delete(%s) = %v, %v", k, ok, err)
		}
		delete(model, k)
		if len(model) == 100 {
			break
		}
	}
	st, _ := m.Stats()
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 100_000; i++ {
		k := fmt.Sprintf("churn-%d", rng.IntN(1000))
		if rng.IntN(2) == 0 {
			m.Set(bg, k, []byte(k))
			model[k] = k
		} else {
			m.Delete(bg, k)
			delete(model, k)
		}
	}
	checkModel(t, m, model)
	if st2, _ := m.Stats(); st2.Capacity != st.Capacity {
		t.Fatalf("capacity went from %d to %d under a workload of at most %d entries", st.Capacity, st2.Capacity, len(model)+1000)
	}
}

func checkModel(t *testing.T, m *dict.Map, model map[string]string) {
	t.Helper()
	if n, _ := m.Len(); n != len(model) {
		t.Fatalf("Len = %d; want %d", n, len(model))
	}
	for k, v := range model {
		got, err := m.Get(k)
		if err != nil || string(got) != v {
			t.Fatalf("Get(%s) = %q, %v; want %q", k, got, err, v)
		}
	}
	items, err := m.Items()
	if err != nil || len(items) != len(model) {
		t.Fatalf("Items: %d entries, %v; want %d", len(items), err, len(model))
	}
	for k, v := range items {
		if model[k] != string(v) {
			t.Fatalf("Items[%s] = %q; want %q", k, v, model[k])
		}
	}
}

func TestMapFull(t *testing.T) {
	m, _ := newMap(t, &dict.Options{Capacity: 16, Stripes: 1, MaxBytes: 64 << 10})
	var err error
	for i := 0; i < 10_000 && err == nil; i++ {
		_, err = m.Set(bg, fmt.Sprint(i), []byte("v"))
	}
	if !errors.Is(err, dict.ErrFull) || !bytes.Contains([]byte(err.Error()), []byte("over MaxBytes 65536")) {
		t.Fatalf("filling a map with MaxBytes 64 KiB: %v; want ErrFull with the figures", err)
	}
	n, _ := m.Len()
	if _, err := m.Get("0"); err != nil || n == 0 {
		t.Fatalf("after ErrFull: Len %d, Get: %v", n, err)
	}
	// A segment too small gives ErrFull too, naming its free space.
	seg, _ := newSegment(t, 256<<10)
	m2, err := dict.NewMap(seg, "small", &dict.Options{Capacity: 16})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100_000 && err == nil; i++ {
		_, err = m2.Set(bg, fmt.Sprint(i), []byte("v"))
	}
	if !errors.Is(err, dict.ErrFull) || !bytes.Contains([]byte(err.Error()), []byte("the segment has")) {
		t.Fatalf("filling a small segment: %v; want ErrFull naming the segment's free space", err)
	}
}

func TestWatchInProcess(t *testing.T) {
	m, _ := newMap(t, nil)
	r0 := m.Revision()
	done := make(chan uint64)
	go func() {
		r, err := m.Watch(bg, r0)
		if err != nil {
			t.Errorf("Watch: %v", err)
		}
		done <- r
	}()
	rev, _ := m.Set(bg, "k", []byte("v"))
	if r := <-done; r < rev {
		t.Fatalf("Watch returned %d; want >= %d", r, rev)
	}
	ctx, cancel := context.WithCancel(bg)
	cancel()
	if _, err := m.Watch(ctx, m.Revision()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Watch with a cancelled context: %v", err)
	}
}
