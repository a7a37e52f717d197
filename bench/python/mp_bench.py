#!/usr/bin/env python3
"""CPython multiprocessing figures to set beside `shmkit bench`.

Measures, between two processes, what the shmkit suites measure for their
counterparts: Pipe and Queue round trip and one-way throughput for a few
message sizes, Lock acquire+release, and Value increments with and without
the lock. Standard library only:

    python3 bench/python/mp_bench.py            # about 20 s
    python3 bench/python/mp_bench.py --quick    # about 3 s

Compare with the same machine's `go run ./cmd/shmkit bench` and
`go test -run '^$' -bench 'Lock|Value' ./bench/`; numbers from different
runs on a small VM move with vCPU placement, so take them together.
"""

import argparse
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time

SIZES = [64, 4096, 65536]


# An empty message ends a run: with the fork start method the child holds
# copies of the parent's ends, so it would never see EOF.


def _echo_pipe(conn):
    while True:
        m = conn.recv_bytes()
        if not m:
            return
        conn.send_bytes(m)


def _sink_pipe(conn, done):
    n = 0
    while conn.recv_bytes():
        n += 1
    done.send(n)


def _echo_queue(qin, qout):
    while True:
        m = qin.get()
        if m is None:
            return
        qout.put(m)


def _sink_queue(q, done):
    n = 0
    while q.get() is not None:
        n += 1
    done.put(n)


def _value_hammer(v, stop):
    while not stop.is_set():
        with v.get_lock():
            v.value += 1


def pipe_pingpong(size, seconds):
    a, b = mp.Pipe()
    p = mp.Process(target=_echo_pipe, args=(b,))
    p.start()
    b.close()
    msg = b"x" * size
    rtts = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter_ns()
        a.send_bytes(msg)
        a.recv_bytes()
        rtts.append(time.perf_counter_ns() - t0)
    a.send_bytes(b"")
    p.join()
    return statistics.median(rtts)


def pipe_throughput(size, seconds):
    a, b = mp.Pipe()
    done_r, done_w = mp.Pipe(duplex=False)
    p = mp.Process(target=_sink_pipe, args=(b, done_w))
    p.start()
    b.close()
    msg = b"x" * size
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(64):
            a.send_bytes(msg)
        n += 64
    a.send_bytes(b"")
    got = done_r.recv()
    el = time.perf_counter() - t0
    p.join()
    assert got == n, (got, n)
    return n / el


def queue_pingpong(size, seconds):
    qin, qout = mp.Queue(), mp.Queue()
    p = mp.Process(target=_echo_queue, args=(qin, qout))
    p.start()
    msg = b"x" * size
    rtts = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        t0 = time.perf_counter_ns()
        qin.put(msg)
        qout.get()
        rtts.append(time.perf_counter_ns() - t0)
    qin.put(None)
    p.join()
    return statistics.median(rtts)


def queue_throughput(size, seconds):
    q, done = mp.Queue(maxsize=1024), mp.Queue()
    p = mp.Process(target=_sink_queue, args=(q, done))
    p.start()
    msg = b"x" * size
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(64):
            q.put(msg)
        n += 64
    q.put(None)
    got = done.get()
    el = time.perf_counter() - t0
    p.join()
    assert got == n, (got, n)
    return n / el


def per_op_ns(fn, seconds):
    n = 0
    t0 = time.perf_counter()
    end = t0 + seconds
    while time.perf_counter() < end:
        for _ in range(1000):
            fn()
        n += 1000
    return (time.perf_counter() - t0) / n * 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short runs (CI smoke test)")
    args = ap.parse_args()
    secs = 0.2 if args.quick else 1.0
    sizes = SIZES[:1] if args.quick else SIZES

    print(f"CPython {platform.python_version()} multiprocessing · {os.cpu_count()} cores · "
          f"{platform.system()} {platform.release()} · start method {mp.get_start_method()}")
    print(f"{'what':<34}{'size':>7}{'msgs/s':>12}{'rtt p50':>12}")
    for size in sizes:
        print(f"{'Pipe send_bytes/recv_bytes':<34}{size:>6}B{pipe_throughput(size, secs):>12,.0f}"
              f"{pipe_pingpong(size, secs) / 1e3:>10.1f}µs")
        print(f"{'Queue put/get':<34}{size:>6}B{queue_throughput(size, secs):>12,.0f}"
              f"{queue_pingpong(size, secs) / 1e3:>10.1f}µs")

    lock = mp.Lock()

    def lock_cycle():
        lock.acquire()
        lock.release()

    v = mp.Value("q", 0)
    raw = mp.RawValue("q", 0)

    def value_locked():
        with v.get_lock():
            v.value += 1

    def value_raw():
        raw.value += 1

    print(f"{'Lock acquire+release, uncontended':<34}{'':>7}{'':>12}{per_op_ns(lock_cycle, secs):>10.0f}ns")
    print(f"{'Value += 1 under get_lock()':<34}{'':>7}{'':>12}{per_op_ns(value_locked, secs):>10.0f}ns")
    print(f"{'RawValue += 1 (not atomic)':<34}{'':>7}{'':>12}{per_op_ns(value_raw, secs):>10.0f}ns")
    stop = mp.Event()
    p = mp.Process(target=_value_hammer, args=(v, stop))
    p.start()
    try:
        print(f"{'Value += 1, 2 processes':<34}{'':>7}{'':>12}{per_op_ns(value_locked, secs):>10.0f}ns")
    finally:
        stop.set()
        p.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
