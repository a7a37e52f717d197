from multiprocessing import Process, Value, Lock
import sys
import time


def buyer(stock, sold, lock, locked):
    for _ in range(20):
        if locked:
            lock.acquire()
        if stock.value > 0:
            time.sleep(0.001)  # the payment
            stock.value -= 1
            with sold.get_lock():
                sold.value += 1
        if locked:
            lock.release()


if __name__ == '__main__':
    locked = "-unlocked" not in sys.argv
    stock, sold, lock = Value('q', 100, lock=False), Value('q', 0), Lock()
    ps = [Process(target=buyer, args=(stock, sold, lock, locked)) for _ in range(10)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(f"sold {sold.value} of 100 tickets, stock {stock.value}")
