from multiprocessing import Process, current_process
import os


def hello(i):
    print(f"hello {i} from {current_process().name}, pid {os.getpid()}, parent {os.getppid()}")


class Greeter(Process):
    def __init__(self, who):
        super().__init__()
        self.who = who

    def run(self):
        print(f"hi {self.who} from {self.name}, pid {os.getpid()}, parent {os.getppid()}")


if __name__ == '__main__':
    print(f"parent pid {os.getpid()}")
    ps = [Process(target=hello, args=(i,)) for i in range(5)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    g = Greeter("bob")
    g.start()
    g.join()
