import concurrent.futures
import random
import sys
import time


def work(n):
    time.sleep(random.random() / 10)
    return n * n


if __name__ == '__main__':
    Executor = concurrent.futures.ProcessPoolExecutor
    if "-threads" in sys.argv:
        Executor = concurrent.futures.ThreadPoolExecutor  # the one line that changes
    with Executor(max_workers=5) as ex:
        fs = [ex.submit(work, n) for n in range(5)]
        for f in concurrent.futures.as_completed(fs):
            print("completed", f.result())
        print(list(ex.map(work, range(5))))
