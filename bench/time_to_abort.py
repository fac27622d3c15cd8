#!/usr/bin/env python3
"""bench/time_to_abort.py — how fast vane stops sending traffic to a canary that starts failing.

    bench/time_to_abort.py [--runs 5] [--vane build/vane]
                           [--upstream build/tests/integration/vane-test-upstream] [--out bench/results]

A canary at 10% behind a steady client load (4 keep-alive connections, ~1000 req/s in all), with
an analysis step measuring its builtin success rate every second (`interval: 1s`, `failureLimit: 1`,
window 2 s, from 2 s after the step began). Two to three seconds (at random) after the step
started, the canary begins failing every request
(vane-test-upstream's /__behave?fail_percent=100). Time to abort = the canary's last request (its
own clock, /__stats last_request_ms) minus that moment; failed requests = the client's non-200
answers. Each run is repeated with `canary.shield` on, where the client must see no failure.
Medians over runs; prints a table and writes OUT/time_to_abort.md. Only 127.0.0.1; every process
started here is killed on exit; every wait is bounded.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIG = """listeners: [{{name: public, address: "127.0.0.1:0"}}]
admin: {{address: "127.0.0.1:0"}}
state: {{dir: "{state}"}}
workers: 1
upstreams:
  - {{name: stable, endpoints: ["127.0.0.1:{stable}"]}}
  - {{name: canary, endpoints: ["127.0.0.1:{canary}"]}}
routes:
  - {{name: app, match: {{pathPrefix: /}}, rollout: app}}
analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        initialDelay: 2s
        interval: 1s
        count: 60
        successCondition: result >= 0.95
        failureLimit: 1
        provider:
          builtin: {{metric: success-rate, window: 2s, minRequests: 5}}
rollouts:
  - name: app
    upstream: {desired}
    strategy:
      canary:
{shield}        steps:
          - setWeight: 10
          - analysis: {{templates: [{{templateName: success-rate}}]}}
"""
SHIELD = "        shield: {on: [5xx, connect-failure, reset, timeout]}\n"


def wait_for(condition, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    raise RuntimeError("timed out waiting for " + what)


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def get(port, path, method="GET"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, headers={"Content-Length": "0"} if method == "POST" else {})
        r = conn.getresponse()
        return r.status, r.read()
    finally:
        conn.close()


class Load:
    """Keep-alive GETs on a few connections; counts answers by status."""

    def __init__(self, port, connections=4):
        self.port, self.stop, self.lock = port, False, threading.Lock()
        self.by_status = {}
        self.threads = [threading.Thread(target=self.loop, daemon=True) for _ in range(connections)]
        for t in self.threads:
            t.start()

    def loop(self):
        conn = None
        until = time.monotonic() + 120
        while not self.stop and time.monotonic() < until:
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/item", headers={"Host": "app.bench"})
                r = conn.getresponse()
                r.read()
                status = r.status
            except (OSError, http.client.HTTPException):
                status, conn = 0, None
            with self.lock:
                self.by_status[status] = self.by_status.get(status, 0) + 1
            time.sleep(0.002)

    def finish(self):
        self.stop = True
        for t in self.threads:
            t.join(10)
        return dict(self.by_status)


def one_run(vane, upstream_bin, shield):
    work = tempfile.mkdtemp(prefix="vane-tta-")
    procs = []
    try:
        def spawn(argv, name):
            out = open(os.path.join(work, name + ".log"), "w")
            procs.append(subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=work))

        ports = {}
        for name in ("stable", "canary"):
            ready = os.path.join(work, name + ".ready")
            spawn([upstream_bin, "--name", name, "--ready-file", ready], name)
            ports[name] = wait_for(lambda: (read_json(ready) or {}).get("port"), 10, name)
        config = os.path.join(work, "vane.yaml")

        def write(desired):
            with open(config, "w") as f:
                f.write(CONFIG.format(state=os.path.join(work, "state"), stable=ports["stable"],
                                      canary=ports["canary"], desired=desired,
                                      shield=SHIELD if shield else ""))

        write("stable")
        ready = os.path.join(work, "vane.ready")
        spawn([vane, "run", "-c", config, "--ready-file", ready, "--no-watch-config"], "vane")
        info = wait_for(lambda: (read_json(ready) or {}).get("admin") and read_json(ready), 10, "vane")
        admin = int(info["admin"].rsplit(":", 1)[1])
        port = int(info["listeners"]["public"].rsplit(":", 1)[1])

        load = Load(port)
        write("canary")
        if get(admin, "/api/v1/reload", "POST")[0] != 200:
            raise RuntimeError("reload refused")

        def analysing():
            status = json.loads(get(admin, "/api/v1/rollouts/app")[1])
            return status["currentStepIndex"] == 1 and status["weights"]["canary"] == 10
        wait_for(analysing, 10, "the analysis step")
        # Good canary traffic first, then the failure at a random point of the measuring interval
        # (measurements fall due every second from 2 s after the step began).
        time.sleep(2 + random.random())
        started = time.time()
        if get(ports["canary"], "/__behave?fail_percent=100")[0] != 200:
            raise RuntimeError("canary /__behave failed")
        wait_for(lambda: json.loads(get(admin, "/api/v1/rollouts/app")[1])["phase"] == "Degraded",
                 30, "the abort")
        time.sleep(1)  # anything still on its way to the canary arrives
        statuses = load.finish()
        last = json.loads(get(ports["canary"], "/__stats")[1])["last_request_ms"] / 1000.0
        failed = sum(n for s, n in statuses.items() if s != 200)
        return max(0.0, last - started), failed, sum(statuses.values())
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(5)
        shutil.rmtree(work, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--vane", default=os.path.join(ROOT, "build", "vane"))
    ap.add_argument("--upstream", default=os.path.join(ROOT, "build", "tests", "integration", "vane-test-upstream"))
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    args = ap.parse_args()
    for path in (args.vane, args.upstream):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} not found: build vane and its tests first (cmake --build build)")
    rows = []
    for shield in (False, True):
        times, failures, totals = [], [], []
        for i in range(args.runs):
            t, failed, total = one_run(args.vane, args.upstream, shield)
            print(f"[time-to-abort] shield={'on' if shield else 'off'} run {i + 1}: {t:.2f} s, "
                  f"{failed} failed of {total} client requests", flush=True)
            times.append(t)
            failures.append(failed)
            totals.append(total)
        rows.append((shield, statistics.median(times), min(times), max(times),
                     statistics.median(failures), statistics.median(totals)))
    lines = ["| canary.shield | time to abort (median) | min – max | failed client requests (median) | client requests per run |",
             "|---|---|---|---|---|"]
    for shield, med, lo, hi, failed, total in rows:
        lines.append(f"| {'on' if shield else 'off'} | {med:.2f} s | {lo:.2f} – {hi:.2f} s | {failed:g} | {total:g} |")
    text = "\n".join(lines)
    print(text)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "time_to_abort.md"), "w") as f:
        f.write(f"# time to abort ({args.runs} runs each, {time.strftime('%Y-%m-%d %H:%M')})\n\n{text}\n")


if __name__ == "__main__":
    main()
