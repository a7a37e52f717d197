"""CPython's Manager().dict() driven by dict's BenchmarkMap.

usage: python3 manager_dict.py PROCS
Starts a Manager, fills a dict proxy with the benchmark's 1000 keys (64-byte
values), starts PROCS worker processes holding the proxy, prints "ready",
then for each stdin line "get N" or "set N" has the workers do N gets or
sets between them (each its share, at the same time) and prints "done".
"""
import multiprocessing as mp
import sys

KEYS = ["key-%04d" % i for i in range(1000)]
VALUE = b"x" * 64


def worker(d, conn):
    while True:
        cmd = conn.recv()
        if cmd is None:
            return
        op, n = cmd
        if op == "get":
            for i in range(n):
                d[KEYS[i % 1000]]
        else:
            for i in range(n):
                d[KEYS[i % 1000]] = VALUE
        conn.send("done")


def main():
    procs = int(sys.argv[1])
    ctx = mp.get_context("fork")
    with ctx.Manager() as m:
        d = m.dict()
        for k in KEYS:
            d[k] = VALUE
        conns, ps = [], []
        for _ in range(procs):
            a, b = ctx.Pipe()
            p = ctx.Process(target=worker, args=(d, b))
            p.start()
            conns.append(a)
            ps.append(p)
        print("ready", flush=True)
        for line in sys.stdin:
            op, n = line.split()
            n = int(n)
            for i, c in enumerate(conns):
                c.send((op, n // procs + (1 if i < n % procs else 0)))
            for c in conns:
                c.recv()
            print("done", flush=True)
        for c in conns:
            c.send(None)
        for p in ps:
            p.join()


if __name__ == "__main__":
    main()
