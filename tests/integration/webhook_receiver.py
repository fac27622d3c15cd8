#!/usr/bin/env python3
"""A webhook receiver for the notification tests: records every POST and answers it 200, except
that the first --fail N get 503 and, with --hang, none is ever answered. GET /__records answers
the records so far as a JSON list of {"path", "authorization", "body"}. Prints "port N" once
listening on 127.0.0.1 (port 0: any)."""
import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--fail", type=int, default=0)
parser.add_argument("--hang", action="store_true")
args = parser.parse_args()

lock = threading.Lock()
records = []
posts = 0
forever = threading.Event()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def answer(self, status, body=b""):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with lock:
            body = json.dumps(records).encode()
        self.answer(200 if self.path == "/__records" else 404, body)

    def do_POST(self):
        global posts
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            posts += 1
            failing = posts <= args.fail
            records.append({"path": self.path, "authorization": self.headers.get("Authorization", ""),
                            "body": body.decode("utf-8", "replace"), "answered": not args.hang and not failing})
        if args.hang:
            forever.wait()
            return
        self.answer(503 if failing else 200)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print("port", server.server_address[1], flush=True)
server.serve_forever()
