from multiprocessing import Process, Semaphore, Value
import time


def user(i, rooms, inside, most):
    with rooms:
        with inside.get_lock():
            inside.value += 1
            most.value = max(most.value, inside.value)
        print(f"user {i} is in a room")
        time.sleep(0.05)
        with inside.get_lock():
            inside.value -= 1


if __name__ == '__main__':
    rooms, inside, most = Semaphore(2), Value('i', 0), Value('i', 0)
    ps = [Process(target=user, args=(i, rooms, inside, most)) for i in range(5)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    print(f"at most {most.value} users were in the rooms at once")
