// Command pipe: parent and child exchange messages both ways over a duplex
// Pipe. The parent closes its copy of the child's end at once (the child
// keeps its own), and sees EOF once the child has closed it.
//
//	go run ./examples/pipe
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/shmkit/shmkit/proc"
	"github.com/shmkit/shmkit/ring"
)

var child = proc.Func("child", func(ctx context.Context, conn *ring.Conn) error {
	defer conn.Close()
	if err := conn.Send(ctx, "hello from the child"); err != nil {
		return err
	}
	for {
		var msg string
		if err := conn.Recv(ctx, &msg); err != nil || msg == "bye" {
			return err
		}
		conn.Send(ctx, strings.ToUpper(msg))
	}
})

func main() {
	proc.Main()
	ctx := context.Background()
	parentConn, childConn := proc.Pipe(nil, true)
	p := child.Start(ctx, childConn)
	childConn.Close() // the child keeps its copy
	var msg string
	parentConn.Recv(ctx, &msg)
	fmt.Println(msg)
	for _, word := range []string{"ping", "pong"} {
		parentConn.Send(ctx, word)
		parentConn.Recv(ctx, &msg)
		fmt.Println(msg)
	}
	parentConn.Send(ctx, "bye")
	if err := parentConn.Recv(ctx, &msg); errors.Is(err, io.EOF) {
		fmt.Println("EOF: the child closed its end")
	}
	p.Join(ctx)
}
