#!/usr/bin/env bash
# bench/scale.sh — vane with many idle keep-alive connections (issue #19): its idle CPU and its
# memory per idle connection.
#
#   bench/scale.sh [--connections 10000,100000] [--seconds 10] [--vane PATH] [--port-base 18180]
#                  [--out bench/results]
#
# For each size: vane (one worker, core 0, idleTimeout 600s) in front of two nginx upstreams, a
# second of wrk traffic, VmRSS; then N client connections that each send one request, read the
# answer and stay idle (bench/idle_clients.py, spread over client addresses 127.0.0.2.. past one
# address's ephemeral ports); VmRSS again, then vane's CPU (utime+stime of /proc/PID/stat, all
# threads) over --seconds while nothing happens. Reports KiB per idle connection (kernel socket
# memory is not in RSS) and idle CPU in ms per second. Writes bench/results/scale-latest.md.
# A figure is only meaningful on an otherwise idle machine.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

sizes="10000,100000" seconds=10 vane_arg="" port_base=18180 out_dir="$here/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --connections) sizes=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ $sizes =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--connections: positive integers, comma-separated"
[[ $seconds =~ ^[1-9][0-9]*$ ]] || die "--seconds must be a positive integer"
bench_need nginx wrk taskset curl python3
bin=$(find_vane "$vane_arg") || die "vane binary not found (build the 'vane' target, or pass --vane PATH)"

largest=$(tr , '\n' <<<"$sizes" | sort -n | tail -1)
need=$((largest + 2048))  # the client holds N; vane raises its own limit to the hard one
raise_nofile "$need" $((largest + 1024)) "$largest connections"

bench_mkworkdir
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$out_dir"
base=$(pick_port_base "$port_base")
up1=$((base + 1)) up2=$((base + 2))
start_upstream up1 "$up1" 1 >/dev/null
start_upstream up2 "$up2" 1 >/dev/null
hz=$(getconf CLK_TCK)

results=()
for n in ${sizes//,/ }; do
  r=$(start_vane "$bin" $((base + 10)) $((base + 11)) "$up1" "$up2" 0 "" "vane-$n") || die "vane did not start"
  pid=${r%% *} addr=${r#* }
  taskset -c 1 timeout 20 wrk -t1 -c50 -d1s "http://$addr/" >/dev/null 2>&1 || true
  sleep 1
  before=$(rss_kib "$pid")
  coproc HELPER { taskset -c 1 python3 "$here/idle_clients.py" --port "${addr##*:}" -n "$n" \
                    --sources $(( (n + 19999) / 20000 )) --timeout 300 --hold $((seconds + 120)) 2>&1; }
  helper_pid=$HELPER_PID helper_in=${HELPER[1]}
  line=""
  while IFS= read -r -t 330 -u "${HELPER[0]}" l; do
    case "$l" in READY*) line=$l; break ;; *) log "$n: $l" ;; esac
  done
  [ -n "$line" ] || die "$n: the client helper gave no READY line"
  ok=${line#*ok=}; ok=${ok%% *}
  sleep 2
  after=$(rss_kib "$pid")
  t0=$(cpu_ticks "$pid")
  sleep "$seconds"
  t1=$(cpu_ticks "$pid")
  end_helper "$helper_pid" "$helper_in"  # closing its stdin ends the hold
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  per=$(awk -v a="$after" -v b="$before" -v n="$ok" 'BEGIN { printf "%.2f", n ? (a - b) / n : 0 }')
  cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.1f", t * 1000 / hz / s }')
  log "$n: $ok idle connections, RSS $before -> $after KiB ($per KiB each), idle CPU $cpu ms/s"
  results+=("$n $ok $before $after $per $cpu")
done

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
out=$out_dir/scale-latest.md
{
  echo "# vane with many idle keep-alive connections"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- machine: $machine"
  echo "- one worker; each client connection sent one request, read its answer, then stayed idle;"
  echo "  idle CPU: utime+stime over ${seconds} s (clock tick $((1000 / hz)) ms) with all of them open"
  echo
  echo "| connections | open | RSS before (KiB) | RSS after (KiB) | KiB per connection | idle CPU (ms/s) |"
  echo "|---:|---:|---:|---:|---:|---:|"
  for r in "${results[@]}"; do set -- $r; echo "| $1 | $2 | $3 | $4 | $5 | $6 |"; done
} >"$out"
echo
printf '%12s %8s %12s %12s %10s %14s\n' connections open "RSS before" "RSS after" "KiB/conn" "idle ms CPU/s"
for r in "${results[@]}"; do set -- $r; printf '%12s %8s %12s %12s %10s %14s\n' "$@"; done
echo "wrote $out"
