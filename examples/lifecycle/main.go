// Command lifecycle terminates a sleeping child (IsAlive before and after,
// exit code -15, CPython's -SIGTERM), then starts a daemon child and exits:
// the daemon dies with its parent.
//
//	go run ./examples/lifecycle
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shmkit/shmkit/proc"
)

var sleeper = proc.Func("sleeper", func(ctx context.Context, _ struct{}) error {
	time.Sleep(time.Minute)
	return nil
})

func main() {
	proc.Main()
	p := sleeper.New(struct{}{}, nil)
	fmt.Println("before start: alive", p.IsAlive())
	p.Start()
	fmt.Println("started: alive", p.IsAlive())
	p.Terminate()
	p.Join(context.Background()) // an *proc.ExitError: killed by SIGTERM
	code, _ := p.ExitCode()
	fmt.Println("terminated: alive", p.IsAlive(), "exit code", code)
	d := sleeper.New(struct{}{}, &proc.Options{Daemon: true})
	d.Start()
	fmt.Println("daemon pid", d.Pid(), "dies with this process")
}
