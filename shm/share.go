package shm

import (
	"os"
	"reflect"
	"runtime"
	"sync"
	"weak"

	"github.com/shmkit/shmkit/internal/segcore"
	"golang.org/x/sys/unix"
)

// Sharer is a handle that can be passed to another process: the segment
// its object lives in, and a descriptor (usually the object name, plus what
// else reopening needs, such as a pipe end) that reopens it there. Package
// proc passes every Sharer it finds in a child's arguments this way:
// anonymous segments as inherited descriptors, named ones by name.
type Sharer interface {
	// ShareDesc returns the segment the handle lives in and a descriptor
	// that reopens it in another process. A nil segment means the handle
	// cannot be shared (its segment was closed or collected).
	ShareDesc() (seg *Segment, desc string)
}

// Attacher is the receiving side of a Sharer: AttachShare makes the zero
// value it is called on a handle on the object desc in seg, as
// ShareDesc described it in the sending process.
type Attacher interface {
	// AttachShare makes the zero value a handle on the object desc in
	// seg. It fails as the package's Open function does (wrong kind,
	// corrupt object) and never panics on what it reads.
	AttachShare(seg *Segment, desc string) error
}

// Releaser is a handle that stands for its process's own copy of an
// object, as a CPython Connection stands for a descriptor: when the process
// that attached it is done (the target of a child process returned or
// panicked), ReleaseShare gives the copy up, as the exit of a CPython
// process closes its descriptors. Package proc calls it on every attached
// argument that implements it once the child's target has ended. A pipe
// end's handle implements it, so that the other end sees end-of-file once
// every child holding the end has finished, not a dead peer.
type Releaser interface {
	ReleaseShare() error
}

// Reclaimer is a handle whose ShareDesc sets something aside for the
// receiving process (a pipe end reserves a holder entry, so that the end
// stays open until the child has attached). ReclaimShare, called in the
// sending process once the receiving process has exited, gives back what
// desc set aside if the receiver never took it, and otherwise does nothing
// harmful: package proc calls it for every such argument after reaping a
// child, so that a child killed before it attached leaves no end open for
// ever.
type Reclaimer interface {
	ReclaimShare(desc string) error
}

// Handle is what every shmkit handle type implements, through a pointer
// receiver, so that it can travel in a child process's arguments.
type Handle interface {
	Sharer
	Attacher
}

// mapped is the registry SegmentOf searches: every mapping this process
// made, by base address, weakly held so that it keeps no Segment alive.
var mapped struct {
	sync.Mutex
	m map[uintptr]weak.Pointer[Segment]
}

// register records s in the registry and sets up its core (guarded unless
// the file is sealed against shrinking or unguarded, see
// Options.Unguarded) and the unmapping cleanup; the mapping code calls it
// once s is mapped.
func register(s *Segment, unguarded bool) {
	mapped.Lock()
	defer mapped.Unlock()
	if mapped.m == nil {
		mapped.m = make(map[uintptr]weak.Pointer[Segment])
	}
	for base, w := range mapped.m {
		if w.Value() == nil {
			delete(mapped.m, base)
		}
	}
	mapped.m[s.base] = weak.Make(s)
	s.core.Init(s.data, s.dev, s.ino, !unguarded && !sealedShrink(s.file), s.pending)
	s.unmapCleanup = runtime.AddCleanup(s, func(data []byte) { unix.Munmap(data) }, s.data)
}

// sealedShrink reports whether f is a memfd sealed against shrinking, which
// no peer can truncate under the mapping: handles on it need no guard.
func sealedShrink(f *os.File) bool {
	seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
	return err == nil && seals&unix.F_SEAL_SHRINK != 0
}

func init() {
	segcore.Register(func(seg any) *segcore.Core { return &seg.(*Segment).core })
}

// unregister drops s from the registry when it is unmapped.
func unregister(s *Segment) {
	mapped.Lock()
	defer mapped.Unlock()
	if w, ok := mapped.m[s.base]; ok && w.Value() == s {
		delete(mapped.m, s.base)
	}
}

// SegmentOf returns the open Segment of this process whose mapping holds
// the memory p points to (p a pointer or a slice), or nil if none does. It
// lets a handle that keeps only pointers into its object find its segment
// for ShareDesc; it searches every mapping, so it belongs on slow paths.
func SegmentOf(p any) *Segment {
	v := reflect.ValueOf(p)
	switch v.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.UnsafePointer:
	default:
		return nil
	}
	addr := v.Pointer()
	if addr == 0 {
		return nil
	}
	mapped.Lock()
	defer mapped.Unlock()
	for _, w := range mapped.m {
		if s := w.Value(); s != nil && !s.core.Closed() && s.inMapping(addr) {
			return s
		}
	}
	return nil
}
