# shellcheck shell=bash
# bench/cluster_lib.sh — a local etcd member and vane replicas for the cluster benchmarks (run.sh's
# vane-cluster row, cluster_apply.sh, cluster_etcd_load.sh). Sourced after lib.sh, not executed.
# Every process is ours (recorded in started.pids, stopped by bench_cleanup), on loopback ports
# only; etcd's data dir is the one given (the caller removes it when outside $BENCH_WORKDIR).

# start_etcd CLIENT_PORT PEER_PORT CORES DATA_DIR -> echoes "PID CLIENT_URL" once /health says
# true; else logs the tail of its log and fails. CORES as taskset takes them ("1", "0-1").
# DATA_DIR on tmpfs (/dev/shm) makes etcd's fsyncs free; on a disk they cost what the disk costs.
start_etcd() {
  local client_port=$1 peer_port=$2 cores=$3 dir=$4 client peer pid deadline
  client=http://127.0.0.1:$client_port peer=http://127.0.0.1:$peer_port
  mkdir -p "$dir"
  pid=$(start_pinned "$cores" "$BENCH_WORKDIR/etcd.log" etcd --name bench --data-dir "$dir/data" \
    --listen-client-urls "$client" --advertise-client-urls "$client" \
    --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
    --initial-cluster "bench=$peer" --initial-cluster-state new --initial-cluster-token vane-bench \
    --logger zap --log-outputs stderr)
  deadline=$((SECONDS + 20))
  while [ "$SECONDS" -lt "$deadline" ]; do
    kill -0 "$pid" 2>/dev/null || break
    if curl -s --max-time 1 "$client/health" 2>/dev/null | grep -q '"health":"true"'; then
      echo "$pid $client"
      return 0
    fi
    sleep 0.1
  done
  log "etcd did not become healthy on $client: $(tail -3 "$BENCH_WORKDIR/etcd.log" 2>/dev/null)"
  kill "$pid" 2>/dev/null
  return 1
}

# etcd_counter CLIENT_URL METRIC [LABEL_FILTER] -> the sum of METRIC's samples on etcd's /metrics
# whose label set contains LABEL_FILTER (e.g. 'grpc_method="LeaseKeepAlive"'); 0 when absent.
etcd_counter() {
  curl -s --max-time 2 "$1/metrics" | awk -v m="$2" -v f="${3:-}" '
    $1 == m || index($1, m "{") == 1 { if (f == "" || index($1, f) > 0) s += $2 }
    END { printf "%.0f\n", s }'
}

# ---- Replicas: vane-0 .. vane-(N-1), each `vane run --no-watch-config` with its own file ---------
# Needs $vane (the binary). CONF_FN I DESIRED prints replica I's config (listener "bench" and admin on 127.0.0.1:0, a
# cluster section naming it vane-I) desiring upstream DESIRED. Filled by start_replicas:
declare -a replica_admin=() replica_pid=()

# start_replicas N CONF_FN CORES [PATH]: starts them (desiring v1), validated first; returns once
# each has written its ready file, answers 200 on /readyz (it read the cluster's state) and on
# PATH (default /) of its listener.
# shellcheck disable=SC2154  # $vane: the caller's binary (find_vane)
start_replicas() {
  local n=$1 conf_fn=$2 cores=$3 path=${4:-/} i f deadline
  for i in $(seq 0 $((n - 1))); do
    f=$BENCH_WORKDIR/vane-$i
    "$conf_fn" "$i" v1 >"$f.yaml"
    "$vane" validate -c "$f.yaml" >"$f.validate" 2>&1 || die "vane validate: $(head -5 "$f.validate")"
    replica_pid[i]=$(start_pinned "$cores" "$f.out" "$vane" run -c "$f.yaml" --ready-file "$f.ready" --no-watch-config)
  done
  for i in $(seq 0 $((n - 1))); do
    f=$BENCH_WORKDIR/vane-$i deadline=$((SECONDS + 30))
    while [ ! -s "$f.ready" ] && [ "$SECONDS" -lt "$deadline" ]; do
      kill -0 "${replica_pid[i]}" 2>/dev/null || die "vane-$i exited: $(tail -3 "$f.out")"
      sleep 0.1
    done
    [ -s "$f.ready" ] || die "vane-$i wrote no ready file: $(tail -3 "$f.out")"
    replica_admin[i]=$(ready_field "$f.ready" admin)
    wait_http "http://${replica_admin[i]}/readyz" 30 || die "vane-$i is not ready: $(tail -3 "$f.out")"
    wait_http "http://$(ready_field "$f.ready" bench)$path" 10 || die "vane-$i does not serve $path"
  done
}

# ready_field FILE admin|bench -> the admin address or listener "bench" of a ready file.
ready_field() {
  python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r["admin"] if sys.argv[2] == "admin" else r["listeners"]["bench"])' "$1" "$2"
}

# await_leader N SECONDS -> the leader's name, once every replica names it and sees N members.
await_leader() {
  local n=$1 deadline=$((SECONDS + $2)) i names
  while [ "$SECONDS" -lt "$deadline" ]; do
    names=""
    for i in $(seq 0 $((n - 1))); do
      names+=$(curl -s --max-time 2 "http://${replica_admin[i]}/api/v1/cluster" | python3 -c 'import json, sys
try:
    c = json.load(sys.stdin)
    print(c["leader"] if c["leader"] and len(c["members"]) == int(sys.argv[1]) else "none")
except Exception:
    print("none")' "$n")$'\n'
    done
    if [ "$(sort -u <<<"$names" | grep -cv '^$')" = 1 ] && ! grep -q none <<<"$names"; then
      head -1 <<<"$names"
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# reload_replicas N CONF_FN DESIRED: every replica's file desires DESIRED, and each reloads it.
reload_replicas() {
  local n=$1 conf_fn=$2 desired=$3 i
  for i in $(seq 0 $((n - 1))); do
    "$conf_fn" "$i" "$desired" >"$BENCH_WORKDIR/vane-$i.yaml"
    [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST "http://${replica_admin[i]}/api/v1/reload")" = 200 ] \
      || die "vane-$i refused the reload"
  done
}

# await_metric N LINE SECONDS: until every replica's /metrics has the exact line LINE.
await_metric() {
  local n=$1 line=$2 deadline=$((SECONDS + $3)) i
  for i in $(seq 0 $((n - 1))); do
    until curl -s --max-time 2 "http://${replica_admin[i]}/metrics" | grep -qxF "$line"; do
      [ "$SECONDS" -lt "$deadline" ] || die "vane-$i: no '$line' in its /metrics"
      sleep 0.1
    done
  done
}
