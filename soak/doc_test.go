// Package soak holds the soak test of shmkit and nothing else: its
// tests run real processes (through package proc, the product) that use
// locks, queues, pipes, a worker pool and a shared dict at once while the
// test kills them (SIGKILL) and stops them (SIGSTOP, then SIGCONT) at
// random, and check after every death, and at the end, that everything
// is accounted for.
//
//	go test ./soak/                   5 s (skipped under -short)
//	go test ./soak/ -soak 60s         what .ci/run runs
//	go test ./soak/ -soak 10m -v      by hand, before a release
//
// The roles (each respawned when it dies) and the rule each is held to:
//
//	role      processes  shared objects           rule checked
//	lock      3          Lock, Array (counters)   at every acquisition total == sum of per-process
//	                                              counts; a holder killed in its critical section
//	                                              leaves a difference of at most 1, repaired by the
//	                                              acquirer that gets ErrOwnerDead
//	produce   3          Queue (parent consumes)  per producer: sequence numbers strictly rising;
//	                                              a missing one is the one a killed producer had
//	                                              in flight; Tombstoned <= missing <= kills
//	pipe      1          Pipe (fresh per process) the reader gets 0, 1, 2, ... with no gap, then
//	                                              EOF; it has every message whose Send returned,
//	                                              plus at most the one in flight
//	dict      2          Map (Manager.Dict)       a key holds its writer's last or in-flight
//	                                              count, never a torn value
//	pool      2 workers  Pool                     every task returns its result, or fails with
//	                                              ErrWorkerDied from a worker the test killed,
//	                                              at most one task per kill
//
// Besides, a watchdog dumps the goroutines of the parent (and, through
// SIGQUIT, of every child) and fails the test when nothing progresses for
// a minute or the run overruns; the parent's descriptor and thread counts
// must not grow during the run and its descriptors return to their
// baseline after it; every child creates a named segment in a private
// SHMKIT_DIR that a killed child leaves behind, and a final `shmkit gc`
// must leave that directory empty.
//
// The package is its test: it has no importable code.
package soak_test
