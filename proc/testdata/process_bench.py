"""Process start+join in CPython, beside proc's BenchmarkStartJoin.

usage: python3 process_bench.py METHOD N   (METHOD: fork, spawn, forkserver)
prints the mean seconds per start+join of a process running a no-op.
"""
import multiprocessing as mp
import sys
import time


def nop():
    pass


def main():
    method, n = sys.argv[1], int(sys.argv[2])
    ctx = mp.get_context(method)
    ctx.Process(target=nop).start()  # warm up (forkserver starts its server)
    t0 = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=nop)
        p.start()
        p.join()
    print((time.perf_counter() - t0) / n)


if __name__ == "__main__":
    main()
