// Package bench holds shmkit's benchmark suites: every primitive against
// Unix sockets, pipes, TCP loopback and each other, across two processes
// (the second one is this test binary re-executed, see internal/benchkit),
// and the ablations that toggle one design choice at a time.
//
// Each file states its naming key at the top. A plain
//
//	go test -run '^$' -bench . ./bench/
//
// runs the figures that matter (the transports and sizes the README
// quotes, the wait knob, idle waiters, lock, Value, Queue and Pipe
// scaling: a few minutes); -bench.full adds every transport, size, knob
// and setting (matrix_test.go). For a before/after comparison filter to
// what changed and repeat:
//
//	go test -run '^$' -bench 'PingPong|Throughput' -benchtime 200ms -count 6 ./bench/ | tee new.txt
//	benchstat old.txt new.txt
//
// Every cross-process benchmark reports cpu-ns/op and cores beside its
// time: the CPU both (or all) processes used, so a spinning wait shows.
// The contention and scaling suites take their process counts from the
// host (1, 2, 4 … runtime.NumCPU()).
//
// and compare transports only within one run: on small VMs the two vCPUs
// move between near and far placements and every cross-core figure moves
// 3–7× with them. Every cross-process benchmark reports probe-ns, a spin
// ping-pong round trip measured just before it, so the placement is on
// record next to the figure, and the transport suites report runq-%, the
// share of the run the two hot threads waited for a CPU that other load
// held. -count repeats each benchmark back to back
// (A A A B B B); to interleave A B A B, loop over single runs and let
// benchstat take the medians:
//
//	for i in 1 2 3 4 5 6; do
//	  go test -run '^$' -bench 'Ablation/knob=padding/.*/size=64B' ./bench/
//	done | tee padding.txt
//	benchstat -col /set padding.txt
//
// `go run ./cmd/shmkit bench` runs a curated, interleaved subset and prints
// the comparison table; `go run ./cmd/shmkit bench -ablations` does the same
// for the ablations.
//
// bench/python/mp_bench.py (standard library only) measures CPython's
// multiprocessing Pipe, Queue, Lock and Value the same way, for the
// comparison with Python:
//
//	python3 bench/python/mp_bench.py
package bench
