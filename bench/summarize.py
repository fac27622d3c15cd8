#!/usr/bin/env python3
"""bench/summarize.py: medians over rounds of bench/run.sh's per-run CSV, ratios of vane to the
others; prints a table and writes it as markdown with the date and machine information."""
import argparse
import csv
import datetime
import statistics
import sys

NAMES = {"nginx": "nginx", "haproxy": "HAProxy", "vane": "vane",
         "nginx-tls": "nginx", "haproxy-tls": "HAProxy", "vane-tls": "vane"}
# One table each: the same proxies forwarding plain HTTP, and terminating TLS (bench/run.sh --tls).
GROUPS = [("HTTP", ("nginx", "haproxy", "vane")),
          ("TLS termination (TLS 1.3, keep-alive)", ("nginx-tls", "haproxy-tls", "vane-tls"))]
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
    for opt in ("csv", "out", "machine", "versions", "rev", "params", "skipped", "load", "syscall", "notes"):
        ap.add_argument("--" + opt, default="")
    a = ap.parse_args()

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
    md = ["# vane vs nginx vs HAProxy", "",
          "- date: %s" % now,
          "- machine: %s; load average before the run: %s; one system call ≈ %s µs (dd bs=1)"
          % (a.machine, a.load, a.syscall),
          "- peers: %s" % a.versions,
          "- vane: %s" % a.rev,
          "- run: %s; each proxy one worker on core 0, wrk and two nginx upstreams on core 1" % a.params,
          ""]
    for title, (head, rows) in tables:
        md += ["## " + title, ""]
        md += ["| " + " | ".join(head) + " |", "|" + "|".join(["---"] + ["---:"] * (len(head) - 1)) + "|"]
        md += ["| " + " | ".join(r) + " |" for r in rows]
        md.append("")
    md += ["Ratios below 1 are better for latency and CPU, above 1 for requests/s. "
           "CPU per request is the figure that ranks proxies here (see bench/README.md).", ""]
    for s in skipped:
        md.append("**skipped** %s  " % s)
    for w in warnings:
        md.append("**warning** %s  " % w)
    md += ["", "Spread over rounds (min–max):", "",
           "| proxy | requests/s | p99 (ms) | CPU µs/req |", "|---|---:|---:|---:|"]
    for p in all_proxies:
        s = spread[p]
        md.append("| %s | %.0f–%.0f | %.3f–%.3f | %.2f–%.2f |" % (
            p, *s["rps"], *s["p99_us"], *s["cpu_us_per_req"]))
    md.append("")
    with open(a.out, "w") as f:
        f.write("\n".join(md))
    print("\nwrote " + a.out)


def table(runs, med, errors, proxies):
    """The figures of one group of proxies, with the ratios of vane to each other one."""
    vane = next((p for p in proxies if p.startswith("vane")), None)
    ratios = [(vane, y) for y in proxies if vane and y != vane]
    ratios.sort(key=lambda r: not r[1].startswith("haproxy"))  # vane/HAProxy first

    head = ["figure (median of %s runs)" % "/".join(str(len(runs[p])) for p in proxies)]
    head += [NAMES[p] for p in proxies] + ["%s/%s" % (NAMES[x], NAMES[y]) for x, y in ratios]
    rows = []
    for col, label, fmt, better in FIGURES:
        line = [label] + [fmt.format(med[p][col]) for p in proxies]
        for x, y in ratios:
            line.append("{:.2f}".format(med[x][col] / med[y][col]) if better and med[y][col] else "")
        rows.append(line)
    rows.append(["errors (all runs)"] + [str(errors[p]) for p in proxies] + ["" for _ in ratios])

    # Ratios within each round, then their median: a drift of the machine between rounds cancels.
    paired = {}
    for x, y in ratios:
        for col in ("rps", "cpu_us_per_req"):
            bx = {r["round"]: float(r[col]) for r in runs[x]}
            by = {r["round"]: float(r[col]) for r in runs[y]}
            vals = [bx[k] / by[k] for k in bx if k in by and by[k]]
            if vals:
                paired[(x, y, col)] = (statistics.median(vals), min(vals), max(vals), len(vals))
    for col, label in (("rps", "requests/s"), ("cpu_us_per_req", "CPU per request")):
        line = [label + ", median of per-round ratios"] + ["" for _ in proxies]
        for x, y in ratios:
            m = paired.get((x, y, col))
            line.append("{:.2f} ({:.2f}–{:.2f})".format(*m[:3]) if m else "")
        if ratios:
            rows.append(line)

    return head, rows


if __name__ == "__main__":
    main()
