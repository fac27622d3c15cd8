#!/usr/bin/env bash
# bench/soak.sh — vane under steady load for a long time, with everything that changes at once:
#   bench/soak.sh [--minutes 30] [--fraction 0.5] [--slowloris 5000] [--vane PATH] [--out bench/results]
#
# Soak: vane (one worker, core 0) in front of three nginx upstreams (core 1): stable v1 with two
# endpoints, one of which stops and starts again every 30 s (health checks and passive ejection
# take it out and back), and v2. The load is wrk at --fraction of the capacity measured first
# (paced, wrk_report.lua's delay), in 10 s slices: after each slice the latency of that slice, vane's
# RSS and open file descriptors are written to OUT/soak.csv. Every minute the config's desired
# version flips between v1 and v2 and is reloaded (POST /api/v1/reload), so a rollout walks its
# steps (setWeight 20, pause 10s, setWeight 50, pause 10s) with a background analysis, completes,
# and the next one starts. At the end: OUT/soak.png (gnuplot), and the verdict: RSS after the
# warm-up (the first 5 minutes, or the first third of a shorter run) within 5% of its mean, open
# fds not growing, no error from wrk and no non-2xx answer.
# Slowloris (--slowloris N, 0 to skip): a paced normal client's p99 alone, then again while N
# connections trickle request heads (bench/slowloris.py); passes when the normal client is still
# served and its p99 at most doubles. Results in OUT/soak.md.
# Only 127.0.0.1; every process started here is stopped on exit; every wait is bounded.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

minutes=30 fraction=0.5 loris=5000 vane_arg="" out_dir=$here/results
while [ $# -gt 0 ]; do
  case $1 in
    --minutes) minutes=$2; shift 2 ;;
    --fraction) fraction=$2; shift 2 ;;
    --slowloris) loris=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
bench_need nginx wrk curl python3 gnuplot
vane=$(find_vane "$vane_arg") || die "no vane binary (build it, or --vane PATH)"
commit=$(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo unknown)  # as the run starts
mkdir -p "$out_dir"
ulimit -n "$(nofile_cap)" 2>/dev/null || true  # vane must hold the slowloris connections
BENCH_NICE=${BENCH_NICE:-0}
bench_mkworkdir
trap bench_cleanup EXIT

base=$(pick_port_base 18400)
port=$base admin=$((base + 1)) v1a=$((base + 2)) v1b=$((base + 3)) v2=$((base + 4))
start_upstream v1a "$v1a" 1 >/dev/null
v1b_pid=$(start_upstream v1b "$v1b" 1)
start_upstream v2 "$v2" 1 >/dev/null

conf=$BENCH_WORKDIR/soak.yaml
write_conf() {  # write_conf DESIRED
  cat >"$conf" <<CONF
listeners: [{name: bench, address: "127.0.0.1:$port"}]
admin: {address: "127.0.0.1:$admin"}
state: {dir: "$BENCH_WORKDIR/state"}
limits: {idleTimeout: 600s, requestHeaderTimeout: 10s}
workers: 1
upstreams:
  - name: v1
    endpoints: ["127.0.0.1:$v1a", "127.0.0.1:$v1b"]
    healthCheck: {path: /, interval: 1s, timeout: 500ms, unhealthyThreshold: 1, healthyThreshold: 1}
    retries: {attempts: 1, on: [connect-failure, reset]}
  - {name: v2, endpoints: ["127.0.0.1:$v2"]}
routes:
  - {name: all, match: {pathPrefix: /}, rollout: app}
analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        initialDelay: 3s
        interval: 5s
        successCondition: result >= 0.5
        failureLimit: 1000000
        provider:
          builtin: {metric: success-rate, window: 30s, minRequests: 10}
rollouts:
  - name: app
    upstream: $1
    strategy:
      canary:
        steps:
          - setWeight: 20
          - pause: {duration: 10s}
          - setWeight: 50
          - pause: {duration: 10s}
        analysis: {templates: [{templateName: success-rate}], startingStep: 1}
CONF
}
write_conf v1
read -r vane_pid addr < <(launch_vane "$vane" "$conf" "$BENCH_WORKDIR/vane.ready" "$BENCH_WORKDIR/vane.out" 0 vane) \
  || die "vane did not start"

# wrk_slice SECONDS [DELAY_MS] -> "requests p50_us p99_us errors" of one wrk run.
wrk_slice() {
  local line
  line=$(WRK_DELAY_MS=${2:-0} pinned 1 wrk -t1 -c50 -d"$1"s -s "$here/wrk_report.lua" "http://$addr/" 2>/dev/null | grep '^WRKRESULT') || true
  python3 - "$line" <<'PY'
import sys
f = dict(kv.split("=") for kv in sys.argv[1].split()[1:]) if sys.argv[1] else {}
g = lambda k: int(f.get(k, 0))
# Socket errors (connect, read, write, timeout) and answers that were not 2xx/3xx, apart.
errors = ":".join(str(g(k)) for k in ("err_connect", "err_read", "err_write", "err_timeout", "err_status"))
print(g("requests"), g("p50_us"), g("p99_us"), errors if f else "-1")
PY
}
fds() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
phase() { curl -s --max-time 2 "http://127.0.0.1:$admin/api/v1/rollouts/app" | python3 -c 'import json,sys; s=json.load(sys.stdin); print(s["phase"] + "/" + str(s["currentStepIndex"]))' 2>/dev/null || echo "?"; }

read -r cap_requests _ _ _ < <(wrk_slice 10)
capacity=$((cap_requests / 10))
[ "$capacity" -gt 0 ] || die "no capacity measured"
rate=$(python3 -c "print(max(1, int($capacity * $fraction)))")
delay_ms=$(python3 -c "print(max(1, round(50 * 1000 / $rate)))")
log "capacity $capacity req/s; soak at $rate req/s (each connection waits $delay_ms ms) for $minutes min"

csv=$out_dir/soak.csv
echo "elapsed_s,requests,rps,p50_ms,p99_ms,errors_connect_read_write_timeout_status,rss_kib,fds,phase,v1b" >"$csv"
desired=v1 v1b_up=1 reloads=0 t0=$SECONDS i=0
while [ $((SECONDS - t0)) -lt $((minutes * 60)) ]; do
  if [ $((i % 6)) -eq 5 ]; then  # a reload every minute, flipping the desired version
    desired=$([ "$desired" = v1 ] && echo v2 || echo v1)
    write_conf "$desired"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://127.0.0.1:$admin/api/v1/reload")" = 200 ] \
      || die "reload rejected"
    reloads=$((reloads + 1))
  fi
  if [ $((i % 3)) -eq 2 ]; then  # the flapping endpoint: down 30 s, up 30 s
    if [ "$v1b_up" = 1 ]; then
      kill -TERM "$v1b_pid"; v1b_up=0
    else
      v1b_pid=$(start_upstream v1b "$v1b" 1); v1b_up=1
    fi
  fi
  read -r n p50 p99 errors < <(wrk_slice 10 "$delay_ms")
  kill -0 "$vane_pid" 2>/dev/null || die "vane exited: $(tail -5 "$BENCH_WORKDIR/vane.out")"
  printf '%d,%d,%.0f,%.3f,%.3f,%s,%d,%d,%s,%d\n' $((SECONDS - t0)) "$n" "$(python3 -c "print($n/10)")" \
    "$(python3 -c "print($p50/1000)")" "$(python3 -c "print($p99/1000)")" "$errors" \
    "$(rss_kib "$vane_pid")" "$(fds "$vane_pid")" "$(phase)" "$v1b_up" >>"$csv"
  i=$((i + 1))
done
# (vane_requests_total also counts each failed try of a retried request: the client's answers
# are wrk's to count.)
curl -s "http://127.0.0.1:$admin/metrics" >"$out_dir/soak-metrics.txt"
cp "$BENCH_WORKDIR/vane.out" "$out_dir/soak-vane.log"
log "soak done: $i slices, $reloads reloads"

gnuplot <<PLOT
set terminal pngcairo size 1200,800
set output "$out_dir/soak.png"
set datafile separator ","
set multiplot layout 3,1 title "vane soak: $rate req/s, reload every minute, one endpoint flapping"
set xlabel "seconds"
set ylabel "RSS (MiB)"
plot "$csv" using 1:(\$7/1024) skip 1 with lines title "RSS"
set ylabel "open fds"
plot "$csv" using 1:8 skip 1 with lines title "fds"
set ylabel "ms"
plot "$csv" using 1:4 skip 1 with lines title "p50", "" using 1:5 skip 1 with lines title "p99"
unset multiplot
PLOT

verdict=$(python3 - "$csv" "$minutes" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
warm = min(300, int(sys.argv[2]) * 60 // 3)
after = [r for r in rows if int(r["elapsed_s"]) > warm] or rows
rss = [int(r["rss_kib"]) for r in after]
fds = [int(r["fds"]) for r in after]
half = len(fds) // 2
# Pooled upstream connections come and go with the flapping endpoint and the rollout's phase:
# growth is the later half needing more than the earlier half ever held.
fd_growth = max(fds[half:] or fds) - max(fds[:half] or fds)
col = "errors_connect_read_write_timeout_status"
lost = sum(1 for r in rows if r[col] == "-1")  # a slice whose wrk printed nothing
parts = [list(map(int, r[col].split(":"))) for r in rows if r[col] != "-1"]
socket_errors = sum(sum(p[:4]) for p in parts)
non2xx = sum(p[4] for p in parts)
errors = socket_errors + lost
mean = sum(rss) / len(rss)
spread = max(abs(v - mean) for v in rss) / mean
p99 = sorted(float(r["p99_ms"]) for r in after)
ok = spread <= 0.05 and fd_growth <= 2 and errors == 0 and non2xx == 0
print(f"{'PASS' if ok else 'FAIL'}: RSS after warm-up {min(rss)/1024:.1f}-{max(rss)/1024:.1f} MiB "
      f"(within {spread*100:.1f}% of its mean), open fds {min(fds)}-{max(fds)} (later half over earlier: {fd_growth:+d}), "
      f"socket errors {errors}, non-2xx/3xx answers {non2xx}, median slice p99 {p99[len(p99)//2]:.2f} ms")
PY
)
log "$verdict"

loris_line="slowloris skipped"
if [ "$loris" -gt 0 ]; then
  read -r _ _ alone _ < <(wrk_slice 20 "$delay_ms")
  python3 "$here/slowloris.py" 127.0.0.1 "${addr##*:}" --connections "$loris" --seconds 90 >"$BENCH_WORKDIR/loris.out" 2>&1 &
  loris_pid=$!
  echo "$loris_pid" >>"$BENCH_WORKDIR/started.pids"
  for _ in $(seq 600); do grep -q READY "$BENCH_WORKDIR/loris.out" && break; sleep 0.1; done
  read -r served _ during _ < <(wrk_slice 20 "$delay_ms")
  status=$(grep STATUS "$BENCH_WORKDIR/loris.out" | tail -1)
  kill "$loris_pid" 2>/dev/null || true
  loris_ok=$(python3 -c "print('PASS' if $served > 0 and $during <= 2 * $alone else 'FAIL')")
  loris_line="$loris_ok: $loris trickling connections ($(grep -o 'READY.*' "$BENCH_WORKDIR/loris.out"), last $status): a normal client's p99 $(python3 -c "print(f'{$alone/1000:.2f} ms alone, {$during/1000:.2f} ms during ({$during/max(1,$alone):.2f}x)')"), $served requests served in 20 s"
  log "$loris_line"
fi

cat >"$out_dir/soak.md" <<MD
# vane soak ($(date -u '+%Y-%m-%d %H:%M UTC'))

- vane: $vane (tree at $commit when the run started); one worker on core 0; wrk -t1 -c50 and nginx upstreams on core 1
- load: $rate req/s ($fraction of the measured $capacity req/s) for $minutes minutes, $reloads reloads (desired flipping v1/v2: a rollout with a background analysis each minute), one v1 endpoint down/up every 30 s
- soak: $verdict
- slowloris: $loris_line
- samples: soak.csv (every 10 s), plot: soak.png
MD
log "wrote $out_dir/soak.md, soak.csv, soak.png"
case "$verdict $loris_line" in *FAIL*) exit 1 ;; esac
