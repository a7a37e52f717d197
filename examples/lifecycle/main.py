from multiprocessing import Process
import time


def sleeper():
    time.sleep(60)


if __name__ == '__main__':
    p = Process(target=sleeper)
    print("before start: alive", p.is_alive())
    p.start()
    print("started: alive", p.is_alive())
    p.terminate()
    p.join()
    print("terminated: alive", p.is_alive(), "exit code", p.exitcode)
    d = Process(target=sleeper, daemon=True)
    d.start()
    print("daemon pid", d.pid, "dies with this process")
