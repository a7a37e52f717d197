from multiprocessing import Process, JoinableQueue


def producer(q, name):
    for i in range(5):
        q.put(f"{name}-{i}")


def consumer(q, name):
    while True:
        item = q.get()
        print(f"{name} consumed {item}")
        q.task_done()


if __name__ == '__main__':
    q = JoinableQueue()
    for c in ("c1", "c2"):
        Process(target=consumer, args=(q, c), daemon=True).start()
    ps = [Process(target=producer, args=(q, p)) for p in ("p1", "p2")]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    q.join()
    print("all 10 items done; the daemon consumers die with the parent")
