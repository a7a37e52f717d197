from multiprocessing import Process, Queue
import queue


def child(q, i):
    q.put(f"message from child {i}")


if __name__ == '__main__':
    q = Queue()
    ps = [Process(target=child, args=(q, i)) for i in range(3)]
    for p in ps:
        p.start()
    for _ in range(3):
        print(q.get())
    for p in ps:
        p.join()
    b = Queue(3)
    for i in range(3):
        b.put(i)
    try:
        b.put(3, timeout=0.1)
    except queue.Full:
        print("put timed out: the queue holds 3")
    print([b.get() for _ in range(3)])
    try:
        b.get(timeout=0.1)
    except queue.Empty:
        print("get timed out: the queue is empty")
