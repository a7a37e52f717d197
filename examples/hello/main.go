// Command hello starts five children running one function with an
// argument, then one child of a type with a Run method (Python's Process
// subclass style); each prints its name, its pid and its parent's pid.
//
//	go run ./examples/hello
package main

import (
	"context"
	"fmt"
	"log"
	"os"

	"github.com/shmkit/shmkit/proc"
)

// hello is the target function, registered by name at init.
var hello = proc.Func("hello", func(ctx context.Context, i int) error {
	fmt.Printf("hello %d from %s, pid %d, parent %d\n", i, proc.CurrentProcess().Name(), os.Getpid(), os.Getppid())
	return nil
})

// Greeter is the subclass style: its fields are its arguments.
type Greeter struct{ Who string }

// Run is the child's body.
func (g *Greeter) Run(ctx context.Context) error {
	fmt.Printf("hi %s from %s, pid %d, parent %d\n", g.Who, proc.CurrentProcess().Name(), os.Getpid(), os.Getppid())
	return nil
}

func init() { proc.Register[*Greeter]("greeter") }

func main() {
	proc.Main() // in a child: runs the registered target and exits
	ctx := context.Background()
	fmt.Printf("parent pid %d\n", os.Getpid())
	var ps []*proc.Process
	for i := range 5 {
		ps = append(ps, hello.Start(ctx, i))
	}
	if err := proc.JoinAll(ctx, ps...); err != nil {
		log.Fatal(err)
	}
	if err := proc.Start(ctx, &Greeter{"bob"}).Join(ctx); err != nil {
		log.Fatal(err)
	}
}
