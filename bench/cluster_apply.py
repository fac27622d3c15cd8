#!/usr/bin/env python3
"""bench/cluster_apply.py — the measuring half of bench/cluster_apply.sh (which starts etcd, the
upstreams and the replicas).

  cluster_apply.py steps --promotes N
      the canary steps of the benchmark's rollout: N + 1 pairs (setWeight w_k, pause {}), so that
      each of N promotes moves the canary from w_{k-1} to a different w_k.
  cluster_apply.py measure --replica NAME=ADMIN ... --rollout web --promotes N --interval-ms 1
                           --csv OUT.csv --md OUT.md [--note TEXT ...]
      N times: POST promote to the leader, then poll every replica's /metrics (one keep-alive
      connection each, all from this process) until each shows the new vane_rollout_canary_weight.

Timing, honestly: a replica applied the new weight after the send of the last poll that still
showed the old one ("lower") and before the receipt of the first poll showing the new one
("upper"). Both are recorded; the headline is the upper bound (it includes up to one polling
period plus one scrape). The leader's weight changes when it decides, before its etcd write.
"""
import argparse
import datetime
import json
import os
import random
import re
import select
import socket
import statistics
import sys
import time

WEIGHT_RE = None  # set from --rollout


def weight_of(k):
    """The canary weight of pair k: 10..89, never the same twice in a row."""
    return 10 + (k * 37) % 80


class Conn:
    """One keep-alive HTTP/1.1 connection; requests are written, then their answers read."""

    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.address = address
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, method, path):
        self.sock.sendall(("%s %s HTTP/1.1\r\nHost: %s\r\nContent-Length: 0\r\n\r\n"
                           % (method, path, self.address)).encode())

    def _fill(self):
        chunk = self.sock.recv(262144)
        if not chunk:
            raise ConnectionError("%s closed the connection" % self.address)
        self.buf += chunk

    def read(self):
        """(status, body) of the next answer: Content-Length or chunked bodies."""
        while b"\r\n\r\n" not in self.buf:
            self._fill()
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip() for l in lines[1:] if ":" in l}
        if "content-length" in headers:
            n = int(headers["content-length"])
            while len(self.buf) < n:
                self._fill()
            body, self.buf = self.buf[:n], self.buf[n:]
            return status, body
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                while b"\r\n" not in self.buf:
                    self._fill()
                size_line, self.buf = self.buf.split(b"\r\n", 1)
                size = int(size_line.split(b";")[0], 16)
                while len(self.buf) < size + 2:
                    self._fill()
                body += self.buf[:size]
                self.buf = self.buf[size + 2:]
                if size == 0:
                    return status, body
        raise ValueError("%s: an answer without a length" % self.address)

    def call(self, method, path):
        self.send(method, path)
        return self.read()


def scraped_weight(body):
    m = WEIGHT_RE.search(body)
    return float(m.group(1)) if m else None


def nearest_rank(values, q):
    s = sorted(values)
    return s[max(0, min(len(s) - 1, int(-(-q * len(s) // 100)) - 1))]


def find_leader(admins):
    """The replica every replica names as leader, or exit."""
    named = set()
    for name, address in admins.items():
        status, body = Conn(address).call("GET", "/api/v1/cluster")
        named.add(json.loads(body).get("leader") if status == 200 else None)
    if len(named) != 1 or None in named or next(iter(named)) not in admins:
        sys.exit("measure: the replicas do not agree on a leader: %s" % named)
    return next(iter(named))


def one_promote(leader_conn, polls, names, rollout, old, new, interval, timeout):
    """One promote: (answer_s, {name: (lower_s, upper_s)}, (poll rounds, seconds polling), answer
    status, answer body)."""
    seen = {}
    last_old_send = {n: None for n in names}
    rounds = 0
    polling = 0.0  # time spent in poll rounds, sleeps included
    answer = None
    t0 = time.perf_counter()
    leader_conn.send("POST", "/api/v1/rollouts/%s/promote" % rollout)
    while len(seen) < len(names):
        start = time.perf_counter()
        if start - t0 > timeout:
            raise TimeoutError("not every replica applied %s within %.0f s: %s" % (new, timeout, seen))
        waiting = [n for n in names if n not in seen]
        sent = {}
        for n in waiting:
            sent[n] = time.perf_counter()
            polls[n].send("GET", "/metrics")
        for n in waiting:
            status, body = polls[n].read()
            got = time.perf_counter()
            w = scraped_weight(body) if status == 200 else None
            if w == new:
                lower = (last_old_send[n] or t0) - t0
                seen[n] = (lower, got - t0)
            elif w == old:
                last_old_send[n] = sent[n]
            else:
                raise ValueError("%s shows canary weight %s (expected %s or %s)" % (n, w, old, new))
        rounds += 1
        if answer is None and select.select([leader_conn.sock], [], [], 0)[0]:
            answer = (time.perf_counter() - t0,) + leader_conn.read()
        pause = interval - (time.perf_counter() - start)
        if pause > 0:
            time.sleep(pause)
        polling += time.perf_counter() - start
    if answer is None:
        status, body = leader_conn.read()
        answer = (time.perf_counter() - t0, status, body)
    return answer[0], seen, (rounds, polling), answer[1], answer[2]


def histogram(address, metric):
    """{le: cumulative count}, sum, count of a histogram on an admin /metrics."""
    _, body = Conn(address).call("GET", "/metrics")
    text = body.decode()
    buckets = {m.group(1): float(m.group(2)) for m in re.finditer(
        r'^%s_bucket\{le="([^"]+)"\} (\S+)$' % metric, text, re.M)}
    total = re.search(r"^%s_sum (\S+)$" % metric, text, re.M)
    count = re.search(r"^%s_count (\S+)$" % metric, text, re.M)
    return buckets, float(total.group(1)) if total else 0.0, float(count.group(1)) if count else 0.0


def cpu_seconds(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def measure(a):
    global WEIGHT_RE
    WEIGHT_RE = re.compile(rb'^vane_rollout_canary_weight\{rollout="%s"\} (\S+)$' % re.escape(a.rollout.encode()), re.M)
    admins = dict(r.split("=", 1) for r in a.replica)
    pids = dict(p.split("=", 1) for p in a.pid)
    names = sorted(admins)
    leader = find_leader(admins)
    followers = [n for n in names if n != leader]
    polls = {n: Conn(admins[n]) for n in names}
    leader_conn = Conn(admins[leader])
    for n in names:
        w = scraped_weight(polls[n].call("GET", "/metrics")[1])
        if w != weight_of(0):
            sys.exit("measure: %s applies canary weight %s before the first promote, not %s" % (n, w, weight_of(0)))
    probe = scrape_cost(polls[names[0]])
    before = {n: histogram(admins[n], "vane_cluster_apply_delay_seconds") for n in followers}
    cpu0 = {n: cpu_seconds(pids.get(n)) for n in names}
    rows, wall0 = [], time.perf_counter()
    for k in range(1, a.promotes + 1):
        answer_s, seen, rounds, status, body = one_promote(
            leader_conn, polls, names, a.rollout, weight_of(k - 1), weight_of(k), a.interval_ms / 1000.0, 10.0)
        if status != 200:
            sys.exit("measure: promote %d answered %d: %s" % (k, status, body[:300]))
        told = json.loads(body).get("weights", {}).get("canary")
        if told is None or float(told) != weight_of(k):
            sys.exit("measure: promote %d answered weights.canary %s, expected %s" % (k, told, weight_of(k)))
        rows.append({"promote": k, "weight": weight_of(k), "answer": answer_s, "polls": rounds, "seen": seen})
        time.sleep(random.uniform(0.05, 0.15))  # spread the promotes over the lease keepalives' phase
    wall = time.perf_counter() - wall0
    cpu = {n: (cpu_seconds(pids.get(n)) - cpu0[n]) if cpu0[n] is not None else None for n in names}
    after = {n: histogram(admins[n], "vane_cluster_apply_delay_seconds") for n in followers}
    write_csv(a.csv, rows, names)
    write_md(a, rows, names, leader, before, after, cpu, wall, probe)


def scrape_cost(conn, n=200):
    """(bytes, median round trip in ms) of one /metrics scrape: what each poll costs a replica."""
    times, size = [], 0
    for _ in range(n):
        t = time.perf_counter()
        _, body = conn.call("GET", "/metrics")
        times.append(time.perf_counter() - t)
        size = len(body)
    return size, statistics.median(times) * 1e3


def write_csv(path, rows, names):
    with open(path, "w") as f:
        f.write("promote,weight,answer_ms,all_lower_ms,all_upper_ms,polls,%s\n" % ",".join(
            "%s_lower_ms,%s_upper_ms" % (n, n) for n in names))
        for r in rows:
            lo = max(r["seen"][n][0] for n in names)
            hi = max(r["seen"][n][1] for n in names)
            cells = [r["promote"], r["weight"], "%.3f" % (r["answer"] * 1e3), "%.3f" % (lo * 1e3),
                     "%.3f" % (hi * 1e3), r["polls"][0]]
            for n in names:
                cells += ["%.3f" % (r["seen"][n][0] * 1e3), "%.3f" % (r["seen"][n][1] * 1e3)]
            f.write(",".join(str(c) for c in cells) + "\n")


def stats_row(label, values_s, target=None):
    ms = [v * 1e3 for v in values_s]
    cells = [label] + ["%.1f" % nearest_rank(ms, q) for q in (50, 90, 99)] + ["%.1f" % max(ms), "%.1f" % statistics.mean(ms)]
    if target is not None:
        cells.append("yes" if nearest_rank(ms, 99) <= target else "**no**")
    return "| " + " | ".join(cells) + " |"


def delay_lines(name, before, after):
    """The apply-delay histogram of one follower over the measured promotes (after - before)."""
    b_buckets, b_sum, b_count = before
    a_buckets, a_sum, a_count = after
    n = a_count - b_count
    if n <= 0:
        return ["| %s | 0 | | | |" % name]
    les = sorted(a_buckets, key=lambda x: float("inf") if x == "+Inf" else float(x))
    cum = [(le, a_buckets[le] - b_buckets.get(le, 0)) for le in les]

    def bound(q):
        for le, c in cum:
            if c >= q / 100.0 * n:
                return "≤ %s s" % le if le != "+Inf" else "> %s s" % les[-2]
        return "?"
    shape = ", ".join("≤%s: %d" % (le, c) for le, c in cum if le != "+Inf")
    return ["| %s | %d | %.1f | %s | %s | %s |" % (name, n, (a_sum - b_sum) / n * 1e3, bound(50), bound(99), shape)]


def write_md(a, rows, names, leader, before, after, cpu, wall, probe):
    all_hi = [max(r["seen"][n][1] for n in names) for r in rows]
    all_lo = [max(r["seen"][n][0] for n in names) for r in rows]
    widths = [r["seen"][n][1] - r["seen"][n][0] for r in rows for n in names]
    polls = sum(r["polls"][0] for r in rows)
    poll_period = sum(r["polls"][1] for r in rows) / polls
    head = "| | p50 (ms) | p90 (ms) | p99 (ms) | max (ms) | mean (ms) |"
    md = ["# Cluster: time from a promote to every replica applying it", "",
          "- date: %s" % datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")]
    md += ["- %s" % n for n in a.note]
    with open("/proc/loadavg") as f:
        md.append("- load average (1, 5, 15 min) at the end: %s" % " ".join(f.read().split()[:3]))
    md += ["- %d replicas (%s), leader %s; %d promotes POSTed to the leader, each followed by polling "
           "every replica's `/metrics` (`vane_rollout_canary_weight`) every %g ms from one process, "
           "one keep-alive connection per replica" % (len(names), ", ".join(names), leader, len(rows), a.interval_ms),
           "- polls made: %d rounds in all; the mean round (a `/metrics` scrape of every replica still "
           "waiting, then the sleep to the next tick) took %.2f ms; one scrape is %d bytes and took %.2f ms "
           "(median round trip of 200 back to back before the promotes), on the same control thread that "
           "applies the states" % (polls, poll_period * 1e3, probe[0], probe[1]), "",
           "## Decision to the last replica applying it", "",
           "The upper bound (the receipt of the first poll showing the new weight) is the headline; the "
           "lower bound (the send of the last poll still showing the old one) brackets the true moment "
           "from below. Their difference is what the polling contributes: median %.2f ms, max %.2f ms "
           "per replica and promote." % (statistics.median(widths) * 1e3, max(widths) * 1e3), "",
           head + " p99 ≤ %g ms? |" % a.target_ms, "|---|---:|---:|---:|---:|---:|---|",
           stats_row("every replica applied (upper bound)", all_hi, a.target_ms),
           stats_row("every replica applied (lower bound)", all_lo, a.target_ms), "",
           "## Per replica (upper bound) and the promote's answer", "", head, "|---|---:|---:|---:|---:|---:|"]
    for n in names:
        role = "leader: applies when it decides" if n == leader else "follower: applies from etcd's watch"
        md.append(stats_row("%s (%s)" % (n, role), [r["seen"][n][1] for r in rows]))
    md.append(stats_row("promote answered (the leader committed the state to etcd)", [r["answer"] for r in rows]))
    md += ["", "## `vane_cluster_apply_delay_seconds` on the followers, over these promotes", "",
           "The leader's wall clock when it queued the write (`writtenAt`, millisecond precision, "
           "rounded down) against the follower's when it applied the state: one host, one clock here.", "",
           "| follower | applies | mean (ms) | p50 bucket | p99 bucket | cumulative buckets (s: count) |",
           "|---|---:|---:|---|---|---|"]
    for n in names:
        if n in after:
            md += delay_lines(n, before[n], after[n])
    md += ["", "## CPU of each replica over the measurement", "",
           "%.1f s of promotes and polling (%d scrapes of each replica at most)." % (wall, polls), "",
           "| replica | CPU s | CPU per promote (ms) |", "|---|---:|---:|"]
    for n in names:
        if cpu[n] is not None:
            md.append("| %s | %.2f | %.1f |" % (n, cpu[n], cpu[n] / len(rows) * 1e3))
    md.append("")
    with open(a.md, "w") as f:
        f.write("\n".join(md))
    print("\n".join(md))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("steps")
    s.add_argument("--promotes", type=int, required=True)
    m = sub.add_parser("measure")
    m.add_argument("--replica", action="append", required=True, help="NAME=HOST:PORT of its admin")
    m.add_argument("--pid", action="append", default=[], help="NAME=PID, for its CPU time")
    m.add_argument("--rollout", default="web")
    m.add_argument("--promotes", type=int, default=100)
    m.add_argument("--interval-ms", type=float, default=1.0)
    m.add_argument("--target-ms", type=float, default=100.0)
    m.add_argument("--csv", required=True)
    m.add_argument("--md", required=True)
    m.add_argument("--note", action="append", default=[])
    a = ap.parse_args()
    if a.cmd == "steps":
        for k in range(a.promotes + 1):
            print("          - setWeight: %d\n          - pause: {}" % weight_of(k))
    else:
        measure(a)


if __name__ == "__main__":
    main()
