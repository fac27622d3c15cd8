#!/usr/bin/python3
"""An HTTP/2 upstream server (Debian's python3-h2 on asyncio) for the proxy tests.

h2_upstream.py [--tls CERT KEY] [--port N] [--name NAME]: listens on 127.0.0.1:N (0, the default,
picks a free port), prints "port N" once listening and serves until killed. Plain mode speaks
HTTP/2 with prior knowledge; --tls speaks it over TLS, offering only ALPN "h2".

Each request is answered once its body has ended; the :path query controls the answer:
  status=N    the status (200)          delay_ms=M  waits M ms first (other streams go on)
  size=B      a body of B bytes of 'x'  (else "NAME ok\\n")
  trailers=1  trailers "x-trailer: yes" and "x-sum: <request body length>" after the body
  echo=1      the request body as the answer, and its trailers back as "x-echo-<name>" trailers
Every answer carries x-upstream (NAME), x-seen-method, x-seen-path, x-seen-authority (the
:authority, else the host header, else "-"), x-seen-te ("-" when absent), x-streams-on-conn
(streams this connection has carried, this one included) and x-conn-id (1, 2, ... by accept order);
a content-length too unless trailers follow (curl 7.88 stops at content-length, missing them).
GET /count answers {"connections": X, "streams": Y}: the totals so far, leaving out the /count
requests themselves and connections that carried nothing else.
"""
import argparse
import asyncio
import json
import signal
import ssl
from urllib.parse import parse_qs, urlsplit

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

TOTALS = {"connections": 0, "streams": 0}
NO_BODY_STATUS = {204, 304}


class Stream:
    def __init__(self, headers):
        self.headers = dict(headers)
        self.body = bytearray()
        self.trailers = []
        self.ended = asyncio.Event()   # the request ended, or the stream was reset
        self.reset = False


class Connection:
    def __init__(self, reader, writer, conn_id, name):
        self.reader, self.writer, self.conn_id, self.name = reader, writer, conn_id, name
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.h2 = h2.connection.H2Connection(config=config)
        self.streams = {}
        self.served = 0
        self.counted = False
        self.window_changed = asyncio.Event()
        self.tasks = set()

    def flush(self):
        data = self.h2.data_to_send()
        if data and not self.writer.is_closing():
            self.writer.write(data)

    async def run(self):
        self.h2.update_settings({h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 1000})
        self.h2.initiate_connection()
        self.flush()
        try:
            while True:
                data = await self.reader.read(65536)
                if not data:
                    break
                try:
                    events = self.h2.receive_data(data)
                except h2.exceptions.ProtocolError:
                    self.flush()
                    break
                for event in events:
                    self.dispatch(event)
                self.flush()
                await self.writer.drain()
                if any(isinstance(e, h2.events.ConnectionTerminated) for e in events):
                    break
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            for task in self.tasks:
                task.cancel()
            self.writer.close()

    def dispatch(self, event):
        if isinstance(event, h2.events.RequestReceived):
            stream = self.streams[event.stream_id] = Stream(event.headers)
            self.served += 1
            task = asyncio.ensure_future(self.respond(event.stream_id, stream, self.served))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
            if event.stream_ended:
                stream.ended.set()
        elif isinstance(event, h2.events.DataReceived):
            stream = self.streams.get(event.stream_id)
            if stream:
                stream.body += event.data
            self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            if event.stream_id in self.streams:
                self.streams[event.stream_id].trailers = event.headers
        elif isinstance(event, h2.events.StreamEnded):
            if event.stream_id in self.streams:
                self.streams[event.stream_id].ended.set()
        elif isinstance(event, h2.events.StreamReset):
            stream = self.streams.pop(event.stream_id, None)
            if stream:
                stream.reset = True
                stream.ended.set()
            self.wake_senders()
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            self.wake_senders()

    def wake_senders(self):
        self.window_changed.set()
        self.window_changed = asyncio.Event()

    async def respond(self, stream_id, stream, served):
        try:
            await stream.ended.wait()
            if stream.reset:
                return
            delay, headers, body, trailers = self.answer(stream, served)
            await asyncio.sleep(delay)
            if not stream.reset:
                await self.send(stream_id, headers, body, trailers, stream)
        except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError, ConnectionError):
            pass
        except (ValueError, asyncio.TimeoutError):   # a bad query, or the window stayed shut
            self.h2.reset_stream(stream_id)
            self.flush()
        finally:
            self.streams.pop(stream_id, None)

    def answer(self, stream, served):
        h = stream.headers
        path = h.get(":path", "/")
        query = {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}
        method = h.get(":method", "-")
        if urlsplit(path).path == "/count" and method == "GET":
            body = json.dumps(TOTALS).encode()
            status = 200
        else:
            TOTALS["streams"] += 1
            if not self.counted:
                self.counted = True
                TOTALS["connections"] += 1
            status = int(query.get("status", 200))
            if query.get("echo") == "1":
                body = bytes(stream.body)
            elif "size" in query:
                body = b"x" * int(query["size"])
            else:
                body = f"{self.name} ok\n".encode()
        headers = [(":status", str(status)), ("x-upstream", self.name),
                   ("x-seen-method", method), ("x-seen-path", path),
                   ("x-seen-authority", h.get(":authority", h.get("host", "-"))),
                   ("x-seen-te", h.get("te", "-")),
                   ("x-streams-on-conn", str(served)), ("x-conn-id", str(self.conn_id))]
        trailers = []
        if query.get("trailers") == "1":
            trailers += [("x-trailer", "yes"), ("x-sum", str(len(stream.body)))]
        if query.get("echo") == "1":
            trailers += [("x-echo-" + k, v) for k, v in stream.trailers]
        if method == "HEAD" or status in NO_BODY_STATUS or status < 200:
            body = b""
        elif not trailers:
            headers.append(("content-length", str(len(body))))
        return int(query.get("delay_ms", 0)) / 1000, headers, body, trailers

    async def send(self, stream_id, headers, body, trailers, stream):
        self.h2.send_headers(stream_id, headers, end_stream=not body and not trailers)
        self.flush()
        view = memoryview(body)
        while view:
            window = min(self.h2.local_flow_control_window(stream_id),
                         self.h2.max_outbound_frame_size)
            if window <= 0:
                changed = self.window_changed
                await asyncio.wait_for(changed.wait(), 30)
                if stream.reset:
                    return
                continue
            chunk, view = view[:window], view[window:]
            self.h2.send_data(stream_id, bytes(chunk), end_stream=not view and not trailers)
            self.flush()
            await self.writer.drain()
        if trailers:
            self.h2.send_headers(stream_id, trailers, end_stream=True)
            self.flush()
        await self.writer.drain()


async def serve(args):
    context = None
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        context.set_alpn_protocols(["h2"])
    accepted = 0

    async def on_connect(reader, writer):
        nonlocal accepted
        accepted += 1
        await Connection(reader, writer, accepted, args.name).run()

    server = await asyncio.start_server(on_connect, "127.0.0.1", args.port, ssl=context,
                                        ssl_handshake_timeout=10 if context else None)
    print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    server.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--name", default="h2up")
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
