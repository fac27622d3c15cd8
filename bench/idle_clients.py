#!/usr/bin/env python3
"""bench/idle_clients.py: opens N keep-alive client connections to HOST:PORT, sends one request on
each and reads its whole response (or only connects, with --connect-only), then holds them all open
and idle. Prints "READY ok=N failed=M" once done, then holds until stdin closes or --hold seconds
pass. Connections are made in waves so the listen backlog never overflows. Every wait is bounded.
--h2: HTTP/2 with prior knowledge instead: the preface, an empty SETTINGS and one GET on stream 1
(HEADERS with END_STREAM); the server's SETTINGS is acknowledged; done at the END_STREAM of stream 1,
whose :status must be 200."""
import argparse
import resource
import selectors
import socket
import struct
import sys
import time

H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS_ACK = struct.pack(">I", 0)[1:] + bytes([4, 1]) + struct.pack(">I", 0)


def h2_frame(ftype, flags, stream, payload):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(">I", stream) + payload


def h2_request(host, port):
    """Preface, empty SETTINGS, HEADERS of GET / on stream 1 (END_STREAM | END_HEADERS). HPACK: the
    static table's :method GET (2), :scheme http (6), :path / (4); :authority (1) and user-agent (58)
    as literals without indexing."""
    authority, agent = ("%s:%d" % (host, port)).encode(), b"vane-bench-idle"
    block = bytes([0x82, 0x86, 0x84, 0x01, len(authority)]) + authority
    block += bytes([0x0F, 58 - 15, len(agent)]) + agent
    return H2_PREFACE + h2_frame(4, 0, 0, b"") + h2_frame(1, 0x05, 1, block)


def h2_response_done(c):
    """Reads the frames received so far (c.need: where the next one starts): acknowledges SETTINGS
    and PING, checks stream 1's :status (HPACK static index 8 = 200), True at its END_STREAM."""
    pos = c.need or 0
    while len(c.buf) - pos >= 9:
        length = int.from_bytes(c.buf[pos:pos + 3], "big")
        ftype, flags, stream = c.buf[pos + 3], c.buf[pos + 4], int.from_bytes(c.buf[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        if len(c.buf) - pos - 9 < length:
            break
        payload = c.buf[pos + 9:pos + 9 + length]
        pos += 9 + length
        c.need = pos
        if ftype == 4 and not flags & 1:
            c.sock.send(SETTINGS_ACK)  # 9 bytes: always fit in the empty send buffer
        elif ftype == 6 and not flags & 1:
            c.sock.send(h2_frame(6, 1, 0, payload))
        elif ftype == 7:
            raise OSError("GOAWAY from the proxy")
        elif ftype == 3 and stream == 1:
            raise OSError("RST_STREAM on the request")
        elif stream == 1 and ftype in (0, 1):
            if ftype == 1:
                skip = (1 + payload[0] if flags & 0x8 else 0) + (5 if flags & 0x20 else 0)
                while skip < len(payload) and payload[skip] & 0xE0 == 0x20:  # a table size update
                    prefix = payload[skip] & 0x1F
                    skip += 1
                    if prefix == 0x1F:  # the size goes on in 7-bit groups (RFC 7541 §5.1)
                        while payload[skip] & 0x80:
                            skip += 1
                        skip += 1
                if payload[skip:skip + 1] != b"\x88":
                    raise OSError("not a 200: HPACK %r" % payload[skip:skip + 8])
            if flags & 1:
                return True
    return False


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < need:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(need, hard), hard))
        except (ValueError, OSError):
            pass
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


class Conn:
    __slots__ = ("sock", "out", "buf", "need")

    def __init__(self, sock, request):
        self.sock, self.out, self.buf, self.need = sock, request, b"", None


def response_done(c):
    """True once the head and Content-Length bytes of body have arrived."""
    if c.need is None:
        end = c.buf.find(b"\r\n\r\n")
        if end < 0:
            return False
        length = 0
        for line in c.buf[:end].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        c.need = end + 4 + length
    return len(c.buf) >= c.need


IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h: the port is picked at connect, per destination


def run_wave(sel, count, addr, request, deadline, h2=False, sources=0, first=0):
    """Opens `count` connections and finishes their exchanges; returns (open sockets, failures).
    sources > 0: the i-th connection comes from 127.0.0.(2 + i % sources), so more than one
    address's ephemeral ports (about 28,000) can reach one port."""
    pending, done, failed = {}, [], 0
    for i in range(first, first + count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if sources:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind(("127.0.0.%d" % (2 + i % sources), 0))
        s.connect_ex(addr)
        c = Conn(s, request)
        pending[s.fileno()] = c
        sel.register(s, selectors.EVENT_WRITE, c)
    while pending and time.monotonic() < deadline:
        for key, mask in sel.select(timeout=0.5):
            c = key.data
            try:
                if mask & selectors.EVENT_WRITE:
                    if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                        raise OSError("connect failed")
                    if c.out:
                        c.out = c.out[c.sock.send(c.out):]
                    if not c.out:
                        if not request:  # connect only
                            sel.unregister(c.sock)
                            done.append(c.sock)
                            del pending[c.sock.fileno()]
                        else:
                            sel.modify(c.sock, selectors.EVENT_READ, c)
                    continue
                data = c.sock.recv(65536)
                if not data:
                    raise OSError("closed by the proxy")
                c.buf += data
                if (h2_response_done(c) if h2 else response_done(c)):
                    if not h2 and not c.buf.startswith(b"HTTP/1.1 200"):
                        raise OSError("not a 200: " + c.buf[:40].decode(errors="replace"))
                    sel.unregister(c.sock)
                    done.append(c.sock)
                    del pending[c.sock.fileno()]
            except (OSError, ValueError) as e:
                failed += 1
                if failed <= 3:
                    print("idle_clients: " + str(e), file=sys.stderr)
                sel.unregister(c.sock)
                del pending[c.sock.fileno()]
                c.sock.close()
    for c in pending.values():  # timed out
        sel.unregister(c.sock)
        c.sock.close()
    return done, failed + len(pending)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("-n", "--connections", type=int, default=10000)
    ap.add_argument("--wave", type=int, default=250, help="connections opened at a time")
    ap.add_argument("--timeout", type=float, default=60, help="seconds to open them all")
    ap.add_argument("--hold", type=float, default=60, help="seconds to hold them at most")
    ap.add_argument("--connect-only", action="store_true", help="send no request")
    ap.add_argument("--h2", action="store_true", help="HTTP/2 with prior knowledge (preface, SETTINGS, one GET)")
    ap.add_argument("--sources", type=int, default=0, help="client addresses 127.0.0.2.. to spread over")
    a = ap.parse_args()

    limit = raise_nofile(a.connections + 64)
    n = min(a.connections, limit - 64)
    if n < a.connections:
        print("idle_clients: open files limit %d, opening %d" % (limit, n), file=sys.stderr)
    request = b"" if a.connect_only else h2_request(a.host, a.port) if a.h2 else (
        "GET / HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: vane-bench-idle\r\n\r\n" % (a.host, a.port)).encode()
    sel = selectors.DefaultSelector()
    deadline = time.monotonic() + a.timeout
    held, failed = [], 0
    while len(held) + failed < n and time.monotonic() < deadline:
        done, bad = run_wave(sel, min(a.wave, n - len(held) - failed), (a.host, a.port), request, deadline, a.h2,
                             a.sources, len(held) + failed)
        held += done
        failed += bad
    print("READY ok=%d failed=%d" % (len(held), n - len(held)), flush=True)

    # Hold: idle until the caller closes stdin, or --hold passes; notice connections the proxy drops.
    for s in held:
        sel.register(s, selectors.EVENT_READ)
    sel.register(sys.stdin, selectors.EVENT_READ)
    end, dropped = time.monotonic() + a.hold, 0
    while time.monotonic() < end:
        events = sel.select(timeout=max(0.0, min(1.0, end - time.monotonic())))
        if any(key.fileobj is sys.stdin for key, _ in events):
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
    for s in held:
        s.close()


if __name__ == "__main__":
    main()
