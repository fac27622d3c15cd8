#!/usr/bin/env python3
"""A gate server for the gate step tests (SPEC §14): every GET records its path and X-Vane-Rollout
and X-Vane-Step headers and gets the current answer, 503 until the test sets another:
GET /__answer?status=N[&body=TEXT] or GET /__answer?hang=1 (later gate GETs are never answered).
GET /__records answers the records so far as a JSON list of {"path", "rollout", "step"}. Prints
"port N" once listening on 127.0.0.1 (port 0: any)."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

lock = threading.Lock()
records = []
answer = {"status": 503, "body": "not yet", "hang": False}
forever = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def reply(self, status, body):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlsplit(self.path)
        if url.path == "/__records":
            with lock:
                text = json.dumps(records)
            return self.reply(200, text)
        if url.path == "/__answer":
            query = parse_qs(url.query)
            with lock:
                answer["hang"] = "hang" in query
                answer["status"] = int(query.get("status", ["503"])[0])
                answer["body"] = query.get("body", [""])[0]
            return self.reply(200, "ok")
        with lock:
            records.append({"path": self.path, "rollout": self.headers.get("X-Vane-Rollout", ""),
                            "step": self.headers.get("X-Vane-Step", "")})
            current = dict(answer)
        if current["hang"]:
            forever.wait()
            return
        self.reply(current["status"], current["body"])


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("port", server.server_address[1], flush=True)
server.serve_forever()
