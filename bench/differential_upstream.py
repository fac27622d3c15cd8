#!/usr/bin/env python3
"""The upstream of the differential run: records every byte each proxy sends it, per connection.

It answers the first request of a connection by the strict reading (200, or 400 when unreadable),
always with "Connection: close", then keeps reading what else arrives on that connection (bytes a
proxy sent after the request it meant: a smuggled request shows up there) until the proxy closes or
a short grace period ends. One record per connection.

A control port serves the runner: "DRAIN\\n" waits (bounded) until no proxied connection is open,
then answers the records since the last drain as one JSON line.

Usage: differential_upstream.py --port N --control-port M
"""

import argparse
import json
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.path[0])
from differential_http import read_requests  # noqa: E402

GRACE_S = 0.5       # how long to keep reading after the answer
IDLE_LIMIT_S = 5.0  # a connection that sends nothing for this long is closed
lock = threading.Lock()
records, open_count = [], [0]


def answer(sock, status, seen):
    body = ("seen %s\n" % seen).encode("latin1", "replace")
    reason = b"OK" if status == 200 else b"Bad Request"
    head = b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % (
        status, reason, len(body))
    try:
        sock.sendall(head + body)
    except OSError:
        pass


def serve(sock):
    raw, answered, deadline = b"", False, time.monotonic() + IDLE_LIMIT_S
    sock.settimeout(0.05)
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        except OSError:
            break
        if not data:
            break
        raw += data
        if answered:
            continue
        requests, note = read_requests(raw)
        if requests and requests[0]["complete"]:
            answer(sock, 200, "%s %s" % (requests[0]["method"], requests[0]["target"]))
        elif note.startswith("unreadable"):
            answer(sock, 400, note)
        else:
            deadline = time.monotonic() + IDLE_LIMIT_S
            continue
        answered, deadline = True, time.monotonic() + GRACE_S
    sock.close()
    with lock:
        records.append({"raw": raw.decode("latin1"), "answered": answered})
        open_count[0] -= 1


def accept_loop(listener):
    while True:
        sock, _ = listener.accept()
        with lock:
            open_count[0] += 1
        threading.Thread(target=serve, args=(sock,), daemon=True).start()


def control_loop(listener):
    while True:
        sock, _ = listener.accept()
        with sock:
            sock.recv(64)
            deadline = time.monotonic() + 3.0
            while time.monotonic() < deadline:
                with lock:
                    if open_count[0] == 0:
                        break
                time.sleep(0.01)
            with lock:
                out = json.dumps({"records": records[:], "still_open": open_count[0]})
                records.clear()
            sock.sendall(out.encode() + b"\n")


def listen(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    return s


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--control-port", type=int, required=True)
    args = p.parse_args()
    threading.Thread(target=control_loop, args=(listen(args.control_port),), daemon=True).start()
    accept_loop(listen(args.port))


if __name__ == "__main__":
    main()
