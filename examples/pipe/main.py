from multiprocessing import Process, Pipe


def child(conn):
    conn.send("hello from the child")
    while (msg := conn.recv()) != "bye":
        conn.send(msg.upper())
    conn.close()


if __name__ == '__main__':
    parent_conn, child_conn = Pipe()
    p = Process(target=child, args=(child_conn,))
    p.start()
    child_conn.close()  # the child keeps its copy
    print(parent_conn.recv())
    for word in ("ping", "pong"):
        parent_conn.send(word)
        print(parent_conn.recv())
    parent_conn.send("bye")
    try:
        parent_conn.recv()
    except EOFError:
        print("EOF: the child closed its end")
    p.join()
