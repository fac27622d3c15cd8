# shellcheck shell=bash
# bench/lib.sh — shared by run.sh, h2.sh, websocket.sh and idle_connections.sh: free ports, config
# files, starting and stopping the upstreams and the three proxies, reading CPU time and RSS from /proc.
# Sourced, not executed. Every wait is bounded; every process started is recorded and stopped.

BENCH_WORKDIR=""       # temp dir holding configs, pid files, logs
# Every process started (proxy masters, upstreams) is appended to $BENCH_WORKDIR/started.pids, a
# file rather than an array because the start functions run in $(...) subshells.

log() { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

bench_need() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null || die "'$t' not found (run scripts/install-deps.sh)"; done
}

bench_mkworkdir() {
  BENCH_WORKDIR=$(mktemp -d /tmp/vane-bench.XXXXXX)
  chmod 755 "$BENCH_WORKDIR"  # nginx workers run as nobody
}

# Stops what we started: TERM, up to 5 s, then KILL. Only our own pids, one by one.
bench_cleanup() {
  local pid pids=()
  [ -n "$BENCH_WORKDIR" ] && [ -f "$BENCH_WORKDIR/started.pids" ] && mapfile -t pids <"$BENCH_WORKDIR/started.pids"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 50); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  [ -n "$BENCH_WORKDIR" ] && : >"$BENCH_WORKDIR/started.pids" 2>/dev/null
  if [ -n "$BENCH_WORKDIR" ] && [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$BENCH_WORKDIR"; fi
}

port_free() { [ -z "$(ss -Htln "sport = :$1" 2>/dev/null)" ]; }

# Picks a base port B such that B..B+19 are all free on loopback, starting from $1.
pick_port_base() {
  local base=$1 p ok
  while [ "$base" -lt 30000 ]; do
    ok=1
    for p in $(seq "$base" $((base + 19))); do port_free "$p" || { ok=0; break; }; done
    [ "$ok" = 1 ] && { echo "$base"; return 0; }
    base=$((base + 20))
  done
  die "no 20 free consecutive ports below 30000"
}

# wait_http URL SECONDS: until URL answers 200, bounded (https: the bench's self-signed cert).
wait_http() {
  local url=$1 deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    [ "$(curl -sk -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  return 1
}

# BENCH_NICE (e.g. -10): the priority of everything the benchmark starts, so that other work on a
# shared machine (a compiler) takes less of the cores while we measure. 0 leaves it alone.
# BENCH_RT=1: SCHED_FIFO instead (root only): whatever else runs on the machine gets a core only
# while the benchmark's processes there are all blocked.
pinned() {  # pinned CORE CMD...: runs CMD on CORE at BENCH_NICE; execs, so the pid is CMD's
  local core=$1; shift
  if [ "${BENCH_RT:-0}" = 1 ]; then
    exec chrt -f 10 taskset -c "$core" "$@"
  elif [ "${BENCH_NICE:-0}" != 0 ]; then
    exec nice -n "$BENCH_NICE" taskset -c "$core" "$@"
  fi
  exec taskset -c "$core" "$@"
}

# Runs "$@" in the background pinned to core $1; echoes its pid (nice and taskset exec).
start_pinned() {
  local core=$1 out=$2; shift 2
  (pinned "$core" "$@") >"$out" 2>&1 &
  local pid=$!
  echo "$pid" >>"$BENCH_WORKDIR/started.pids"
  echo "$pid"
}

# The only child of an nginx master with worker_processes 1, bounded wait.
nginx_worker_of() {
  local master=$1 w
  for _ in $(seq 50); do
    w=$(pgrep -P "$master" | head -1)
    [ -n "$w" ] && { echo "$w"; return 0; }
    sleep 0.1
  done
  return 1
}

# The open-files limit a process may have here (containers may cap the hard limit, e.g. 20000).
nofile_cap() { local h; h=$(ulimit -Hn); [ "$h" = unlimited ] && echo 1048576 || echo "$h"; }

# raise_nofile NEED MIN WHAT: this shell's open-files limit up to NEED (the hard one too, where
# allowed); dies when it stays below MIN, naming WHAT it was for.
raise_nofile() {
  local need=$1 min=$2 what=$3
  if [ "$(ulimit -Hn)" != unlimited ] && [ "$(ulimit -Hn)" -lt "$need" ]; then
    ulimit -Hn "$need" 2>/dev/null || log "cannot raise the hard open-files limit to $need (container limit?)"
  fi
  ulimit -Sn "$(( need < $(ulimit -Hn) ? need : $(ulimit -Hn) ))"
  [ "$(ulimit -n)" -ge "$min" ] || die "open files limit $(ulimit -n) too low for $what"
}

# end_helper PID FD: closes the helper's stdin (FD, which ends its hold), waits up to 10 s for
# it to exit, then kills it.
end_helper() {
  local pid=$1 fd=$2
  exec {fd}>&-
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

nginx_common_conf() {  # $1 = name, $2 = worker_connections
  local nofile=$(( $2 * 2 + 1024 )) cap
  cap=$(nofile_cap); [ "$nofile" -gt "$cap" ] && nofile=$cap
  cat <<CONF
worker_processes 1;
worker_rlimit_nofile $nofile;
pid $BENCH_WORKDIR/$1.pid;
error_log $BENCH_WORKDIR/$1-error.log warn;
events { worker_connections $2; multi_accept off; }
CONF
}

nginx_temp_paths() {
  local d=$BENCH_WORKDIR/tmp-$1
  mkdir -p "$d"
  echo "client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fcgi; uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;"
}

# nginx_http_common NAME: the http-block lines every nginx here shares: no access log, its own
# temp paths, client keep-alive without limit.
nginx_http_common() {
  printf '%s\n' 'access_log off;' "$(nginx_temp_paths "$1")" 'keepalive_requests 100000000;' 'keepalive_timeout 600s;'
}

# start_upstream NAME PORT CORE [WORKER_CONNECTIONS] -> echoes the master pid. A fixed small 200,
# keep-alive without limit. GET /__requests answers nginx's stub_status, whose third number is the
# requests served so far. WORKER_CONNECTIONS (4096) is raised by h2.sh, whose proxies pool thousands.
start_upstream() {
  local name=$1 port=$2 core=$3 conf=$BENCH_WORKDIR/$1.conf
  { nginx_common_conf "$name" "${4:-4096}"
    cat <<CONF
http {
  $(nginx_http_common "$name")
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / { default_type text/plain; return 200 "ok\n"; }
    location = /__requests { stub_status; }   # upstream_requests(): what a rollout row really sent here
  }
}
CONF
  } >"$conf"
  local pid
  pid=$(start_pinned "$core" "$BENCH_WORKDIR/$name.out" nginx -p "$BENCH_WORKDIR" -e "$BENCH_WORKDIR/$name-error.log" -c "$conf" -g 'daemon off;')
  wait_http "http://127.0.0.1:$port/" 10 || die "upstream $name did not start (see $BENCH_WORKDIR/$name-error.log)"
  echo "$pid"
}

# bench_make_cert: a self-signed P-256 certificate for 127.0.0.1 and localhost, for the TLS rows:
# $BENCH_WORKDIR/tls.crt and tls.key (nginx, vane), tls.pem = both (HAProxy).
bench_make_cert() {
  local d=$BENCH_WORKDIR
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$d/tls.key" -out "$d/tls.crt" \
    >/dev/null 2>&1 || die "openssl could not make the benchmark's certificate"
  cat "$d/tls.crt" "$d/tls.key" >"$d/tls.pem"
  chmod 644 "$d/tls.key" "$d/tls.pem"  # nginx workers run as nobody
}

# Proxy configs. $EQUAL_HEADERS=1 makes nginx and HAProxy do the header work vane does on every
# request (X-Forwarded-For/-Proto, an X-Request-Id generated and echoed); off by default.

nginx_equal_headers() {  # the location directives of EQUAL_HEADERS=1, or nothing
  [ "${EQUAL_HEADERS:-0}" = 1 ] || return 0
  echo 'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto $scheme; proxy_set_header X-Request-Id $request_id; add_header X-Request-Id $request_id;'
}

haproxy_equal_headers() {  # the frontend lines of EQUAL_HEADERS=1, or nothing
  [ "${EQUAL_HEADERS:-0}" = 1 ] || return 0
  printf '%s\n' '  option forwardfor' '  http-request set-header X-Forwarded-Proto http' \
    '  unique-id-format %{+X}o%ci:%cp_%fi:%fp_%Ts_%rt:%pid' '  unique-id-header X-Request-Id' \
    '  http-response set-header X-Request-Id %[unique-id]'
}

# start_nginx_proxy PORT UP1 UP2 CORE MAXCONN [TLS_PORT] -> echoes "MASTER WORKER". With TLS_PORT
# the same server also terminates TLS there (bench_make_cert first).
start_nginx_proxy() {
  local port=$1 up1=$2 up2=$3 core=$4 maxconn=$5 tls_port=${6:-} conf=$BENCH_WORKDIR/nginx-proxy.conf extra="" tls=""
  if [ -n "$tls_port" ]; then
    tls="listen 127.0.0.1:$tls_port ssl backlog=4096; ssl_certificate $BENCH_WORKDIR/tls.crt; ssl_certificate_key $BENCH_WORKDIR/tls.key; ssl_protocols TLSv1.2 TLSv1.3;"
  fi
  extra=$(nginx_equal_headers)
  { nginx_common_conf nginx-proxy "$maxconn"
    cat <<CONF
http {
  $(nginx_http_common nginx-proxy)
  upstream app {
    server 127.0.0.1:$up1;
    server 127.0.0.1:$up2;
    keepalive 64;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
  }
  server {
    listen 127.0.0.1:$port backlog=4096;
    $tls
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      $extra
    }
  }
}
CONF
  } >"$conf"
  local master worker
  master=$(start_pinned "$core" "$BENCH_WORKDIR/nginx-proxy.out" nginx -p "$BENCH_WORKDIR" -e "$BENCH_WORKDIR/nginx-proxy-error.log" -c "$conf" -g 'daemon off;')
  wait_http "http://127.0.0.1:$port/" 10 || { log "nginx proxy did not start: $(tail -3 "$BENCH_WORKDIR/nginx-proxy-error.log" 2>/dev/null)"; return 1; }
  worker=$(nginx_worker_of "$master") || return 1
  echo "$master $worker"
}

# haproxy_conf_head MAXCONN NAME: the global and defaults sections every HAProxy row shares (one
# thread, long timeouts, connections to the upstreams reused), pid file NAME.pid.
haproxy_conf_head() {
  local maxconn=$1 limits=""
  # HAProxy wants 2 fds per maxconn; where the hard limit is lower (a container), start anyway:
  # the idle-connection test holds client connections only, each with one fd.
  [ $(( maxconn * 2 + 64 )) -gt "$(nofile_cap)" ] && limits="  no strict-limits"
  cat <<CONF
global
  nbthread 1
  maxconn $maxconn
$limits
  pidfile $BENCH_WORKDIR/$2.pid
defaults
  mode http
  timeout connect 5s
  timeout client 600s
  timeout server 600s
  timeout http-keep-alive 600s
  http-reuse always
CONF
}

# start_haproxy PORT UP1 UP2 CORE MAXCONN [TLS_PORT] -> echoes its pid (one process, one thread).
start_haproxy() {
  local port=$1 up1=$2 up2=$3 core=$4 maxconn=$5 tls_port=${6:-} conf=$BENCH_WORKDIR/haproxy.cfg extra="" tls=""
  [ -n "$tls_port" ] && tls="  bind 127.0.0.1:$tls_port ssl crt $BENCH_WORKDIR/tls.pem alpn http/1.1 ssl-min-ver TLSv1.2"
  extra=$(haproxy_equal_headers)
  { haproxy_conf_head "$maxconn" haproxy
    cat <<CONF
frontend bench
  bind 127.0.0.1:$port
$tls
  default_backend app
$extra
backend app
  balance roundrobin
  server s1 127.0.0.1:$up1
  server s2 127.0.0.1:$up2
CONF
  } >"$conf"
  local pid
  pid=$(start_pinned "$core" "$BENCH_WORKDIR/haproxy.out" haproxy -db -f "$conf")
  wait_http "http://127.0.0.1:$port/" 10 || { log "haproxy did not start: $(tail -3 "$BENCH_WORKDIR/haproxy.out" 2>/dev/null)"; return 1; }
  echo "$pid"
}

# find_vane [PATH]: the vane binary to use, or nothing.
find_vane() {
  local c here
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  for c in "$1" "${VANE_BIN:-}" "$here/../build-bench/vane" "$here/build/vane"; do
    [ -n "$c" ] && [ -x "$c" ] && { readlink -f "$c"; return 0; }
  done
  return 1
}

# start_vane BIN PORT ADMIN_PORT UP1 UP2 CORE [TLS_PORT] [NAME] [EXTRA_YAML] -> echoes
# "PID LISTENER_ADDR", or fails. NAME (default vane) names its files; EXTRA_YAML is appended to
# the config (run.sh's vane-cluster row: its cluster section).
start_vane() {
  local bin=$1 port=$2 admin=$3 up1=$4 up2=$5 core=$6 tls_port=${7:-} name=${8:-vane} extra=${9:-}
  local conf=$BENCH_WORKDIR/$name.yaml ready=$BENCH_WORKDIR/$name.ready tls=""
  [ -n "$tls_port" ] && tls=", {name: bench-tls, address: \"127.0.0.1:$tls_port\", tls: {certFile: \"$BENCH_WORKDIR/tls.crt\", keyFile: \"$BENCH_WORKDIR/tls.key\"}}"
  cat >"$conf" <<CONF
listeners: [{name: bench, address: "127.0.0.1:$port"}$tls]
admin: {address: "127.0.0.1:$admin"}
state: {dir: "$BENCH_WORKDIR/$name-state"}
limits: {idleTimeout: 600s}
workers: 1
upstreams:
  - name: app
    endpoints: ["127.0.0.1:$up1", "127.0.0.1:$up2"]
routes:
  - {name: all, match: {pathPrefix: /}, upstream: app}
CONF
  [ -z "$extra" ] || echo "$extra" >>"$conf"
  rm -f "$ready"
  launch_vane "$bin" "$conf" "$ready" "$BENCH_WORKDIR/$name.out" "$core" "$name"
}

# launch_vane BIN CONF READY OUT CORE LABEL -> echoes "PID LISTENER_ADDR" once vane has written its
# ready file (within $VANE_START_TIMEOUT s, default 15) and answers 200 on listener "bench"; else
# logs why (as LABEL), stops it, fails.
launch_vane() {
  local bin=$1 conf=$2 ready=$3 out=$4 core=$5 label=$6 pid addr deadline=$((SECONDS + ${VANE_START_TIMEOUT:-15}))
  # shellcheck disable=SC2086  # VANE_RUN_FLAGS: extra flags of `vane run`, split on spaces
  pid=$(start_pinned "$core" "$out" "$bin" run -c "$conf" --ready-file "$ready" ${VANE_RUN_FLAGS:-})
  while [ "$SECONDS" -lt "$deadline" ] && [ ! -s "$ready" ]; do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  [ -s "$ready" ] || { log "$label did not become ready: $(tail -3 "$out" 2>/dev/null)"; kill "$pid" 2>/dev/null; return 1; }
  sleep 0.2  # the ready file may be written in pieces
  addr=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["listeners"]["bench"])' "$ready" 2>/dev/null) \
    || { log "$label ready file unreadable: $(cat "$ready")"; kill "$pid" 2>/dev/null; return 1; }
  if ! wait_http "http://$addr/" 10; then
    log "$label does not answer 200 on http://$addr/$(kill -0 "$pid" 2>/dev/null || echo " (it exited)"): $(tail -3 "$out")"
    kill "$pid" 2>/dev/null
    return 1
  fi
  echo "$pid $addr"
}

# CPU ticks (utime+stime) of the processes given; /proc/PID/stat covers all threads of a process.
cpu_ticks() {
  local pid sum=0 f
  for pid in "$@"; do
    f=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
    f=${f##*) }   # past the command name, which may hold spaces
    set -- $f     # fields from 3 on: state=$1 ... utime=$12 stime=$13
    sum=$((sum + ${12} + ${13}))
  done
  echo "$sum"
}

# Busy ticks of one core from /proc/stat (everything but idle and iowait).
core_busy_ticks() {
  awk -v c="cpu$1" '$1 == c { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# syscall_cost_us: the cost of a system call on core 0, in µs (dd copying 1 byte at a time = 1 read +
# 1 write each), for the results' header: a slower machine or kernel shows here first.
syscall_cost_us() {
  (pinned 0 dd if=/dev/zero of=/dev/null bs=1 count=200000) 2>&1 \
    | awk '/copied/ { for (i = 1; i <= NF; i++) if ($i == "s,") printf "%.2f", $(i - 1) / 400000 * 1e6 }'
}

# ---- Rollout rows (bench/run.sh --rollout-rows): the same traffic decision in each proxy. ----------
# Two upstream groups: stable = UP1 and canary = UP2 (one endpoint each, the same small nginx).
# VARIANT: split (90 % stable / 10 % canary, random per request), header (X-Canary: yes -> canary,
# else stable), mirror (everything to stable, and a copy of every request to canary).

# upstream_requests PORT: requests an upstream of start_upstream has served so far (stub_status).
upstream_requests() {
  curl -s --max-time 2 "http://127.0.0.1:$1/__requests" 2>/dev/null | awk 'NR == 3 { print $3 }'
}

# start_nginx_variant VARIANT PORT UP1 UP2 CORE -> echoes "MASTER WORKER".
# split: split_clients on "$connection:$connection_requests" (a different key per request, hashed
# with MurmurHash2: no random-number cost, the cheapest per-request split nginx has);
# header: map $http_x_canary; mirror: the `mirror` directive to an internal location proxying to
# canary, with X-Vane-Mirror: 1 as vane adds.
start_nginx_variant() {
  local v=$1 port=$2 up1=$3 up2=$4 core=$5 name=nginx-$1 conf=$BENCH_WORKDIR/nginx-$1.conf
  local pool="" target='http://$pool' mirror="" proxy='proxy_http_version 1.1; proxy_set_header Connection "";'
  case "$v" in
    split)  pool='split_clients "${connection}:${connection_requests}" $pool { 10% canary; * stable; }' ;;
    header) pool='map $http_x_canary $pool { yes canary; default stable; }' ;;
    mirror) target=http://stable
            mirror="location = /__mirror { internal; proxy_pass http://canary\$request_uri; $proxy proxy_set_header X-Vane-Mirror 1; }" ;;
    *) log "unknown nginx variant $v"; return 1 ;;
  esac
  { nginx_common_conf "$name" 4096
    cat <<CONF
http {
  $(nginx_http_common "$name")
  upstream stable { server 127.0.0.1:$up1; keepalive 64; keepalive_requests 100000000; keepalive_timeout 600s; }
  upstream canary { server 127.0.0.1:$up2; keepalive 64; keepalive_requests 100000000; keepalive_timeout 600s; }
  $pool
  server {
    listen 127.0.0.1:$port backlog=4096;
    location / {
      $([ "$v" = mirror ] && echo "mirror /__mirror;")
      proxy_pass $target;
      $proxy
      $(nginx_equal_headers)
    }
    $mirror
  }
}
CONF
  } >"$conf"
  nginx -t -q -p "$BENCH_WORKDIR" -e "$BENCH_WORKDIR/$name-error.log" -c "$conf" -g 'daemon off;' 2>"$BENCH_WORKDIR/$name.test" \
    || { log "nginx $v config invalid: $(tail -2 "$BENCH_WORKDIR/$name.test")"; return 1; }
  local master worker
  master=$(start_pinned "$core" "$BENCH_WORKDIR/$name.out" nginx -p "$BENCH_WORKDIR" -e "$BENCH_WORKDIR/$name-error.log" -c "$conf" -g 'daemon off;')
  wait_http "http://127.0.0.1:$port/" 10 || { log "nginx $v did not start: $(tail -3 "$BENCH_WORKDIR/$name-error.log" 2>/dev/null)"; return 1; }
  worker=$(nginx_worker_of "$master") || return 1
  echo "$master $worker"
}

# start_haproxy_variant VARIANT PORT UP1 UP2 CORE -> echoes its pid.
# split: one backend, servers stable weight 90 and canary weight 10 (roundrobin: smooth weighted);
# header: use_backend canary if { req.hdr(x-canary) -m str yes }. HAProxy has no built-in mirror.
start_haproxy_variant() {
  local v=$1 port=$2 up1=$3 up2=$4 core=$5 name=haproxy-$1 conf=$BENCH_WORKDIR/haproxy-$1.cfg backends
  case "$v" in
    split) backends="  default_backend app
$(haproxy_equal_headers)
backend app
  balance roundrobin
  server stable 127.0.0.1:$up1 weight 90
  server canary 127.0.0.1:$up2 weight 10" ;;
    header) backends="  use_backend canary if { req.hdr(x-canary) -m str yes }
  default_backend stable
$(haproxy_equal_headers)
backend stable
  server stable 127.0.0.1:$up1
backend canary
  server canary 127.0.0.1:$up2" ;;
    *) log "unknown haproxy variant $v"; return 1 ;;
  esac
  { haproxy_conf_head 4096 "$name"
    cat <<CONF
frontend bench
  bind 127.0.0.1:$port
$backends
CONF
  } >"$conf"
  haproxy -c -q -f "$conf" >"$BENCH_WORKDIR/$name.test" 2>&1 \
    || { log "haproxy $v config invalid: $(tail -2 "$BENCH_WORKDIR/$name.test")"; return 1; }
  local pid
  pid=$(start_pinned "$core" "$BENCH_WORKDIR/$name.out" haproxy -db -f "$conf")
  wait_http "http://127.0.0.1:$port/" 10 || { log "haproxy $v did not start: $(tail -3 "$BENCH_WORKDIR/$name.out" 2>/dev/null)"; return 1; }
  echo "$pid"
}

# vane_rollout_conf VARIANT PORT ADMIN UP1 UP2 DESIRED: a vane config whose rollout "app" (route
# "all", path /) wants DESIRED (stable or canary). Steps, once canary is desired:
#   split, split-analysis: setWeight 10, pause {}      (split-analysis: plus background analysis
#                          from step 1: builtin success-rate and latency-p95 every 1 s over 30 s,
#                          limits so high that the run keeps measuring whatever it sees)
#   header: setHeaderRoute X-Canary exact "yes", pause {}   (weight 0)
#   mirror: setMirrorRoute percentage 100 of every request (path prefix /), pause {}   (weight 0)
vane_rollout_conf() {
  local v=$1 port=$2 admin=$3 up1=$4 up2=$5 desired=$6 steps analysis="" templates=""
  case "$v" in
    split|split-analysis) steps="          - setWeight: 10
          - pause: {}" ;;
    header) steps="          - setHeaderRoute:
              name: x-canary
              match: [{headerName: X-Canary, headerValue: {exact: \"yes\"}}]
          - pause: {}" ;;
    mirror) steps="          - setMirrorRoute:
              name: shadow
              percentage: 100
              match: [{path: {prefix: /}}]
          - pause: {}" ;;
    *) log "unknown vane variant $v"; return 1 ;;
  esac
  if [ "$v" = split-analysis ]; then
    analysis="        analysis:
          templates: [{templateName: success-rate}, {templateName: latency-p95}]
          startingStep: 1"
    templates="analysisTemplates:
  - name: success-rate
    metrics:
      - name: success-rate
        interval: 1s
        successCondition: result >= 0.5
        failureLimit: 1000000000
        inconclusiveLimit: 1000000000
        provider:
          builtin: {metric: success-rate, window: 30s, minRequests: 50}
  - name: latency-p95
    metrics:
      - name: latency-p95
        interval: 1s
        successCondition: result < 10
        failureLimit: 1000000000
        inconclusiveLimit: 1000000000
        provider:
          builtin: {metric: latency-p95, window: 30s, minRequests: 50}"
  fi
  cat <<CONF
listeners: [{name: bench, address: "127.0.0.1:$port"}]
admin: {address: "127.0.0.1:$admin"}
state: {dir: "$BENCH_WORKDIR/vane-$v-state"}
limits: {idleTimeout: 600s}
workers: 1
upstreams:
  - {name: stable, endpoints: ["127.0.0.1:$up1"]}
  - {name: canary, endpoints: ["127.0.0.1:$up2"]}
routes:
  - {name: all, match: {pathPrefix: /}, rollout: app}
$templates
rollouts:
  - name: app
    upstream: $desired
    strategy:
      canary:
        steps:
$steps
$analysis
CONF
}

# vane_status ADMIN_PORT -> the STATUS JSON of rollout "app".
vane_status() { curl -s --max-time 2 "http://127.0.0.1:$1/api/v1/rollouts/app" 2>/dev/null; }

# vane_status_line ADMIN_PORT: phase, step, set and measured weights, header/mirror routes,
# analysis runs (phase, measurements so far) of rollout "app" — for the log and the results.
vane_status_line() {
  vane_status "$1" | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except Exception as e:
    print("no status: %s" % e); sys.exit(0)
w, m = s.get("weights") or {}, s.get("measuredWeights") or {}
out = ["phase %s step %s/%s" % (s.get("phase"), s.get("currentStepIndex"), s.get("stepCount")),
       "weights stable %s canary %s" % (w.get("stable"), w.get("canary")),
       "measuredWeights stable %s canary %s" % (m.get("stable"), m.get("canary"))]
if s.get("headerRoutes"): out.append("headerRoutes %s" % ",".join(r["name"] for r in s["headerRoutes"]))
if s.get("mirrorRoutes"): out.append("mirrorRoutes %s" % ",".join("%s %s%%" % (r["name"], r.get("percentage", 100)) for r in s["mirrorRoutes"]))
for r in s.get("analysisRuns") or []:
    ms = ["%s %s (%d measurements: %d ok, %d inconclusive, %d failed, %d error)" % (
          x["name"], x["phase"], x["successful"] + x["inconclusive"] + x["failed"] + x["error"],
          x["successful"], x["inconclusive"], x["failed"], x["error"]) for x in r.get("metrics", [])]
    out.append("analysis run %s %s: %s" % (r["name"], r["phase"], "; ".join(ms)))
print(", ".join(out))'
}

# start_vane_variant BIN VARIANT PORT ADMIN_PORT UP1 UP2 CORE -> echoes "PID LISTENER_ADDR".
# Both configs (stable desired, then canary desired) pass `vane validate -c` first. vane starts
# with stable desired (a first start: stable at once), then the file is rewritten with canary
# desired and reloaded (POST /api/v1/reload), which starts the rollout; it returns once the rollout
# is Paused on its `pause: {}` step with the variant's traffic rule in force.
start_vane_variant() {
  local bin=$1 v=$2 port=$3 admin=$4 up1=$5 up2=$6 core=$7 name=vane-$2
  local conf=$BENCH_WORKDIR/vane-$2.yaml ready=$BENCH_WORKDIR/vane-$2.ready d
  for d in canary stable; do
    vane_rollout_conf "$v" "$port" "$admin" "$up1" "$up2" "$d" >"$conf.$d" || return 1
    "$bin" validate -c "$conf.$d" >"$BENCH_WORKDIR/$name.validate" 2>&1 \
      || { log "vane validate -c $conf.$d failed: $(head -5 "$BENCH_WORKDIR/$name.validate" | tr '\n' ' ')"; return 1; }
  done
  rm -rf "$ready" "$BENCH_WORKDIR/vane-$v-state"
  cp "$conf.stable" "$conf"
  local pid addr deadline
  read -r pid addr < <(launch_vane "$bin" "$conf" "$ready" "$BENCH_WORKDIR/$name.out" "$core" "vane $v") || true
  [ -n "${addr:-}" ] || return 1
  # The rollout: desired canary, by reload (vane may also see the file change by itself: replace
  # the file in one rename so that it never reads half of it).
  cp "$conf.canary" "$conf.new" && mv -f "$conf.new" "$conf"
  local code
  code=$(curl -s -o "$BENCH_WORKDIR/$name.reload" -w '%{http_code}' --max-time 5 -X POST "http://127.0.0.1:$admin/api/v1/reload")
  [ "$code" = 200 ] || { log "vane $v reload answered $code: $(head -c 300 "$BENCH_WORKDIR/$name.reload")"; kill "$pid" 2>/dev/null; return 1; }
  deadline=$((SECONDS + 15))
  while [ "$SECONDS" -lt "$deadline" ]; do
    vane_status "$admin" | python3 -c '
import json, sys
v = sys.argv[1]
s = json.load(sys.stdin)
ok = s["phase"] == "Paused" and s["canary"] == "canary" and s["currentStepIndex"] == 1
if v.startswith("split"): ok = ok and float(s["weights"]["canary"]) == 10
if v == "header": ok = ok and len(s["headerRoutes"]) == 1 and not s["headerRoutes"][0].get("suspended")
if v == "mirror": ok = ok and len(s["mirrorRoutes"]) == 1 and not s["mirrorRoutes"][0].get("suspended")
if v == "split-analysis": ok = ok and any(r["phase"] == "Running" for r in s.get("analysisRuns") or [])
sys.exit(0 if ok else 1)' "$v" 2>/dev/null && { echo "$pid $addr"; return 0; }
    sleep 0.2
  done
  log "vane $v: the rollout did not reach its pause step: $(vane_status_line "$admin")"
  kill "$pid" 2>/dev/null
  return 1
}

# ---- HTTP/2 to clients (bench/h2.sh, idle_connections.sh --h2): the same proxies, upstreams HTTP/1.1. --
# Each listens for h2c with prior knowledge on PORT and, with TLS_PORT, for TLS with ALPN h2
# (bench_make_cert first). Upstream keep-alive pools are large (nginx keepalive 1024): h2load -m 100
# puts thousands of requests in flight at once, and none of them should open a connection per request.

# wait_h2 URL SECONDS: until URL answers 200 over HTTP/2 (http: prior knowledge; https: ALPN), bounded.
wait_h2() {
  local url=$1 deadline=$((SECONDS + $2)) how=--http2-prior-knowledge
  [[ $url == https:* ]] && how=--http2
  while [ "$SECONDS" -lt "$deadline" ]; do
    [ "$(curl -sk "$how" -o /dev/null -w '%{http_code} %{http_version}' --max-time 1 "$url" 2>/dev/null)" = "200 2" ] && return 0
    sleep 0.1
  done
  return 1
}

# start_nginx_h2 PORT TLS_PORT UP1 UP2 CORE MAXCONN -> echoes "MASTER WORKER". TLS_PORT may be "".
# nginx 1.22: `listen ... http2` (a plain port that speaks only HTTP/2), `listen ... ssl http2`.
start_nginx_h2() {
  local port=$1 tls_port=$2 up1=$3 up2=$4 core=$5 maxconn=$6 conf=$BENCH_WORKDIR/nginx-h2.conf tls=""
  [ -z "$tls_port" ] || tls="listen 127.0.0.1:$tls_port ssl http2 backlog=4096; ssl_certificate $BENCH_WORKDIR/tls.crt; ssl_certificate_key $BENCH_WORKDIR/tls.key; ssl_protocols TLSv1.2 TLSv1.3;"
  { nginx_common_conf nginx-h2 "$maxconn"
    cat <<CONF
http {
  $(nginx_http_common nginx-h2)
  upstream app {
    server 127.0.0.1:$up1;
    server 127.0.0.1:$up2;
    keepalive 1024;
    keepalive_requests 100000000;
    keepalive_timeout 600s;
  }
  server {
    listen 127.0.0.1:$port http2 backlog=4096;
    $tls
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      $(nginx_equal_headers)
    }
  }
}
CONF
  } >"$conf"
  local master worker
  master=$(start_pinned "$core" "$BENCH_WORKDIR/nginx-h2.out" nginx -p "$BENCH_WORKDIR" -e "$BENCH_WORKDIR/nginx-h2-error.log" -c "$conf" -g 'daemon off;')
  wait_h2 "http://127.0.0.1:$port/" 10 || { log "nginx h2 did not start: $(tail -3 "$BENCH_WORKDIR/nginx-h2-error.log" 2>/dev/null)"; return 1; }
  worker=$(nginx_worker_of "$master") || return 1
  echo "$master $worker"
}

# start_haproxy_h2 PORT TLS_PORT UP1 UP2 CORE MAXCONN -> echoes its pid. `bind ... proto h2` (h2c),
# `bind ... ssl ... alpn h2,http/1.1`.
start_haproxy_h2() {
  local port=$1 tls_port=$2 up1=$3 up2=$4 core=$5 maxconn=$6 conf=$BENCH_WORKDIR/haproxy-h2.cfg tls=""
  [ -z "$tls_port" ] || tls="  bind 127.0.0.1:$tls_port ssl crt $BENCH_WORKDIR/tls.pem alpn h2,http/1.1 ssl-min-ver TLSv1.2"
  { haproxy_conf_head "$maxconn" haproxy-h2
    cat <<CONF
frontend bench
  bind 127.0.0.1:$port proto h2
$tls
  default_backend app
$(haproxy_equal_headers)
backend app
  balance roundrobin
  server s1 127.0.0.1:$up1
  server s2 127.0.0.1:$up2
CONF
  } >"$conf"
  local pid
  pid=$(start_pinned "$core" "$BENCH_WORKDIR/haproxy-h2.out" haproxy -db -f "$conf")
  wait_h2 "http://127.0.0.1:$port/" 10 || { log "haproxy h2 did not start: $(tail -3 "$BENCH_WORKDIR/haproxy-h2.out" 2>/dev/null)"; return 1; }
  echo "$pid"
}

# start_vane_h2 BIN PORT TLS_PORT ADMIN_PORT UP1 UP2 CORE -> echoes "PID LISTENER_ADDR". The plain
# listener has protocols [http1, h2] (h2 with prior knowledge, told apart by the preface), the TLS
# one the default [h2, http1] by ALPN. maxConnectionsPerEndpoint is raised from 1024 to 4096 as
# nginx and HAProxy have no such limit: at -c32 -m100, 3200 requests are in flight, each needing an
# HTTP/1.1 upstream connection, and with the default some wait for one (503 after connectTimeout).
start_vane_h2() {
  local bin=$1 port=$2 tls_port=$3 admin=$4 up1=$5 up2=$6 core=$7 tls=""
  local conf=$BENCH_WORKDIR/vane-h2.yaml ready=$BENCH_WORKDIR/vane-h2.ready r
  [ -z "$tls_port" ] || tls=", {name: bench-tls, address: \"127.0.0.1:$tls_port\", tls: {certFile: \"$BENCH_WORKDIR/tls.crt\", keyFile: \"$BENCH_WORKDIR/tls.key\"}}"
  cat >"$conf" <<CONF
listeners: [{name: bench, address: "127.0.0.1:$port", protocols: [http1, h2]}$tls]
admin: {address: "127.0.0.1:$admin"}
state: {dir: "$BENCH_WORKDIR/vane-h2-state"}
limits: {idleTimeout: 600s}
workers: 1
upstreams:
  - name: app
    endpoints: ["127.0.0.1:$up1", "127.0.0.1:$up2"]
    maxConnectionsPerEndpoint: 4096
routes:
  - {name: all, match: {pathPrefix: /}, upstream: app}
CONF
  rm -f "$ready"
  r=$(launch_vane "$bin" "$conf" "$ready" "$BENCH_WORKDIR/vane-h2.out" "$core" "vane h2") || return 1
  wait_h2 "http://${r#* }/" 10 || { log "vane does not answer HTTP/2 on http://${r#* }/"; kill "${r%% *}" 2>/dev/null; return 1; }
  echo "$r"
}
