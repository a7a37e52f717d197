package dict_test

import (
	"context"
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/internal/testproc"
	"github.com/shmkit/shmkit/shm"
)

var kills = flag.Int("dict.kills", 30, "writer SIGKILLs in TestMapWriterKilled (the issue's figure is 200)")

func init() {
	testproc.Register("dict-random-ops", helperRandomOps)
	testproc.Register("dict-writer-loop", helperWriterLoop)
	testproc.Register("dict-manager-seed", helperManagerSeed)
	testproc.Register("dict-watcher", helperWatcher)
	testproc.Register("dict-grower", helperGrower)
	testproc.Register("dict-half-writer", helperHalfWriter)
}

// helperHalfWriter: Arg(0) segment. Begins a write of key "stuck" in map
// "m" (stripe locked, revision taken, nothing published), says ready and
// waits to be killed.
func helperHalfWriter() {
	seg := openSegment(testproc.Arg(0))
	m, err := dict.OpenMap(seg, "m")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	if err := dict.BeginWrite(m, "stuck"); err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Ready()
	time.Sleep(time.Hour)
}

// TestWatchIgnoresDeadWriter: a writer killed between taking its revision
// and publishing holds Revision back until its stripe is recovered; a
// Watch must not wait for that recovery to report writes on other stripes.
func TestWatchIgnoresDeadWriter(t *testing.T) {
	seg, name := newSegment(t, 4<<20)
	m, err := dict.NewMap(seg, "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "dict-half-writer", testproc.Options{Args: []string{name}})
	c.WaitReady()
	since := m.Revision()
	c.Kill()
	c.Wait()
	other := "a"
	for i := 0; dict.Stripe(m, other) == dict.Stripe(m, "stuck"); i++ {
		other = fmt.Sprint("a", i)
	}
	rev, err := m.Set(bg, other, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if r := m.Revision(); r >= rev {
		t.Fatalf("Revision %d already past %d: the dead writer's mark did not hold it back, the test proves nothing", r, rev)
	}
	ctx, cancel := context.WithTimeout(bg, 30*time.Second)
	defer cancel()
	got, err := m.Watch(ctx, since)
	if err != nil || got < rev {
		t.Fatalf("Watch(%d) = %d, %v; want >= %d (the dead writer ignored)", since, got, err, rev)
	}
	if m.RecoveredWriters() != 0 {
		t.Fatalf("RecoveredWriters %d: the stripe was recovered, Watch was not what moved on", m.RecoveredWriters())
	}
}

// sealed returns a value that proves itself whole: xxhash64 of the rest,
// then tag, then a random-length filler derived from the seed.
func sealed(rng *rand.Rand, tag string, max int) []byte {
	n := 8 + len(tag) + rng.IntN(max-8-len(tag)+1)
	b := make([]byte, 8, n)
	b = append(b, tag...)
	for len(b) < n {
		b = append(b, byte(rng.Uint32()))
	}
	binary.LittleEndian.PutUint64(b, xxhash.Sum64(b[8:]))
	return b
}

// whole reports whether v is a value sealed wrote, untorn.
func whole(v []byte) bool {
	return len(v) >= 8 && binary.LittleEndian.Uint64(v) == xxhash.Sum64(v[8:])
}

// modelDigest is a digest of the entries whose keys start with prefix.
func modelDigest(model map[string][]byte) (uint64, int) {
	keys := make([]string, 0, len(model))
	for k := range model {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	d := xxhash.New()
	for _, k := range keys {
		d.WriteString(k)
		d.Write([]byte{0})
		d.Write(model[k])
		d.Write([]byte{0})
	}
	return d.Sum64(), len(keys)
}

// helperRandomOps: Arg(0) segment, Arg(1) map, Arg(2) process id, Arg(3)
// ops, Arg(4) own keys. Random Get/Set/Delete/CompareAndSwap on its own
// keys (checked against a model) and on 32 shared keys (checked to be
// whole), plus CompareAndSwap increments of a shared counter. Sends "done
// <digest> <count> <increments>".
func helperRandomOps() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	m, err := dict.OpenMap(seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	id, ops, own := testproc.IntArg(2), testproc.IntArg(3), testproc.IntArg(4)
	rng := rand.New(rand.NewPCG(uint64(id), 99))
	type rec struct {
		v   []byte
		rev uint64
	}
	model := map[string]rec{}
	incs := 0
	fail := func(format string, args ...any) {
		testproc.Fatalf("process %d: "+format, append([]any{id}, args...)...)
	}
	for i := 0; i < ops; i++ {
		if i%64 == 0 { // one counter increment by CompareAndSwap
			for {
				v, rev, ok, err := m.Lookup(nil, "counter")
				if err != nil {
					fail("counter: %v", err)
				}
				n := 0
				if ok {
					n, _ = strconv.Atoi(string(v))
				}
				if _, swapped, err := m.CompareAndSwap(bg, "counter", rev, []byte(strconv.Itoa(n+1))); err != nil {
					fail("counter CAS: %v", err)
				} else if swapped {
					incs++
					break
				}
			}
		}
		if rng.IntN(2) == 0 {
			k := fmt.Sprintf("shared-%d", rng.IntN(32))
			switch rng.IntN(4) {
			case 0:
				if v, _, ok, err := m.Lookup(nil, k); err != nil || ok && !whole(v) {
					fail("shared Get(%s) = %q, %v: torn or failed", k, v, err)
				}
			case 1:
				if _, err := m.Set(bg, k, sealed(rng, k, 200)); err != nil {
					fail("shared Set: %v", err)
				}
			case 2:
				if _, err := m.Delete(bg, k); err != nil {
					fail("shared Delete: %v", err)
				}
			case 3:
				_, rev, _, _ := m.Lookup(nil, k)
				if _, _, err := m.CompareAndSwap(bg, k, rev, sealed(rng, k, 200)); err != nil {
					fail("shared CAS: %v", err)
				}
			}
			continue
		}
		k := fmt.Sprintf("p%d-%d", id, rng.IntN(own))
		want, present := model[k]
		switch rng.IntN(4) {
		case 0:
			v, rev, ok, err := m.Lookup(nil, k)
			if err != nil || ok != present || ok && (string(v) != string(want.v) || rev != want.rev) {
				fail("Get(%s) = %q rev %d ok %v err %v; model %q rev %d present %v", k, v, rev, ok, err, want.v, want.rev, present)
			}
		case 1:
			v := sealed(rng, k, 200)
			rev, err := m.Set(bg, k, v)
			if err != nil {
				fail("Set(%s): %v", k, err)
			}
			model[k] = rec{v, rev}
		case 2:
			ok, err := m.Delete(bg, k)
			if err != nil || ok != present {
				fail("Delete(%s) = %v, %v; model present %v", k, ok, err, present)
			}
			delete(model, k)
		case 3:
			v := sealed(rng, k, 200)
			old := want.rev
			if rng.IntN(4) == 0 {
				old++ // a stale revision: must not swap
			}
			rev, swapped, err := m.CompareAndSwap(bg, k, old, v)
			if err != nil || swapped != (old == want.rev) {
				fail("CompareAndSwap(%s, %d) swapped %v, %v; model rev %d", k, old, swapped, err, want.rev)
			}
			if swapped {
				model[k] = rec{v, rev}
			}
		}
	}
	flat := map[string][]byte{}
	for k, r := range model {
		flat[k] = r.v
	}
	d, n := modelDigest(flat)
	testproc.Send("done %d %d %d", d, n, incs)
}

func TestMapRandomOpsXProc(t *testing.T) {
	t.Run("fixed", func(t *testing.T) { runRandomOps(t, &dict.Options{Capacity: 4096}, 64) })
	t.Run("growing", func(t *testing.T) { runRandomOps(t, &dict.Options{Capacity: 1}, 2000) })
}

// runRandomOps runs 4 processes of helperRandomOps (50,000 operations each,
// 5,000 under -short) and checks each one's keys against its model, the
// counter against the increments, and every value for tears.
func runRandomOps(t *testing.T, o *dict.Options, own int) {
	ops := 50_000
	if testing.Short() {
		ops = 5_000
	}
	seg, name := newSegment(t, 64<<20)
	m, err := dict.NewMap(seg, "m", o)
	if err != nil {
		t.Fatal(err)
	}
	st0, _ := m.Stats()
	const procs = 4
	children := make([]*testproc.Child, procs)
	for i := range children {
		children[i] = testproc.Start(t, "dict-random-ops", testproc.Options{
			Args: []string{name, "m", strconv.Itoa(i), strconv.Itoa(ops), strconv.Itoa(own)},
		})
	}
	totalIncs := 0
	for i, c := range children {
		var d uint64
		var n, incs int
		line := c.Recv(2 * time.Minute)
		if _, err := fmt.Sscanf(line, "done %d %d %d", &d, &n, &incs); err != nil {
			t.Fatalf("process %d: %q: %v\n%s", i, line, err, c.Output())
		}
		c.MustWait()
		mine := map[string][]byte{}
		err := m.Range(func(k string, v []byte, _ uint64) bool {
			if strings.HasPrefix(k, fmt.Sprintf("p%d-", i)) {
				mine[k] = v
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		if gd, gn := modelDigest(mine); gd != d || gn != n {
			t.Errorf("process %d's keys: %d entries, digest %x; its model: %d entries, digest %x", i, gn, gd, n, d)
		}
		totalIncs += incs
	}
	if v, err := m.Get("counter"); err != nil || string(v) != strconv.Itoa(totalIncs) {
		t.Errorf("counter = %q, %v; want %d (the increments the processes made)", v, err, totalIncs)
	}
	count := 0
	err = m.Range(func(k string, v []byte, _ uint64) bool {
		count++
		if k != "counter" && !whole(v) {
			t.Errorf("final scan: %s holds a torn value", k)
		}
		return true
	})
	if n, _ := m.Len(); err != nil || n != count {
		t.Errorf("final scan: Range saw %d entries (%v); Len says %d", count, err, n)
	}
	st, _ := m.Stats()
	t.Logf("%d processes x %d ops: %d entries, capacity %d -> %d, revision %d", procs, ops, count, st0.Capacity, st.Capacity, st.Revision)
	if own > st0.Capacity && st.Capacity <= st0.Capacity {
		t.Errorf("capacity stayed %d; the run should have grown the map", st.Capacity)
	}
}

// helperWriterLoop: Arg(0) segment, Arg(1) seed. Writes sealed values to
// map "m" (sets, deletes, new keys that grow it) and list "l" (appends and
// pops) from two goroutines until killed.
func helperWriterLoop() {
	seg := openSegment(testproc.Arg(0))
	m, err := dict.OpenMap(seg, "m")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	l, err := dict.OpenList(seg, "l")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	seed := uint64(testproc.IntArg(1))
	var ready sync.Once
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			for i := 0; ; i++ {
				k := fmt.Sprintf("k%d", rng.IntN(3000))
				switch rng.IntN(8) {
				case 0:
					_, err = m.Delete(bg, k)
				case 1:
					if l.Len() > 50 {
						_, err = l.Pop(bg)
					} else {
						_, err = l.Append(bg, sealed(rng, "l", 100))
					}
				default:
					_, err = m.Set(bg, k, sealed(rng, k, 256))
				}
				if err != nil {
					testproc.Fatalf("writer: %v", err)
				}
				if i == 200 {
					ready.Do(testproc.Ready)
				}
			}
		}()
	}
	wg.Wait()
}

// TestMapWriterKilled SIGKILLs a writer at random points of its Sets,
// Deletes, growths, Appends and Pops (30 times, -dict.kills=200 for the
// issue's figure) while readers in this process check that every value
// they see is whole; after each kill the map and list must be usable and
// consistent.
func TestMapWriterKilled(t *testing.T) {
	n := *kills
	if testing.Short() {
		n = 5
	}
	seg, name := newSegment(t, 64<<20)
	m, err := dict.NewMap(seg, "m", &dict.Options{Capacity: 1})
	if err != nil {
		t.Fatal(err)
	}
	l, err := dict.NewList(seg, "l", nil)
	if err != nil {
		t.Fatal(err)
	}
	var torn, reads atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(7, uint64(g)))
			buf := make([]byte, 0, 256)
			for {
				select {
				case <-stop:
					return
				default:
				}
				k := fmt.Sprintf("k%d", rng.IntN(3000))
				v, _, ok, err := m.Lookup(buf, k)
				reads.Add(1)
				if err != nil {
					t.Errorf("Lookup(%s): %v", k, err)
					return
				}
				if ok && !whole(v) {
					torn.Add(1)
				}
				if n := l.Len(); n > 0 {
					if v, err := l.Get(rng.IntN(n)); err == nil && !whole(v) {
						torn.Add(1)
					}
				}
			}
		}()
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < n; i++ {
		c := testproc.Start(t, "dict-writer-loop", testproc.Options{Args: []string{name, strconv.Itoa(i)}})
		c.WaitReady()
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		c.Kill()
		c.Wait()
		// Every stripe must be writable again: the writer's stripes are
		// recovered by these writes.
		var last uint64
		for j := 0; j < 64; j++ {
			if last, err = m.Set(bg, fmt.Sprintf("after-%d", j), sealed(rng, "a", 64)); err != nil {
				t.Fatalf("kill %d: Set after the kill: %v", i, err)
			}
		}
		// Recovery cleared the dead writer's in-flight mark: Revision has
		// caught up, and Watch sees the next write.
		since := m.Revision()
		if since < last {
			t.Fatalf("kill %d: Revision %d below the last write's %d", i, since, last)
		}
		woke := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(bg, time.Minute)
			defer cancel()
			_, err := m.Watch(ctx, since)
			woke <- err
		}()
		if _, err := m.Set(bg, "watched", sealed(rng, "w", 64)); err != nil {
			t.Fatal(err)
		}
		if err := <-woke; err != nil {
			t.Fatalf("kill %d: Watch after recovery: %v", i, err)
		}
		if _, err := l.Append(bg, sealed(rng, "l", 64)); err != nil {
			t.Fatalf("kill %d: Append after the kill: %v", i, err)
		}
		checkConsistent(t, m, l)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d kills, %d reads, %d torn, %d writers recovered (map), %d (list)", n, reads.Load(), torn.Load(), m.RecoveredWriters(), l.RecoveredWriters())
	if torn.Load() != 0 {
		t.Errorf("%d torn values seen", torn.Load())
	}
	if n >= 10 && m.RecoveredWriters()+l.RecoveredWriters() == 0 {
		t.Errorf("no kill landed inside a write in %d kills: the test did not exercise recovery", n)
	}
}

func checkConsistent(t *testing.T, m *dict.Map, l *dict.List) {
	t.Helper()
	count := 0
	err := m.Range(func(k string, v []byte, _ uint64) bool {
		count++
		if !whole(v) {
			t.Errorf("%s: torn value after a kill", k)
		}
		return true
	})
	if n, _ := m.Len(); err != nil || n != count {
		t.Fatalf("Range saw %d entries (%v); Len says %d", count, err, n)
	}
	items, err := l.Copy()
	if err != nil || len(items) != l.Len() {
		t.Fatalf("List Copy: %d items (%v); Len says %d", len(items), err, l.Len())
	}
	for i, v := range items {
		if !whole(v) {
			t.Fatalf("list item %d torn", i)
		}
	}
}

// helperManagerSeed is the seeds' Manager program in one process of ten:
// Arg(0) segment, Arg(1) process id, Arg(2) items. It appends its id and
// items-1 more items to list "l", sets "p<id>" in map "d" and attribute
// "a<id>" in namespace "n".
func helperManagerSeed() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	id, items := testproc.IntArg(1), testproc.IntArg(2)
	var (
		d  dict.Map
		l  dict.TypedList[int64]
		ns dict.Namespace
	)
	if err := d.AttachShare(seg, "d"); err != nil {
		testproc.Fatalf("%v", err)
	}
	if err := l.AttachShare(seg, "l"); err != nil {
		testproc.Fatalf("%v", err)
	}
	if err := ns.AttachShare(seg, "n"); err != nil {
		testproc.Fatalf("%v", err)
	}
	for j := 0; j < items; j++ {
		if _, err := l.Append(bg, int64(id*1_000_000+j)); err != nil {
			testproc.Fatalf("Append: %v", err)
		}
	}
	if _, err := d.Set(bg, fmt.Sprintf("p%d", id), []byte(strconv.Itoa(id))); err != nil {
		testproc.Fatalf("Set: %v", err)
	}
	if err := ns.Set(bg, fmt.Sprintf("a%d", id), id); err != nil {
		testproc.Fatalf("Namespace Set: %v", err)
	}
}

// TestManagerSeedXProc: ten processes append to one List (once each, then
// 200 times each) and set keys in one Map and one Namespace: every item is
// present exactly once.
func TestManagerSeedXProc(t *testing.T) {
	for _, items := range []int{1, 200} {
		t.Run(fmt.Sprintf("items=%d", items), func(t *testing.T) {
			seg, name := newSegment(t, 16<<20)
			d, err := dict.NewMap(seg, "d", nil)
			if err != nil {
				t.Fatal(err)
			}
			rl, err := dict.NewList(seg, "l", nil)
			if err != nil {
				t.Fatal(err)
			}
			ns, err := dict.NewNamespace(seg, "n", nil)
			if err != nil {
				t.Fatal(err)
			}
			const procs = 10
			var cs []*testproc.Child
			for i := 0; i < procs; i++ {
				cs = append(cs, testproc.Start(t, "dict-manager-seed", testproc.Options{
					Args: []string{name, strconv.Itoa(i), strconv.Itoa(items)},
				}))
			}
			for _, c := range cs {
				c.MustWait()
			}
			l := dict.NewTypedList[int64](rl, nil)
			got, err := l.Copy()
			if err != nil || len(got) != procs*items {
				t.Fatalf("list: %d items, %v; want %d", len(got), err, procs*items)
			}
			seen := map[int64]int{}
			last := map[int64]int64{}
			for _, v := range got {
				seen[v]++
				p := v / 1_000_000
				if prev, ok := last[p]; ok && v <= prev {
					t.Errorf("process %d's items out of order: %d after %d", p, v, prev)
				}
				last[p] = v
			}
			for i := 0; i < procs; i++ {
				for j := 0; j < items; j++ {
					if n := seen[int64(i*1_000_000+j)]; n != 1 {
						t.Fatalf("item %d of process %d present %d times; want once", j, i, n)
					}
				}
				if v, err := d.Get(fmt.Sprintf("p%d", i)); err != nil || string(v) != strconv.Itoa(i) {
					t.Errorf("d[p%d] = %q, %v", i, v, err)
				}
				if v, err := ns.Get(fmt.Sprintf("a%d", i)); err != nil || v != i {
					t.Errorf("n.a%d = %v (%T), %v; want int %d", i, v, v, err, i)
				}
			}
		})
	}
}

// helperWatcher: Arg(0) segment, Arg(1) timeout. Sends "rev <r>" with the
// map's revision, then Watches from it and sends "woke <r>" or "err <text>".
func helperWatcher() {
	seg := openSegment(testproc.Arg(0))
	defer seg.Close()
	m, err := dict.OpenMap(seg, "m")
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	d, err := time.ParseDuration(testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	r := m.Revision()
	testproc.Send("rev %d", r)
	ctx, cancel := context.WithTimeout(bg, d)
	defer cancel()
	got, err := m.Watch(ctx, r)
	if err != nil {
		testproc.Send("err %v", err)
		return
	}
	testproc.Send("woke %d", got)
}

// TestWatchXProc: a Set in this process wakes a Watch in another; a Watch
// whose deadline passes returns context.DeadlineExceeded; a cancelled Watch
// returns at once.
func TestWatchXProc(t *testing.T) {
	seg, name := newSegment(t, 4<<20)
	m, err := dict.NewMap(seg, "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	c := testproc.Start(t, "dict-watcher", testproc.Options{Args: []string{name, "60s"}})
	c.Recv(30 * time.Second)
	rev, err := m.Set(bg, "k", []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	var got uint64
	line := c.Recv(30 * time.Second)
	if _, err := fmt.Sscanf(line, "woke %d", &got); err != nil || got < rev {
		t.Fatalf("watcher: %q; want woke >= %d", line, rev)
	}
	c.MustWait()

	c = testproc.Start(t, "dict-watcher", testproc.Options{Args: []string{name, "100ms"}})
	c.Recv(30 * time.Second)
	if line := c.Recv(30 * time.Second); !strings.Contains(line, context.DeadlineExceeded.Error()) {
		t.Fatalf("watcher with a 100ms deadline: %q; want %v", line, context.DeadlineExceeded)
	}
	c.MustWait()

	ctx, cancel := context.WithCancel(bg)
	done := make(chan error)
	go func() {
		_, err := m.Watch(ctx, m.Revision())
		done <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled Watch: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelled Watch did not return")
	}
}

// helperGrower: Arg(0) segment, Arg(1) map. Inserts sealed values under
// new keys from a table of 8 slots upwards (a growth every doubling, the
// last ones copying thousands of 2 KiB cells, a good share of the time)
// until killed.
func helperGrower() {
	seg := openSegment(testproc.Arg(0))
	m, err := dict.OpenMap(seg, testproc.Arg(1))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	rng := rand.New(rand.NewPCG(3, 3))
	testproc.Ready()
	for i := 0; ; i++ {
		if _, err := m.Set(bg, strconv.Itoa(i), sealed(rng, "g", 32)); err != nil {
			testproc.Fatalf("Set %d: %v", i, err)
		}
	}
}

// TestMapGrowerKilled SIGKILLs a writer that keeps growing a fresh map, at
// a random point (12 maps; some kills land inside a growth, which leaves
// behind a table of the current generation or a later one that is not the
// map's current table): the map stays readable, whole and writable.
func TestMapGrowerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kill loop")
	}
	const maps = 12
	// Each map takes 1 + 2 + (one per table) directory entries.
	name := testproc.Name(t)
	seg, err := shm.CreateWith(name, 256<<20, &shm.Options{Objects: 1024})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		seg.Close()
		shm.Unlink(name)
	})
	rng := rand.New(rand.NewPCG(5, 5))
	gen := func(table string) (prefix string, g int) {
		prefix, rest, _ := strings.Cut(table, "~t")
		g, _ = strconv.Atoi(strings.Split(rest, ".")[0])
		return prefix, g
	}
	current := map[string]int{}
	currentName := map[string]bool{}
	for i := 0; i < maps; i++ {
		mname := fmt.Sprintf("g%d", i)
		m, err := dict.NewMap(seg, mname, &dict.Options{Capacity: 1, Stripes: 2, KeyMax: 16, ValueMax: 2048})
		if err != nil {
			t.Fatal(err)
		}
		c := testproc.Start(t, "dict-grower", testproc.Options{Args: []string{name, mname}})
		c.WaitReady()
		time.Sleep(time.Duration(1000+rng.IntN(3000)) * time.Microsecond)
		c.Kill()
		c.Wait()
		// Write on every stripe (16 keys over 2 stripes), so that each
		// stripe the grower died holding is recovered and its count,
		// which may lag the one write the grower was making, is exact.
		for k := range 16 {
			if _, err := m.Set(bg, fmt.Sprintf("after%d", k), sealed(rng, "a", 32)); err != nil {
				t.Fatalf("map %d: Set after the kill: %v", i, err)
			}
		}
		count := 0
		err = m.Range(func(k string, v []byte, _ uint64) bool {
			count++
			if !whole(v) {
				t.Errorf("map %d: %s torn", i, k)
			}
			return true
		})
		if n, _ := m.Len(); err != nil || n != count || count < 2 {
			t.Fatalf("map %d: Range saw %d entries (%v), Len %d", i, count, err, n)
		}
		st, _ := m.Stats()
		_, current[mname] = gen(st.Table)
		currentName[st.Table] = true
	}
	abandoned := 0
	for _, o := range seg.Objects() {
		// An entry whose creator died inside its init shows no kind.
		if !strings.Contains(o.Name, "~t") {
			continue
		}
		// The parent's own growth after the kill may reuse the generation.
		if p, g := gen(o.Name); g >= current[p] && !currentName[o.Name] {
			abandoned++
		}
	}
	t.Logf("%d growers killed; %d kills landed inside a growth (a table left unpublished); %d MiB of the segment used",
		maps, abandoned, (seg.Size()-seg.Free())>>20)
	if abandoned == 0 {
		t.Errorf("no kill landed inside a growth: the test did not exercise it")
	}
}
