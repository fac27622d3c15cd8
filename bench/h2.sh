#!/usr/bin/env bash
# bench/h2.sh — HTTP/2 from clients: vane vs nginx vs HAProxy, in the same run.
#
#   bench/h2.sh [--rounds 3] [--duration 10] [--warmup 2] [--connections 32]
#               [--rows h2c-m1,h2c-m100,tls-m1,tls-m100] [--proxies nginx,haproxy,vane] [--vane PATH]
#               [--equal-headers] [--nice -10] [--retries 2] [--port-base 18180] [--out bench/results] [--keep]
#
# The setup of run.sh with h2load instead of wrk: each proxy runs ONE worker pinned to core 0, alone;
# h2load (1 thread) and two nginx upstreams (HTTP/1.1, return 200 "ok\n") share core 1. Each proxy
# speaks HTTP/2 to h2load and HTTP/1.1 (kept alive) to the same two upstreams. Rows:
#   h2c-m1    HTTP/2 cleartext with prior knowledge, h2load -c32 -m1   (1 stream per connection)
#   h2c-m100  the same, -m100                                           (100 concurrent streams each)
#   tls-m1    HTTP/2 over TLS (ALPN h2, TLS 1.3 TLS_AES_256_GCM_SHA384), -m1
#   tls-m100  the same, -m100
# nginx: `listen ... http2` and `listen ... ssl http2`; HAProxy: `bind ... proto h2` and `bind ... ssl
# alpn h2,http/1.1`; vane: a plain listener with protocols [http1, h2] and a TLS listener (ALPN).
# Runs are interleaved (every proxy on a row, then the next row, round after round), each preceded
# by a warm-up of its own. Per run: requests/s, p50/p90/p99/max (from h2load's --log-file) and CPU
# time per request = delta of the proxy's utime+stime (/proc/PID/stat; nginx: its worker) over the
# run / requests. Medians over rounds and the ratios vane/HAProxy and vane/nginx (summarize.py):
# prints the tables, writes OUT/h2-latest.md and OUT/h2-latest-runs.csv.
# A run during which core 0 also did other work (core-0 busy > 1.15 x the proxy's CPU time) is
# measured again, up to --retries times. A proxy stopped by something else is restarted (3 times at most).
# Defaults: 3 rounds x 4 rows x 3 proxies x (2 s + 10 s): about 7.5 minutes.
# Only 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

rounds=3 duration=10 warmup=2 connections=32 rows="h2c-m1,h2c-m100,tls-m1,tls-m100" proxies="nginx,haproxy,vane"
vane_arg="" port_base=18180 out_dir="$here/results" retries=2 EQUAL_HEADERS=0 BENCH_NICE=$([ "$(id -u)" = 0 ] && echo -10 || echo 0)
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --proxies) proxies=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --equal-headers) EQUAL_HEADERS=1; shift ;;
    --nice) BENCH_NICE=$2; shift 2 ;;
    --retries) retries=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in rounds duration connections; do
  if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then die "--$v must be a positive integer"; fi
done
for v in warmup retries; do [[ ${!v} =~ ^[0-9]+$ ]] || die "--$v must be an integer >= 0"; done
for r in ${rows//,/ }; do
  case "$r" in h2c-m1|h2c-m100|tls-m1|tls-m100) ;; *) die "unknown row '$r' (h2c-m1, h2c-m100, tls-m1, tls-m100)" ;; esac
done
export EQUAL_HEADERS BENCH_NICE
bench_need nginx haproxy h2load taskset curl ss python3 pgrep openssl
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (proxy on core 0, load and upstreams on core 1)"

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  log "warning: load average $load1 before starting: other work on these cores will skew the figures"
fi

syscall_us=$(syscall_cost_us)

bench_mkworkdir
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$out_dir"
base=$(pick_port_base "$port_base")
up1=$((base + 1)) up2=$((base + 2)) vane_admin=$((base + 13))
declare -A port=([nginx]=$((base + 10)) [haproxy]=$((base + 11)) [vane]=$((base + 12)))
declare -A tls_port=([nginx]=$((base + 14)) [haproxy]=$((base + 15)) [vane]=$((base + 16)))
log "workdir $BENCH_WORKDIR, ports $base..$((base + 19))"
maxconn=8192  # client connections are few; upstream ones up to connections x 100 streams

declare -A up_pid main_pid cpu_pid addr restarts
skipped=() order=() notes=()

ensure_upstreams() {
  local u
  for u in up1 up2; do
    [ -n "${up_pid[$u]:-}" ] && kill -0 "${up_pid[$u]}" 2>/dev/null && continue
    [ -n "${up_pid[$u]:-}" ] && log "upstream $u was stopped by something else: restarting it"
    up_pid[$u]=$(start_upstream "$u" "${!u}" 1 16384)  # the proxies' pools: thousands of connections
  done
}

# start_proxy NAME: sets main_pid (to watch), cpu_pid (to measure) and addr (its h2c host:port).
start_proxy() {
  local r
  case "$1" in
    nginx) r=$(start_nginx_h2 "${port[nginx]}" "${tls_port[nginx]}" "$up1" "$up2" 0 "$maxconn") || return 1
           main_pid[nginx]=${r%% *}; cpu_pid[nginx]=${r#* }; addr[nginx]=127.0.0.1:${port[nginx]} ;;
    haproxy) r=$(start_haproxy_h2 "${port[haproxy]}" "${tls_port[haproxy]}" "$up1" "$up2" 0 "$maxconn") || return 1
           main_pid[haproxy]=$r; cpu_pid[haproxy]=$r; addr[haproxy]=127.0.0.1:${port[haproxy]} ;;
    vane) r=$(start_vane_h2 "$vane_bin" "${port[vane]}" "${tls_port[vane]}" "$vane_admin" "$up1" "$up2" 0) || return 1
           main_pid[vane]=${r%% *}; cpu_pid[vane]=${r%% *}; addr[vane]=${r#* } ;;
  esac
  wait_h2 "https://127.0.0.1:${tls_port[$1]}/" 10 || { log "$1 does not answer HTTP/2 on its TLS port"; return 1; }
}

alive() { kill -0 "${main_pid[$1]}" 2>/dev/null && kill -0 "${cpu_pid[$1]}" 2>/dev/null; }

ensure_proxy() {
  alive "$1" && return 0
  restarts[$1]=$(( ${restarts[$1]:-0} + 1 ))
  log "$1 stopped (by something else, or crashed): $(tail -3 "$BENCH_WORKDIR/$1-h2.out" 2>/dev/null | tr '\n' ' ')"
  [ "${restarts[$1]}" -le 3 ] || { log "$1: stopped more than 3 times, not measured any more"; return 1; }
  start_proxy "$1"
}

ensure_upstreams
bench_make_cert
for p in ${proxies//,/ }; do
  case "$p" in
    nginx|haproxy) start_proxy "$p" && order+=("$p") || skipped+=("$p: did not start") ;;
    vane)
      if ! vane_bin=$(find_vane "$vane_arg"); then
        skipped+=("vane: binary not found (build the 'vane' target, or pass --vane PATH)")
      elif start_proxy vane; then
        order+=(vane); log "vane: $vane_bin"
      else skipped+=("vane: failed to start ($vane_bin), see the log above"); fi ;;
    *) die "unknown proxy '$p' (nginx, haproxy, vane)" ;;
  esac
done
[ ${#order[@]} -gt 0 ] || die "no proxy started"
for s in "${skipped[@]}"; do log "skipped $s"; done

hz=$(getconf CLK_TCK)
csv=$out_dir/h2-latest-runs.csv
echo "round,proxy,requests,duration_s,rps,p50_us,p90_us,p99_us,max_us,cpu_us_per_req,core0_us_per_req,core0_util,core1_util,errors,up1_requests,up2_requests" >"$csv"

url_of() {  # url_of PROXY ROW
  case "$2" in h2c-*) echo "http://${addr[$1]}/" ;; tls-*) echo "https://127.0.0.1:${tls_port[$1]}/" ;; esac
}

# run_h2load URL SECONDS STREAMS [LOGFILE]: h2load's report; bounded by timeout(1) on top of its -D.
# TLS: one TLS 1.3 suite offered, so every proxy runs the same cipher (run.sh's wrk gets it too).
run_h2load() {
  local lf=()
  [ -z "${4:-}" ] || lf=(--log-file="$4")
  (pinned 1 timeout $(($2 + 20)) h2load -t1 -c"$connections" -m"$3" -D"$2" --tls13-ciphers=TLS_AES_256_GCM_SHA384 \
    "${lf[@]}" "$1") 2>&1 | tee -a "$BENCH_WORKDIR/h2load.log" || true
}

# measure PROXY ROW ROUND -> one CSV row (empty if h2load gave nothing). CPU and core readings bracket
# h2load; latency percentiles are over the requests answered 2xx (its --log-file: start, status, µs).
measure() {
  local p=$1 row=$2 round=$3 streams=${2##*-m} c0 c1 b0 b1 d0 d1 t0 t1 u10 u20 u11 u21 out lat
  local logf=$BENCH_WORKDIR/requests.log
  rm -f "$logf"
  u10=$(upstream_requests "$up1"); u20=$(upstream_requests "$up2")
  c0=$(cpu_ticks "${cpu_pid[$p]}"); b0=$(core_busy_ticks 0); d0=$(core_busy_ticks 1); t0=$(date +%s%N)
  out=$(run_h2load "$(url_of "$p" "$row")" "$duration" "$streams" "$logf")
  c1=$(cpu_ticks "${cpu_pid[$p]}"); b1=$(core_busy_ticks 0); d1=$(core_busy_ticks 1); t1=$(date +%s%N)
  u11=$(upstream_requests "$up1"); u21=$(upstream_requests "$up2")
  grep -q '^finished in' <<<"$out" || return 0
  lat=$(awk -F'\t' '$2 >= 200 && $2 < 300 { print $3 }' "$logf" 2>/dev/null | sort -n | awk '
    function q(f,  i) { i = int(NR * f) + 1; return v[i > NR ? NR : i] }
    { v[NR] = $1 }
    END { if (NR == 0) print "0 0 0 0"; else printf "%d %d %d %d\n", q(0.50), q(0.90), q(0.99), v[NR] }')
  awk -v r="$round" -v p="$p-$row" -v lat="$lat" -v cpu=$((c1 - c0)) -v c0b=$((b1 - b0)) -v c1b=$((d1 - d0)) \
    -v hz="$hz" -v el=$((t1 - t0)) -v up1n=$(( ${u11:-0} - ${u10:-0} )) -v up2n=$(( ${u21:-0} - ${u20:-0} )) '
    /^finished in/ { secs = $3 + 0 }
    # N total, N started, N done, N succeeded (2xx/3xx), N failed (any other end or status), ...
    /^requests:/ { ok = $8; failed = $10 }
    END {
      split(lat, l, " "); n = ok > 0 ? ok : 1; el_ticks = el / 1e9 * hz
      if (secs <= 0) secs = 1
      printf "%d,%s,%d,%.3f,%.0f,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%d,%d,%d\n", r, p, ok, secs, ok / secs,
        l[1], l[2], l[3], l[4], cpu / hz / n * 1e6, c0b / hz / n * 1e6, c0b / el_ticks, c1b / el_ticks,
        failed, up1n, up2n }' <<<"$out"
}

for round in $(seq "$rounds"); do
  for row in ${rows//,/ }; do
    for p in "${order[@]}"; do
      for attempt in $(seq 0 "$retries"); do
        ensure_upstreams
        ensure_proxy "$p" || break
        [ "$warmup" -gt 0 ] && run_h2load "$(url_of "$p" "$row")" "$warmup" "${row##*-m}" >/dev/null
        line=$(measure "$p" "$row" "$round")
        if ! alive "$p" || ! kill -0 "${up_pid[up1]}" 2>/dev/null || ! kill -0 "${up_pid[up2]}" 2>/dev/null; then
          log "$p $row round $round: a process stopped during the run, discarded"
          continue
        fi
        [ -n "$line" ] || { log "$p $row round $round: h2load gave no result (see $BENCH_WORKDIR/h2load.log with --keep)"; break; }
        IFS=, read -r _ _ _ _ rps p50 _ p99 _ cpu_req core0_req u0 u1 errs _ _ <<<"$line"
        msg="round $round/$rounds $(printf '%-8s %-7s' "$row" "$p") $(printf '%6s' "$rps") req/s  p50 $p50 us  p99 $p99 us  CPU $cpu_req us/req  (core0 $core0_req us/req, busy $u0/$u1)$([ "$errs" = 0 ] || echo "  ERRORS $errs")"
        if [ "$attempt" -lt "$retries" ] && awk -v o="$cpu_req" -v c="$core0_req" 'BEGIN { exit !(c > o * 1.15) }'; then
          log "$msg  -- core 0 shared, measuring again"
          continue
        fi
        echo "$line" >>"$csv"
        log "$msg"
        break
      done
    done
  done
done

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
versions="$( { nginx -v 2>&1 | sed "s|^nginx version: ||"; } || true), $( { haproxy -v | head -1 | cut -d" " -f1,3; } || true), $(h2load --version 2>&1 | head -1)"
rev="commit $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo "none yet")"
[ -n "${vane_bin:-}" ] && rev="$rev; binary $vane_bin built $(date -u -r "$vane_bin" '+%Y-%m-%d %H:%M UTC')"
params="rounds $rounds x ${duration}s (warm-up ${warmup}s), h2load -t1 -c$connections -m1 or -m100, nice $BENCH_NICE, equal headers: $([ "$EQUAL_HEADERS" = 1 ] && echo yes || echo no)"
for p in "${!restarts[@]}"; do notes+=("$p was restarted ${restarts[$p]} time(s) during the run (stopped or crashed)"); done
if [ -n "${cpu_pid[vane]:-}" ]; then  # what vane saw go wrong upstream, if anything (its warnings, its counters)
  while IFS= read -r l; do notes+=("vane logged: ${l//;/,}"); done < <(grep -v ' info ' "$BENCH_WORKDIR/vane-h2.out" | head -5)
  fails=$(curl -s --max-time 2 "http://127.0.0.1:$vane_admin/metrics" | grep '^vane_upstream_failures_total' | tr '\n' ' ' || true)
  [ -z "$fails" ] || notes+=("vane at the end: $fails")
fi
skip_text=$(IFS=';'; echo "${skipped[*]:-}")
note_text=$(IFS=';'; echo "${notes[*]:-}")
python3 "$here/summarize.py" --csv "$csv" --out "$out_dir/h2-latest.md" --machine "$machine" \
  --title "HTTP/2 from clients: vane vs nginx vs HAProxy" \
  --setup "each proxy one worker on core 0 speaking HTTP/2 to h2load and HTTP/1.1 to two nginx upstreams, h2load and the upstreams on core 1" \
  --versions "$versions" --rev "$rev" --params "$params" --skipped "$skip_text" --notes "$note_text" --load "$load1" \
  --syscall "${syscall_us:-?}"
