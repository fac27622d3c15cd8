#!/usr/bin/python3
"""A real browser for the dashboard tests: headless Chromium (Debian's `chromium`) driven through
the DevTools protocol with Debian's python3-websockets, and a small HTTP server the C++ test
talks to. Prints "port N" once both are up (on 127.0.0.1).

POST /cdp        {"method", "params"}  -> the DevTools answer ({"result"} or {"error"})
POST /eval       {"expression"}        -> {"value"} or {"exception"} (promises awaited)
POST /click      {"selector"}          -> {"ok"}: a real mouse click at the element's centre
POST /type       {"text"}              -> {"ok"}: text typed into the focused element
POST /key        {"key"}               -> {"ok"}: a key ("Enter", "Escape", "Tab") pressed there
POST /screenshot {"path"}              -> {"ok"}: a PNG of the viewport written to path
GET  /log                              -> {"console", "network", "requests"}: every console error,
     uncaught exception and log error so far; apart, failed loads (an answer 401 is one); and
     every URL the page requested

Chromium runs with --no-sandbox (the tests run as root in CI) and a profile in the working
directory; it dies with this script (PR_SET_PDEATHSIG).
"""
import asyncio
import base64
import ctypes
import json
import os
import signal
import subprocess
import sys
import urllib.request

import websockets

WIDTH, HEIGHT = (int(v) for v in (sys.argv[1] if len(sys.argv) > 1 else "1280x1000").split("x"))


def die_with_parent():
    ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Browser:
    def __init__(self):
        self.next_id = 0
        self.pending = {}
        self.console = []
        self.network = []
        self.requests = []

    async def start(self):
        profile = os.path.abspath("chrome-profile")
        self.process = subprocess.Popen(
            ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--metrics-recording-only",
             f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={WIDTH},{HEIGHT}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=open("chromium.log", "w"), preexec_fn=die_with_parent)
        port_file = os.path.join(profile, "DevToolsActivePort")
        for _ in range(300):  # 30 s at most
            if os.path.exists(port_file) and len(open(port_file).read().split()) >= 2:
                break
            if self.process.poll() is not None:
                raise RuntimeError("chromium exited: " + open("chromium.log").read()[-2000:])
            await asyncio.sleep(0.1)
        port = open(port_file).read().split()[0]
        for _ in range(100):  # its first tab may come a moment after the port (10 s at most)
            targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10))
            page = next((t for t in targets if t["type"] == "page"), None)
            if page:
                break
            await asyncio.sleep(0.1)
        self.socket = await websockets.connect(page["webSocketDebuggerUrl"], max_size=None,
                                               open_timeout=10)
        asyncio.get_running_loop().create_task(self.read())
        for method in ("Runtime.enable", "Log.enable", "Network.enable", "Page.enable"):
            await self.call(method)
        await self.call("Emulation.setDeviceMetricsOverride",
                        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": WIDTH < 700})

    async def read(self):
        async for message in self.socket:
            data = json.loads(message)
            if "id" in data:
                future = self.pending.pop(data["id"], None)
                if future and not future.done():
                    future.set_result(data)
            else:
                self.note(data.get("method"), data.get("params", {}))

    def note(self, method, params):
        if method == "Runtime.consoleAPICalled" and params["type"] in ("error", "assert"):
            self.console.append("console." + params["type"] + ": " +
                                " ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))
        elif method == "Runtime.exceptionThrown":
            details = params["exceptionDetails"]
            self.console.append("exception: " + details.get("exception", {}).get("description", details["text"]))
        elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
            entry = params["entry"]
            text = f"log ({entry['source']}): {entry['text']} {entry.get('url', '')}"
            (self.network if entry["source"] == "network" else self.console).append(text)
        elif method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Page.javascriptDialogOpening":
            self.console.append("unexpected javascript dialog: " + params["message"])

    async def call(self, method, params=None, timeout=10):
        self.next_id += 1
        future = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        return await asyncio.wait_for(future, timeout)

    async def evaluate(self, expression):
        answer = await self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                      "awaitPromise": True})
        result = answer.get("result", {})
        if "exceptionDetails" in result or "error" in answer:
            return {"exception": json.dumps(result.get("exceptionDetails", answer.get("error")))}
        return {"value": result.get("result", {}).get("value")}

    async def click(self, selector):
        box = await self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)}); if (!e) return null;"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        if not box.get("value"):
            return {"error": f"no element {selector}"}
        x, y = box["value"]
        await self.call("Input.dispatchMouseEvent", {"type": "mouseMoved", "x": x, "y": y})
        for kind in ("mousePressed", "mouseReleased"):
            await self.call("Input.dispatchMouseEvent",
                            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1})
        return {"ok": True}

    async def handle(self, method, path, body):
        if method == "GET" and path == "/log":
            return {"console": self.console, "network": self.network, "requests": self.requests}
        args = json.loads(body or b"{}")
        if path == "/cdp":
            return await self.call(args["method"], args.get("params"))
        if path == "/eval":
            return await self.evaluate(args["expression"])
        if path == "/click":
            return await self.click(args["selector"])
        if path == "/type":
            await self.call("Input.insertText", {"text": args["text"]})
            return {"ok": True}
        if path == "/key":
            code = {"Enter": 13, "Escape": 27, "Tab": 9}[args["key"]]
            for kind in ("keyDown", "keyUp"):
                await self.call("Input.dispatchKeyEvent", {"type": kind, "key": args["key"], "code": args["key"],
                                                           "windowsVirtualKeyCode": code})
            return {"ok": True}
        if path == "/screenshot":
            shot = await self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
            with open(args["path"], "wb") as out:
                out.write(base64.b64decode(shot["result"]["data"]))
            return {"ok": True}
        return {"error": "unknown command " + path}


async def serve_client(browser, reader, writer):
    try:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode().split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            if line.lower().startswith("content-length:"):
                length = int(line.split(":", 1)[1])
        body = await reader.readexactly(length) if length else b""
        try:
            answer = await browser.handle(method, path, body)
        except Exception as error:  # reported to the test, which fails with it
            answer = {"error": f"{type(error).__name__}: {error}"}
        data = json.dumps(answer).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: " + str(len(data)).encode() + b"\r\n\r\n" + data)
        await writer.drain()
    finally:
        writer.close()


async def main():
    browser = Browser()
    await browser.start()
    server = await asyncio.start_server(lambda r, w: serve_client(browser, r, w), "127.0.0.1", 0)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
