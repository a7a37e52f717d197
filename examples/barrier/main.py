from multiprocessing import Process, Barrier


def worker(b, i):
    print(f"worker {i} is waiting")
    b.wait()
    print(f"worker {i} passed the barrier")


if __name__ == '__main__':
    b = Barrier(4)
    ps = [Process(target=worker, args=(b, i)) for i in range(4)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
