#!/usr/bin/env python3
"""bench/summarize.py: medians over rounds of bench/run.sh's per-run CSV, ratios of vane to the
others; prints a table and writes it as markdown with the date and machine information."""
import argparse
import csv
import datetime
import statistics
import sys

NAMES = {"nginx": "nginx", "haproxy": "HAProxy", "vane": "vane", "vane-cluster": "vane cluster",
         "nginx-tls": "nginx", "haproxy-tls": "HAProxy", "vane-tls": "vane",
         "nginx-split": "nginx", "haproxy-split": "HAProxy", "vane-split": "vane",
         "vane-split-analysis": "vane + analysis",
         "nginx-header": "nginx", "haproxy-header": "HAProxy", "vane-header": "vane",
         "nginx-mirror": "nginx", "vane-mirror": "vane"}
# One table each: the same proxies forwarding plain HTTP, terminating TLS (bench/run.sh --tls), and
# the rollout rows (--rollout-rows): stable = upstream 1, canary = upstream 2.
GROUPS = [("HTTP", ("nginx", "haproxy", "vane", "vane-cluster")),
          ("TLS termination (TLS 1.3, keep-alive)", ("nginx-tls", "haproxy-tls", "vane-tls")),
          ("90/10 canary split (nginx split_clients, HAProxy weights 90/10, vane setWeight 10)",
           ("nginx-split", "haproxy-split", "vane-split", "vane-split-analysis")),
          ("Header route (every request X-Canary: yes -> canary; nginx map, HAProxy use_backend, "
           "vane setHeaderRoute)", ("nginx-header", "haproxy-header", "vane-header")),
          ("100% mirror (nginx mirror, vane setMirrorRoute percentage 100; HAProxy has no built-in "
           "mirror)", ("nginx-mirror", "vane-mirror"))]
# bench/h2.sh's rows: PROXY-ROW, one table per ROW (h2load against HTTP/2 listeners, HTTP/1.1 upstreams).
H2_ROWS = [("h2c-m1", "HTTP/2 cleartext (prior knowledge), 1 stream per connection"),
           ("h2c-m100", "HTTP/2 cleartext (prior knowledge), 100 concurrent streams per connection"),
           ("tls-m1", "HTTP/2 over TLS (ALPN h2), 1 stream per connection"),
           ("tls-m100", "HTTP/2 over TLS (ALPN h2), 100 concurrent streams per connection")]
# bench/websocket.sh's rows: PROXY-ws, echo round trips through an upgraded connection.
for _row, _title in H2_ROWS + [("ws", "WebSocket echo (one message each way per round trip)")]:
    NAMES.update({"nginx-" + _row: "nginx", "haproxy-" + _row: "HAProxy", "vane-" + _row: "vane"})
    GROUPS.append((_title, tuple(p + "-" + _row for p in ("nginx", "haproxy", "vane"))))
UNIT = "request"  # --unit: what one CSV "request" is (websocket.sh: a round trip)


def lab(text):
    """A label with "request" read as UNIT."""
    return text.replace("request", UNIT)
# What a feature costs a proxy: (row, the same proxy without it, the target it is held to).
COSTS = [("vane-cluster", "vane", "issue #13: cluster mode costs the request path: CPU per request ratio <= 1.02"),
         ("vane-split", "vane", "issue #4: the split costs vane <= 5% of its plain throughput"),
         ("vane-split-analysis", "vane-split", "issue #5: analysis costs no measurable throughput"),
         ("vane-header", "vane", ""),
         ("vane-mirror", "vane", "issue #4: mirroring must not raise the client's p99"),
         ("nginx-split", "nginx", ""), ("nginx-header", "nginx", ""), ("nginx-mirror", "nginx", ""),
         ("haproxy-split", "haproxy", ""), ("haproxy-header", "haproxy", "")]
# (column, label, format, better) — better: "lower" or "higher", for reading the ratios
FIGURES = [
    ("rps", "requests/s", "{:.0f}", "higher"),
    ("p50_us", "p50 latency (ms)", "{:.3f}", "lower"),
    ("p99_us", "p99 latency (ms)", "{:.3f}", "lower"),
    ("cpu_us_per_req", "CPU per request (µs), proxy process", "{:.2f}", "lower"),
    ("core0_us_per_req", "core 0 busy per request (µs)", "{:.2f}", "lower"),
    ("core0_util", "core 0 busy (fraction)", "{:.2f}", None),
    ("core1_util", "core 1 busy (fraction)", "{:.2f}", None),
]


def scaled(col, value):
    return value / 1000.0 if col in ("p50_us", "p99_us") else value


def main():
    ap = argparse.ArgumentParser()
    for opt in ("csv", "out", "machine", "versions", "rev", "params", "skipped", "load", "syscall", "notes",
                "verify"):
        ap.add_argument("--" + opt, default="")
    ap.add_argument("--title", default="vane vs nginx vs HAProxy")
    ap.add_argument("--unit", default="request", help="what a CSV request is, in the labels")
    ap.add_argument("--setup", default="each proxy one worker on core 0, wrk and two nginx upstreams on core 1")
    a = ap.parse_args()
    global UNIT
    UNIT = a.unit

    runs = {}
    with open(a.csv, newline="") as f:
        for row in csv.DictReader(f):
            runs.setdefault(row["proxy"], []).append(row)
    all_proxies = [p for _, group in GROUPS for p in group if p in runs]
    if not all_proxies:
        sys.exit("summarize: no runs in " + a.csv)

    med = {p: {c: statistics.median(scaled(c, float(r[c])) for r in runs[p]) for c, *_ in FIGURES}
           for p in all_proxies}
    spread = {p: {c: (min(scaled(c, float(r[c])) for r in runs[p]),
                      max(scaled(c, float(r[c])) for r in runs[p])) for c, *_ in FIGURES}
              for p in all_proxies}
    errors = {p: sum(int(r["errors"]) for r in runs[p]) for p in all_proxies}
    tables = [(title, table(runs, med, errors, [p for p in group if p in runs]))
              for title, group in GROUPS if any(p in runs for p in group)]
    costs = cost_table(runs, med)
    if costs:
        tables.append(("What each feature costs the same proxy (row / its plain or no-analysis row)", costs))

    for title, (head, rows) in tables:
        widths = [max(len(r[i]) for r in [head] + rows) for i in range(len(head))]
        print("\n" + title)
        for r in [head] + rows:
            print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    skipped = [s for s in a.skipped.split(";") if s.strip()]
    for s in skipped:
        print("skipped: " + s)
    warnings = [n for n in a.notes.split(";") if n.strip()]
    for p in all_proxies:
        own, core = med[p]["cpu_us_per_req"], med[p]["core0_us_per_req"]
        if own and core > own * 1.15:
            warnings.append("%s: core 0 was busy %.0f%% more than the proxy itself: other work ran "
                            "on core 0, figures are suspect" % (p, (core / own - 1) * 100))
        if errors[p]:
            warnings.append("%s: %d errors or non-2xx answers" % (p, errors[p]))
    for w in warnings:
        print("warning: " + w)

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    md = ["# " + a.title, "",
          "- date: %s" % now,
          "- machine: %s; load average before the run: %s; one system call ≈ %s µs (dd bs=1)"
          % (a.machine, a.load, a.syscall),
          "- peers: %s" % a.versions,
          "- vane: %s" % a.rev,
          "- run: %s; %s" % (a.params, a.setup),
          ""]
    for title, (head, rows) in tables:
        md += ["## " + title, ""]
        md += ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        md += ["| " + " | ".join(r) + " |" for r in rows]
        md.append("")
    md += [lab("Ratios below 1 are better for latency and CPU, above 1 for requests/s. "
               "CPU per request is the figure that ranks proxies here (see bench/README.md)."), ""]
    verified = last_verification(a.verify)
    if verified:
        md += ["Where the traffic went (the last measured run of each row: the upstreams' own request "
               "counters, and vane's rollout status):", ""]
        md += ["- **%s** %s" % (row, text) for row, text in verified]
        md.append("")
    for s in skipped:
        md.append("**skipped** %s  " % s)
    for w in warnings:
        md.append("**warning** %s  " % w)
    md += ["", "Spread over rounds (min–max):", "",
           "| proxy | %ss/s | p99 (ms) | CPU µs/%s |" % (UNIT, "req" if UNIT == "request" else UNIT),
           "|---|---:|---:|---:|"]
    for p in all_proxies:
        s = spread[p]
        md.append("| %s | %.0f–%.0f | %.3f–%.3f | %.2f–%.2f |" % (
            p, *s["rps"], *s["p99_us"], *s["cpu_us_per_req"]))
    md.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(md))
    print("\nwrote " + a.out)


def per_request(runs, p, col):
    """Median over runs of an upstream's requests per client request, in percent (None if unknown)."""
    vals = [100.0 * float(r[col]) / float(r["requests"]) for r in runs[p]
            if r.get(col) not in (None, "") and float(r["requests"]) > 0]
    return statistics.median(vals) if vals else None


def paired_ratio(runs, x, y, col):
    """Median, min and max of x/y within each round (a drift between rounds cancels), or None."""
    bx = {r["round"]: float(r[col]) for r in runs[x]}
    by = {r["round"]: float(r[col]) for r in runs[y]}
    vals = [bx[k] / by[k] for k in bx if k in by and by[k]]
    return (statistics.median(vals), min(vals), max(vals)) if vals else None


def cost_table(runs, med):
    """Each rollout row against the same proxy without the feature, ratios paired by round."""
    head = ["row / base", "requests/s ratio", "CPU per request ratio", "p99 (ms) base → row",
            "p99 ratio", "target"]
    rows = []
    for row, base, target in COSTS:
        if row not in runs or base not in runs:
            continue
        cells = ["%s / %s" % (row, base)]
        for col in ("rps", "cpu_us_per_req"):
            m = paired_ratio(runs, row, base, col)
            cells.append("{:.3f} ({:.3f}–{:.3f})".format(*m) if m else "")
        cells.append("%.3f → %.3f" % (med[base]["p99_us"], med[row]["p99_us"]))
        m = paired_ratio(runs, row, base, "p99_us")
        cells.append("{:.2f} ({:.2f}–{:.2f})".format(*m) if m else "")
        cells.append(target)
        rows.append(cells)
    return (head, rows) if rows else None


def last_verification(path):
    """The last line the run wrote for each rollout row: [(row, text)], in the order first seen."""
    last = {}
    if path:
        try:
            with open(path) as f:
                for line in f:
                    head, _, text = line.strip().partition(": ")
                    row, _, when = head.partition(" ")  # "vane-split (round 3)"
                    if row:
                        last[row] = (when + " " + text).strip()
        except OSError:
            pass
    return list(last.items())


def table(runs, med, errors, proxies):
    """The figures of one group of proxies, with the ratios of vane to each other one."""
    vane = next((p for p in proxies if p.startswith("vane")), None)
    ratios = [(vane, y) for y in proxies if vane and not y.startswith("vane")]
    ratios.sort(key=lambda r: not r[1].startswith("haproxy"))  # vane/HAProxy first

    head = ["figure (median of %s runs)" % "/".join(str(len(runs[p])) for p in proxies)]
    head += [NAMES[p] for p in proxies] + ["%s/%s" % (NAMES[x], NAMES[y]) for x, y in ratios]
    rows = []
    for col, label, fmt, better in FIGURES:
        line = [lab(label)] + [fmt.format(med[p][col]) for p in proxies]
        for x, y in ratios:
            line.append("{:.2f}".format(med[x][col] / med[y][col]) if better and med[y][col] else "")
        rows.append(line)
    rows.append(["errors (all runs)"] + [str(errors[p]) for p in proxies] + ["" for _ in ratios])
    if any(p.endswith(("-split", "-header", "-mirror")) for p in proxies):
        for col, label in (("up1_requests", "upstream 1 (stable) requests per client request (%)"),
                           ("up2_requests", "upstream 2 (canary) requests per client request (%)")):
            vals = [per_request(runs, p, col) for p in proxies]
            rows.append([label] + ["" if v is None else "%.1f" % v for v in vals] + ["" for _ in ratios])

    # Ratios within each round, then their median: a drift of the machine between rounds cancels.
    paired = {}
    for x, y in ratios:
        for col in ("rps", "cpu_us_per_req"):
            m = paired_ratio(runs, x, y, col)
            if m:
                paired[(x, y, col)] = m
    for col, label in (("rps", "requests/s"), ("cpu_us_per_req", "CPU per request")):
        line = [lab(label) + ", median of per-round ratios"] + ["" for _ in proxies]
        for x, y in ratios:
            m = paired.get((x, y, col))
            line.append("{:.2f} ({:.2f}–{:.2f})".format(*m[:3]) if m else "")
        if ratios:
            rows.append(line)

    return head, rows


if __name__ == "__main__":
    main()
