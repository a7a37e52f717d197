package shm_test

import (
	"fmt"
	"os"

	"github.com/shmkit/shmkit/shm"
)

// A segment created by one process and opened by name in another (here, a
// second attachment in the same process): the object directory finds the
// object, whose payload is plain shared bytes.
func Example() {
	name := fmt.Sprintf("shmkit-example-%d", os.Getpid())
	seg, err := shm.Create(name, 1<<16)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer shm.Unlink(name)
	defer seg.Close()

	kind := shm.MakeKind("NOTE")
	if _, err := seg.CreateObject("note", kind, 1<<16, 64, func(b []byte) error {
		copy(b, "hello from the creator")
		return nil
	}); err != nil {
		fmt.Println(err)
		return
	}

	other, err := shm.Open(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer other.Close()
	note, err := other.OpenObject("note", kind, 1<<16)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s\n", note.Bytes()[:22])
	alive, _ := seg.Alive(other.Token())
	fmt.Println("other attachment alive:", alive)
	// Output:
	// hello from the creator
	// other attachment alive: true
}

// An anonymous segment lives in a memfd: hand seg.File() to a child through
// os/exec's ExtraFiles and attach there with shm.FromFile.
func ExampleAnonymous() {
	seg, err := shm.Anonymous(1 << 16)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer seg.Close()
	fmt.Println(seg.Name() == "", seg.Size() >= 1<<16)
	// Output: true true
}

// A process told to join a peer group's segment passes the CreationID it was
// given, so that it never joins a different segment re-created under the
// same name; payload reads on a named segment go through Guard, so that a
// peer truncating the file makes them fail instead of aborting the process.
func ExampleSegment_Guard() {
	name := fmt.Sprintf("shmkit-example-guard-%d", os.Getpid())
	seg, err := shm.Create(name, 1<<16)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer shm.Unlink(name)
	defer seg.Close()
	kind := shm.MakeKind("NOTE")
	if _, err := seg.CreateObject("note", kind, 1<<16, 64, func(b []byte) error {
		copy(b, "hi")
		return nil
	}); err != nil {
		fmt.Println(err)
		return
	}

	peer, err := shm.OpenWith(name, &shm.Options{CreationID: seg.CreationID()})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer peer.Close()
	note, err := peer.OpenObject("note", kind, 1<<16)
	if err != nil {
		fmt.Println(err)
		return
	}
	var got string
	err = peer.Guard(func() error {
		got = string(note.Bytes()[:2])
		return nil
	})
	fmt.Println(got, err)
	// Output: hi <nil>
}
