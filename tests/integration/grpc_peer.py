#!/usr/bin/python3
"""A gRPC server and client (Debian's python3-grpcio, generic handlers, raw bytes, no protobuf).

server [--port N] [--name NAME] [--fail K]: serves vane.test.Echo on 127.0.0.1:N (0, the default, picks a
  free port), prints "port N" once serving and serves until killed. Methods:
    Unary         "NAME:" + request; "status=K" aborts with code K, details "asked K";
                  "sleep=MS" sleeps MS ms first
    ServerStream  "n=K": K replies "NAME:0" .. "NAME:K-1"
    ClientStream  "NAME:<message count>:<total bytes>"
    Bidi          "NAME:" + each message, as each arrives
  --fail K: every Unary call aborts with code K (a bad version).
  Every call ends with trailing metadata x-peer-name: NAME, plus x-echo-back: V when the request
  carried metadata x-echo: V.
client TARGET MODE ARGS [--authority A] [--metadata k=v ...]: calls TARGET (host:port, plaintext,
  10 s deadline per call) and prints one JSON line; exit 0 even when the call failed. Modes:
    unary TEXT         {"code", "details", "reply", "trailers"}
    server-stream K    {"code", "details", "replies", "trailers"}
    client-stream K    sends m0 .. m{K-1}; {"code", "details", "reply", "trailers"}
    bidi K             sends m0 .. m{K-1}, each once the previous reply came; as server-stream
    unary-many N TEXT  N sequential calls on one channel; {"codes": {code: n}, "replies": {r: n}}
  "reply" is null when none came (grpcio also gives code 0 and no reply for an OK without one).
"""
import argparse
import json
import os
import queue
import signal
import sys
import time
from concurrent import futures

import grpc

SERVICE = "vane.test.Echo"
CODES = {code.value[0]: code for code in grpc.StatusCode}
TIMEOUT = 10


def serve(port, name, fail):
    def trailers(context):
        metadata = [("x-peer-name", name)]
        metadata += [("x-echo-back", v) for k, v in context.invocation_metadata() if k == "x-echo"]
        context.set_trailing_metadata(metadata)

    def unary(request, context):
        trailers(context)
        asked = request.decode(errors="replace")
        if fail:
            context.abort(CODES[fail], f"failing with {fail}")
        if asked.startswith("status="):
            code = int(asked[len("status="):])
            if code != 0:
                context.abort(CODES[code], f"asked {code}")
            context.set_details(f"asked {code}")
        elif asked.startswith("sleep="):
            time.sleep(int(asked[len("sleep="):]) / 1000)
        return name.encode() + b":" + request

    def server_stream(request, context):
        trailers(context)
        for i in range(int(request.decode().partition("=")[2])):
            yield f"{name}:{i}".encode()

    def client_stream(requests, context):
        trailers(context)
        count = total = 0
        for message in requests:
            count, total = count + 1, total + len(message)
        return f"{name}:{count}:{total}".encode()

    def bidi(requests, context):
        trailers(context)
        for message in requests:
            yield name.encode() + b":" + message

    handler = grpc.method_handlers_generic_handler(SERVICE, {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
    })
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=64), handlers=[handler])
    port = server.add_insecure_port(f"127.0.0.1:{port}")
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: server.stop(0))
    server.start()
    print(f"port {port}", flush=True)
    server.wait_for_termination()
    os._exit(0)   # without waiting for handlers still sleeping in the pool's threads


def text(data):
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def outcome(call, **fields):
    """The JSON fields every mode shares, from a finished call or the RpcError it raised."""
    return {"code": call.code().value[0], "details": call.details() or "",
            "trailers": {k: text(v) for k, v in call.trailing_metadata() or ()}, **fields}


def unary(channel, metadata, request):
    method = channel.unary_unary(f"/{SERVICE}/Unary")
    try:
        reply, call = method.with_call(request.encode(), timeout=TIMEOUT, metadata=metadata)
        return outcome(call, reply=text(reply))
    except grpc.RpcError as error:
        return outcome(error, reply=None)


def server_stream(channel, metadata, count):
    call = channel.unary_stream(f"/{SERVICE}/ServerStream")(
        f"n={count}".encode(), timeout=TIMEOUT, metadata=metadata)
    replies = []
    try:
        for reply in call:
            replies.append(text(reply))
    except grpc.RpcError:
        pass
    return outcome(call, replies=replies)


def client_stream(channel, metadata, count):
    method = channel.stream_unary(f"/{SERVICE}/ClientStream")
    messages = (f"m{i}".encode() for i in range(count))
    try:
        reply, call = method.with_call(messages, timeout=TIMEOUT, metadata=metadata)
        return outcome(call, reply=text(reply))
    except grpc.RpcError as error:
        return outcome(error, reply=None)


def bidi(channel, metadata, count):
    """Each message goes out only once the answer to the one before has come back."""
    outgoing = queue.Queue()

    def messages():
        while (message := outgoing.get(timeout=TIMEOUT)) is not None:
            yield message

    call = channel.stream_stream(f"/{SERVICE}/Bidi")(messages(), timeout=TIMEOUT,
                                                       metadata=metadata)
    replies = []
    try:
        for i in range(count):
            outgoing.put(f"m{i}".encode())
            replies.append(text(next(call)))
        outgoing.put(None)
        replies += [text(reply) for reply in call]
    except (grpc.RpcError, StopIteration):
        outgoing.put(None)
    return outcome(call, replies=replies)


def unary_many(channel, metadata, count, request):
    codes, replies = {}, {}
    for _ in range(count):
        result = unary(channel, metadata, request)
        codes[str(result["code"])] = codes.get(str(result["code"]), 0) + 1
        if result["reply"] is not None:
            replies[result["reply"]] = replies.get(result["reply"], 0) + 1
    return {"codes": codes, "replies": replies}


def client(args):
    options = [("grpc.default_authority", args.authority)] if args.authority else []
    metadata = [tuple(item.split("=", 1)) for item in args.metadata]
    with grpc.insecure_channel(args.target, options=options) as channel:
        if args.mode == "unary":
            result = unary(channel, metadata, args.args[0])
        elif args.mode == "server-stream":
            result = server_stream(channel, metadata, int(args.args[0]))
        elif args.mode == "client-stream":
            result = client_stream(channel, metadata, int(args.args[0]))
        elif args.mode == "bidi":
            result = bidi(channel, metadata, int(args.args[0]))
        elif args.mode == "unary-many":
            result = unary_many(channel, metadata, int(args.args[0]), args.args[1])
        else:
            sys.exit(f"unknown mode {args.mode}")
    print(json.dumps(result), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    server = commands.add_parser("server")
    server.add_argument("--port", type=int, default=0)
    server.add_argument("--name", default="grpc")
    server.add_argument("--fail", type=int, default=0)
    call = commands.add_parser("client")
    call.add_argument("target")
    call.add_argument("mode")
    call.add_argument("args", nargs="*")
    call.add_argument("--authority")
    call.add_argument("--metadata", action="append", default=[])
    args = parser.parse_args()
    if args.command == "server":
        serve(args.port, args.name, args.fail)
    else:
        client(args)


if __name__ == "__main__":
    main()
