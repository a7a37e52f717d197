// Package benchkit is the machinery shared by the bench suites and the
// shmkit bench command: message transports (sockets, pipes, shmkit's own
// rings, queues and pipes) behind one Conn interface, a re-exec child that
// echoes or sinks messages in another process, ping-pong, throughput and
// idle drivers, a short spin ping-pong probe that records where the
// scheduler placed the two processes, placements (free, a pinned pair, one
// shared CPU), the CPU bill of both processes, and a description of the
// machine.
//
// # The CPU bill
//
// Every cross-process run records the CPU time (user + system, getrusage
// RUSAGE_SELF, all threads) each process used over the timed part: the
// parent measures itself, the child measures itself and reports it on the
// control pipe. Result.CPUPerMsg and Result.Cores show what a spinning wait
// costs, which the elapsed time hides. An Idle run sends one message per
// Options.Interval (1 ms) and sleeps in between; Result.WaiterShare is the
// share of a core the waiting child used. ProcCPU reads a running process
// that reports nothing itself (a benchmark's hammer loop) from
// /proc/PID/task/*/schedstat.
//
// # Ablations
//
// Knobs lists the design choices the ablation suites toggle, each with
// transports that differ in that choice only. The wait strategy and
// batching toggle shmkit's own ring. Padding, the cached peer index,
// checksums and waking only a parked peer have no switch in ring, so they
// toggle the lab ring (labring.go): a minimal SPSC ring of ring's design in
// a memfd mapping, whose header the layout table in layout.go draws. The
// sleep knob toggles the doorbell mailbox (doorbell.go, its layout drawn
// there): a waiter that never spins parks on a futex word (with or without
// ring's timed slices), an eventfd, a pipe, or a Unix socket read through
// net.Conn, whose goroutine Go's netpoller parks (the sleeping path of Go
// shared-memory IPC libraries that notify over a socket), so the wake-ups
// themselves can be compared in each placement.
//
// # Memory layouts
//
// The probe page (one memfd page per run):
//
//	off  size  field  written by                    read by
//	0    4     seq    parent (odd values, the end)  child
//	                  child (even values)           parent
//
// The lab ring: one memfd mapping holds two rings (parent → child first),
// each a 4096-byte header followed by its data area of a power-of-two
// capacity. The header in ring's layout (lab) and packed (lab-nopad):
//
//	off  size  field     written by         read by    packed off
//	0    8     tail      producer           consumer   0
//	64   8     head      consumer           producer   8
//	128  4     closed    consumer (Close)   producer   16
//	192  4     consWait  consumer (parks)   producer   20
//	196  4     prodWait  producer (parks)   consumer   24
//
// The futex words are the low halves of tail and head. A record in the
// data area, 8-byte aligned:
//
//	off  size  field
//	0    4     length of the payload (padding: of the whole record)
//	4    4     kind: 1 data, 2 padding to the end of the area, 3 end of stream
//	8    8     xxhash64 of the payload (lab-checksum), else 0
//	16   n     payload
//
// # The child
//
// Go cannot fork, so the peer process is the running binary executed again
// as the internal/reexec role "benchkit/" + role. Every binary that spawns
// children must call Main (or testproc.Main, or proc.Main: any runs every
// role) first thing; Main runs the role and exits in a child and returns
// at once otherwise. The child inherits, after reexec's lifeline (fd 3):
//
//	fd 4  control pipe: the child writes "probe", "ready", "done N"
//	      (throughput) and "runq NS" lines
//	fd 5  probe page: a memfd page shared for the spin probe
//	fd 6… the transport's own descriptors (socketpair end, pipes, segment)
//
// # Noise
//
// On a small VM the two vCPUs move between near and far placements every few
// minutes and every cross-core figure changes 3–7× with them. The probe (a
// spin ping-pong on one shared word, about a millisecond) runs in every child
// before its measurement and is reported beside it, so a reader can tell a
// slow transport from a far placement. Beside it, Result.RunqWait says how
// long the two hot threads waited, runnable, for a CPU that other load held
// (from /proc/thread-self/schedstat): on a machine shared with other work a
// bad figure with a high share is the machine's, not the transport's.
// Compare transports only within one run.
package benchkit
