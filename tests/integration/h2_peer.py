#!/usr/bin/python3
"""A hostile HTTP/2 client (Debian's python3-h2 frames) for the protocol tests.

h2_peer.py MODE PORT: runs one attack against 127.0.0.1:PORT and prints what the server did,
one line: "goaway CODE", "rst STREAM CODE", "closed" or "nothing". Modes:
  bad-preface    an HTTP/1.1-looking preface on an h2 connection
  rapid-reset    opens and cancels 3000 streams at once (CVE-2023-44487)
  continuation   one header block in endless CONTINUATION frames
  ping-flood     PINGs without reading an answer, until the server ends it (400000 at most)
  settings-flood SETTINGS frames likewise
  streams N      opens N+1 streams to a slow path; reports the first refused one
  closed-stream  sends DATA on a stream the client already ended
  bad-hpack      a HEADERS frame whose header block is no valid HPACK
  idle-apart S   two requests on one connection, S seconds apart: "statuses A B"
  zero-window    asks for a large body with SETTINGS_INITIAL_WINDOW_SIZE 0 and never opens it
  slow-reader N  asks for a large body on N streams, reads nothing for 5 s, then reports
                 "reset K CODES" (K streams reset, their codes), or a GOAWAY or the close
"""
import socket
import sys
import time

from hpack import Decoder, Encoder
from hyperframe.frame import (ContinuationFrame, DataFrame, Frame, GoAwayFrame, HeadersFrame, PingFrame,
                              RstStreamFrame, SettingsFrame)

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def connect(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def request_headers(encoder, path="/"):
    return encoder.encode([(":method", "GET"), (":scheme", "http"), (":authority", "h2.test"),
                           (":path", path)])


def frames(s, deadline):
    """The server's frames as they come, until the deadline; then "closed" when it closed."""
    s.settimeout(0.5)
    buffer = b""
    end = time.time() + deadline
    while time.time() < end:
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        if not data:
            yield "closed"
            return
        buffer += data
        while len(buffer) >= 9:
            frame, length = Frame.parse_frame_header(memoryview(buffer[:9]))
            if len(buffer) < 9 + length:
                break
            frame.parse_body(memoryview(buffer[9:9 + length]))
            buffer = buffer[9 + length:]
            yield frame


def outcome(s, deadline=10.0, wanted_stream=None):
    """Reads frames until a GOAWAY, a matching RST_STREAM, the close, or the deadline."""
    for frame in frames(s, deadline):
        if frame == "closed":
            return frame
        if isinstance(frame, GoAwayFrame):
            return f"goaway {frame.error_code}"
        if isinstance(frame, RstStreamFrame) and wanted_stream in (None, frame.stream_id):
            return f"rst {frame.stream_id} {frame.error_code}"
    return "nothing"


def resets(s, n, deadline=10.0):
    """Reads frames until n streams were reset, a GOAWAY, the close, or the deadline."""
    codes = {}
    for frame in frames(s, deadline):
        if frame == "closed":
            return frame
        if isinstance(frame, GoAwayFrame):
            return f"goaway {frame.error_code}"
        if isinstance(frame, RstStreamFrame):
            codes[frame.error_code] = codes.get(frame.error_code, 0) + 1
            if sum(codes.values()) == n:
                break
    return f"reset {sum(codes.values())} " + ",".join(str(c) for c in sorted(codes))


def send_all(s, batch):
    """False once the server has closed or reset the connection."""
    try:
        s.sendall(b"".join(f.serialize() for f in batch))
        return True
    except (ConnectionResetError, BrokenPipeError, socket.timeout):
        return False


def main():
    mode, port = sys.argv[1], int(sys.argv[2])
    s = connect(port)
    encoder = Encoder()
    if mode == "bad-preface":
        s.sendall(b"PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n" + SettingsFrame(0).serialize())
        print(outcome(s))
        return
    s.sendall(PREFACE + SettingsFrame(0).serialize())
    if mode == "rapid-reset":
        batch = []
        for i in range(3000):
            stream = 1 + 2 * i
            batch.append(HeadersFrame(stream, request_headers(encoder), flags=["END_HEADERS", "END_STREAM"]))
            batch.append(RstStreamFrame(stream, error_code=8))  # CANCEL
        send_all(s, batch)
        print(outcome(s))
    elif mode == "continuation":
        block = request_headers(encoder)
        batch = [HeadersFrame(1, block, flags=["END_STREAM"])]
        filler = Encoder().encode([("x-filler", "a" * 100)])
        batch += [ContinuationFrame(1, filler) for _ in range(2000)]
        send_all(s, batch)
        print(outcome(s))
    elif mode in ("ping-flood", "settings-flood"):
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        make = (lambda i: PingFrame(0, opaque_data=i.to_bytes(8, "big"))) if mode == "ping-flood" \
            else (lambda i: SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 65535}))
        batch = b"".join(make(i).serialize() for i in range(2000))
        for _ in range(200):
            try:
                s.sendall(batch)
            except (ConnectionResetError, BrokenPipeError, socket.timeout):
                break
        print(outcome(s))
    elif mode == "streams":
        n = int(sys.argv[3])
        batch = [HeadersFrame(1 + 2 * i, request_headers(encoder, "/slow?delay_ms=3000"),
                               flags=["END_HEADERS", "END_STREAM"]) for i in range(n + 1)]
        send_all(s, batch)
        print(outcome(s, 5.0, 1 + 2 * n))
    elif mode == "closed-stream":
        send_all(s, [HeadersFrame(1, request_headers(encoder), flags=["END_HEADERS", "END_STREAM"]),
                     DataFrame(1, b"late")])
        print(outcome(s))
    elif mode == "bad-hpack":
        send_all(s, [HeadersFrame(1, b"\xff\xff\xff\xff\xff\xff", flags=["END_HEADERS", "END_STREAM"])])
        print(outcome(s))
    elif mode == "idle-apart":
        decoder, statuses = Decoder(), []
        for stream in (1, 3):
            if stream == 3:
                time.sleep(float(sys.argv[3]))
            send_all(s, [HeadersFrame(stream, request_headers(encoder, f"/apart{stream}"),
                                      flags=["END_HEADERS", "END_STREAM"])])
            for frame in frames(s, 10.0):
                if frame == "closed" or isinstance(frame, GoAwayFrame):
                    statuses.append(str(frame))
                    break
                if isinstance(frame, HeadersFrame) and frame.stream_id == stream:
                    statuses.append(dict(decoder.decode(frame.data)).get(":status", "?"))
                if isinstance(frame, SettingsFrame) and "ACK" not in frame.flags:
                    send_all(s, [SettingsFrame(0, flags=["ACK"])])
                if getattr(frame, "stream_id", 0) == stream and "END_STREAM" in frame.flags:
                    break
        print("statuses " + " ".join(statuses))
    elif mode == "zero-window":
        s.sendall(SettingsFrame(0, settings={SettingsFrame.INITIAL_WINDOW_SIZE: 0}).serialize())
        send_all(s, [HeadersFrame(1, request_headers(encoder, "/big?body_bytes=1000000"),
                                  flags=["END_HEADERS", "END_STREAM"])])
        print(outcome(s, 10.0, 1))
    elif mode == "slow-reader":
        n = int(sys.argv[3])
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        send_all(s, [HeadersFrame(1 + 2 * i, request_headers(encoder, "/big?body_bytes=1000000"),
                                  flags=["END_HEADERS", "END_STREAM"]) for i in range(n)])
        time.sleep(5)
        print(resets(s, n))
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
