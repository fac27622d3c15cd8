#!/usr/bin/env python3
"""bench/ws_bench.py: the WebSocket ends of bench/websocket.sh, on plain non-blocking sockets and one
epoll loop each (no asyncio), so that they take as little of core 1 as they can.

  echo --port P                 the upstream: answers a handshake with 101 (Sec-WebSocket-Accept)
                                and echoes every frame unmasked (a close with a close); a plain GET
                                gets 200 "ok" (the bench's readiness checks). Runs until killed.
  idle --port P -n N            through a proxy: N connections, each a handshake (the 101 and its
                                Accept checked) and one echoed message, then held idle. Prints
                                "READY ok=N failed=M", holds until stdin closes or --hold s pass,
                                then "DONE dropped=D" (connections the proxy closed meanwhile).
  load --port P -c C -d S       C connections, each sending a message and waiting for its echo
                                again and again for S seconds. Prints "RESULT roundtrips=N
                                seconds=S p50_us= p90_us= p99_us= max_us= errors=E".

Messages are binary, --size bytes (64), masked by the client as RFC 6455 requires. Every wait is
bounded; nothing but 127.0.0.1 is used.
"""
import argparse
import base64
import hashlib
import os
import resource
import selectors
import socket
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_of(key):
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(payload, mask=None, opcode=2):
    """One final frame; masked with the 4-byte `mask` (a client's) or not (a server's)."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    elif n < 65536:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([bit | 127]) + n.to_bytes(8, "big")
    if not mask:
        return head + payload
    return head + mask + xor(payload, mask)


def xor(data, mask):
    n = len(data)
    if not n:
        return b""
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---- echo: the upstream -------------------------------------------------------------------------

class Peer:
    __slots__ = ("sock", "buf", "out", "ws", "writing")

    def __init__(self, sock):
        self.sock, self.buf, self.out, self.ws, self.writing = sock, bytearray(), b"", False, False


def echo_frames(p):
    """Echoes the whole frames in p.buf; returns False once a close was answered."""
    buf, pos, replies, alive = p.buf, 0, [], True
    while len(buf) - pos >= 2:
        b0, b1 = buf[pos], buf[pos + 1]
        n, at = b1 & 0x7F, pos + 2
        if n == 126:
            if len(buf) - at < 2:
                break
            n, at = int.from_bytes(buf[at:at + 2], "big"), at + 2
        elif n == 127:
            if len(buf) - at < 8:
                break
            n, at = int.from_bytes(buf[at:at + 8], "big"), at + 8
        mask = bytes(buf[at:at + 4]) if b1 & 0x80 else None
        at += 4 if mask else 0
        if len(buf) - at < n:
            break
        payload = bytes(buf[at:at + n])
        if mask:
            payload = xor(payload, mask)
        pos = at + n
        opcode = b0 & 0x0F
        if opcode == 9:  # ping -> pong
            replies.append(frame(payload, opcode=10))
        elif opcode == 8:  # close -> close, then the connection ends
            replies.append(frame(payload[:2], opcode=8))
            alive = False
            break
        elif opcode != 10:
            replies.append(bytes([b0]) + frame(payload)[1:])  # same FIN and opcode, unmasked
    del buf[:pos]
    p.out += b"".join(replies)
    return alive


def handshake_answer(p):
    """The 101 (or the 200 of a plain GET) for the request head in p.buf, or None for more bytes."""
    end = p.buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = bytes(p.buf[:end]).decode("latin-1").split("\r\n")
    del p.buf[:end + 4]
    fields = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    key = fields.get("sec-websocket-key")
    if key and "websocket" in fields.get("upgrade", "").lower():
        p.ws = True
        return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Accept: " + accept_of(key.encode()) + b"\r\n\r\n")
    return b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\nok\n"


def serve_echo(port):
    raise_nofile(1 << 20)
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", port))
    ls.listen(4096)
    ls.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ, None)
    while True:
        for key, mask in sel.select():
            if key.data is None:
                for _ in range(64):
                    try:
                        s, _ = ls.accept()
                    except BlockingIOError:
                        break
                    s.setblocking(False)
                    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    sel.register(s, selectors.EVENT_READ, Peer(s))
                continue
            p, alive = key.data, True
            try:
                if mask & selectors.EVENT_READ:
                    data = p.sock.recv(262144)
                    if not data:
                        raise OSError("closed")
                    p.buf += data
                    while not p.ws:
                        answer = handshake_answer(p)
                        if answer is None:
                            break
                        p.out += answer
                    if p.ws:
                        alive = echo_frames(p)
                if p.out:
                    p.out = p.out[p.sock.send(p.out):]
                if bool(p.out) != p.writing:  # wait for room only while something is left to send
                    p.writing = bool(p.out)
                    sel.modify(p.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if p.writing else 0), p)
                if not alive and not p.out:
                    raise OSError("closed")
            except OSError:
                sel.unregister(p.sock)
                p.sock.close()


# ---- clients: idle and load -----------------------------------------------------------------------

class Client:
    __slots__ = ("sock", "out", "buf", "key", "state", "frame", "echo", "sent_at")

    def __init__(self, addr, size):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setblocking(False)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.connect_ex(addr)
        self.key = base64.b64encode(os.urandom(16))
        self.out = (b"GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n"
                    b"User-Agent: vane-bench-ws\r\n\r\n" % (addr[0].encode(), addr[1], self.key))
        payload = os.urandom(size)
        self.frame, self.echo = frame(payload, os.urandom(4)), frame(payload)
        self.buf, self.state, self.sent_at = b"", "handshake", 0

    def received(self, data):
        """Takes what came; returns True when the step in progress (101, or an echo) is complete."""
        self.buf += data
        if self.state == "handshake":
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return False
            head = self.buf[:end].lower()
            if not head.startswith(b"http/1.1 101"):
                raise OSError("not a 101: " + self.buf[:40].decode(errors="replace"))
            if b"sec-websocket-accept: " + accept_of(self.key).lower() not in head:
                raise OSError("wrong or no Sec-WebSocket-Accept")
            self.buf, self.state = self.buf[end + 4:], "open"
            return True
        if len(self.buf) < len(self.echo):
            return False
        if self.buf != self.echo:
            raise OSError("echo differs from the message (%d bytes back)" % len(self.buf))
        self.buf = b""
        return True

    def send(self, data):
        self.out = data
        self.out = self.out[self.sock.send(self.out):]


def run_clients(sel, clients, deadline, on_step):
    """Drives connects, handshakes and echoes until every client is done or failed, or the
    deadline. on_step(client) is called at each completed 101 and echo; it returns True to go on
    (it sent the next message), False when that client is done. Returns (done, failed)."""
    for c in clients:
        sel.register(c.sock, selectors.EVENT_WRITE, c)
    pending, done, failed = len(clients), [], 0
    while pending and time.monotonic() < deadline:
        for key, mask in sel.select(timeout=0.2):
            c = key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    if c.state == "handshake" and c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        raise OSError("connect failed")
                    c.out = c.out[c.sock.send(c.out):]
                    if not c.out:
                        sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(65536)
                if not data:
                    raise OSError("closed by the proxy")
                if c.received(data) and not on_step(c):
                    sel.unregister(c.sock)
                    done.append(c)
                    pending -= 1
                elif c.out:
                    sel.modify(c.sock, selectors.EVENT_WRITE, c)
            except OSError as e:
                failed += 1
                pending -= 1
                if failed <= 3:
                    print("ws_bench: " + str(e), file=sys.stderr)
                sel.unregister(c.sock)
                c.sock.close()
    for key in list(sel.get_map().values()):  # timed out
        if isinstance(key.data, Client) and key.data not in done:
            sel.unregister(key.fileobj)
            key.fileobj.close()
    return done, failed


def idle(a):
    n = min(a.connections, raise_nofile(a.connections + 64) - 64)
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + a.timeout
    held = []

    def step(c):  # after the 101: one message; after its echo: done
        if c.state == "open" and not c.sent_at:
            c.sent_at = 1
            c.send(c.frame)
            return True
        return False

    while len(held) < n and time.monotonic() < deadline:
        wave = [Client((a.host, a.port), a.size) for _ in range(min(a.wave, n - len(held)))]
        done, failed = run_clients(sel, wave, deadline, step)
        held += done
        if failed and not done:
            break
    print("READY ok=%d failed=%d" % (len(held), n - len(held)), flush=True)
    for c in held:
        sel.register(c.sock, selectors.EVENT_READ, c)
    sel.register(sys.stdin, selectors.EVENT_READ, None)
    end, dropped = time.monotonic() + a.hold, 0
    while time.monotonic() < end:
        events = sel.select(timeout=max(0.0, min(1.0, end - time.monotonic())))
        if any(key.data is None for key, _ in events):
            break
        for key, _ in events:
            try:
                data = key.fileobj.recv(4096)
            except OSError:
                data = b""
            if not data:
                dropped += 1
                sel.unregister(key.fileobj)
    print("DONE dropped=%d" % dropped, flush=True)
    for c in held:
        c.sock.close()


def load(a):
    raise_nofile(a.connections + 64)
    sel = selectors.DefaultSelector()
    times = []
    start = time.monotonic()
    end = start + a.duration

    def step(c):  # after the 101 and after each echo: the next message, until the end
        now = time.monotonic_ns()
        if c.sent_at:
            times.append(now - c.sent_at)
        if now >= end * 1e9:
            return False
        c.sent_at = now
        c.send(c.frame)
        return True

    done, failed = run_clients(sel, [Client((a.host, a.port), a.size) for _ in range(a.connections)],
                               end + 10, step)
    seconds = time.monotonic() - start
    for c in done:
        c.sock.close()
    times.sort()
    q = (lambda f: times[min(len(times) - 1, int(len(times) * f))] // 1000) if times else (lambda f: 0)
    print("RESULT roundtrips=%d seconds=%.3f p50_us=%d p90_us=%d p99_us=%d max_us=%d errors=%d" % (
        len(times), seconds, q(0.5), q(0.9), q(0.99), q(1.0), failed), flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=("echo", "idle", "load"))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", "-c", "--connections", type=int, default=50)
    ap.add_argument("-d", "--duration", type=float, default=10, help="load: seconds")
    ap.add_argument("--size", type=int, default=64, help="message bytes")
    ap.add_argument("--wave", type=int, default=250, help="idle: connections opened at a time")
    ap.add_argument("--timeout", type=float, default=60, help="idle: seconds to open them all")
    ap.add_argument("--hold", type=float, default=60, help="idle: seconds to hold them at most")
    a = ap.parse_args()
    if a.host not in ("127.0.0.1", "localhost"):
        sys.exit("ws_bench: loopback only")
    {"echo": lambda: serve_echo(a.port), "idle": lambda: idle(a), "load": lambda: load(a)}[a.mode]()


if __name__ == "__main__":
    main()
