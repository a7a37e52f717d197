package dict_test

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/shm"
)

// fuzzLayoutVersion is the objects' layout version (major 1).
const fuzzLayoutVersion = 1 << 16

// fuzzRecord builds one 11-byte fuzz record: target (0 table, 1 root), word
// index, value.
func fuzzRecord(target byte, word uint16, value uint64) []byte {
	b := []byte{target, byte(word), byte(word >> 8)}
	return binary.LittleEndian.AppendUint64(b, value)
}

// Word indices of the default geometry (64 slots, 8 stripes, KeyMax 64,
// ValueMax 256), for the seeds: buckets from word 72, slots from 136, 88
// words each.
const (
	fzBuckets   = 72
	fzSlots     = 136
	fzSlotWords = 88
)

func fuzzSeeds() [][]byte {
	cat := func(rs ...[]byte) []byte {
		var b []byte
		for _, r := range rs {
			b = append(b, r...)
		}
		return b
	}
	var allBad, allLoop []byte
	for i := 0; i < 64; i++ {
		allBad = append(allBad, fuzzRecord(0, uint16(fzBuckets+i), 1<<40)...)
		allLoop = append(allLoop, fuzzRecord(0, uint16(fzBuckets+i), 1)...)
	}
	return [][]byte{
		nil,
		allBad,
		cat(allLoop, fuzzRecord(0, fzSlots+1, 1)),               // every chain a self-loop
		cat(allLoop, fuzzRecord(0, fzSlots+2+2, 1|0xffffff<<8)), // a key longer than KeyMax
		cat(allLoop, fuzzRecord(0, fzSlots+2+2, 1|1<<8|1<<62)),  // a value longer than ValueMax
		cat(fuzzRecord(0, 8, 1<<50), fuzzRecord(0, 9, 1<<60)),   // stripe counts
		cat(fuzzRecord(0, 8+8, 5000)),                           // a free list head out of range
		cat(fuzzRecord(0, 1, 3), fuzzRecord(0, 2, 7)),           // table geometry
		cat(fuzzRecord(1, 0, 0)),                                // root: no stripes
		cat(fuzzRecord(1, 3, 12345)),                            // root: table id
	}
}

// FuzzMapMemory writes arbitrary words into a map's table and root, then
// runs every read operation (and a few writes, and a fresh OpenMap): no
// panic, no hang, only errors.
func FuzzMapMemory(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Fuzz(runOne)
}

// runOne is one fuzz execution.
func runOne(t *testing.T, data []byte) {
	seg, err := shm.Anonymous(4 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer seg.Close()
	m, err := dict.NewMap(seg, "m", nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 40; i++ {
		m.Set(bg, fmt.Sprint("key", i), []byte(fmt.Sprint("value", i)))
	}
	st, _ := m.Stats()
	tab, err := seg.OpenObject(st.Table, dict.KindTable, fuzzLayoutVersion)
	if err != nil {
		t.Fatal(err)
	}
	root, err := seg.OpenObject("m", dict.KindMap, fuzzLayoutVersion)
	if err != nil {
		t.Fatal(err)
	}
	for ; len(data) >= 11; data = data[11:] {
		b := tab.Bytes()
		if data[0]&1 == 1 {
			b = root.Bytes()
		}
		w := int(binary.LittleEndian.Uint16(data[1:])) % (len(b) / 8)
		copy(b[8*w:], data[3:11])
	}
	exercise(t, m)
	if m2, err := dict.OpenMap(seg, "m"); err == nil {
		exercise(t, m2)
	}
}

// exercise runs every read and a few writes; each error must be one of the
// documented ones.
func exercise(t *testing.T, m *dict.Map) {
	check := func(op string, err error) {
		for _, known := range []error{dict.ErrNotFound, dict.ErrCorrupt, dict.ErrBusy, dict.ErrFull,
			shm.ErrCorrupt, shm.ErrNotExist, shm.ErrTypeMismatch, shm.ErrVersion, context.DeadlineExceeded} {
			if err == nil || errors.Is(err, known) {
				return
			}
		}
		t.Fatalf("%s: undocumented error %v", op, err)
	}
	for i := 0; i < 45; i++ {
		_, err := m.Get(fmt.Sprint("key", i))
		check("Get", err)
	}
	_, err := m.Len()
	check("Len", err)
	_, err = m.Items()
	check("Items", err)
	_, err = m.Stats()
	check("Stats", err)
	m.Revision()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = m.Set(ctx, "key3", []byte("new"))
	check("Set", err)
	_, err = m.Set(ctx, "fresh", []byte("new"))
	check("Set", err)
	_, err = m.Delete(ctx, "key5")
	check("Delete", err)
	_, err = m.Items()
	check("Items", err)
}

// TestReaderBoundedUnderHostileWriter: a goroutine bumps the sequence word
// of the slot a Get reads, without pause (what a hostile or broken writer
// could do); each Get must return the value or ErrBusy, never hang or tear.
func TestReaderBoundedUnderHostileWriter(t *testing.T) {
	m, _, b, live := oneKeyMap(t)
	stop := make(chan struct{})
	done := make(chan struct{})
	started := make(chan struct{})
	go func() {
		defer close(done)
		for n := 0; ; n++ {
			if n == 1 {
				close(started)
			}
			select {
			case <-stop:
				return
			default:
			}
			for i := 0; i < 100; i++ {
				// +2 keeps the cell the same: only the sequence moves.
				binary.LittleEndian.PutUint64(b[live:], binary.LittleEndian.Uint64(b[live:])+2)
			}
		}
	}()
	<-started
	busy := 0
	for i := 0; i < 300; i++ {
		runtime.Gosched() // with GOMAXPROCS 1 the writer runs between Gets only
		v, err := m.Get("k")
		switch {
		case errors.Is(err, dict.ErrBusy):
			busy++
		case err != nil || string(v) != "value":
			t.Fatalf("Get under a hostile writer = %q, %v; want value or ErrBusy", v, err)
		}
	}
	close(stop)
	<-done
	t.Logf("300 Gets under a hostile writer (GOMAXPROCS %d): %d ErrBusy", runtime.GOMAXPROCS(0), busy)
}

// oneKeyMap makes a map holding k=value and returns it, its stats, its
// table's payload and the byte offset there of the one live slot.
func oneKeyMap(t *testing.T) (*dict.Map, dict.Stats, []byte, int) {
	t.Helper()
	m, seg := newMap(t, nil)
	m.Set(bg, "k", []byte("value"))
	st, _ := m.Stats()
	tab, err := seg.OpenObject(st.Table, dict.KindTable, fuzzLayoutVersion)
	if err != nil {
		t.Fatal(err)
	}
	return m, st, tab.Bytes(), liveSlot(t, tab.Bytes(), st)
}

// liveSlot returns the byte offset in table payload b of the map's only
// live slot (whose current cell's state is 1).
func liveSlot(t *testing.T, b []byte, st dict.Stats) int {
	t.Helper()
	_, slotsW, slotWords := dict.Geometry(st.Capacity, st.Stripes, st.KeyMax, st.ValueMax)
	cellWords := (slotWords - 2) / 2
	live := -1
	for i := 0; i < st.Capacity; i++ {
		o := 8 * (slotsW + i*slotWords)
		seq := binary.LittleEndian.Uint64(b[o:])
		if binary.LittleEndian.Uint64(b[o+8*(2+int(seq&1)*cellWords+2):])&0xff == 1 {
			if live >= 0 {
				t.Fatal("two live slots: the test wants one")
			}
			live = o
		}
	}
	if live < 0 {
		t.Fatal("no live slot found: the test's idea of the layout is out of date")
	}
	return live
}

// TestLoopingChainIsCorrupt: a slot whose link points at itself (a peer's
// scribble) makes a lookup that walks past it ErrCorrupt, after a bounded
// number of steps, never a hang or ErrBusy.
func TestLoopingChainIsCorrupt(t *testing.T) {
	m, st, b, live := oneKeyMap(t)
	slot := uint64((live/8-fzSlots)/fzSlotWords + 1)
	binary.LittleEndian.PutUint64(b[live+8:], slot) // next: itself
	// A key of the same bucket that is not there: its lookup walks the loop.
	other := ""
	for i := 0; other == ""; i++ {
		k := fmt.Sprint("x", i)
		if xxhash.Sum64String(k)%uint64(st.Capacity) == xxhash.Sum64String("k")%uint64(st.Capacity) {
			other = k
		}
	}
	if _, err := m.Get(other); !errors.Is(err, dict.ErrCorrupt) {
		t.Fatalf("Get(%s) through a looping chain: %v; want ErrCorrupt", other, err)
	}
	if _, err := m.Keys(); !errors.Is(err, dict.ErrCorrupt) {
		t.Fatalf("Keys over a looping chain: %v; want ErrCorrupt", err)
	}
	if v, err := m.Get("k"); err != nil || string(v) != "value" {
		t.Fatalf("Get(k), the looping slot's own key: %q, %v", v, err)
	}
}
