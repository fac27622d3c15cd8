#!/usr/bin/env bash
# bench/idle_connections.sh — memory per idle keep-alive client connection, vane vs nginx vs HAProxy.
#
#   bench/idle_connections.sh [--connections 10000] [--proxies nginx,haproxy,vane] [--vane PATH]
#                             [--connect-only | --h2] [--port-base 18140] [--out bench/results]
#
# For each proxy (one worker, core 0, same two nginx upstreams as run.sh): serve a second of wrk
# traffic, read VmRSS, open N client connections that each send one request, read the response and
# stay open and idle (bench/idle_clients.py; --connect-only: just connect), read VmRSS again.
# Reports (after - before) / N in KiB per connection (nginx: its worker process). Kernel socket
# memory is not in RSS and is not counted. Writes bench/results/idle-latest.md. Takes about a minute.
# --h2: the same with HTTP/2 clients (prior knowledge): each connection sends the preface, SETTINGS
# and one GET, reads its 200, acknowledges the proxy's SETTINGS and stays idle; the proxies listen as
# bench/h2.sh's do (h2c), the warm-up is h2load. Writes bench/results/idle-h2-latest.md.
# Past 20,000 connections the clients spread over source addresses 127.0.0.2.. (ephemeral ports).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

conns=10000 proxies="nginx,haproxy,vane" vane_arg="" port_base=18140 out_dir="$here/results" mode="" h2=0
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) conns=$2; shift 2 ;;
    --proxies) proxies=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --connect-only) mode=--connect-only; shift ;;
    --h2) h2=1; shift ;;
    --port-base) port_base=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
if ! [[ $conns =~ ^[1-9][0-9]*$ ]]; then die "--connections must be a positive integer"; fi
bench_need nginx haproxy wrk taskset curl ss python3 pgrep
if [ "$h2" = 1 ]; then
  [ -z "$mode" ] || die "--h2 sends a request on each connection: not with --connect-only"
  bench_need h2load
  mode=--h2
fi

# One client address reaches one port from about 28,000 ephemeral ports: past 20,000 connections
# they come from 127.0.0.2, .3, ... (20,000 each). Opening them takes a while at 100,000.
sources=0 open_limit=60
if [ "$conns" -gt 20000 ]; then sources=$(( (conns + 19999) / 20000 )) open_limit=300; fi
# File descriptors: the client holds N, each proxy N plus its upstream connections.
need=$((conns + 2048))
raise_nofile "$need" $((conns + 1024)) "$conns connections"

bench_mkworkdir
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$out_dir"
base=$(pick_port_base "$port_base")
up1=$((base + 1)) up2=$((base + 2))
declare -A port=([nginx]=$((base + 10)) [haproxy]=$((base + 11)) [vane]=$((base + 12)))
start_upstream up1 "$up1" 1 >/dev/null
start_upstream up2 "$up2" 1 >/dev/null

maxconn=$((conns + 1024))  # client connections plus a few upstream ones
declare -A pid addr
skipped=() order=()
for p in ${proxies//,/ }; do
  case "$p" in
    nginx) r=$(if [ "$h2" = 1 ]; then start_nginx_h2 "${port[nginx]}" "" "$up1" "$up2" 0 "$maxconn"
               else start_nginx_proxy "${port[nginx]}" "$up1" "$up2" 0 "$maxconn"; fi) \
             && { pid[nginx]=${r#* }; addr[nginx]=127.0.0.1:${port[nginx]}; order+=(nginx); } \
             || skipped+=("nginx: did not start") ;;
    haproxy) r=$(if [ "$h2" = 1 ]; then start_haproxy_h2 "${port[haproxy]}" "" "$up1" "$up2" 0 "$maxconn"
                 else start_haproxy "${port[haproxy]}" "$up1" "$up2" 0 "$maxconn"; fi) \
             && { pid[haproxy]=$r; addr[haproxy]=127.0.0.1:${port[haproxy]}; order+=(haproxy); } \
             || skipped+=("haproxy: did not start") ;;
    vane)
      if ! bin=$(find_vane "$vane_arg"); then
        skipped+=("vane: binary not found (build the 'vane' target, or pass --vane PATH)")
      elif r=$(if [ "$h2" = 1 ]; then start_vane_h2 "$bin" "${port[vane]}" "" $((base + 13)) "$up1" "$up2" 0
               else start_vane "$bin" "${port[vane]}" $((base + 13)) "$up1" "$up2" 0; fi); then
        pid[vane]=${r%% *}; addr[vane]=${r#* }; order+=(vane)
      else skipped+=("vane: failed to start ($bin)"); fi ;;
    *) die "unknown proxy '$p'" ;;
  esac
done
for s in "${skipped[@]}"; do log "skipped $s"; done

results=()
for p in "${order[@]}"; do
  if [ "$h2" = 1 ]; then taskset -c 1 timeout 20 h2load -t1 -c50 -m10 -D1 "http://${addr[$p]}/" >/dev/null 2>&1 || true
  else taskset -c 1 timeout 20 wrk -t1 -c50 -d1s "http://${addr[$p]}/" >/dev/null 2>&1 || true; fi
  sleep 1
  before=$(rss_kib "${pid[$p]}")
  coproc HELPER { taskset -c 1 python3 "$here/idle_clients.py" --port "${addr[$p]##*:}" -n "$conns" $mode \
                    --sources "$sources" --timeout "$open_limit" --hold $((open_limit + 60)) 2>&1; }
  helper_pid=$HELPER_PID helper_in=${HELPER[1]}
  line=""
  while IFS= read -r -t $((open_limit + 30)) -u "${HELPER[0]}" l; do
    case "$l" in READY*) line=$l; break ;; *) log "$p: $l" ;; esac
  done
  [ -n "$line" ] || { log "$p: helper gave no READY line"; kill "$helper_pid" 2>/dev/null || true; continue; }
  ok=${line#*ok=}; ok=${ok%% *}
  sleep 2
  after=$(rss_kib "${pid[$p]}")
  held=$(ss -Htn state established "( sport = :${addr[$p]##*:} )" | wc -l)
  end_helper "$helper_pid" "$helper_in"  # closing its stdin ends the hold
  per=$(awk -v a="$after" -v b="$before" -v n="$ok" 'BEGIN { printf "%.2f", n ? (a - b) / n : 0 }')
  log "$p: RSS $before -> $after KiB with $ok connections open ($held established at the proxy): $per KiB/connection"
  results+=("$p $before $after $ok $held $per")
  sleep 1
done

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
out=$out_dir/idle-latest.md kind=keep-alive what="one request each, then idle" target=""
[ "$mode" != --connect-only ] || what="connect only"
if [ "$h2" = 1 ]; then
  out=$out_dir/idle-h2-latest.md kind=HTTP/2 target="- vane's target: at most 16 KiB per idle HTTP/2 connection"
  what="HTTP/2 with prior knowledge: the preface, SETTINGS and one GET each (its 200 read, the proxy's SETTINGS acknowledged), then idle"
fi
{
  echo "# Memory per idle $kind connection"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $machine"
  echo "- $conns client connections, $what; VmRSS of the proxy process (nginx: worker)"
  [ -z "$target" ] || echo "$target"
  echo
  echo "| proxy | RSS before (KiB) | RSS after (KiB) | connections | KiB per connection |"
  echo "|---|---:|---:|---:|---:|"
  for r in "${results[@]}"; do
    set -- $r
    echo "| $1 | $2 | $3 | $4 | $6 |"
  done
  for s in "${skipped[@]}"; do echo; echo "**skipped** $s"; done
} >"$out"
echo
printf '%-8s %12s %12s %12s %10s\n' proxy "RSS before" "RSS after" connections "KiB/conn"
for r in "${results[@]}"; do set -- $r; printf '%-8s %12s %12s %12s %10s\n' "$1" "$2" "$3" "$4" "$6"; done
for s in "${skipped[@]}"; do echo "skipped: $s"; done
echo "wrote $out"
