#!/usr/bin/env bash
# bench/websocket.sh — WebSocket through vane, nginx and HAProxy: echo throughput and CPU per round
# trip, and memory per idle upgraded connection, in the same run.
#
#   bench/websocket.sh [--rounds 3] [--duration 10] [--warmup 2] [--clients 50] [--size 64]
#                      [--idle 5000] [--proxies nginx,haproxy,vane] [--vane PATH] [--nice -10]
#                      [--retries 2] [--port-base 18220] [--out bench/results] [--keep]
#
# Each proxy runs ONE worker pinned to core 0; two WebSocket echo upstreams (bench/ws_bench.py echo:
# one process each, the same for every proxy) and the clients (ws_bench.py, one process) share
# core 1. nginx: proxy_http_version 1.1, Upgrade $http_upgrade, Connection "upgrade" (a map: plain
# requests keep "" and their keep-alive); HAProxy: HTTP mode, which passes upgrades as is, its
# tunnels under `timeout client/server 600s`; vane: as it comes (it recognises the handshake), with
# maxConnectionsPerEndpoint raised above the tunnels held (each keeps its upstream connection).
# First a real client (python3-websockets) checks each proxy echoes through; a proxy that fails is skipped.
# 1. Echo: --clients connections, each sending a --size byte binary message (masked) and waiting for
#    its echo, again and again; rounds interleaved (nginx HAProxy vane, ...), each run after a warm-up
#    of its own. Per run: round trips/s, p50/p99 of a round trip, CPU time per round trip = delta of
#    the proxy's utime+stime (/proc/PID/stat; nginx: its worker) / round trips (each is a message
#    relayed each way). Medians, ratios vane/HAProxy and vane/nginx (summarize.py --unit "round trip").
#    A run during which core 0 also did other work (> 1.15 x the proxy's CPU) is measured again.
# 2. Idle: for each proxy, after a second of echo traffic: VmRSS, then --idle connections each doing
#    the handshake and one echo and staying open (ws_bench.py idle), VmRSS again after 2 s: KiB per
#    upgraded connection (the client side and the upstream side it holds). --idle 0 skips it.
# Writes OUT/websocket-latest.md and OUT/websocket-latest-runs.csv. Defaults take about 3 minutes.
# Only 127.0.0.1; every process started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
PY=/usr/bin/python3  # Debian's, which has python3-websockets (for the check)

rounds=3 duration=10 warmup=2 clients=50 size=64 idle=5000 proxies="nginx,haproxy,vane" vane_arg=""
port_base=18220 out_dir="$here/results" retries=2 BENCH_NICE=$([ "$(id -u)" = 0 ] && echo -10 || echo 0)
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --proxies) proxies=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --nice) BENCH_NICE=$2; shift 2 ;;
    --retries) retries=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in duration clients size; do
  if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then die "--$v must be a positive integer"; fi
done
for v in rounds warmup idle retries; do [[ ${!v} =~ ^[0-9]+$ ]] || die "--$v must be an integer >= 0"; done
export BENCH_NICE
bench_need nginx haproxy taskset curl ss pgrep "$PY"
"$PY" -c 'import websockets' 2>/dev/null || die "$PY has no websockets module (apt-get install python3-websockets)"
[ "$(nproc)" -ge 2 ] || die "needs 2 cores (proxy on core 0, clients and upstreams on core 1)"

# File descriptors: each idle tunnel is 2 at the proxy, 1 at the client, 1 at an upstream.
need=$((2 * idle + 2048))
raise_nofile "$need" $((2 * idle + 1024)) "$idle idle tunnels (2 each at the proxy)"

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
maxconn=$((2 * idle + 1024))
log "workdir $BENCH_WORKDIR, ports $base..$((base + 19))"

# start_nginx_ws PORT UP1 UP2 CORE MAXCONN -> "MASTER WORKER": run.sh's nginx plus the upgrade fields.
start_nginx_ws() {
  local listen=$1 up1=$2 up2=$3 core=$4 maxconn=$5 conf=$BENCH_WORKDIR/nginx-ws.conf
  { nginx_common_conf nginx-ws "$maxconn"
    cat <<CONF
http {
  $(nginx_http_common nginx-ws)
  map \$http_upgrade \$connection_upgrade { default upgrade; '' ''; }
  upstream app { server 127.0.0.1:$up1; server 127.0.0.1:$up2; keepalive 64; keepalive_timeout 600s; }
  server {
    listen 127.0.0.1:$listen backlog=4096;
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection \$connection_upgrade;
      proxy_read_timeout 600s;
      proxy_send_timeout 600s;
    }
  }
}
CONF
  } >"$conf"
  local master worker
  master=$(start_pinned "$core" "$BENCH_WORKDIR/nginx-ws.out" nginx -p "$BENCH_WORKDIR" -e "$BENCH_WORKDIR/nginx-ws-error.log" -c "$conf" -g 'daemon off;')
  wait_http "http://127.0.0.1:$listen/" 10 || { log "nginx did not start: $(tail -3 "$BENCH_WORKDIR/nginx-ws-error.log" 2>/dev/null)"; return 1; }
  worker=$(nginx_worker_of "$master") || return 1
  echo "$master $worker"
}

# start_vane_ws BIN PORT ADMIN UP1 UP2 CORE -> "PID LISTENER_ADDR".
start_vane_ws() {
  local bin=$1 listen=$2 admin=$3 up1=$4 up2=$5 core=$6 conf=$BENCH_WORKDIR/vane-ws.yaml
  cat >"$conf" <<CONF
listeners: [{name: bench, address: "127.0.0.1:$listen"}]
admin: {address: "127.0.0.1:$admin"}
state: {dir: "$BENCH_WORKDIR/vane-ws-state"}
limits: {idleTimeout: 600s}
workers: 1
upstreams:
  - name: app
    endpoints: ["127.0.0.1:$up1", "127.0.0.1:$up2"]
    maxConnectionsPerEndpoint: $maxconn
routes:
  - {name: all, match: {pathPrefix: /}, upstream: app}
CONF
  launch_vane "$bin" "$conf" "$BENCH_WORKDIR/vane-ws.ready" "$BENCH_WORKDIR/vane-ws.out" "$core" vane
}

# ws_check URL: a real WebSocket client (python3-websockets) sends a message and gets it back.
ws_check() {
  timeout 15 "$PY" - "$1" <<'PY'
import asyncio, sys, websockets
async def main():
    async with websockets.connect(sys.argv[1], open_timeout=5, close_timeout=2) as ws:
        for msg in ("vane-bench", b"\x00\x01" * 40000):
            await ws.send(msg)
            if await asyncio.wait_for(ws.recv(), 5) != msg:
                sys.exit("echo differs")
asyncio.run(asyncio.wait_for(main(), 12))
PY
}

declare -A main_pid cpu_pid addr
skipped=() order=() up_pid=()
for u in "$up1" "$up2"; do
  up_pid+=("$(start_pinned 1 "$BENCH_WORKDIR/echo-$u.out" "$PY" "$here/ws_bench.py" echo --port "$u")")
  wait_http "http://127.0.0.1:$u/" 10 || die "echo upstream on $u did not start: $(tail -3 "$BENCH_WORKDIR/echo-$u.out")"
done
ws_check "ws://127.0.0.1:$up1/" || die "the echo upstream fails the websockets client's check"
for p in ${proxies//,/ }; do
  r=""
  case "$p" in
    nginx) r=$(start_nginx_ws "${port[nginx]}" "$up1" "$up2" 0 "$maxconn") && { main_pid[$p]=${r%% *}; cpu_pid[$p]=${r#* }; } ;;
    haproxy) r=$(start_haproxy "${port[haproxy]}" "$up1" "$up2" 0 "$maxconn") && { main_pid[$p]=$r; cpu_pid[$p]=$r; } ;;
    vane)
      if ! vane_bin=$(find_vane "$vane_arg"); then
        skipped+=("vane: binary not found (build the 'vane' target, or pass --vane PATH)"); continue
      fi
      log "vane: $vane_bin"
      r=$(start_vane_ws "$vane_bin" "${port[vane]}" "$vane_admin" "$up1" "$up2" 0) && { main_pid[$p]=${r%% *}; cpu_pid[$p]=${r%% *}; } ;;
    *) die "unknown proxy '$p' (nginx, haproxy, vane)" ;;
  esac
  [ -n "${cpu_pid[$p]:-}" ] || { skipped+=("$p: did not start"); continue; }
  addr[$p]=127.0.0.1:${port[$p]}
  if ws_check "ws://${addr[$p]}/" 2>"$BENCH_WORKDIR/check-$p.err"; then order+=("$p")
  else skipped+=("$p: the websockets client's echo check failed: $(tail -1 "$BENCH_WORKDIR/check-$p.err")"); fi
done
[ ${#order[@]} -gt 0 ] || die "no proxy passed the check"
for s in "${skipped[@]}"; do log "skipped $s"; done

alive() { kill -0 "${main_pid[$1]}" 2>/dev/null && kill -0 "${cpu_pid[$1]}" 2>/dev/null && kill -0 "${up_pid[0]}" 2>/dev/null && kill -0 "${up_pid[1]}" 2>/dev/null; }

# run_load ADDR SECONDS -> the RESULT line; bounded by timeout(1) on top of its own deadline.
run_load() {
  (pinned 1 timeout $(($2 + 20)) "$PY" "$here/ws_bench.py" load --port "${1##*:}" -c "$clients" -d "$2" --size "$size") 2>&1 \
    | tee -a "$BENCH_WORKDIR/load.log" | grep '^RESULT' || true
}

hz=$(getconf CLK_TCK)
csv=$out_dir/websocket-latest-runs.csv
echo "round,proxy,requests,duration_s,rps,p50_us,p90_us,p99_us,max_us,cpu_us_per_req,core0_us_per_req,core0_util,core1_util,errors,up1_requests,up2_requests" >"$csv"

# measure PROXY ROUND -> one CSV row (round trips as "requests"), empty if the client gave nothing.
measure() {
  local p=$1 round=$2 c0 c1 b0 b1 d0 d1 t0 t1 res kv
  c0=$(cpu_ticks "${cpu_pid[$p]}"); b0=$(core_busy_ticks 0); d0=$(core_busy_ticks 1); t0=$(date +%s%N)
  res=$(run_load "${addr[$p]}" "$duration")
  c1=$(cpu_ticks "${cpu_pid[$p]}"); b1=$(core_busy_ticks 0); d1=$(core_busy_ticks 1); t1=$(date +%s%N)
  [ -n "$res" ] || return 0
  local -A w=()
  for kv in ${res#RESULT }; do w[${kv%%=*}]=${kv#*=}; done
  awk -v r="$round" -v p="$p-ws" -v n="${w[roundtrips]}" -v s="${w[seconds]}" -v p50="${w[p50_us]}" \
    -v p90="${w[p90_us]}" -v p99="${w[p99_us]}" -v mx="${w[max_us]}" -v err="${w[errors]}" \
    -v cpu=$((c1 - c0)) -v c0b=$((b1 - b0)) -v c1b=$((d1 - d0)) -v hz="$hz" -v el=$((t1 - t0)) 'BEGIN {
      if (n == 0) n = 1
      el_ticks = el / 1e9 * hz
      printf "%d,%s,%d,%.3f,%.0f,%d,%d,%d,%d,%.2f,%.2f,%.2f,%.2f,%d,0,0\n", r, p, n, s, n / s, p50, p90, p99, mx,
        cpu / hz / n * 1e6, c0b / hz / n * 1e6, c0b / el_ticks, c1b / el_ticks, err }'
}

for round in $(seq "$rounds"); do
  for p in "${order[@]}"; do
    for attempt in $(seq 0 "$retries"); do
      alive "$p" || { log "$p or an echo upstream stopped: not measured any more (--keep keeps their logs)"; break; }
      [ "$warmup" -gt 0 ] && run_load "${addr[$p]}" "$warmup" >/dev/null
      row=$(measure "$p" "$round")
      [ -n "$row" ] || { log "$p round $round: the client gave no result (see load.log with --keep)"; break; }
      IFS=, read -r _ _ _ _ rps p50 _ p99 _ cpu_rt core0_rt u0 u1 errs _ _ <<<"$row"
      line="round $round/$rounds $(printf '%-7s' "$p") $(printf '%6s' "$rps") round trips/s  p50 $p50 us  p99 $p99 us  CPU $cpu_rt us/round trip  (core0 $core0_rt, busy $u0/$u1)$([ "$errs" = 0 ] || echo "  ERRORS $errs")"
      if [ "$attempt" -lt "$retries" ] && awk -v o="$cpu_rt" -v c="$core0_rt" 'BEGIN { exit !(c > o * 1.15) }'; then
        log "$line  -- core 0 shared, measuring again"
        continue
      fi
      echo "$row" >>"$csv"
      log "$line"
      break
    done
  done
done

# Idle upgraded connections, one proxy at a time.
idle_rows=()
if [ "$idle" -gt 0 ]; then
  for p in "${order[@]}"; do
    alive "$p" || { log "$p or an echo upstream stopped: not measured idle"; continue; }
    run_load "${addr[$p]}" 1 >/dev/null
    sleep 1
    before=$(rss_kib "${cpu_pid[$p]}")
    coproc HELPER { pinned 1 "$PY" "$here/ws_bench.py" idle --port "${port[$p]}" -n "$idle" --timeout 60 --hold 120 2>&1; }
    helper_pid=$HELPER_PID helper_in=${HELPER[1]} ready=""
    while IFS= read -r -t 90 -u "${HELPER[0]}" l; do
      case "$l" in READY*) ready=$l; break ;; *) log "$p idle: $l" ;; esac
    done
    if [ -z "$ready" ]; then
      log "$p: the idle client gave no READY line"; kill "$helper_pid" 2>/dev/null || true; wait "$helper_pid" 2>/dev/null || true; continue
    fi
    ok=${ready#*ok=}; ok=${ok%% *}
    sleep 2
    after=$(rss_kib "${cpu_pid[$p]}")
    held=$(ss -Htn state established "( sport = :${port[$p]} )" | wc -l)
    upstream=$(ss -Htn state established "( sport = :$up1 or sport = :$up2 )" | wc -l)
    end_helper "$helper_pid" "$helper_in"  # closing its stdin ends the hold
    per=$(awk -v a="$after" -v b="$before" -v n="$ok" 'BEGIN { printf "%.2f", n ? (a - b) / n : 0 }')
    log "$p: RSS $before -> $after KiB with $ok upgraded connections open ($held at the proxy, $upstream at the upstreams): $per KiB/connection"
    idle_rows+=("| $p | $before | $after | $ok | $held | $upstream | $per |")
    sleep 2  # the tunnels close
  done
fi

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
versions="$( { nginx -v 2>&1 | sed "s|^nginx version: ||"; } || true), $( { haproxy -v | head -1 | cut -d" " -f1,3; } || true), python3-websockets $("$PY" -c 'import websockets; print(websockets.__version__)') (the check only)"
rev="commit $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo "none yet")"
[ -n "${vane_bin:-}" ] && rev="$rev; binary $vane_bin built $(date -u -r "$vane_bin" '+%Y-%m-%d %H:%M UTC')"
params="rounds $rounds x ${duration}s (warm-up ${warmup}s), $clients clients each doing $size-byte binary message -> echo round trips (bench/ws_bench.py), nice $BENCH_NICE"
skip_text=$(IFS=';'; echo "${skipped[*]:-}")
md=$out_dir/websocket-latest.md
if [ "$(wc -l <"$csv")" -gt 1 ]; then
  "$PY" "$here/summarize.py" --csv "$csv" --out "$md" --machine "$machine" --unit "round trip" \
    --title "WebSocket: vane vs nginx vs HAProxy" \
    --setup "each proxy one worker on core 0, two echo upstreams (ws_bench.py echo) and the clients on core 1" \
    --versions "$versions" --rev "$rev" --params "$params" --skipped "$skip_text" --load "$load1" --syscall "${syscall_us:-?}"
else
  printf '# WebSocket: vane vs nginx vs HAProxy\n\n- date: %s\n- machine: %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$machine" >"$md"
  for s in "${skipped[@]}"; do echo "**skipped** $s  " >>"$md"; done
fi
if [ ${#idle_rows[@]} -gt 0 ]; then
  {
    echo
    echo "## Memory per idle upgraded connection"
    echo
    echo "$idle connections, each a WebSocket handshake (101 checked) and one $size-byte echo, then idle; VmRSS of the proxy process (nginx: worker) before and 2 s after; an upgraded connection is a client connection and the upstream connection it holds. Kernel socket memory is not in RSS."
    echo
    echo "| proxy | RSS before (KiB) | RSS after (KiB) | upgraded connections | established at the proxy's port | established at the upstreams | KiB per upgraded connection |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    printf '%s\n' "${idle_rows[@]}"
  } >>"$md"
  echo
  printf '%s\n' "${idle_rows[@]}"
  echo "added the idle table to $md"
fi
