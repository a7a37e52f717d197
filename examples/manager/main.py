from multiprocessing import Process, Manager


def f(i, d, l, ns):
    d[f"k{i}"] = i * i
    l.append(i)
    if i == 0:
        ns.a = 10


if __name__ == '__main__':
    with Manager() as manager:
        d, l, ns = manager.dict(), manager.list(), manager.Namespace()
        ps = [Process(target=f, args=(i, d, l, ns)) for i in range(10)]
        for p in ps:
            p.start()
        for p in ps:
            p.join()
        print(d)
        print(l)
        print(ns)
