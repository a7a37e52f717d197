"""Pool and futures throughput in CPython, beside proc's BenchmarkPool and `shmkit bench pool`.

usage: python3 pool_bench.py OP WORKERS N
  OP: map (default chunking), map-chunk1, apply-async (apply_async then
  get each), apply (synchronous), submit (ProcessPoolExecutor.submit then
  result each)
prints the mean seconds per task of N tasks of a trivial function, the
pool started and warmed up beforehand (fork start method, as Linux's
default before 3.14).
"""
import concurrent.futures as cf
import multiprocessing as mp
import sys
import time


def square(x):
    return x * x


def main():
    op, workers, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    ctx = mp.get_context("fork")
    xs = range(n)
    if op == "submit":
        with cf.ProcessPoolExecutor(workers, mp_context=ctx) as ex:
            for f in [ex.submit(square, i) for i in range(workers * 4)]:
                f.result()
            t0 = time.perf_counter()
            fs = [ex.submit(square, i) for i in xs]
            for f in fs:
                f.result()
            dt = time.perf_counter() - t0
    else:
        with ctx.Pool(workers) as pool:
            pool.map(square, range(workers * 4), chunksize=1)
            t0 = time.perf_counter()
            if op == "map":
                pool.map(square, xs)
            elif op == "map-chunk1":
                pool.map(square, xs, chunksize=1)
            elif op == "apply-async":
                for r in [pool.apply_async(square, (i,)) for i in xs]:
                    r.get()
            elif op == "apply":
                for i in xs:
                    pool.apply(square, (i,))
            else:
                sys.exit("unknown op " + op)
            dt = time.perf_counter() - t0
    print(dt / n)


if __name__ == "__main__":
    main()
