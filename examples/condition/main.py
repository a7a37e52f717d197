from multiprocessing import Process, Condition, Value


def stage1(cond, stage):
    with cond:
        print("stage 1 done")
        stage.value = 1
        cond.notify_all()


def stage2(cond, stage):
    with cond:
        cond.wait_for(lambda: stage.value >= 1)
        print("stage 2 done")


if __name__ == '__main__':
    cond, stage = Condition(), Value('i', 0)
    s2 = Process(target=stage2, args=(cond, stage))
    s1 = Process(target=stage1, args=(cond, stage))
    s2.start()
    s1.start()
    s1.join()
    s2.join()
