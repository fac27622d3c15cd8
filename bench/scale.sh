#!/usr/bin/env bash
# bench/scale.sh — vane at scale (issue #19): many host routes, many rollouts, many idle
# connections. Writes bench/results/scale-latest.md (one section per part run).
#
#   bench/scale.sh [--parts hosts,load,rollouts,idle] [--hosts 10000] [--rounds 5] [--duration 5]
#                  [--load-routes 100000] [--rollouts 1000] [--rollout-seconds 60]
#                  [--connections 10000,100000] [--seconds 10] [--proxies vane,nginx,haproxy]
#                  [--vane PATH] [--port-base 18260] [--nice N] [--out bench/results] [--keep]
#
# hosts: each proxy (one worker, core 0) twice, with ONE host route and with --hosts host routes
#   (h0..h<N-1>.scale.test; nginx a server block each, HAProxy a backend each chosen by a map
#   file, vane a route each; all to the same two nginx upstreams on core 1); wrk -t1 -c50 (core 1)
#   sends Host: of the LAST host (of the only one). The six runs of a round are interleaved, each
#   with a 1 s warm-up; CPU per request = the proxy's utime+stime / requests. The figure is the
#   median over rounds of each proxy's per-round ratio (N hosts / 1 host): same proxy, same round.
#   vane's route of the last host is checked in its /metrics.
# load: vane with --load-routes host routes: `vane validate` time and peak RSS, time from start to
#   ready, RSS after a request (against a one-route vane: memory per route), then reload time of
#   the unchanged and of a changed file, by POST /api/v1/reload (its answer comes after the
#   reload) and by SIGHUP (until the admin API, on the same thread, answers /healthz again).
# rollouts: vane with --rollouts rollouts, each on its own route with its own two upstreams and a
#   background builtin analysis every 10 s (bench/scale_config.py): started with stable desired,
#   reloaded with canary desired, measured once all are Paused at weight 10: vane's CPU over
#   --rollout-seconds (the control thread's apart, /proc/PID/task/PID/stat), RSS (against the
#   same file with no rollout in progress: what 1,000 running rollouts add), then 20 scrapes of
#   /metrics (series counted), 20 GET /api/v1/rollouts and 5 `vane status`: median and max.
# idle: vane alone with N idle keep-alive connections (bench/idle_clients.py): memory per
#   connection and idle CPU.
# A figure is only meaningful on an otherwise idle machine; the load average is recorded.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

parts="hosts,load,rollouts,idle" hosts=10000 rounds=5 duration=5 load_routes=100000
rollouts=1000 rollout_seconds=60 sizes="10000,100000" seconds=10 proxies="vane,nginx,haproxy"
vane_arg="" port_base=18260 out_dir="$here/results"
BENCH_NICE=$([ "$(id -u)" = 0 ] && echo -10 || echo 0)
while [ $# -gt 0 ]; do
  case "$1" in
    --parts) parts=$2; shift 2 ;;
    --hosts) hosts=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --load-routes) load_routes=$2; shift 2 ;;
    --rollouts) rollouts=$2; shift 2 ;;
    --rollout-seconds) rollout_seconds=$2; shift 2 ;;
    --connections) sizes=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --proxies) proxies=$2; shift 2 ;;
    --vane) vane_arg=$2; shift 2 ;;
    --port-base) port_base=$2; shift 2 ;;
    --nice) BENCH_NICE=$2; shift 2 ;;
    --out) out_dir=$2; shift 2 ;;
    --keep) export BENCH_KEEP=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
export BENCH_NICE
for v in hosts rounds duration load_routes rollouts rollout_seconds seconds; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "--${v//_/-} must be a positive integer"
done
[[ $sizes =~ ^[1-9][0-9]*(,[1-9][0-9]*)*$ ]] || die "--connections: positive integers, comma-separated"
has() { [[ ",$1," == *",$2,"* ]]; }
bench_need nginx wrk taskset curl python3
has "$proxies" haproxy && has "$parts" hosts && bench_need haproxy
bin=""
if [ "$parts" != hosts ] || has "$proxies" vane; then
  bin=$(find_vane "$vane_arg") || die "vane binary not found (build the 'vane' target, or pass --vane PATH)"
fi

if has "$parts" idle; then
  largest=$(tr , '\n' <<<"$sizes" | sort -n | tail -1)
  raise_nofile $((largest + 2048)) $((largest + 1024)) "$largest connections"
fi

bench_mkworkdir
trap bench_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$out_dir"
base=$(pick_port_base "$port_base")
up1=$((base + 1)) up2=$((base + 2))
start_upstream up1 "$up1" 1 >/dev/null
start_upstream up2 "$up2" 1 >/dev/null
hz=$(getconf CLK_TCK)
W=$BENCH_WORKDIR
gen() { python3 "$here/scale_config.py" "$@" --up1 "$up1" --up2 "$up2" --dir "$W"; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
maximum() { sort -g | tail -1; }
# thread_ticks PID TID: utime+stime of one thread.
thread_ticks() { local f; f=$(cat "/proc/$1/task/$2/stat" 2>/dev/null) || { echo 0; return; }; f=${f##*) }; set -- $f; echo $(( ${12} + ${13} )); }
# start_vane_conf CONF NAME -> "PID LISTENER_ADDR": vane on core 0, once GET / answers 200 (every
# config here has a host-less route for that probe).
start_vane_conf() {
  local conf=$1 name=$2 r
  r=$(launch_vane "$bin" "$conf" "$W/$name.ready" "$W/$name.out" 0 "$name") || return 1
  echo "$r"
}
admin_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["admin"])' "$1"; }
# time_get URL: wall seconds of one GET (curl's time_total), the body to $W/last.body.
time_get() { curl -s -o "$W/last.body" -w '%{time_total}\n' --max-time 30 "$1"; }
stop_pid() { kill "$1" 2>/dev/null || true; for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done; kill -9 "$1" 2>/dev/null || true; }

machine="$(nproc) cores, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo), $(uname -sr)"
report=$W/report.md
{
  echo "# vane at scale (bench/scale.sh)"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'); vane: ${bin:-none} $(git -C "$here" rev-parse --short HEAD 2>/dev/null || true)"
  echo "- machine: $machine"
  echo "- load average at the start: $(loadavg) (1, 5, 15 min); everything started here at nice $BENCH_NICE"
} >"$report"

# ---- hosts: CPU per request of the last of N hosts vs one host --------------------------------
if has "$parts" hosts; then
  log "hosts: $hosts host routes vs 1, proxies $proxies, $rounds rounds x ${duration}s"
  port=$((base + 4))
  declare -A pid_of=() addr_of=() host_of=() main_of=()
  for p in ${proxies//,/ }; do
    for n in 1 "$hosts"; do
      key=$p-$n
      case "$p" in
        vane)
          gen vane-routes --routes "$n" --port "$port" --admin $((port + 1)) --name "vane-$n" >"$W/$key.yaml"
          read -r pid _ < <(start_vane_conf "$W/$key.yaml" "$key") || die "vane with $n routes did not start"
          pid_of[$key]=$pid main_of[$key]=$pid ;;
        nginx)
          mkdir -p "$W/tmp-nr"
          gen nginx-routes --routes "$n" --port "$port" >"$W/$key.conf"
          sed -i "s#nginx-routes#$key#g" "$W/$key.conf"
          master=$(start_pinned 0 "$W/$key.out" nginx -p "$W" -e "$W/$key-error.log" -c "$W/$key.conf" -g 'daemon off;')
          wait_http "http://127.0.0.1:$port/" 30 || die "nginx with $n hosts did not start: $(tail -3 "$W/$key-error.log")"
          pid_of[$key]=$(nginx_worker_of "$master") main_of[$key]=$master ;;
        haproxy)
          gen haproxy-routes --routes "$n" --port "$port" >"$W/$key.cfg"
          mv "$W/haproxy-hosts.map" "$W/$key.map"
          sed -i "s#haproxy-hosts.map#$key.map#; s#haproxy-routes.pid#$key.pid#" "$W/$key.cfg"
          pid_of[$key]=$(start_pinned 0 "$W/$key.out" haproxy -db -f "$W/$key.cfg")
          wait_http "http://127.0.0.1:$port/" 30 || die "haproxy with $n hosts did not start: $(tail -3 "$W/$key.out")"
          main_of[$key]=${pid_of[$key]} ;;
        *) die "unknown proxy $p" ;;
      esac
      addr_of[$key]=127.0.0.1:$port host_of[$key]=h$((n - 1)).scale.test
      port=$((port + 2))
    done
  done
  : >"$W/hosts.runs"
  for round in $(seq "$rounds"); do
    for p in ${proxies//,/ }; do
      for n in 1 "$hosts"; do
        key=$p-$n pid=${pid_of[$p-$n]}
        url=http://${addr_of[$key]}/ h="Host: ${host_of[$key]}"
        taskset -c 1 wrk -t1 -c50 -d1s -H "$h" "$url" >/dev/null 2>&1 || true
        t0=$(cpu_ticks "$pid")
        out=$(taskset -c 1 wrk -t1 -c50 -d"${duration}s" -H "$h" -s "$here/wrk_report.lua" "$url" 2>&1) || true
        t1=$(cpu_ticks "$pid")
        reqs=$(sed -n 's/^WRKRESULT requests=\([0-9]*\).*/\1/p' <<<"$out")
        status=$(grep -c 'Non-2xx' <<<"$out" || true)
        [ -n "$reqs" ] && [ "$reqs" -gt 0 ] || die "$key: wrk gave no result: $out"
        [ "$status" = 0 ] || log "$key: wrk saw non-2xx answers"
        us=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v r="$reqs" 'BEGIN { printf "%.3f", t * 1e6 / hz / r }')
        echo "$round $p $n $reqs $us" >>"$W/hosts.runs"
        log "hosts round $round: $key $((reqs / duration)) req/s, $us us CPU/request"
      done
    done
  done
  if has "$proxies" vane; then  # the last host's requests were routed by its own route
    admin=$(admin_of "$W/vane-$hosts.ready")
    last=$(curl -s "http://$admin/metrics" | grep -c "^vane_requests_total{.*route=\"r$((hosts - 1))\"" || true)
    [ "$last" -gt 0 ] || die "vane-$hosts: no request counted on route r$((hosts - 1))"
  fi
  {
    echo
    echo "## CPU per request: the last of $hosts host routes vs one host route"
    echo
    echo "$rounds rounds x ${duration} s per run (1 s warm-up each), wrk -t1 -c50 on core 1, each proxy one worker on core 0;"
    echo "load average after: $(loadavg)."
    echo
    echo "| proxy | µs CPU/request, 1 host (median) | µs CPU/request, last of $hosts (median) | ratio (median of per-round ratios) | per-round ratios |"
    echo "|---|---:|---:|---:|---|"
    for p in ${proxies//,/ }; do
      one=$(awk -v p="$p" '$2 == p && $3 == 1 { print $5 }' "$W/hosts.runs" | median)
      many=$(awk -v p="$p" -v n="$hosts" '$2 == p && $3 == n { print $5 }' "$W/hosts.runs" | median)
      ratios=$(awk -v p="$p" -v n="$hosts" '$2 == p { if ($3 == 1) a[$1] = $5; else b[$1] = $5 } END { for (r in a) if (b[r] && a[r]) printf "%.3f\n", b[r] / a[r] }' "$W/hosts.runs" | sort -g)
      echo "| $p | $one | $many | $(median <<<"$ratios") | $(tr '\n' ' ' <<<"$ratios") |"
    done
  } >>"$report"
  for key in "${!main_of[@]}"; do stop_pid "${main_of[$key]}"; done
fi

mkdir -p "$out_dir" && cp "$report" "$out_dir/scale-latest.md"  # each part's figures survive a later part's failure

# ---- load: 100,000 routes: validate, start, reload, memory per route --------------------------
if has "$parts" load; then
  log "load: $load_routes routes"
  port=$((base + 10)) admin_port=$((base + 11))
  gen vane-routes --routes 1 --port "$port" --admin "$admin_port" --name vane-load >"$W/one.yaml"
  gen vane-routes --routes "$load_routes" --port "$port" --admin "$admin_port" --name vane-load >"$W/load.yaml"
  size=$(stat -c %s "$W/load.yaml")
  vt=() vm=()
  for _ in 1 2 3; do
    /usr/bin/time -f '%e %M' -o "$W/validate.time" taskset -c 0 "$bin" validate -c "$W/load.yaml" >"$W/validate.out" 2>&1 \
      || die "vane validate failed: $(head -3 "$W/validate.out")"
    read -r s m <"$W/validate.time"; vt+=("$s") vm+=("$m")
  done
  validate_s=$(printf '%s\n' "${vt[@]}" | median) validate_kib=$(printf '%s\n' "${vm[@]}" | maximum)
  # One route, for the baseline RSS.
  read -r pid addr < <(start_vane_conf "$W/one.yaml" vane-one) || die "vane with one route did not start"
  curl -s -o /dev/null "http://$addr/"; sleep 1
  rss_one=$(rss_kib "$pid"); stop_pid "$pid"
  t0=$(now_ms)
  # Without the file watch: a changed file would also be reloaded by the watch, and the POST
  # measured would wait for that reload too.
  read -r pid addr < <(VANE_START_TIMEOUT=120 VANE_RUN_FLAGS=--no-watch-config start_vane_conf "$W/load.yaml" vane-load) || die "vane with $load_routes routes did not start"
  start_ms=$(( $(now_ms) - t0 ))
  curl -s -o /dev/null -H "Host: h$((load_routes - 1)).scale.test" "http://$addr/"; sleep 1
  rss_load=$(rss_kib "$pid")
  admin="127.0.0.1:$admin_port"
  post=() hup=() changed=()
  # reload_post -> its wall seconds; dies unless it answered 200 (success).
  reload_post() {
    local r
    r=$(curl -s -o "$W/reload.body" -w '%{http_code} %{time_total}' --max-time 60 -X POST "http://$admin/api/v1/reload")
    [ "${r%% *}" = 200 ] || die "reload answered ${r%% *}: $(head -c 300 "$W/reload.body")"
    echo "${r#* }"
  }
  for _ in 1 2 3; do
    post+=("$(reload_post)")
    # The signal is handled on the control thread, which also answers the admin API: /healthz
    # answers once the reload is done (the figure includes the 50 ms pause before asking).
    t0=$(now_ms); kill -HUP "$pid"; sleep 0.05
    curl -s -o /dev/null --max-time 60 "http://$admin/healthz"; hup+=("$(( $(now_ms) - t0 ))")
  done
  cp "$W/load.yaml" "$W/load.orig"
  for i in 1 2 3; do  # a changed file: one route's prefix differs each time
    sed "s#^  - {name: r0, match: {host: h0.scale.test}#  - {name: r0, match: {host: h0.scale.test, pathPrefix: /v$i}#" "$W/load.orig" >"$W/load.new"
    mv -f "$W/load.new" "$W/load.yaml"
    changed+=("$(reload_post)")
  done
  rss_after=$(rss_kib "$pid")
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: h$((load_routes - 1)).scale.test" "http://$addr/")
  [ "$code" = 200 ] || die "after the reloads the last host answered $code"
  stop_pid "$pid"
  post_ms=$(printf '%s\n' "${post[@]}" | awk '{ print $1 * 1000 }' | median)
  changed_ms=$(printf '%s\n' "${changed[@]}" | awk '{ print $1 * 1000 }' | median)
  hup_ms=$(printf '%s\n' "${hup[@]}" | median)
  per_route=$(awk -v a="$rss_load" -v b="$rss_one" -v n="$load_routes" 'BEGIN { printf "%.0f", (a - b) * 1024 / n }')
  log "load: validate ${validate_s}s, start ${start_ms}ms, reload ${post_ms}/${changed_ms}ms (POST unchanged/changed), SIGHUP ${hup_ms}ms, ${per_route} B/route"
  {
    echo
    echo "## $load_routes host routes: load, validate, reload, memory"
    echo
    echo "One upstream, $load_routes routes \`{name: rI, match: {host: hI.scale.test}, upstream: app}\` + a host-less one ($((size / 1024)) KiB of YAML), vane on core 0; load average after: $(loadavg)."
    echo
    echo "| what | figure |"
    echo "|---|---:|"
    echo "| \`vane validate -c\` (median of 3, wall) | ${validate_s} s (peak RSS $((validate_kib / 1024)) MiB) |"
    echo "| \`vane run\`: start to ready | $start_ms ms |"
    echo "| reload, file unchanged (POST /api/v1/reload, median of 3) | $post_ms ms |"
    echo "| reload, one route changed (POST /api/v1/reload, median of 3) | $changed_ms ms |"
    echo "| reload by SIGHUP, until the admin API answers again (median of 3) | $hup_ms ms |"
    echo "| RSS: one route / $load_routes routes / after 9 reloads | $((rss_one / 1024)) / $((rss_load / 1024)) / $((rss_after / 1024)) MiB |"
    echo "| memory per route ((RSS $load_routes − RSS 1) / $load_routes) | $per_route B |"
  } >>"$report"
fi

cp "$report" "$out_dir/scale-latest.md"

# ---- rollouts: 1,000 rollouts with background analysis ------------------------------------------
if has "$parts" rollouts; then
  log "rollouts: $rollouts rollouts, analysis every 10s"
  port=$((base + 10)) admin_port=$((base + 11)) admin=127.0.0.1:$((base + 11))
  gen vane-rollouts --rollouts "$rollouts" --port "$port" --admin "$admin_port" --desired stable >"$W/ro.stable"
  gen vane-rollouts --rollouts "$rollouts" --port "$port" --admin "$admin_port" --desired canary >"$W/ro.canary"
  "$bin" validate -c "$W/ro.canary" >"$W/ro.validate" 2>&1 || die "rollouts config invalid: $(head -3 "$W/ro.validate")"
  rm -rf "$W/vane-rollouts-state"
  cp "$W/ro.stable" "$W/ro.yaml"
  read -r pid addr < <(VANE_START_TIMEOUT=120 start_vane_conf "$W/ro.yaml" vane-rollouts) || die "vane with $rollouts rollouts did not start"
  sleep 2
  rss_idle=$(rss_kib "$pid")
  cp "$W/ro.canary" "$W/ro.new" && mv -f "$W/ro.new" "$W/ro.yaml"
  r=$(curl -s -o "$W/reload.body" -w '%{http_code} %{time_total}' --max-time 300 -X POST "http://$admin/api/v1/reload") || true
  [ "${r%% *}" = 200 ] || die "the reload to canary answered ${r%% *}: $(head -c 300 "$W/reload.body")"
  reload_s=${r#* }
  paused=0
  for _ in $(seq 120); do
    paused=$(curl -s --max-time 10 "http://$admin/api/v1/rollouts" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(sum(1 for r in d["rollouts"] if r.get("phase") == "Paused"))' 2>/dev/null || echo 0)
    [ "$paused" = "$rollouts" ] && break
    sleep 0.5
  done
  [ "$paused" = "$rollouts" ] || die "only $paused of $rollouts rollouts Paused"
  log "rollouts: all $rollouts Paused; ${rollout_seconds}s of steady state"
  sleep 12  # every analysis has measured once
  rss0=$(rss_kib "$pid"); t0=$(cpu_ticks "$pid"); c0=$(thread_ticks "$pid" "$pid")
  sleep "$rollout_seconds"
  t1=$(cpu_ticks "$pid"); c1=$(thread_ticks "$pid" "$pid"); rss1=$(rss_kib "$pid")
  cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$rollout_seconds" 'BEGIN { printf "%.1f", t * 1000 / hz / s }')
  ctl=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v s="$rollout_seconds" 'BEGIN { printf "%.1f", t * 1000 / hz / s }')
  measured=$(curl -s "http://$admin/api/v1/rollouts/r$((rollouts - 1))" | python3 -c '
import json, sys
d = json.load(sys.stdin)
runs = d.get("analysisRuns") or []
print(sum(len(m.get("measurements", [])) for r in runs for m in r.get("metrics", [])))' 2>/dev/null || echo "?")
  scrape=() status=() cli=()
  for _ in $(seq 20); do scrape+=("$(time_get "http://$admin/metrics")"); done
  series=$(grep -vc '^#' "$W/last.body" || true)
  bytes=$(stat -c %s "$W/last.body")
  for _ in $(seq 20); do status+=("$(time_get "http://$admin/api/v1/rollouts")"); done
  for _ in $(seq 5); do
    t0=$(now_ms); "$bin" status --admin "http://$admin" >"$W/status.out" 2>&1 || die "vane status failed: $(head -3 "$W/status.out")"
    cli+=("$(( $(now_ms) - t0 ))")
  done
  ms() { awk '{ printf "%.1f\n", $1 * 1000 }'; }
  s_med=$(printf '%s\n' "${scrape[@]}" | ms | median) s_max=$(printf '%s\n' "${scrape[@]}" | ms | maximum)
  l_med=$(printf '%s\n' "${status[@]}" | ms | median) l_max=$(printf '%s\n' "${status[@]}" | ms | maximum)
  c_med=$(printf '%s\n' "${cli[@]}" | median) c_max=$(printf '%s\n' "${cli[@]}" | maximum)
  stop_pid "$pid"
  log "rollouts: CPU $cpu ms/s (control thread $ctl), RSS $((rss_idle / 1024)) -> $((rss1 / 1024)) MiB, /metrics ${s_med} ms ($series series), list ${l_med} ms, vane status ${c_med} ms"
  {
    echo
    echo "## $rollouts rollouts, each with a background analysis every 10 s"
    echo
    echo "Each rollout on its own host route with two upstreams of its own ($((2 * rollouts)) upstreams), Paused at setWeight 10, a builtin success-rate analysis (window 30 s) measuring every 10 s; no traffic; one worker; vane on core 0. Reload stable → canary desired: $(awk -v s="$reload_s" 'BEGIN { printf "%.0f", s * 1000 }') ms. The last rollout's analysis had $measured measurements at the end. Load average after: $(loadavg)."
    echo
    echo "| what | figure |"
    echo "|---|---:|"
    echo "| vane CPU, steady state (${rollout_seconds} s) | $cpu ms/s (control thread $ctl ms/s) |"
    echo "| RSS: the same file with no rollout in progress / $rollouts Paused with analysis / after ${rollout_seconds} s more | $((rss_idle / 1024)) / $((rss0 / 1024)) / $((rss1 / 1024)) MiB |"
    echo "| GET /metrics: $series series, $((bytes / 1024)) KiB (median / max of 20) | $s_med / $s_max ms |"
    echo "| GET /api/v1/rollouts (median / max of 20) | $l_med / $l_max ms |"
    echo "| \`vane status\` (every rollout, the whole command; median / max of 5) | $c_med / $c_max ms |"
  } >>"$report"
fi

cp "$report" "$out_dir/scale-latest.md"

# ---- idle: many idle keep-alive connections -------------------------------------------------
if has "$parts" idle; then
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
    stop_pid "$pid"
    per=$(awk -v a="$after" -v b="$before" -v n="$ok" 'BEGIN { printf "%.2f", n ? (a - b) / n : 0 }')
    cpu=$(awk -v t=$((t1 - t0)) -v hz="$hz" -v s="$seconds" 'BEGIN { printf "%.1f", t * 1000 / hz / s }')
    log "$n: $ok idle connections, RSS $before -> $after KiB ($per KiB each), idle CPU $cpu ms/s"
    results+=("$n $ok $before $after $per $cpu")
  done
  {
    echo
    echo "## Many idle keep-alive connections"
    echo
    echo "One worker; each client connection sent one request, read its answer, then stayed idle; idle CPU: utime+stime over ${seconds} s (clock tick $((1000 / hz)) ms) with all of them open (kernel socket memory is not in RSS)."
    echo
    echo "| connections | open | RSS before (KiB) | RSS after (KiB) | KiB per connection | idle CPU (ms/s) |"
    echo "|---:|---:|---:|---:|---:|---:|"
    for r in "${results[@]}"; do set -- $r; echo "| $1 | $2 | $3 | $4 | $5 | $6 |"; done
  } >>"$report"
fi

cp "$report" "$out_dir/scale-latest.md"
echo
cat "$report"
echo "wrote $out_dir/scale-latest.md"
