#!/usr/bin/python3
"""A real WebSocket peer (Debian's python3-websockets) for the protocol tests.

server NAME READY_FILE: serves on 127.0.0.1:0, writes {"port": N} to READY_FILE, and answers each
  text message M with "NAME:M".
client URL N: connects, sends N text messages and prints each answer on a line; exit 0 when all
  came back, 1 otherwise.
"""
import asyncio
import json
import os
import sys

import websockets


async def serve(name, ready_file):
    async def echo(socket, path=None):
        async for message in socket:
            await socket.send(f"{name}:{message}")

    async with websockets.serve(echo, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        with open(ready_file + ".tmp", "w") as out:
            json.dump({"port": port}, out)
        os.rename(ready_file + ".tmp", ready_file)
        await asyncio.Future()


async def client(url, count):
    async with websockets.connect(url, open_timeout=5, close_timeout=2) as socket:
        for i in range(count):
            await socket.send(f"message {i}")
            print(await asyncio.wait_for(socket.recv(), 5), flush=True)


def main():
    if sys.argv[1] == "server":
        asyncio.run(serve(sys.argv[2], sys.argv[3]))
    else:
        asyncio.run(asyncio.wait_for(client(sys.argv[2], int(sys.argv[3])), 20))


if __name__ == "__main__":
    main()
