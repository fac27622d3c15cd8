#!/usr/bin/env bash
# bench/cluster_apply.sh — how soon every replica of a vane cluster applies the leader's decision
# (SPEC §9: within 100 ms, p99, of the leader writing it).
#
#   bench/cluster_apply.sh [--promotes 100] [--replicas 3] [--interval-ms 1] [--etcd-dir disk|tmpfs]
#                          [--vane PATH] [--out bench/results] [--keep]
#
# Starts one etcd member (loopback ports, its data in a temp dir: on the disk under /tmp, or on
# /dev/shm with --etcd-dir tmpfs, where fsync costs nothing), two nginx upstreams v1 and v2, and
# --replicas vane replicas (`vane run --no-watch-config`, workers: 1, listener and admin on
# 127.0.0.1:0, read from their ready files; leaseTTL 2s). Their rollout "web" has --promotes + 1
# pairs of steps (setWeight w, pause {}), each w different from the one before. Once the replicas
# agree on a leader, every file is changed to desire v2 and reloaded: the rollout pauses at its
# first weight. Then cluster_apply.py POSTs promote to the leader --promotes times and, after
# each, polls every replica's /metrics every --interval-ms until each shows the new
# vane_rollout_canary_weight. Writes OUT/cluster-apply.md and OUT/cluster-apply.csv (one row per
# promote: lower and upper bounds of each replica's apply, in ms after the promote was sent).
# Nothing is pinned: etcd, the replicas and the poller share the machine's cores. Only 127.0.0.1;
# every process started here is stopped on exit and the temp dir removed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
# shellcheck source=bench/cluster_lib.sh
source "$here/cluster_lib.sh"

promotes=100 replicas=3 interval_ms=1 etcd_dir=disk vane_arg="" out_dir="$here/results" BENCH_NICE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --promotes) promotes=$2; shift 2 ;;
    --replicas) replicas=$2; shift 2 ;;
    --interval-ms) interval_ms=$2; shift 2 ;;
    --etcd-dir) etcd_dir=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in promotes replicas; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v must be a positive integer"
done
[[ $interval_ms =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--interval-ms must be a number"
case "$etcd_dir" in disk|tmpfs) ;; *) die "--etcd-dir is disk or tmpfs" ;; esac
export BENCH_NICE
bench_need etcd nginx curl python3 taskset ss
vane=$(find_vane "$vane_arg") || die "no vane binary (build the 'vane' target, or pass --vane)"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_mkworkdir
data=$BENCH_WORKDIR/etcd shm=""
cleanup() {  # etcd first (bench_cleanup), then its data
  bench_cleanup
  [ -z "$shm" ] || rm -rf "$shm"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if [ "$etcd_dir" = tmpfs ]; then shm=$(mktemp -d /dev/shm/vane-bench-etcd.XXXXXX); data=$shm; fi
mkdir -p "$out_dir"
all_cores="0-$(($(nproc) - 1))"
base=$(pick_port_base 18600)
read -r _ etcd_url < <(start_etcd "$base" $((base + 1)) "$all_cores" "$data") || die "etcd did not start"
start_upstream v1 $((base + 2)) "$all_cores" >/dev/null
start_upstream v2 $((base + 3)) "$all_cores" >/dev/null
log "etcd $etcd_url (data on $etcd_dir), upstreams on $((base + 2)) and $((base + 3)), workdir $BENCH_WORKDIR"

steps=$(python3 "$here/cluster_apply.py" steps --promotes "$promotes")

# replica_conf I DESIRED: replica vane-I's file.
replica_conf() {
  cat <<CONF
listeners: [{name: bench, address: "127.0.0.1:0"}]
admin: {address: "127.0.0.1:0"}
workers: 1
cluster:
  etcd: {endpoints: ["$etcd_url"], prefix: /vane/bench-apply, dialTimeout: 1s}
  replicaName: vane-$1
  leaseTTL: 2s
  publishInterval: 1s
upstreams:
  - {name: v1, endpoints: ["127.0.0.1:$((base + 2))"]}
  - {name: v2, endpoints: ["127.0.0.1:$((base + 3))"]}
routes:
  - {name: web, match: {pathPrefix: /}, rollout: web}
rollouts:
  - name: web
    upstream: $2
    strategy:
      canary:
        steps:
$steps
CONF
}

start_replicas "$replicas" replica_conf "$all_cores"
leader=$(await_leader "$replicas" 20) || die "the replicas do not agree on a leader"
log "$replicas replicas up, $leader leads; the rollout starts (every file desires v2)"
reload_replicas "$replicas" replica_conf v2
first=$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import cluster_apply; print(cluster_apply.weight_of(0))' "$here")
await_metric "$replicas" "vane_rollout_canary_weight{rollout=\"web\"} $first" 15

args=()
for i in $(seq 0 $((replicas - 1))); do args+=(--replica "vane-$i=${replica_admin[i]}" --pid "vane-$i=${replica_pid[i]}"); done
machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
python3 "$here/cluster_apply.py" measure "${args[@]}" --rollout web --promotes "$promotes" \
  --interval-ms "$interval_ms" --csv "$out_dir/cluster-apply.csv" --md "$out_dir/cluster-apply.md" \
  --note "machine: $machine; load average (1, 5, 15 min) before the run: $load_before" \
  --note "vane: commit $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo none), binary $vane; $(etcd --version | head -1) with its data on $etcd_dir$([ "$etcd_dir" = disk ] && echo " ($(df --output=source "$BENCH_WORKDIR" | tail -1))"), leaseTTL 2s" \
  --note "nothing pinned: etcd, $replicas replicas (workers: 1), the poller and whatever else runs here share $(nproc) cores"
