from multiprocessing import Pool, TimeoutError
import time


def square(x):
    return x * x


def nap(x):
    time.sleep(1)
    return x


if __name__ == '__main__':
    with Pool(5) as pool:
        print(pool.map(square, range(10)))
        rs = [pool.apply_async(square, (i,), callback=lambda r: print("callback got", r)) for i in range(10)]
        print(sorted(r.get(timeout=5) for r in rs))
        try:
            pool.apply_async(nap, (1,)).get(timeout=0.1)
        except TimeoutError:
            print("get timed out")
        pool.close()
        pool.join()
