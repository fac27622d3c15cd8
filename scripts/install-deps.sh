#!/usr/bin/env bash
# Installs everything vane needs to build, test and benchmark on Debian 12 (run as root).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
pkgs=(
  build-essential cmake ninja-build ccache pkg-config git curl ca-certificates openssl
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-system1.81-dev
  libssl-dev libyaml-cpp-dev libyaml-dev libre2-dev prometheus-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libnghttp2-dev  # HTTP/2 (SPEC §10): framing, HPACK, flow control and flood defences
  libgoogle-perftools-dev  # tcmalloc_minimal, vane's allocator (VANE_TCMALLOC in CMakeLists.txt)
  python3 procps
  clang-14 libclang-rt-14-dev  # libFuzzer and the sanitizers for scripts/fuzz.sh
)
# Test and benchmark peers: a real Prometheus, promtool, the proxies vane is compared with, and
# etcd (the cluster's store; the tests start their own members, tests/support/etcd_cluster).
extra=(prometheus nginx-light haproxy wrk yamllint gnuplot-nox etcd-server etcd-client)
# WebSocket peers for the protocol tests (a real client and server, tests/integration/ws_peer.py).
extra+=(python3-websockets)
# The dashboard's tests (tests/integration/dashboard_test.cpp) load the page in a real browser:
# headless Chromium, driven through the DevTools protocol by tests/integration/browser.py.
extra+=(chromium)
# HTTP/2 peers: curl speaks it already; h2load and nghttp (nghttp2-client), python3-h2 for raw frames
# and an HTTP/2 upstream (tests/integration/h2_upstream.py), python3-grpcio for a real gRPC client
# and server (tests/integration/grpc_peer.py).
extra+=(nghttp2-client python3-h2 python3-grpcio)
# lint.deploy renders deploy/kubernetes with `kubectl kustomize`: Debian's kubectl 1.20 will do,
# and a kubectl installed from elsewhere is kept.
command -v kubectl >/dev/null || extra+=(kubernetes-client)
missing=()
for p in "${pkgs[@]}" "${extra[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts these daemons on install; the tests and benchmarks start their own copies, so the
# system services are stopped through their init scripts (never by name: that would also kill
# the copies a test or benchmark is running).
for svc in nginx haproxy prometheus etcd; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$svc" 2>/dev/null; then
    systemctl stop "$svc" || true
  elif [ -x "/etc/init.d/$svc" ]; then
    "/etc/init.d/$svc" stop >/dev/null 2>&1 || true
  fi
done
echo "vane: dependencies installed"
