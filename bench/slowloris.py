#!/usr/bin/env python3
"""bench/slowloris.py: keeps N connections to HOST:PORT trickling a request head, one byte every
--interval seconds, never finishing it; a connection the proxy closes (its header timeout) is
opened again. Prints "READY open=N" once all are open, then "STATUS open=N reopened=M" every 5 s,
and stops after --seconds. Only loopback addresses are accepted. Every wait is bounded."""
import argparse
import errno
import resource
import selectors
import socket
import sys
import time

HEAD = b"GET /slow HTTP/1.1\r\nHost: slow.test\r\nUser-Agent: slowloris\r\nX-Trickle: "


def main():
    p = argparse.ArgumentParser()
    p.add_argument("host")
    p.add_argument("port", type=int)
    p.add_argument("--connections", type=int, default=5000)
    p.add_argument("--interval", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=60)
    a = p.parse_args()
    if not a.host.startswith("127."):
        sys.exit("slowloris: loopback addresses only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, a.connections + 1024), hard))

    sel = selectors.DefaultSelector()
    conns = {}  # socket -> bytes of the head sent so far
    reopened = 0

    def open_one():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((a.host, a.port))
        sel.register(s, selectors.EVENT_READ)
        conns[s] = 0

    def drop(s):
        sel.unregister(s)
        conns.pop(s, None)
        s.close()

    start = time.monotonic()
    while len(conns) < a.connections and time.monotonic() - start < 60:
        for _ in range(min(200, a.connections - len(conns))):
            open_one()
        time.sleep(0.05)  # in waves: the listen backlog never overflows
    print(f"READY open={len(conns)}", flush=True)

    next_trickle = next_status = time.monotonic()
    end = start + a.seconds
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            s = key.fileobj
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data or b"\r\n" in data:  # closed or answered (408): open another
                drop(s)
                open_one()
                reopened += 1
        now = time.monotonic()
        if now >= next_trickle:
            next_trickle = now + a.interval
            for s in list(conns):
                sent = conns[s]
                piece = HEAD[sent:sent + 1] if sent < len(HEAD) else b"a"
                try:
                    s.send(piece)
                    conns[s] = sent + 1
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError as e:
                    if e.errno == errno.ENOTCONN:  # still connecting
                        continue
                    drop(s)
                    open_one()
                    reopened += 1
        if now >= next_status:
            next_status = now + 5
            print(f"STATUS open={len(conns)} reopened={reopened}", flush=True)
    for s in list(conns):
        drop(s)


if __name__ == "__main__":
    main()
