#!/usr/bin/env bash
# bench/cluster_etcd_load.sh — what a vane cluster asks of etcd: writes and other requests per
# second while idle, and per rollout decision.
#
#   bench/cluster_etcd_load.sh [--replicas 10] [--rollouts 10] [--idle 60] [--lease-ttl 5s] [--rps 0]
#                              [--vane PATH] [--note TEXT] [--out bench/results] [--keep]
#
# One etcd member (loopback, data on /dev/shm when writable) and --replicas vane replicas
# (workers: 1, nothing pinned) with --rollouts rollouts app0.. (steps setWeight 10, pause {},
# setWeight 20, pause {}), all started from the stable upstream and then moved to the canary by
# a reload of every file, so each rollout is Paused at weight 10: the steady state of a cluster
# waiting for its operators. Then it reads etcd's own /metrics before and after --idle seconds of
# that steady state, and before and after one promote of each rollout (POSTed to the leader, each
# applied by every replica before the next): revisions (one per write that changed a key), raft
# proposals committed, WAL fsyncs, mvcc puts and txns, and the gRPC calls behind vane's JSON
# gateway requests (LeaseKeepAlive messages, Txn, Put, Range). --rps N sends N requests/s to each
# replica during the steady state (cluster_traffic.py; the rollouts' paths in turn, 10% to the
# canaries), so that what a replica publishes about its traffic has something in it. Writes
# OUT/cluster-etcd-load-measured.md. Every process started here is stopped on exit.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
# shellcheck source=bench/cluster_lib.sh
source "$here/cluster_lib.sh"

replicas=10 rollouts=10 idle=60 lease_ttl=5s rps=0 vane_arg="" note="" out_dir="$here/results" BENCH_NICE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --replicas) replicas=$2; shift 2 ;;
    --rollouts) rollouts=$2; shift 2 ;;
    --idle) idle=$2; shift 2 ;;
    --lease-ttl) lease_ttl=$2; shift 2 ;;
    --rps) rps=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --note) note=$2; shift 2 ;;  # e.g. which commit the binary was built from
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
for v in replicas rollouts idle; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--$v must be a positive integer"
done
[[ $lease_ttl =~ ^[1-9][0-9]*s$ ]] || die "--lease-ttl is whole seconds, e.g. 5s"
[[ $rps =~ ^[0-9]+$ ]] || die "--rps must be an integer >= 0"
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
if [ -w /dev/shm ]; then shm=$(mktemp -d /dev/shm/vane-bench-etcd.XXXXXX); data=$shm; fi
mkdir -p "$out_dir"
all_cores="0-$(($(nproc) - 1))"
base=$(pick_port_base 18640)
read -r _ etcd_url < <(start_etcd "$base" $((base + 1)) "$all_cores" "$data") || die "etcd did not start"
start_upstream v1 $((base + 2)) "$all_cores" >/dev/null
start_upstream v2 $((base + 3)) "$all_cores" >/dev/null
log "etcd $etcd_url, workdir $BENCH_WORKDIR"

# replica_conf I DESIRED: replica vane-I's file, every rollout desiring DESIRED.
replica_conf() {
  local r
  cat <<CONF
listeners: [{name: bench, address: "127.0.0.1:0"}]
admin: {address: "127.0.0.1:0"}
workers: 1
cluster:
  etcd: {endpoints: ["$etcd_url"], prefix: /vane/bench-load}
  replicaName: vane-$1
  leaseTTL: $lease_ttl
  publishInterval: 1s
upstreams:
  - {name: v1, endpoints: ["127.0.0.1:$((base + 2))"]}
  - {name: v2, endpoints: ["127.0.0.1:$((base + 3))"]}
routes:
CONF
  for r in $(seq 0 $((rollouts - 1))); do echo "  - {name: r$r, match: {pathPrefix: /app$r}, rollout: app$r}"; done
  echo "rollouts:"
  for r in $(seq 0 $((rollouts - 1))); do
    echo "  - {name: app$r, upstream: $2, strategy: {canary: {steps: [{setWeight: 10}, {pause: {}}, {setWeight: 20}, {pause: {}}]}}}"
  done
}

# counters -> one line "name=value ..." of the etcd figures this benchmark compares.
counters() {
  curl -s --max-time 5 "$etcd_url/metrics" | python3 -c '
import re, sys
want = {
    "revision": ("etcd_debugging_mvcc_current_revision", None),
    "proposals": ("etcd_server_proposals_committed_total", None),
    "fsyncs": ("etcd_disk_wal_fsync_duration_seconds_count", None),
    "puts": ("etcd_mvcc_put_total", None),
    "txns": ("etcd_mvcc_txn_total", None),
    "put_bytes": ("etcd_debugging_mvcc_total_put_size_in_bytes", None),
    "keepalive_msgs": ("grpc_server_msg_received_total", "LeaseKeepAlive"),
    "keepalive_streams": ("grpc_server_started_total", "LeaseKeepAlive"),
    "txn_calls": ("grpc_server_handled_total", "Txn"),
    "put_calls": ("grpc_server_handled_total", "Put"),
    "range_calls": ("grpc_server_handled_total", "Range"),
    "watch_streams": ("grpc_server_started_total", "Watch"),
}
got = dict.fromkeys(want, 0.0)
for line in sys.stdin:
    m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
    if not m:
        continue
    for key, (metric, method) in want.items():
        if m.group(1) == metric and (method is None or "grpc_method=\"%s\"" % method in (m.group(2) or "")):
            got[key] += float(m.group(3))
print(" ".join("%s=%d" % kv for kv in got.items()))'
}

start_replicas "$replicas" replica_conf "$all_cores" /app0/
leader=$(await_leader "$replicas" 60) || die "the replicas do not agree on a leader"
log "$replicas replicas up, $leader leads; $rollouts rollouts start (every file desires v2)"
reload_replicas "$replicas" replica_conf v2
for r in $(seq 0 $((rollouts - 1))); do await_metric "$replicas" "vane_rollout_canary_weight{rollout=\"app$r\"} 10" 30; done
leader_admin=${replica_admin[${leader#vane-}]}
sleep 3  # the members' republished keys after the reloads settle

traffic="no traffic"
if [ "$rps" -gt 0 ]; then  # started first: the measured window sees publishing at its steady size
  listeners=() paths=()
  for i in $(seq 0 $((replicas - 1))); do listeners+=("$(ready_field "$BENCH_WORKDIR/vane-$i.ready" bench)"); done
  for r in $(seq 0 $((rollouts - 1))); do paths+=(--path "/app$r/"); done
  python3 "$here/cluster_traffic.py" --rate "$rps" --seconds $((idle + 10)) "${paths[@]}" "${listeners[@]}" \
    >"$BENCH_WORKDIR/traffic.out" 2>&1 &
  traffic_pid=$!
  sleep 5
fi
log "steady state: measuring $idle s ($([ "$rps" -gt 0 ] && echo "$rps requests/s to each replica" || echo "no traffic"))"
idle0=$(counters); t0=$(date +%s.%N); cpu0=$(cpu_ticks "${replica_pid[@]}")
sleep "$idle"
idle1=$(counters); t1=$(date +%s.%N); cpu1=$(cpu_ticks "${replica_pid[@]}")
if [ "$rps" -gt 0 ]; then
  wait "$traffic_pid" || true
  traffic="$rps requests/s to each replica from 5 s before to 5 s after it: $(cat "$BENCH_WORKDIR/traffic.out")"
fi

log "one promote of each rollout"
dec0=$(counters); d0=$(date +%s.%N)
for r in $(seq 0 $((rollouts - 1))); do
  code=$(curl -s -o "$BENCH_WORKDIR/promote.out" -w '%{http_code}' --max-time 10 -X POST "http://$leader_admin/api/v1/rollouts/app$r/promote")
  [ "$code" = 200 ] || die "promote app$r answered $code: $(head -c 300 "$BENCH_WORKDIR/promote.out")"
  await_metric "$replicas" "vane_rollout_canary_weight{rollout=\"app$r\"} 20" 15
done
sleep 1  # the last members' republished keys
dec1=$(counters); d1=$(date +%s.%N)

python3 - "$out_dir/cluster-etcd-load-measured.md" <<PY
import sys
def parse(s): return {k: float(v) for k, v in (kv.split("=") for kv in s.split())}
i0, i1, e0, e1 = parse("$idle0"), parse("$idle1"), parse("$dec0"), parse("$dec1")
idle_s, dec_s = $t1 - $t0, $d1 - $d0
hz, replicas, rollouts = $(getconf CLK_TCK), $replicas, $rollouts
labels = [("revision", "revisions (writes that changed a key)"), ("proposals", "raft proposals committed"),
          ("fsyncs", "WAL fsyncs"), ("puts", "mvcc puts"), ("txns", "mvcc txns"),
          ("put_bytes", "bytes put"), ("keepalive_msgs", "LeaseKeepAlive messages"),
          ("keepalive_streams", "LeaseKeepAlive streams opened"), ("txn_calls", "Txn calls"),
          ("put_calls", "Put calls"), ("range_calls", "Range calls"), ("watch_streams", "Watch streams opened")]
md = ["# etcd load of a vane cluster, measured", "",
      "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); vane: binary $vane built $(date -u -r "$vane" '+%Y-%m-%d %H:%M UTC') (bench/ at commit $(git -C "$here/.." rev-parse --short HEAD 2>/dev/null || echo none))$([ -z "$note" ] || echo "; $note"); $(etcd --version | head -1)",
      "- %d replicas (workers: 1, leaseTTL $lease_ttl), %d rollouts Paused at setWeight 10, one etcd 3.4 member "
      "(data on %s); load average before: $load_before" % (replicas, rollouts, "$([ -n "$shm" ] && echo tmpfs || echo disk)"),
      "- steady state: %.1f s, $traffic; decisions: %d promotes (one per rollout, each applied everywhere before the next) "
      "in %.1f s" % (idle_s, rollouts, dec_s),
      "- vane CPU over the steady state, all replicas together: %.2f s (%.1f ms/s per replica)"
      % (($cpu1 - $cpu0) / hz, ($cpu1 - $cpu0) / hz / idle_s / replicas * 1e3), "",
      "| etcd figure | steady state: delta | per second | decisions: delta | per decision |",
      "|---|---:|---:|---:|---:|"]
for key, label in labels:
    di, dd = i1[key] - i0[key], e1[key] - e0[key]
    md.append("| %s | %d | %.2f | %d | %.1f |" % (label, di, di / idle_s, dd, dd / rollouts))
md += ["", "The decisions' deltas include the %.1f s of polling around them (keepalives go on meanwhile)." % dec_s, ""]
open(sys.argv[1], "w").write("\n".join(md))
print("\n".join(md))
PY
