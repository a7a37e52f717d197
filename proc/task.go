package proc

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"sync"

	"github.com/shmkit/shmkit/ring"
)

// A task is a function registered by name at package init, so that a worker
// process (the same binary, re-executed) finds it: Go cannot send a closure
// to another process. The pool sends the name and the encoded arguments;
// the worker looks the name up, decodes, calls and sends back the encoded
// results.

var taskReg = struct {
	sync.RWMutex
	m map[string]taskEntry
}{m: map[string]taskEntry{}}

// taskEntry is the type-erased side of a registered task, used by workers.
type taskEntry interface {
	// serve decodes a chunk of arguments from args, runs the task on each
	// and appends the encoded outcomes to dst.
	serve(ctx context.Context, args []byte, dst []byte) ([]byte, error)
}

func registerTask(name string, e taskEntry) {
	if name == "" {
		panic("proc: task registered with an empty name")
	}
	taskReg.Lock()
	defer taskReg.Unlock()
	if _, dup := taskReg.m[name]; dup {
		panic("proc: task registered twice: " + name)
	}
	taskReg.m[name] = e
}

func lookupTask(name string) taskEntry {
	taskReg.RLock()
	defer taskReg.RUnlock()
	return taskReg.m[name]
}

// TaskFunc is a function registered with Task: a unit of work a Pool runs
// in its workers, taking an A and returning an R. Its methods submit it to a
// pool (Map, Imap, ImapUnordered, Apply, ApplyAsync, Submit, MapAsync).
// Arguments and results travel through a codec: the bytes of the value for
// fixed-size types without pointers (ints, floats, arrays and structs of
// them), encoding/gob for the rest.
type TaskFunc[A, R any] struct {
	name string
	fn   func(context.Context, A) (R, error)
	ac   codec[A]
	rc   codec[R]
}

// Task registers fn under name and returns it as a TaskFunc. Call it at
// package level (var square = proc.Task("square", ...)) so that every
// process of the binary registers the same tasks before proc.Main runs.
// Registering a name twice panics.
func Task[A, R any](name string, fn func(ctx context.Context, a A) (R, error)) *TaskFunc[A, R] {
	t := &TaskFunc[A, R]{name: name, fn: fn, ac: codecFor[A](), rc: codecFor[R]()}
	registerTask(name, t)
	return t
}

// Name returns the name the task was registered under.
func (t *TaskFunc[A, R]) Name() string { return t.name }

// codec encodes the items of task messages: a fixed-size plain type as its
// bytes (no length: the size is known), anything else as a gob stream with
// a uvarint length first.
type codec[T any] struct {
	plain *ring.Plain[T]
	gob   ring.Gob[T]
}

func codecFor[T any]() codec[T] {
	p, _ := ring.NewPlain[T]()
	return codec[T]{plain: p}
}

func (c *codec[T]) append(dst []byte, v *T) ([]byte, error) {
	if c.plain != nil {
		return c.plain.Append(dst, v)
	}
	return appendItem(dst, func(b []byte) ([]byte, error) { return c.gob.Append(b, v) })
}

// maxItems bounds the item count a message of n bytes can hold: every item
// takes a byte at least, but for a plain type of size 0 (struct{}), which
// takes none, at most maxChunk.
func (c *codec[T]) maxItems(n int) uint64 {
	if c.plain != nil && c.plain.FixedSize() == 0 {
		return maxChunk
	}
	return uint64(n)
}

// maxChunk is the most items a worker accepts in one task message of a
// zero-size argument type.
const maxChunk = 1 << 31

// read decodes the next item; an error in its bytes is returned, an error
// in the message's framing is left in r.err too.
func (c *codec[T]) read(r *msgReader, v *T) error {
	if c.plain != nil {
		b := r.fixed(c.plain.FixedSize())
		if r.err != nil {
			return r.err
		}
		return c.plain.Decode(b, v)
	}
	b := r.bytes()
	if r.err != nil {
		return r.err
	}
	return c.gob.Decode(b, v)
}

// call runs the task on a in this goroutine; a panic becomes a *PanicError.
func (t *TaskFunc[A, R]) call(ctx context.Context, a A) (r R, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Task: t.name, Value: fmt.Sprint(v), Stack: string(debug.Stack())}
		}
	}()
	return t.fn(ctx, a)
}

// Item outcomes in a result message.
const (
	itemOK    = 0 // payload: the encoded result
	itemErr   = 1 // payload: the error's text
	itemPanic = 2 // payload: uvarint length of the value, the value, the stack
)

// Wire format, all lengths and counts uvarint; an item is encoded by codec:
//
//	args:    count, then per item: the argument
//	results: count, then per item: an outcome byte, then the result
//	         (itemOK) or a length and the error text (itemErr) or a length
//	         and the panic (itemPanic)

func (t *TaskFunc[A, R]) appendArgs(dst []byte, in []A) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(in)))
	for i := range in {
		var err error
		dst, err = t.ac.append(dst, &in[i])
		if err != nil {
			return dst, fmt.Errorf("proc: task %q: argument %d: %w", t.name, i, err)
		}
	}
	return dst, nil
}

// appendItem appends a length and what enc appends, leaving room for the
// length before encoding so the item is copied once.
func appendItem(dst []byte, enc func([]byte) ([]byte, error)) ([]byte, error) {
	start := len(dst)
	dst = append(dst, 0) // one byte of length covers items below 128 bytes
	dst, err := enc(dst)
	if err != nil {
		return dst[:start], err
	}
	n := len(dst) - start - 1
	if n < 0x80 {
		dst[start] = byte(n)
		return dst, nil
	}
	var lb [binary.MaxVarintLen64]byte
	k := binary.PutUvarint(lb[:], uint64(n))
	dst = append(dst, lb[:k-1]...)
	copy(dst[start+k:], dst[start+1:start+1+n])
	copy(dst[start:], lb[:k])
	return dst, nil
}

// msgReader walks a message defensively: every length is checked against
// what is left, so a malformed message is ErrMessage, never a panic.
type msgReader struct {
	b   []byte
	err error
}

func (r *msgReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad length", ErrMessage)
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *msgReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.err = fmt.Errorf("%w: item of %d bytes, %d left", ErrMessage, n, len(r.b))
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

// fixed returns the next n bytes.
func (r *msgReader) fixed(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n > len(r.b) {
		r.err = fmt.Errorf("%w: item of %d bytes, %d left", ErrMessage, n, len(r.b))
		return nil
	}
	b := r.b[:n:n]
	r.b = r.b[n:]
	return b
}

func (r *msgReader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if len(r.b) == 0 {
		r.err = fmt.Errorf("%w: truncated", ErrMessage)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// count reads an item count that must equal want.
func (r *msgReader) count(want int) {
	if n := r.uvarint(); r.err == nil && n != uint64(want) {
		r.err = fmt.Errorf("%w: %d items, want %d", ErrMessage, n, want)
	}
}

// serve is the worker side (taskEntry).
func (t *TaskFunc[A, R]) serve(ctx context.Context, args []byte, dst []byte) ([]byte, error) {
	r := msgReader{b: args}
	n := r.uvarint()
	if r.err == nil && n > t.ac.maxItems(len(args)) {
		r.err = fmt.Errorf("%w: %d items in %d bytes", ErrMessage, n, len(args))
	}
	if r.err != nil {
		return dst, r.err
	}
	dst = binary.AppendUvarint(dst, n)
	// One argument and one result for all items: through the codecs they
	// escape, and a value per item would be an allocation per item.
	a, res := new(A), new(R)
	for i := 0; i < int(n); i++ {
		var zeroA A
		var zeroR R
		*a, *res = zeroA, zeroR
		err := t.ac.read(&r, a)
		if r.err != nil {
			return dst, r.err
		}
		if err == nil {
			*res, err = t.call(ctx, *a)
		}
		dst = t.appendOutcome(dst, res, err)
	}
	return dst, nil
}

func (t *TaskFunc[A, R]) appendOutcome(dst []byte, res *R, err error) []byte {
	switch e := err.(type) {
	case nil:
		n := len(dst)
		out, encErr := t.rc.append(append(dst, itemOK), res)
		if encErr == nil {
			return out
		}
		dst = out[:n]
		err = fmt.Errorf("encoding the result: %w", encErr)
	case *PanicError:
		dst = append(dst, itemPanic)
		v := binary.AppendUvarint(nil, uint64(len(e.Value)))
		v = append(append(v, e.Value...), e.Stack...)
		dst = binary.AppendUvarint(dst, uint64(len(v)))
		return append(dst, v...)
	}
	dst = append(dst, itemErr)
	dst = binary.AppendUvarint(dst, uint64(len(err.Error())))
	return append(dst, err.Error()...)
}

// decodeResults reads a worker's result message for a chunk of len(out)
// items into out and errs.
func (t *TaskFunc[A, R]) decodeResults(b []byte, out []R, errs []error) error {
	r := msgReader{b: b}
	r.count(len(out))
	for i := range out {
		kind := r.byte1()
		if kind == itemOK {
			if err := t.rc.read(&r, &out[i]); r.err != nil {
				return r.err
			} else if err != nil {
				errs[i] = fmt.Errorf("proc: task %q: decoding the result: %w", t.name, err)
			}
			continue
		}
		p := r.bytes()
		if r.err != nil {
			return r.err
		}
		switch kind {
		case itemErr:
			errs[i] = &RemoteError{Task: t.name, Msg: string(p)}
		case itemPanic:
			pr := msgReader{b: p}
			v := pr.bytes()
			if pr.err != nil {
				return pr.err
			}
			errs[i] = &PanicError{Task: t.name, Value: string(v), Stack: string(pr.b)}
		default:
			return fmt.Errorf("%w: outcome %d", ErrMessage, kind)
		}
	}
	return nil
}

var initReg = struct {
	sync.RWMutex
	m map[string]func(ctx context.Context, arg []byte) error
}{m: map[string]func(context.Context, []byte) error{}}

// InitFunc is a worker initializer registered with Initializer.
type InitFunc[A any] struct {
	name string
	fn   func(context.Context, A) error
	ac   codec[A]
}

// Initializer registers fn under name as a worker initializer (CPython's
// Pool(initializer=...)); pass it to a pool as
// PoolOptions{Initializer: f.With(arg)}. Call it at package level.
// Registering a name twice panics.
func Initializer[A any](name string, fn func(ctx context.Context, a A) error) *InitFunc[A] {
	f := &InitFunc[A]{name: name, fn: fn, ac: codecFor[A]()}
	initReg.Lock()
	defer initReg.Unlock()
	if _, dup := initReg.m[name]; dup || name == "" {
		panic("proc: initializer registered twice or with no name: " + name)
	}
	initReg.m[name] = func(ctx context.Context, b []byte) error {
		var a A
		if err := f.ac.read(&msgReader{b: b}, &a); err != nil {
			return err
		}
		return f.call(ctx, a)
	}
	return f
}

func (f *InitFunc[A]) call(ctx context.Context, a A) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Task: f.name, Value: fmt.Sprint(v), Stack: string(debug.Stack())}
		}
	}()
	return f.fn(ctx, a)
}

// With binds the initializer's argument (initargs).
func (f *InitFunc[A]) With(a A) *Init {
	b, err := f.ac.append(nil, &a)
	if err != nil {
		err = fmt.Errorf("proc: initializer %q: %w", f.name, err)
	}
	return &Init{name: f.name, arg: b, err: err, local: func(ctx context.Context) error { return f.call(ctx, a) }}
}

// Init is an initializer bound to its argument, for PoolOptions.
type Init struct {
	name  string
	arg   []byte
	err   error
	local func(context.Context) error
}

func runInit(ctx context.Context, name string, arg []byte) error {
	initReg.RLock()
	fn := initReg.m[name]
	initReg.RUnlock()
	if fn == nil {
		return fmt.Errorf("%w: initializer %q", ErrNoTask, name)
	}
	return fn(ctx, arg)
}
