from multiprocessing import Process, Event


def blocking(e):
    e.wait()
    print("blocking waiter: the event is set")


def with_timeout(e):
    print("timeout waiter: wait(0.1) returned", e.wait(0.1))


if __name__ == '__main__':
    e = Event()
    b, t = Process(target=blocking, args=(e,)), Process(target=with_timeout, args=(e,))
    b.start()
    t.start()
    t.join()
    print("main: setting the event")
    e.set()
    b.join()
