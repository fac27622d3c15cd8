#!/usr/bin/env bash
# bench/run.sh — vane vs nginx vs HAProxy on this machine, in the same run.
#
#   bench/run.sh [--rounds 5] [--duration 10] [--warmup 2] [--connections 50]
#                [--proxies nginx,haproxy,vane[,vane-cluster]] [--tls] [--rollout-rows] [--vane PATH] [--equal-headers]
#                [--rate N] [--nice -10 | --realtime] [--quiet-wait 0] [--retries 2]
#                [--port-base 18100] [--out bench/results] [--keep]
#
# Each proxy runs ONE worker pinned to core 0, alone; wrk (1 thread) and two nginx upstreams
# (return 200 "ok\n") share core 1. All proxies keep connections alive to the same two upstreams.
# Runs are interleaved (A B C A B C ...), each preceded by a short warm-up. Per run: requests/s,
# p50, p99 (wrk) and CPU time per request = delta of the proxy's utime+stime (/proc/PID/stat;
# nginx: its worker) over the run / requests. Medians over rounds, ratios vane/HAProxy and
# vane/nginx. Prints a table, writes bench/results/latest.md and bench/results/latest-runs.csv.
# --tls adds the TLS rows nginx-tls, haproxy-tls, vane-tls (they may also be named in --proxies):
# the same proxy processes then also terminate TLS on a second port with one self-signed P-256
# certificate; wrk over https with keep-alive (one handshake per connection), plain upstreams.
# --rollout-rows adds the traffic-splitting rows (they may also be named in --proxies), each its own
# process on core 0, with stable = upstream 1 and canary = upstream 2:
#   nginx-split haproxy-split vane-split   90/10 canary split (split_clients; weights 90/10;
#                                          a rollout paused at setWeight 10)
#   vane-split-analysis                    the same vane split with a background analysis running
#                                          (builtin success-rate and latency-p95, interval 1s)
#   nginx-header haproxy-header vane-header  every request carries X-Canary: yes -> canary (map;
#                                          use_backend if req.hdr; setHeaderRoute)
#   nginx-mirror vane-mirror               all to stable plus a copy of each to canary (mirror;
#                                          setMirrorRoute percentage 100). HAProxy has no mirror.
# vane-cluster (only when named in --proxies): the vane row's process and config plus a `cluster:`
# section, a single replica (it leads and serves) of a cluster whose etcd member run.sh starts on
# core 1 (data on /dev/shm when writable); its CPU per request against the vane row's is what
# cluster mode costs the request path (issue #13: at most 1.02x).
# With rollout rows, the requests each upstream served in each run are recorded (canary share), and
# the results go to OUT/latest-rollout.md and latest-rollout-runs.csv instead. With the default
# rounds the 9 rollout rows take about 10 minutes, plus 3.5 for the plain rows.
# vane is found with --vane, $VANE_BIN, ../build-bench/vane or build/vane; when it is
# missing or fails to start, nginx and HAProxy are still measured and vane is reported skipped.
# Build it: cmake -S . -B ../build-bench -G Ninja -DVANE_BUILD_BENCH=ON && cmake --build ../build-bench --target vane
# --nice N runs everything started here at priority N (default -10 as root, else 0), so that other
# work on a shared machine interferes less; the summary warns when core 0 was shared anyway.
# --realtime (root) runs them SCHED_FIFO instead: other work then gets a core only while the
# benchmark's processes on it are blocked. For a machine that is never quiet; it starves the rest.
# A run during which core 0 also did other work (core-0 busy time > 1.15 x the proxy's CPU time) is
# measured again, up to --retries times (not with --rate); --quiet-wait S first waits up to S s
# for idle cores.
# --rate N paces the load at about N requests/s in all (each connection waits connections/N s
# after each response; wrk's delay()): latency below saturation, where a proxy's own delays show
# (the mirror's p99 target of issue #4) instead of the queueing of a saturated core.
# Defaults take about 3.5 minutes on a quiet machine. Only 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
# shellcheck source=bench/cluster_lib.sh
source "$here/cluster_lib.sh"

rounds=5 duration=10 warmup=2 connections=50 proxies="nginx,haproxy,vane" vane_arg="" port_base=18100 with_tls=0 rollout_rows=0 rate=0
out_dir="$here/results" BENCH_RT=0 quiet_wait=0 retries=2 EQUAL_HEADERS=0 BENCH_NICE=$([ "$(id -u)" = 0 ] && echo -10 || echo 0)
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --proxies) proxies=$2; shift 2 ;;
    --tls) with_tls=1; shift ;;
    --rollout-rows) rollout_rows=1; shift ;;
    --rate) rate=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --equal-headers) EQUAL_HEADERS=1; shift ;;
    --nice) BENCH_NICE=$2; shift 2 ;;
    --realtime) BENCH_RT=1; shift ;;
    --quiet-wait) quiet_wait=$2; shift 2 ;;
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
for v in warmup quiet_wait retries rate; do
  [[ ${!v} =~ ^[0-9]+$ ]] || die "--${v/_/-} must be an integer >= 0"
done
export EQUAL_HEADERS BENCH_NICE BENCH_RT
WRK_DELAY_MS=0  # read by wrk_report.lua
if [ "$rate" -gt 0 ]; then
  WRK_DELAY_MS=$(( connections * 1000 / rate ))
  [ "$WRK_DELAY_MS" -ge 1 ] || die "--rate $rate is too high for $connections connections (at most $((connections * 1000)))"
fi
export WRK_DELAY_MS
[ "$BENCH_RT" = 0 ] || [ "$(id -u)" = 0 ] || die "--realtime needs root"

ROLLOUT_ROWS="nginx-split haproxy-split vane-split vane-split-analysis nginx-header haproxy-header vane-header nginx-mirror vane-mirror"
if [ "$with_tls" = 1 ]; then
  for p in ${proxies//,/ }; do case "$p" in nginx|haproxy|vane) proxies="$proxies,$p-tls" ;; esac; done
fi
if [ "$rollout_rows" = 1 ]; then
  for p in $ROLLOUT_ROWS; do [[ ,$proxies, == *,$p,* ]] || proxies="$proxies,$p"; done
fi
is_rollout_row() { [[ " $ROLLOUT_ROWS " == *" $1 "* ]]; }
results_base=latest
for p in ${proxies//,/ }; do is_rollout_row "$p" && results_base=latest-rollout; done
[[ ,$proxies, == *-tls,* ]] && with_tls=1  # the proxies then listen on a TLS port too
bench_need nginx haproxy wrk taskset curl ss python3 pgrep openssl
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (proxy on core 0, load and upstreams on core 1)"

load1=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
  log "warning: load average $load1 before starting: other work on these cores will skew the figures"
fi

# Calibration: the cost of a system call here (dd copying 1 byte at a time = 1 read + 1 write).
syscall_us=$(pinned 0 dd if=/dev/zero of=/dev/null bs=1 count=200000 2>&1 \
  | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") printf "%.2f", $(i - 1) / 400000 * 1e6 }')
log "system call cost on core 0: ${syscall_us:-?} us (dd bs=1)"

bench_mkworkdir
etcd_shm=""  # the vane-cluster row's etcd data, when on /dev/shm
trap 'bench_cleanup; [ -z "$etcd_shm" ] || rm -rf "$etcd_shm"' EXIT
trap 'exit 130' INT TERM
mkdir -p "$out_dir"
base=$(pick_port_base "$port_base")
up1=$((base + 1)) up2=$((base + 2))
declare -A port=([nginx]=$((base + 10)) [haproxy]=$((base + 11)) [vane]=$((base + 12)))
declare -A tls_port=([nginx]=$((base + 14)) [haproxy]=$((base + 15)) [vane]=$((base + 16)))
[ "$with_tls" = 1 ] || tls_port=([nginx]="" [haproxy]="" [vane]="")
vane_admin=$((base + 13))
# vane-cluster: its listener and admin port, and its etcd member's client and peer ports.
port[vane-cluster]=$((base + 17)) vcluster_admin=$((base + 18)) etcd_client=$((base + 3)) etcd_peer=$((base + 4))
log "workdir $BENCH_WORKDIR, ports $base..$((base + 19))"
declare -A vadmin=()  # rollout rows: a second block of 20 ports (listeners, and vane's admin ports)
if [ "$results_base" = latest-rollout ]; then
  base2=$(pick_port_base $((base + 20)))
  port+=([nginx-split]=$base2 [nginx-header]=$((base2 + 1)) [nginx-mirror]=$((base2 + 2))
         [haproxy-split]=$((base2 + 3)) [haproxy-header]=$((base2 + 4))
         [vane-split]=$((base2 + 5)) [vane-split-analysis]=$((base2 + 7)) [vane-header]=$((base2 + 9)) [vane-mirror]=$((base2 + 11)))
  vadmin=([vane-split]=$((base2 + 6)) [vane-split-analysis]=$((base2 + 8)) [vane-header]=$((base2 + 10)) [vane-mirror]=$((base2 + 12)))
  log "rollout rows: ports $base2..$((base2 + 19))"
fi
declare -A wrk_header=([nginx-header]="X-Canary: yes" [haproxy-header]="X-Canary: yes" [vane-header]="X-Canary: yes")

declare -A up_pid cpu_pids main_pid url restarts
etcd_pid="" etcd_url=""
skipped=() order=() notes=()

# Starts (or restarts) what is missing: another user's `pkill nginx` on a shared machine must not
# end the run or leave a half-measured figure behind.
ensure_upstreams() {
  local u
  for u in up1 up2; do
    [ -n "${up_pid[$u]:-}" ] && kill -0 "${up_pid[$u]}" 2>/dev/null && continue
    [ -n "${up_pid[$u]:-}" ] && log "upstream $u was stopped by something else: restarting it"
    up_pid[$u]=$(start_upstream "$u" "${!u}" 1)
  done
}

# The vane-cluster row's etcd member: started once, and again if something stopped it (same data).
ensure_etcd() {
  [ -n "$etcd_pid" ] && kill -0 "$etcd_pid" 2>/dev/null && return 0
  command -v etcd >/dev/null || { log "vane-cluster needs etcd (3.4+) on the PATH"; return 1; }
  local dir=$BENCH_WORKDIR/etcd r
  if [ -w /dev/shm ]; then etcd_shm=/dev/shm/$(basename "$BENCH_WORKDIR")-etcd; dir=$etcd_shm; fi
  r=$(start_etcd "$etcd_client" "$etcd_peer" 1 "$dir") || return 1
  etcd_pid=${r%% *} etcd_url=${r#* }
  log "vane-cluster: etcd member $etcd_url (pid $etcd_pid, data in $dir) on core 1"
}

# start_proxy NAME: sets main_pid (to stop/watch), cpu_pids (to measure) and url; fails if it can't.
# NAME-tls is the same process (it always listens on its TLS port too), measured on its https URL.
start_proxy() {
  local r b=${1%-tls}
  case "$1" in  # the rollout rows: a process of their own each, plain HTTP only
    nginx-split|nginx-header|nginx-mirror)
      r=$(start_nginx_variant "${1#nginx-}" "${port[$1]}" "$up1" "$up2" 0) || return 1
      main_pid[$1]=${r%% *}; cpu_pids[$1]=${r#* }; url[$1]="http://127.0.0.1:${port[$1]}/"; return 0 ;;
    haproxy-split|haproxy-header)
      r=$(start_haproxy_variant "${1#haproxy-}" "${port[$1]}" "$up1" "$up2" 0) || return 1
      main_pid[$1]=$r; cpu_pids[$1]=$r; url[$1]="http://127.0.0.1:${port[$1]}/"; return 0 ;;
    vane-split|vane-split-analysis|vane-header|vane-mirror)
      r=$(start_vane_variant "$vane_bin" "${1#vane-}" "${port[$1]}" "${vadmin[$1]}" "$up1" "$up2" 0) || return 1
      main_pid[$1]=${r%% *}; cpu_pids[$1]=${r%% *}; url[$1]="http://${r#* }/"; return 0 ;;
    vane-cluster)  # the vane row's config plus a cluster section; plain HTTP only
      ensure_etcd || return 1
      r=$(start_vane "$vane_bin" "${port[$1]}" "$vcluster_admin" "$up1" "$up2" 0 "" vane-cluster "cluster:
  etcd: {endpoints: [\"$etcd_url\"], prefix: /vane/bench}
  replicaName: bench-0") || return 1
      main_pid[$1]=${r%% *}; cpu_pids[$1]=${r%% *}; url[$1]="http://${r#* }/"; return 0 ;;
  esac
  case "$b" in
    nginx) r=$(start_nginx_proxy "${port[nginx]}" "$up1" "$up2" 0 4096 "${tls_port[nginx]}") || return 1
           main_pid[nginx]=${r%% *}; cpu_pids[nginx]=${r#* }; url[nginx]="http://127.0.0.1:${port[nginx]}/" ;;
    haproxy) r=$(start_haproxy "${port[haproxy]}" "$up1" "$up2" 0 4096 "${tls_port[haproxy]}") || return 1
           main_pid[haproxy]=$r; cpu_pids[haproxy]=$r; url[haproxy]="http://127.0.0.1:${port[haproxy]}/" ;;
    vane) r=$(start_vane "$vane_bin" "${port[vane]}" "$vane_admin" "$up1" "$up2" 0 "${tls_port[vane]}") || return 1
           main_pid[vane]=${r%% *}; cpu_pids[vane]=${r%% *}; url[vane]="http://${r#* }/" ;;
  esac
  [ "$with_tls" = 1 ] || return 0
  main_pid[$b-tls]=${main_pid[$b]}; cpu_pids[$b-tls]=${cpu_pids[$b]}
  url[$b-tls]="https://127.0.0.1:${tls_port[$b]}/"
  wait_http "${url[$b-tls]}" 10 || { log "$b does not answer on ${url[$b-tls]}"; return 1; }
}

alive() { kill -0 "${main_pid[$1]}" 2>/dev/null && kill -0 "${cpu_pids[$1]}" 2>/dev/null; }

ensure_proxy() {
  alive "$1" && return 0
  restarts[$1]=$(( ${restarts[$1]:-0} + 1 ))
  if [[ $1 == vane* ]]; then
    local out=$BENCH_WORKDIR/vane.out
    { is_rollout_row "$1" || [ "$1" = vane-cluster ]; } && out=$BENCH_WORKDIR/$1.out
    log "$1 exited: $(tail -3 "$out" 2>/dev/null | tr '\n' ' ')"
  else
    log "$1 was stopped by something else"
  fi
  [ "${restarts[$1]}" -le 3 ] || { log "$1: stopped more than 3 times, not measured any more"; return 1; }
  log "restarting $1"
  start_proxy "$1"
}

ensure_upstreams
[ "$with_tls" = 0 ] || bench_make_cert
for p in ${proxies//,/ }; do
  if [ -n "${main_pid[$p]:-}" ]; then order+=("$p"); continue; fi  # started for its other row
  case "$p" in
    nginx|haproxy|nginx-tls|haproxy-tls|nginx-split|nginx-header|nginx-mirror|haproxy-split|haproxy-header)
      start_proxy "$p" && order+=("$p") || skipped+=("$p: did not start") ;;
    vane|vane-tls|vane-cluster|vane-split|vane-split-analysis|vane-header|vane-mirror)
      if ! vane_bin=$(find_vane "$vane_arg"); then
        skipped+=("$p: binary not found (build the 'vane' target, or pass --vane PATH)")
      elif start_proxy "$p"; then
        order+=("$p"); log "$p: $vane_bin"
      else skipped+=("$p: failed to start ($vane_bin), see the log above"); fi ;;
    *) die "unknown proxy '$p' (nginx, haproxy, vane, each with -tls, vane-cluster, and: $ROLLOUT_ROWS)" ;;
  esac
done
[ ${#order[@]} -gt 0 ] || die "no proxy started"
for s in "${skipped[@]}"; do log "skipped $s"; done

hz=$(getconf CLK_TCK)
csv=$out_dir/$results_base-runs.csv
echo "round,proxy,requests,duration_s,rps,p50_us,p90_us,p99_us,max_us,cpu_us_per_req,core0_us_per_req,core0_util,core1_util,errors,up1_requests,up2_requests" >"$csv"
verify=$BENCH_WORKDIR/verify.txt  # rollout rows: what each row's last run sent where
: >"$verify"

# run_wrk URL SECONDS [HEADER] -> the WRKRESULT line; bounded by timeout(1) on top of wrk's own -d.
run_wrk() {
  local h=()
  [ -z "${3:-}" ] || h=(-H "$3")
  (pinned 1 timeout $(($2 + 20)) wrk -t1 -c"$connections" -d"$2"s --latency "${h[@]}" \
    -s "$here/wrk_report.lua" "$1") 2>&1 | tee -a "$BENCH_WORKDIR/wrk.log" | grep '^WRKRESULT' || true
}

# Busy fraction of the busier core over about 0.5 s.
cores_busy() {
  local a0 a1 b0 b1 t0 t1
  t0=$(date +%s%N); a0=$(core_busy_ticks 0); a1=$(core_busy_ticks 1)
  sleep 0.5
  b0=$(core_busy_ticks 0); b1=$(core_busy_ticks 1); t1=$(date +%s%N)
  awk -v x=$((b0 - a0)) -v y=$((b1 - a1)) -v hz="$hz" -v el=$((t1 - t0)) \
    'BEGIN { m = x > y ? x : y; printf "%.2f", m / hz / (el / 1e9) }'
}

# With --quiet-wait S: waits up to S seconds for both cores to be idle (< 10 %) before a run.
wait_quiet() {
  [ "$quiet_wait" -gt 0 ] || return 0
  local deadline=$((SECONDS + quiet_wait)) b
  while [ "$SECONDS" -lt "$deadline" ]; do
    b=$(cores_busy)
    awk -v b="$b" 'BEGIN { exit !(b < 0.10) }' && return 0
  done
  log "cores still busy ($b) after ${quiet_wait}s: measuring anyway"
}

# measure PROXY ROUND -> one CSV row (empty if wrk gave nothing). CPU and core readings bracket wrk;
# the upstreams' request counters (stub_status) bracket those.
measure() {
  local p=$1 round=$2 c0 c1 b0 b1 d0 d1 t0 t1 res kv u10 u20 u11 u21
  u10=$(upstream_requests "$up1"); u20=$(upstream_requests "$up2")
  c0=$(cpu_ticks "${cpu_pids[$p]}"); b0=$(core_busy_ticks 0); d0=$(core_busy_ticks 1); t0=$(date +%s%N)
  res=$(run_wrk "${url[$p]}" "$duration" "${wrk_header[$p]:-}")
  c1=$(cpu_ticks "${cpu_pids[$p]}"); b1=$(core_busy_ticks 0); d1=$(core_busy_ticks 1); t1=$(date +%s%N)
  u11=$(upstream_requests "$up1"); u21=$(upstream_requests "$up2")
  [ -n "$res" ] || return 0
  local -A w=()
  for kv in ${res#WRKRESULT }; do w[${kv%%=*}]=${kv#*=}; done
  awk -v r="$round" -v p="$p" -v n="${w[requests]}" -v dus="${w[duration_us]}" \
    -v p50="${w[p50_us]}" -v p90="${w[p90_us]}" -v p99="${w[p99_us]}" -v mx="${w[max_us]}" \
    -v cpu=$((c1 - c0)) -v c0b=$((b1 - b0)) -v c1b=$((d1 - d0)) -v hz="$hz" -v el=$((t1 - t0)) \
    -v err=$((w[err_connect] + w[err_read] + w[err_write] + w[err_status] + w[err_timeout])) \
    -v up1n=$(( ${u11:-0} - ${u10:-0} )) -v up2n=$(( ${u21:-0} - ${u20:-0} )) 'BEGIN {
      if (n == 0) n = 1
      el_ticks = el / 1e9 * hz
      printf "%d,%s,%d,%.3f,%.0f,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%d,%d,%d\n", r, p, n, dus / 1e6, n / (dus / 1e6),
        p50, p90, p99, mx, cpu / hz / n * 1e6, c0b / hz / n * 1e6, c0b / el_ticks, c1b / el_ticks, err, up1n, up2n }'
}

for round in $(seq "$rounds"); do
  for p in "${order[@]}"; do
    for attempt in $(seq 0 "$retries"); do
      ensure_upstreams
      ensure_proxy "$p" || break
      wait_quiet
      [ "$warmup" -gt 0 ] && run_wrk "${url[$p]}" "$warmup" "${wrk_header[$p]:-}" >/dev/null
      row=$(measure "$p" "$round")
      if ! alive "$p" || ! kill -0 "${up_pid[up1]}" 2>/dev/null || ! kill -0 "${up_pid[up2]}" 2>/dev/null; then
        log "$p round $round: a process stopped during the run, discarded"
        continue
      fi
      [ -n "$row" ] || { log "$p round $round: wrk gave no result"; break; }
      IFS=, read -r _ _ nreq _ rps p50 _ p99 _ cpu_req core0_req u0 u1 errs n1 n2 <<<"$row"
      line="round $round/$rounds $(printf '%-7s' "$p") $(printf '%6s' "$rps") req/s  p50 $p50 us  p99 $p99 us  CPU $cpu_req us/req  (core0 $core0_req us/req, busy $u0/$u1)$([ "$errs" = 0 ] || echo "  ERRORS $errs")"
      if is_rollout_row "$p"; then  # where the traffic went: upstream counters, and vane's own view
        check="$nreq client requests; $(awk -v n="$nreq" -v a="$n1" -v b="$n2" 'BEGIN {
          printf "upstream 1 (stable) served %d (%.1f%%), upstream 2 (canary) %d (%.1f%%)", a, 100 * a / n, b, 100 * b / n }')"
        if [ -n "${vadmin[$p]:-}" ]; then
          check="$check; vane: $(vane_status_line "${vadmin[$p]}")"
          if [ "$p" = vane-mirror ]; then
            skips=$(curl -s --max-time 2 "http://127.0.0.1:${vadmin[$p]}/metrics" | grep -E '^vane_mirror_skipped_total' | tr '\n' ' ' || true)
            check="$check; ${skips:-no mirror copy skipped (no vane_mirror_skipped_total sample)}"
          fi
        fi
        line="$line"$'\n'"    $check"
      fi
      # Another process on core 0 shows as core-0 time beyond the proxy's own: measure again.
      # (Not with --rate: below saturation the idle core's own wake-ups fill that margin.)
      if [ "$rate" = 0 ] && [ "$attempt" -lt "$retries" ] && awk -v o="$cpu_req" -v c="$core0_req" 'BEGIN { exit !(c > o * 1.15) }'; then
        log "$line  -- core 0 shared, measuring again"
        continue
      fi
      echo "$row" >>"$csv"
      ! is_rollout_row "$p" || echo "$p (round $round): $check" >>"$verify"
      log "$line"
      break
    done
  done
done

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
versions="$( { nginx -v 2>&1 | sed "s|^nginx version: ||"; } || true), $( { haproxy -v | head -1 | cut -d" " -f1,3; } || true), $( { wrk -v 2>&1 | head -1 | cut -d" " -f1-2; } || true)"
rev="commit $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo "none yet")"
[ -n "${vane_bin:-}" ] && rev="$rev; binary $vane_bin built $(date -u -r "$vane_bin" '+%Y-%m-%d %H:%M UTC')"
params="rounds $rounds x ${duration}s (warm-up ${warmup}s), wrk -t1 -c$connections$([ "$rate" -gt 0 ] && echo " paced at about $rate requests/s (${WRK_DELAY_MS} ms between a response and the next request of a connection)"), $([ "$BENCH_RT" = 1 ] && echo "SCHED_FIFO" || echo "nice $BENCH_NICE"), equal headers: $([ "$EQUAL_HEADERS" = 1 ] && echo yes || echo no)"
if [ "$BENCH_RT" = 1 ] && [ "$(cat /proc/sys/kernel/sched_rt_runtime_us 2>/dev/null)" != -1 ]; then
  notes+=("--realtime: the kernel throttles SCHED_FIFO tasks for $(( (1000000 - $(cat /proc/sys/kernel/sched_rt_runtime_us)) / 1000 )) ms a second (kernel.sched_rt_runtime_us), so p99 includes those stalls and requests/s is a few % low, while CPU per request is unaffected")
fi
for p in "${!restarts[@]}"; do notes+=("$p was restarted ${restarts[$p]} time(s) during the run (stopped or crashed)"); done
skip_text=$(IFS=';'; echo "${skipped[*]:-}")
note_text=$(IFS=';'; echo "${notes[*]:-}")
python3 "$here/summarize.py" --csv "$csv" --out "$out_dir/$results_base.md" --machine "$machine" --verify "$verify" \
  --versions "$versions" --rev "$rev" --params "$params" --skipped "$skip_text" --notes "$note_text" --load "$load1" \
  --syscall "${syscall_us:-?}"
