package proc

import (
	"context"
	"fmt"
	"reflect"
	"sync"

	"github.com/shmkit/shmkit/internal/reexec"
)

// entry is one registered target: what a child runs.
type entry struct {
	name string
	typ  reflect.Type // the argument type (the Runner type itself for Register)
	run  func(ctx context.Context, args reflect.Value) error
}

var registry struct {
	sync.Mutex
	byName map[string]*entry
	byType map[reflect.Type]*entry // Runner types
}

// role is the reexec role of every proc child; the target's name is its
// first argument (so ps shows it).
const role = "shmkit/proc"

func init() { reexec.Register(role, runChild) }

func register(name string, typ reflect.Type, run func(context.Context, reflect.Value) error) *entry {
	if reexec.Called() {
		panic("proc: " + name + " registered after Main: register at package init (a package-level var or an init function)")
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.byName == nil {
		registry.byName = make(map[string]*entry)
		registry.byType = make(map[reflect.Type]*entry)
	}
	if _, dup := registry.byName[name]; dup {
		panic("proc: " + name + " registered twice")
	}
	e := &entry{name: name, typ: typ, run: run}
	registry.byName[name] = e
	return e
}

func lookup(name string) *entry {
	registry.Lock()
	defer registry.Unlock()
	return registry.byName[name]
}

// Main must be the first statement of main, and of TestMain in a test
// binary whose tests start processes. In a child it runs the registered
// target the parent asked for and exits (it never returns); in the
// original process it returns at once. Start fails with ErrNoMain in a
// binary whose Main has not run.
func Main() { reexec.Main() }

// Target is a function registered with Func: what a child Process runs,
// CPython's Process(target=...).
type Target[A any] struct {
	e *entry
}

// Func registers fn under name (unique in the binary) and returns the
// Target that starts it in a child. Call it at package init, typically as
// a package-level var:
//
//	var work = proc.Func("work", func(ctx context.Context, a Args) error { ... })
//
// A's shmkit handles (fields, pointers, slice elements at any depth) reach
// the child open; its other exported parts travel through encoding/gob.
// fn's error, or a panic, is the child's failure (exit code 1), reported
// to the parent by Join as an *ExitError.
func Func[A any](name string, fn func(ctx context.Context, args A) error) *Target[A] {
	return &Target[A]{register(name, reflect.TypeFor[A](), func(ctx context.Context, v reflect.Value) error {
		return fn(ctx, v.Interface().(A))
	})}
}

// Name returns the name t was registered under.
func (t *Target[A]) Name() string { return t.e.name }

// New returns a Process that will run t with args once started; o may be
// nil.
func (t *Target[A]) New(args A, o *Options) *Process {
	return newProcess(t.e, reflect.ValueOf(&args).Elem(), o)
}

// Start starts t with args in a new child process. It is the short form of
// New followed by Process.Start: a Process that failed to start reports
// the error from Join and Err.
func (t *Target[A]) Start(ctx context.Context, args A) *Process {
	p := t.New(args, nil)
	p.startCtx(ctx)
	return p
}

// Runner is a type whose Run method is a child's body: CPython's Process
// subclass with its run method. Its exported fields are its arguments.
type Runner interface {
	Run(ctx context.Context) error
}

// Register registers the Runner type R (usually a pointer to a struct)
// under name. Call it at package init:
//
//	func init() { proc.Register[*Worker]("worker") }
//
// Then New(&Worker{...}, nil).Start() or Start(ctx, &Worker{...}) run
// Run on a copy of the value in a child, its handles open.
func Register[R Runner](name string) {
	typ := reflect.TypeFor[R]()
	e := register(name, typ, func(ctx context.Context, v reflect.Value) error {
		return v.Interface().(R).Run(ctx)
	})
	registry.Lock()
	registry.byType[typ] = e
	registry.Unlock()
}

// New returns a Process that will run r.Run in a child once started; r's
// type must be registered with Register. o may be nil.
func New(r Runner, o *Options) *Process {
	typ := reflect.TypeOf(r)
	registry.Lock()
	e := registry.byType[typ]
	registry.Unlock()
	if e == nil {
		p := newProcess(&entry{name: fmt.Sprint(typ), typ: typ}, reflect.ValueOf(r), o)
		p.fail(fmt.Errorf("%w: %v (call proc.Register at init)", ErrNotRegistered, typ))
		return p
	}
	return newProcess(e, reflect.ValueOf(r), o)
}

// Start starts r.Run in a new child process: New followed by
// Process.Start, with a start failure reported by Join and Err.
func Start(ctx context.Context, r Runner) *Process {
	p := New(r, nil)
	p.startCtx(ctx)
	return p
}
