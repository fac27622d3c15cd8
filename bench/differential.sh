#!/usr/bin/env bash
# bench/differential.sh — the malformed-request corpus (tests/differential/corpus.txt) sent to
# vane, HAProxy and nginx in front of the same recording upstream (bench/differential_upstream.py).
#
#   bench/differential.sh [--vane PATH] [--cases SUBSTRING] [--stalls] [--port-base 18200]
#                         [--out bench/results] [--keep]
#
# Each case goes to each proxy on a fresh connection, followed by a canary request in the same write
# (unless the case says not). Per proxy: the statuses answered, whether the connection was closed,
# and what the upstream received, read strictly (RFC 9112) and leniently (a forgiving backend): a
# request targeting /smuggled there is a desync. Writes OUT/differential.csv and OUT/differential.md
# (summary and the cases where the proxies differ); docs/differential.md discusses a run.
# The proxies run with their default limits (vane: SPEC §3's; nginx and HAProxy: Debian's packages
# with the loopback configs of bench/lib.sh). client: stall cases wait for the proxies' own
# timeouts and are skipped unless --stalls. About 4 minutes. Only 127.0.0.1; everything started
# here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

vane_arg="" cases="" stalls="" port_base=18200 out_dir="$here/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --vane) vane_arg=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    --stalls) stalls=--stalls; shift ;;
    --port-base) port_base=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

bench_need nginx haproxy python3 curl ss taskset
vane_bin=$(find_vane "$vane_arg") || die "no vane binary (build it, or give --vane PATH)"
bench_mkworkdir
trap bench_cleanup EXIT

base=$(pick_port_base "$port_base")
up=$base control=$((base + 1)) nginx_port=$((base + 2)) haproxy_port=$((base + 3))
vane_port=$((base + 4)) vane_admin=$((base + 5))

log "upstream on $up (control $control); workdir $BENCH_WORKDIR"
start_pinned 1 "$BENCH_WORKDIR/upstream.out" python3 "$here/differential_upstream.py" \
  --port "$up" --control-port "$control" >/dev/null
wait_http "http://127.0.0.1:$up/" 10 || die "the recording upstream did not start: $(tail -3 "$BENCH_WORKDIR/upstream.out")"

read -r _ nginx_worker < <(start_nginx_proxy "$nginx_port" "$up" "$up" 0 1024) || die "nginx did not start"
haproxy_pid=$(start_haproxy "$haproxy_port" "$up" "$up" 0 1024) || die "haproxy did not start"
read -r vane_pid _ < <(start_vane "$vane_bin" "$vane_port" "$vane_admin" "$up" "$up" 0) || die "vane did not start"
log "vane $vane_bin ($(nginx -v 2>&1 | tr -d '\n'), $(haproxy -v | head -1 | cut -d' ' -f1-3))"

mkdir -p "$out_dir"
python3 "$here/differential.py" --corpus "$here/../tests/differential/corpus.txt" --control-port "$control" \
  --proxy "vane=$vane_port:$vane_pid" --proxy "haproxy=$haproxy_port:$haproxy_pid" \
  --proxy "nginx=$nginx_port:$nginx_worker" --out "$out_dir" --cases "$cases" $stalls
log "wrote $out_dir/differential.csv and $out_dir/differential.md"
