#!/usr/bin/env python3
"""Sends each case of the malformed-request corpus to each proxy on a fresh connection (followed by
the canary request in the same write unless the case says not), and records per proxy: the
statuses answered, whether the connection was closed, and what the upstream received (strict and
lenient readings). Writes results CSV and a markdown report. Started by bench/differential.sh.

Usage: differential.py --corpus FILE --control-port N --proxy NAME=PORT[:PID] ... --out DIR
                       [--cases SUBSTRING] [--stalls]
       differential.py --corpus FILE --from-csv OUT/differential.csv --out DIR   (report only)
"""

import argparse
import csv
import json
import os
import socket
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, sys.path[0])
from differential_http import CANARY, describe, expectation_met, load_corpus, read_requests  # noqa: E402
from differential_report import write_markdown  # noqa: E402

IDLE_AFTER_ANSWER_S = 0.3  # nothing more within this after an answer: the proxy is done
FIRST_ANSWER_S = 2.5       # no answer at all within this: recorded as a timeout
STALL_S = 15.0             # client: stall cases wait this long for the proxy's timeout


class Reader:
    """Reads responses off a socket: statuses in order, and whether the peer closed."""

    def __init__(self, sock):
        self.sock, self.buf, self.closed = sock, b"", False

    def fill(self, timeout):
        if self.closed:
            return False
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return False
        self.buf += data
        return True

    def response(self, head_request):
        """One response parsed from the buffer: (status, consumed) or None if incomplete."""
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        lines = self.buf[:end].split(b"\r\n")
        parts = lines[0].split(b" ")
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            return (-1, len(self.buf))
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            fields[name.strip().lower()] = value.strip()
        pos = end + 4
        if 100 <= status < 200 or status in (204, 304) or head_request:
            return status, pos
        if b"chunked" in fields.get(b"transfer-encoding", b"").lower():
            while True:
                lf = self.buf.find(b"\r\n", pos)
                if lf < 0:
                    return None
                size = int(self.buf[pos:lf].split(b";")[0] or b"0", 16)
                if size == 0:
                    trailer_end = self.buf.find(b"\r\n\r\n", lf)
                    return (status, trailer_end + 4) if trailer_end >= 0 else None
                pos = lf + 2 + size + 2
                if pos > len(self.buf):
                    return None
        if b"content-length" in fields:
            pos += int(fields[b"content-length"])
            return (status, pos) if pos <= len(self.buf) else None
        return (status, len(self.buf)) if self.closed else None

    def read_all(self, head_request, first_wait):
        statuses, deadline = [], time.monotonic() + first_wait
        while True:
            got = self.response(head_request)
            if got:
                statuses.append(got[0])
                self.buf = self.buf[got[1]:]
                deadline = time.monotonic() + IDLE_AFTER_ANSWER_S
                continue
            left = deadline - time.monotonic()
            if left <= 0 or not self.fill(left):
                if self.closed or left <= 0:
                    return statuses


def drain(control_port):
    with socket.create_connection(("127.0.0.1", control_port), timeout=10) as s:
        s.sendall(b"DRAIN\n")
        data = b""
        while not data.endswith(b"\n"):
            chunk = s.recv(1 << 20)
            if not chunk:
                break
            data += chunk
    return json.loads(data)


def send(case, port):
    data = case["data"] + (CANARY if case["canary"] else b"")
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(data)
    except OSError:
        pass  # the proxy answered and closed while we were still sending: read what it said
    if case["client"] == "half-close":
        try:
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    return sock


def run_case(case, port, control_port):
    drain(control_port)
    sock = send(case, port)
    reader = Reader(sock)
    first_wait = STALL_S if case["client"] == "stall" else FIRST_ANSWER_S
    statuses = reader.read_all(case["data"].startswith(b"HEAD "), first_wait)
    if not reader.closed:
        reader.fill(0.05)
    sock.close()
    time.sleep(0.05)
    upstream = drain(control_port)
    strict, lenient, notes = [], [], []
    for record in upstream["records"]:
        raw = record["raw"].encode("latin1")
        requests, note = read_requests(raw)
        strict += requests
        lenient += read_requests(raw, lenient=True)[0]
        if note:
            notes.append(note)
    return {"statuses": statuses, "closed": reader.closed, "strict": strict, "lenient": lenient,
            "notes": notes, "still_open": upstream["still_open"]}


def summarize(case, name, result, pid):
    strict, lenient = result["strict"], result["lenient"]
    own = [r for r in strict if r["target"] != "/canary"]
    smuggled = any("smuggled" in r["target"] for r in strict)
    lenient_smuggled = any("smuggled" in r["target"] for r in lenient) and not smuggled
    row = {
        "case": case["id"], "proxy": name,
        "statuses": " ".join(str(s) for s in result["statuses"]) or "-",
        "connection": "closed" if result["closed"] else "open",
        "forwarded": len(own),
        "canary_forwarded": len(strict) - len(own),
        "upstream": "; ".join(describe(r) for r in own) or "-",
        "upstream_notes": "; ".join(result["notes"]),
        "desync": "yes" if smuggled else "no",
        "lenient_backend_desync": "yes" if lenient_smuggled else "no",
        "alive": "yes" if pid is None or os.path.exists("/proc/%d" % pid) else "NO",
        "vane_expected": "",
    }
    if name == "vane":
        ok = expectation_met(case, result["statuses"], result["closed"], len(own), len(strict) > len(own)) and not smuggled
        row["vane_expected"] = "ok" if ok else "MISMATCH (corpus: %s)" % " / ".join(case["expect"])
    return row


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--corpus", required=True)
    p.add_argument("--control-port", type=int)
    p.add_argument("--proxy", action="append", default=[], help="NAME=PORT[:PID]")
    p.add_argument("--out", required=True)
    p.add_argument("--cases", default="")
    p.add_argument("--stalls", action="store_true", help="also run the client: stall cases (slow)")
    p.add_argument("--from-csv", help="only rewrite the report from an earlier run's CSV")
    args = p.parse_args()
    if args.from_csv:
        rows = list(csv.DictReader(open(args.from_csv)))
        names = list(dict.fromkeys(r["proxy"] for r in rows))
        ran = {r["case"] for r in rows}
        cases = [c for c in load_corpus(args.corpus) if c["id"] in ran]
        write_markdown(os.path.join(args.out, "differential.md"), cases, rows, names)
        return
    proxies = []
    for spec in args.proxy:
        name, _, rest = spec.partition("=")
        port, _, pid = rest.partition(":")
        proxies.append((name, int(port), int(pid) if pid else None))
    cases = [c for c in load_corpus(args.corpus) if args.cases in c["id"]]
    if not args.stalls:
        cases = [c for c in cases if c["client"] != "stall"]
    rows = []
    for i, case in enumerate(cases):
        for name, port, pid in proxies:
            rows.append(summarize(case, name, run_case(case, port, args.control_port), pid))
        if (i + 1) % 25 == 0:
            print("[differential] %d/%d cases" % (i + 1, len(cases)), file=sys.stderr)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "differential.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0].keys()))
        writer.writeheader()
        writer.writerows(rows)
    write_markdown(os.path.join(args.out, "differential.md"), cases, rows, [n for n, _, _ in proxies])
    bad = [r for r in rows if r["desync"] == "yes" or r["alive"] == "NO" or r["vane_expected"].startswith("MISMATCH")]
    for r in bad:
        print("[differential] %s %s: %s, %s, upstream %s" % (r["case"], r["proxy"], r["statuses"], r["connection"], r["upstream"]), file=sys.stderr)
    print("[differential] %d cases x %d proxies; %d rows to look at" % (len(cases), len(proxies), len(bad)), file=sys.stderr)


if __name__ == "__main__":
    main()
