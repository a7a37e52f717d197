// Package bench holds shmkit's benchmark suites: every primitive against
// Unix sockets, pipes, TCP loopback and each other, across two processes
// (the second one is this test binary re-executed, see internal/benchkit).
//
// Each file states its naming key at the top. Run them with
//
//	go test -run '^$' -bench . -count 6 ./bench/ | tee new.txt
//	benchstat old.txt new.txt
//
// and compare transports only within one run: on small VMs the two vCPUs
// move between near and far placements and every cross-core figure moves
// 3–7× with them. Every cross-process benchmark reports probe-ns, a spin
// ping-pong round trip measured just before it, so the placement is on
// record next to the figure. `go run ./cmd/shmkit bench` runs a curated,
// interleaved subset and prints the comparison table.
//
// bench/python/mp_bench.py (standard library only) measures CPython's
// multiprocessing Pipe, Queue, Lock and Value the same way, for the
// comparison with Python:
//
//	python3 bench/python/mp_bench.py
package bench
