#!/usr/bin/env python3
"""bench/cluster_traffic.py — light paced traffic for bench/cluster_etcd_load.sh --rps: GETs to
every replica's listener at RATE requests/s each for SECONDS, the paths taken in turn, one
keep-alive connection per replica, all from one process. Prints "sent N ok N failed N" (ok = 2xx).

  cluster_traffic.py --rate 50 --seconds 60 --path /app0/ --path /app1/ ... HOST:PORT ...
"""
import argparse
import socket
import time


def get(sock, buf, path):
    """One GET on a keep-alive connection: (status, leftover bytes). Content-Length bodies only."""
    sock.sendall(("GET %s HTTP/1.1\r\nHost: bench\r\n\r\n" % path).encode())
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(buf) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return int(lines[0].split()[1]), buf[length:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, required=True, help="requests/s to each replica")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--path", action="append", required=True)
    ap.add_argument("listeners", nargs="+")
    a = ap.parse_args()
    conns = []
    for address in a.listeners:
        host, port = address.rsplit(":", 1)
        conns.append([address, socket.create_connection((host, int(port)), timeout=5), b""])
    sent = ok = failed = 0
    start = time.monotonic()
    tick = 1.0 / a.rate
    k = 0
    while time.monotonic() - start < a.seconds:
        due = start + k * tick
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        path = a.path[k % len(a.path)]
        for c in conns:
            sent += 1
            try:
                status, c[2] = get(c[1], c[2], path)
                ok += 200 <= status < 300
                failed += not 200 <= status < 300
            except (OSError, ValueError):
                failed += 1
                host, port = c[0].rsplit(":", 1)
                c[1], c[2] = socket.create_connection((host, int(port)), timeout=5), b""
        k += 1
    print("sent %d ok %d failed %d" % (sent, ok, failed))


if __name__ == "__main__":
    main()
