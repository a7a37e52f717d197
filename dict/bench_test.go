package dict_test

// Benchmark names follow the key
//
//	BenchmarkMap/op=<Get|Set>/impl=<shm|gomap|socket|python>/procs=<N>
//
// with N = 1, 2, 4, … up to runtime.NumCPU() (a 2-vCPU host shows 1 and 2
// only; the scaling of the lock-free reads and the striped writers needs a
// bigger one). impl=shm is dict.Map; gomap a Go map with a sync.RWMutex in
// this process (N goroutines), the in-process reference; socket a server
// process holding a Go map, one Unix-socket request/response per operation
// (the Manager model); python CPython's Manager().dict() driven by
// testdata/manager_dict.py (skipped without python3). procs=N runs the
// operations from N processes at once (this one and N-1 re-executed
// children, or N Python workers), each its share of b.N; ns/op is wall
// time over all operations of all of them.
// Keys are 1000 strings of 8 bytes, values 64 bytes (the map made with
// KeyMax 16, ValueMax 64). With -v, BenchmarkMap logs the ratio of every
// implementation to impl=shm, from the same run:
//
//	go test -run XXX -bench BenchmarkMap -benchtime 200ms -v ./dict/

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shmkit/shmkit/dict"
	"github.com/shmkit/shmkit/internal/benchkit"
	"github.com/shmkit/shmkit/internal/testproc"
)

func init() {
	testproc.Register("dict-bench-client", helperBenchClient)
	testproc.Register("dict-socket-server", helperSocketServer)
}

var (
	benchKeys = func() (k []string) {
		for i := 0; i < 1000; i++ {
			k = append(k, fmt.Sprintf("key-%04d", i))
		}
		return k
	}()
	benchValue = []byte(strings.Repeat("v", 64))
)

// kv is one implementation under benchmark: n Gets or Sets from this
// goroutine.
type kv interface {
	run(op string, n int) error
}

type shmKV struct{ m *dict.Map }

func (s shmKV) run(op string, n int) error {
	ctx := context.Background()
	buf := make([]byte, 0, 256)
	for i := 0; i < n; i++ {
		k := benchKeys[i%len(benchKeys)]
		if op == "Get" {
			v, _, ok, err := s.m.Lookup(buf, k)
			if err != nil || !ok || len(v) != len(benchValue) {
				return fmt.Errorf("Get(%s) = %d bytes, %v, %v", k, len(v), ok, err)
			}
		} else if _, err := s.m.Set(ctx, k, benchValue); err != nil {
			return err
		}
	}
	return nil
}

type goMap struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func (g *goMap) run(op string, n int) error {
	buf := make([]byte, 0, 256)
	for i := 0; i < n; i++ {
		k := benchKeys[i%len(benchKeys)]
		if op == "Get" {
			g.mu.RLock()
			buf = append(buf[:0], g.m[k]...) // a copy, as dict's Get makes
			g.mu.RUnlock()
			if len(buf) != len(benchValue) {
				return fmt.Errorf("Get(%s): %d bytes", k, len(buf))
			}
		} else {
			g.mu.Lock()
			g.m[k] = append(g.m[k][:0], benchValue...)
			g.mu.Unlock()
		}
	}
	return nil
}

// The socket protocol: request op byte ('G' or 'S'), key length u16, key,
// value length u32, value; response value length u32, value.
type sockKV struct {
	c  net.Conn
	rw *bufio.ReadWriter
}

func dialSock(path string) (*sockKV, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return &sockKV{c: c, rw: bufio.NewReadWriter(bufio.NewReader(c), bufio.NewWriter(c))}, nil
}

func (s *sockKV) run(op string, n int) error {
	var hdr [6]byte
	buf := make([]byte, 0, 256)
	for i := 0; i < n; i++ {
		k := benchKeys[i%len(benchKeys)]
		var v []byte
		hdr[0] = 'G'
		if op == "Set" {
			hdr[0], v = 'S', benchValue
		}
		binary.LittleEndian.PutUint16(hdr[1:], uint16(len(k)))
		s.rw.Write(hdr[:3])
		s.rw.WriteString(k)
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(v)))
		s.rw.Write(hdr[:4])
		s.rw.Write(v)
		if err := s.rw.Flush(); err != nil {
			return err
		}
		if _, err := io.ReadFull(s.rw, hdr[:4]); err != nil {
			return err
		}
		buf = buf[:binary.LittleEndian.Uint32(hdr[:])]
		if _, err := io.ReadFull(s.rw, buf); err != nil {
			return err
		}
	}
	return nil
}

// helperSocketServer: Arg(0) socket path. Serves a Go map under an
// RWMutex, one goroutine per connection, until killed.
func helperSocketServer() {
	l, err := net.Listen("unix", testproc.Arg(0))
	if err != nil {
		testproc.Fatalf("%v", err)
	}
	g := &goMap{m: map[string][]byte{}}
	for _, k := range benchKeys {
		g.m[k] = benchValue
	}
	testproc.Ready()
	for {
		c, err := l.Accept()
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		go serveConn(g, c)
	}
}

func serveConn(g *goMap, c net.Conn) {
	defer c.Close()
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	var hdr [4]byte
	key := make([]byte, 0, 64)
	val := make([]byte, 0, 256)
	for {
		op, err := r.ReadByte()
		if err != nil {
			return
		}
		if _, err := io.ReadFull(r, hdr[:2]); err != nil {
			return
		}
		key = key[:binary.LittleEndian.Uint16(hdr[:])]
		io.ReadFull(r, key)
		io.ReadFull(r, hdr[:4])
		val = val[:binary.LittleEndian.Uint32(hdr[:])]
		if _, err := io.ReadFull(r, val); err != nil {
			return
		}
		var out []byte
		if op == 'S' {
			g.mu.Lock()
			g.m[string(key)] = append([]byte(nil), val...)
			g.mu.Unlock()
		} else {
			g.mu.RLock()
			out = g.m[string(key)]
			g.mu.RUnlock()
		}
		binary.LittleEndian.PutUint32(hdr[:], uint32(len(out)))
		w.Write(hdr[:4])
		w.Write(out)
		if w.Flush() != nil {
			return
		}
	}
}

// helperBenchClient: Arg(0) impl (shm or socket), Arg(1) op, Arg(2) n,
// Arg(3) segment name or socket path. Sends ready, waits for a byte on
// File(0), runs n operations, sends done.
func helperBenchClient() {
	var k kv
	switch testproc.Arg(0) {
	case "shm":
		seg := openSegment(testproc.Arg(3))
		m, err := dict.OpenMap(seg, "m")
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		k = shmKV{m}
	case "socket":
		s, err := dialSock(testproc.Arg(3))
		if err != nil {
			testproc.Fatalf("%v", err)
		}
		k = s
	}
	testproc.Ready()
	var b [1]byte
	if _, err := testproc.File(0).Read(b[:]); err != nil {
		testproc.Fatalf("start: %v", err)
	}
	if err := k.run(testproc.Arg(1), testproc.IntArg(2)); err != nil {
		testproc.Fatalf("%v", err)
	}
	testproc.Send("done")
}

// share is worker i's part of n operations split among procs workers.
func share(n, procs, i int) int {
	if i < n%procs {
		return n/procs + 1
	}
	return n / procs
}

// runGroup runs b.N operations split among procs workers: procs-1 child
// clients and this goroutine, all started at once, timing all of them.
func runGroup(b *testing.B, local kv, impl, op, target string, procs int) {
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	children := make([]*testproc.Child, procs-1)
	for i := range children {
		children[i] = testproc.Start(b, "dict-bench-client", testproc.Options{
			Args:  []string{impl, op, strconv.Itoa(share(b.N, procs, i+1)), target},
			Files: []*os.File{r},
		})
	}
	r.Close()
	for _, c := range children {
		c.WaitReady()
	}
	b.ResetTimer()
	w.Write(make([]byte, len(children))) // one start byte each
	if err := local.run(op, share(b.N, procs, 0)); err != nil {
		b.Fatal(err)
	}
	for _, c := range children {
		if line := c.Recv(5 * time.Minute); line != "done" {
			b.Fatalf("client: %q", line)
		}
	}
	b.StopTimer()
	for _, c := range children {
		c.MustWait()
	}
}

// pythonKV drives testdata/manager_dict.py.
type pythonKV struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

func startPython(b *testing.B, procs int) *pythonKV {
	py, err := exec.LookPath("python3")
	if err != nil {
		b.Skip("python3 not found: no CPython Manager().dict() to compare with")
	}
	cmd := exec.Command(py, filepath.Join("testdata", "manager_dict.py"), strconv.Itoa(procs))
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &pythonKV{cmd: cmd, in: in, out: bufio.NewScanner(out)}
	if !p.out.Scan() || p.out.Text() != "ready" {
		b.Fatalf("manager_dict.py: %q", p.out.Text())
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Wait()
	})
	return p
}

func (p *pythonKV) run(op string, n int) error {
	fmt.Fprintf(p.in, "%s %d\n", strings.ToLower(op), n)
	if !p.out.Scan() || p.out.Text() != "done" {
		return errors.New("manager_dict.py did not answer")
	}
	return nil
}

// benchResults keeps the ns/op of each sub-benchmark's last run, for the
// ratios.
var benchResults = map[string]float64{}

func BenchmarkMap(b *testing.B) {
	seg, name := newSegment(b, 16<<20)
	m, err := dict.NewMap(seg, "m", &dict.Options{Capacity: 2048, KeyMax: 16, ValueMax: 64})
	if err != nil {
		b.Fatal(err)
	}
	g := &goMap{m: map[string][]byte{}}
	for _, k := range benchKeys {
		m.Set(context.Background(), k, benchValue)
		g.m[k] = append([]byte(nil), benchValue...)
	}
	sock := filepath.Join(b.TempDir(), "kv.sock")
	srv := testproc.Start(b, "dict-socket-server", testproc.Options{Args: []string{sock}, Timeout: time.Hour})
	srv.WaitReady()
	sk, err := dialSock(sock)
	if err != nil {
		b.Fatal(err)
	}
	for _, op := range []string{"Get", "Set"} {
		for _, impl := range []string{"shm", "gomap", "socket", "python"} {
			for _, procs := range benchkit.Counts(runtime.NumCPU()) {
				key := fmt.Sprintf("op=%s/impl=%s/procs=%d", op, impl, procs)
				b.Run(key, func(b *testing.B) {
					b.SetBytes(int64(len(benchValue)))
					b.ReportAllocs()
					var err error
					switch {
					case impl == "python":
						p := startPython(b, procs)
						b.ResetTimer()
						err = p.run(op, b.N)
						b.StopTimer()
					case impl == "gomap" && procs > 1:
						var wg sync.WaitGroup
						errs := make([]error, procs)
						for i := range errs {
							wg.Add(1)
							go func() {
								defer wg.Done()
								errs[i] = g.run(op, share(b.N, procs, i))
							}()
						}
						wg.Wait()
						err = errors.Join(errs...)
					case procs > 1 && impl == "shm":
						runGroup(b, shmKV{m}, impl, op, name, procs)
					case procs > 1:
						runGroup(b, sk, impl, op, sock, procs)
					default:
						err = map[string]kv{"shm": shmKV{m}, "gomap": g, "socket": sk}[impl].run(op, b.N)
					}
					if err != nil {
						b.Fatal(err)
					}
					benchResults[key] = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
				})
			}
		}
	}
	var lines []string
	for k, ns := range benchResults {
		op, rest, _ := strings.Cut(k, "/impl=")
		impl, procs, _ := strings.Cut(rest, "/")
		if base, ok := benchResults[op+"/impl=shm/"+procs]; ok && impl != "shm" && base > 0 {
			lines = append(lines, fmt.Sprintf("%s/%s: %s %.1f ns/op = %.2f x shm's %.1f ns/op", op, procs, impl, ns, ns/base, base))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		b.Log(l)
	}
}
