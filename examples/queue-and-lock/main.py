from multiprocessing import Process, Queue, Lock, Value


def worker(jobs, lock, total):
    n = 0
    while (job := jobs.get()) >= 0:
        with lock:
            total.value += job
        n += 1
    print(f"worker: did {n} jobs")


if __name__ == '__main__':
    jobs, lock, total = Queue(), Lock(), Value('q', 0, lock=False)
    p = Process(target=worker, args=(jobs, lock, total))
    p.start()
    for job in range(1, 11):
        jobs.put(job)
    jobs.put(-1)  # no more jobs
    p.join()
    print(f"parent: total = {total.value}")
