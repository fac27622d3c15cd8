#!/usr/bin/env bash
# bench/reload_latency.sh — what a config reload costs the traffic going through vane.
#
#   bench/reload_latency.sh [--rounds 3] [--duration 10] [--reloads 4] [--connections 50] [--vane PATH]
#
# vane (one worker, core 0) in front of two nginx upstreams, wrk (core 1) with keep-alive. Each
# round runs wrk twice for --duration seconds: once undisturbed, once while the config file is
# changed and reloaded (POST /api/v1/reload) --reloads times, evenly spread. Reports, per kind of
# run, the median over rounds of requests/s, p99 and max latency and failed requests (wrk
# errors + non-2xx), and the ratio p99 with reloads / p99 without (issue #3: no failed request
# and no spike above 2x p99). Only 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

rounds=3 duration=10 reloads=4 connections=50 vane_arg="" BENCH_NICE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --reloads) reloads=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in rounds duration reloads connections; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v must be a positive integer"
done
bench_need nginx wrk taskset curl ss python3
vane=$(find_vane "$vane_arg") || die "no vane binary (build it, or pass --vane)"
bench_mkworkdir
trap bench_cleanup EXIT

base=$(pick_port_base 18400)
start_upstream up1 "$base" 1 >/dev/null
start_upstream up2 $((base + 1)) 1 >/dev/null
read -r _ addr < <(start_vane "$vane" $((base + 2)) $((base + 3)) "$base" $((base + 1)) 0) || die "vane did not start"
admin="127.0.0.1:$((base + 3))"
conf=$BENCH_WORKDIR/vane.yaml

# run_wrk SECONDS -> the WRKRESULT line.
run_wrk() {
  (pinned 1 timeout $(($1 + 20)) wrk -t1 -c"$connections" -d"$1"s --latency \
    -s "$here/wrk_report.lua" "http://$addr/") | grep '^WRKRESULT'
}

# Alternates idleTimeout 600s/599s: a real change, so every worker takes a new generation.
flip_and_reload() {
  if grep -q 'idleTimeout: 600s' "$conf"; then sed -i 's/idleTimeout: 600s/idleTimeout: 599s/' "$conf"
  else sed -i 's/idleTimeout: 599s/idleTimeout: 600s/' "$conf"; fi
  [ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$admin/api/v1/reload")" = 200 ] || die "reload refused"
}

results=$BENCH_WORKDIR/results.txt
: >"$results"
for round in $(seq "$rounds"); do
  log "round $round/$rounds: undisturbed"
  echo "plain $(run_wrk "$duration")" >>"$results"
  log "round $round/$rounds: $reloads reloads"
  run_wrk "$duration" >"$BENCH_WORKDIR/wrk.out" &
  wrk_pid=$!
  gap=$(python3 -c "print($duration / ($reloads + 1))")
  for _ in $(seq "$reloads"); do sleep "$gap"; flip_and_reload; done
  wait "$wrk_pid"
  echo "reload $(cat "$BENCH_WORKDIR/wrk.out")" >>"$results"
done

python3 - "$results" "$duration" <<'PY'
import re, statistics, sys
rows = {"plain": [], "reload": []}
for line in open(sys.argv[1]):
    kind, rest = line.split(" ", 1)
    f = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", rest))
    failed = f["err_connect"] + f["err_read"] + f["err_write"] + f["err_status"] + f["err_timeout"]
    rows[kind].append((f["requests"] / (f["duration_us"] / 1e6), f["p99_us"] / 1000, f["max_us"] / 1000, failed))
med = {k: [statistics.median(c) for c in zip(*v)] for k, v in rows.items()}
print("| run | requests/s | p99 (ms) | max (ms) | failed requests |")
print("|---|---:|---:|---:|---:|")
for k, label in (("plain", "no reload"), ("reload", "with reloads")):
    rps, p99, mx, failed = med[k]
    print(f"| {label} | {rps:,.0f} | {p99:.2f} | {mx:.2f} | {failed:g} |")
print(f"\np99 with reloads / without: {med['reload'][1] / med['plain'][1]:.2f}")
PY
