#!/usr/bin/env bash
# Offline checks of deploy/ (CTest: lint.deploy). Usage: check_deploy.sh ROOT VANE_BINARY
#   1. yamllint (deploy/.yamllint) on every YAML file under deploy/ and on the vane.yaml files that
#      the Kubernetes ConfigMaps carry;
#   2. `kubectl kustomize` renders both Kubernetes overlays, deploy/kubernetes/overlays/single (one
#      replica) and overlays/cluster (three replicas and etcd), offline; $KUBECTL picks the kubectl
#      (default: the one on PATH; Debian 12's kubernetes-client, kubectl 1.20, is the oldest the
#      kustomizations are written for);
#   3. tests/deploy/check_manifests.py: each render agrees with itself and with its vane.yaml
#      (ports, probes, mounts, securityContext, Services, the headless Services the upstreams name,
#      budgets, and for the cluster the etcd members its `cluster:` section names);
#   4. `vane validate` on deploy/vane.yaml, on each ConfigMap's vane.yaml, on each after the rollout
#      edit README.md describes, and on a broken copy, which must be rejected;
#   5. deploy/prometheus/vane-alerts.yaml: `promtool check rules`, and `promtool test rules` on
#      tests/deploy/vane-alerts.test.yaml;
#   6. deploy/grafana/vane.json and the alert rules: tests/deploy/check_dashboard.py (variables,
#      datasources, and only metric names docs/metrics.md lists);
#   7. deploy/systemd/vane.service: the directives it must carry, `systemd-analyze verify`, and an
#      exposure level of at most 2.0 from `systemd-analyze security` (skipped without systemd-analyze).
# Every check runs; the script prints what failed and exits 1 if anything did. A missing yamllint,
# kubectl, promtool or PyYAML is a failure, not a skip: CI must not pass without having looked.
set -uo pipefail

root=${1:?usage: check_deploy.sh ROOT VANE_BINARY}
vane=${2:?usage: check_deploy.sh ROOT VANE_BINARY}
here=$(cd "$(dirname "$0")" && pwd)
deploy=$root/deploy
failed=0
fail() { echo "FAIL: $*" >&2; failed=1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# python3 with PyYAML: yamllint's Debian package pulls in python3-yaml for /usr/bin/python3.
python=
for candidate in python3 /usr/bin/python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import yaml' 2>/dev/null; then
    python=$candidate
    break
  fi
done

echo "== yamllint"
mapfile -t yamls < <(find "$deploy" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
if ! command -v yamllint >/dev/null; then
  fail "yamllint is not installed (apt-get install yamllint)"
elif ! yamllint -s -f parsable -c "$deploy/.yamllint" "${yamls[@]}"; then
  fail "yamllint found problems in deploy/"
fi

echo "== kubectl kustomize"
kubectl=${KUBECTL:-kubectl}
render() {  # render DIR OUTPUT
  if ! "$kubectl" kustomize "$1" > "$2" 2> "$tmp/kustomize.err"; then
    cat "$tmp/kustomize.err" >&2
    rm -f "$2"
    fail "kubectl kustomize ${1#"$root"/} failed"
  fi
}
if ! command -v "$kubectl" >/dev/null; then
  fail "$kubectl not found (apt-get install kubernetes-client): deploy/kubernetes not rendered"
else
  "$kubectl" version --client 2>/dev/null
  render "$deploy/kubernetes/overlays/single" "$tmp/render-single.yaml"
  render "$deploy/kubernetes/overlays/cluster" "$tmp/render-cluster.yaml"
fi

echo "== Kubernetes manifests"
if [ -z "$python" ]; then
  fail "no python3 with PyYAML (apt-get install python3-yaml): manifests and ConfigMap not checked"
elif ! "$python" -B "$here/check_manifests.py" "$root" "$tmp"; then
  fail "deploy/kubernetes/ is inconsistent (see above)"
fi

echo "== vane validate"
validate() {  # validate FILE DESCRIPTION
  if [ ! -f "$1" ]; then
    fail "$2: not extracted"
  elif ! "$vane" validate -c "$1"; then
    fail "$2 does not validate"
  fi
}
validate "$deploy/vane.yaml" "deploy/vane.yaml"
sed 's/@I@/1/g' "$deploy/cluster-local.yaml" >"$tmp/cluster-local-1.yaml"
validate "$tmp/cluster-local-1.yaml" "deploy/cluster-local.yaml (replica 1)"
validate "$tmp/configmap-vane.yaml" "the ConfigMap's vane.yaml"
validate "$tmp/configmap-vane-rollout.yaml" "the ConfigMap's vane.yaml with the rollout edit"
validate "$tmp/cluster-vane.yaml" "the cluster ConfigMap's vane.yaml"
validate "$tmp/cluster-vane-rollout.yaml" "the cluster ConfigMap's vane.yaml with the rollout edit"
for extracted in "$tmp/configmap-vane.yaml" "$tmp/cluster-vane.yaml"; do
  if [ -f "$extracted" ] && command -v yamllint >/dev/null &&
     ! yamllint -s -f parsable -c "$deploy/.yamllint" "$extracted"; then
    fail "yamllint found problems in $(basename "$extracted") (a ConfigMap's vane.yaml)"
  fi
done
if [ -f "$tmp/configmap-vane.yaml" ]; then
  # The validator must actually look at the rollout: a weight of 500 has to be rejected.
  sed -E 's/setWeight: [0-9.]+/setWeight: 500/' "$tmp/configmap-vane.yaml" > "$tmp/broken.yaml"
  if "$vane" validate -c "$tmp/broken.yaml" 2>/dev/null; then
    fail "vane validate accepted a rollout step with setWeight: 500"
  fi
fi
if [ -f "$tmp/cluster-vane.yaml" ]; then
  # ... and at the cluster section: a lease of 1 s is below the 2 s minimum (SPEC §9).
  sed -E 's/leaseTTL: [0-9a-z]+/leaseTTL: 1s/' "$tmp/cluster-vane.yaml" > "$tmp/broken-cluster.yaml"
  if ! grep -q 'leaseTTL: 1s' "$tmp/broken-cluster.yaml"; then
    fail "the cluster ConfigMap's vane.yaml has no leaseTTL to break"
  elif "$vane" validate -c "$tmp/broken-cluster.yaml" 2>/dev/null; then
    fail "vane validate accepted cluster.leaseTTL: 1s"
  fi
fi

echo "== Prometheus rules"
if ! command -v promtool >/dev/null; then
  fail "promtool is not installed (apt-get install prometheus): alert rules not checked"
else
  promtool check rules "$deploy/prometheus/vane-alerts.yaml" || fail "promtool check rules rejected vane-alerts.yaml"
  promtool test rules "$here/vane-alerts.test.yaml" || fail "promtool test rules: vane-alerts.test.yaml failed"
fi

echo "== Grafana dashboard"
if [ -z "$python" ]; then
  fail "no python3 with PyYAML: deploy/grafana/vane.json not checked"
elif ! "$python" -B "$here/check_dashboard.py" "$root"; then
  fail "deploy/grafana/vane.json or the alert rules use unknown variables or metrics (see above)"
fi

echo "== systemd unit"
unit=$deploy/systemd/vane.service
required=(
  "ExecStart=/usr/local/bin/vane run -c /etc/vane/vane.yaml"
  "ExecReload=/bin/kill -HUP \$MAINPID"
  "KillSignal=SIGTERM" "TimeoutStopSec=40" "Restart=on-failure" "StateDirectory=vane"
  "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes"
  "PrivateDevices=yes" "ProtectKernelTunables=yes" "ProtectKernelModules=yes"
  "ProtectKernelLogs=yes" "ProtectControlGroups=yes"
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX" "RestrictNamespaces=yes"
  "LockPersonality=yes" "MemoryDenyWriteExecute=yes" "SystemCallFilter=@system-service"
  "CapabilityBoundingSet=CAP_NET_BIND_SERVICE" "AmbientCapabilities=CAP_NET_BIND_SERVICE"
  "LimitNOFILE=1048576"
)
# The last assignment of a key is the one systemd uses: check that one, so a later line cannot
# quietly undo a required one. SystemCallFilter= adds up (the ~ lines deny), an empty one resets.
last() {
  if [ "$1" = SystemCallFilter ]; then
    grep -E "^$1=" "$unit" | grep -v '=~' | tail -n 1
  else
    grep -E "^$1=" "$unit" | tail -n 1
  fi
}
for line in "${required[@]}"; do
  key=${line%%=*}
  [ "$(last "$key")" = "$line" ] || fail "vane.service: expected $line, found '$(last "$key")'"
done
grep -qx 'SystemCallFilter=' "$unit" && fail "vane.service: an empty SystemCallFilter= resets the filter"
grep -qE '^Type=(simple|exec|notify)$' "$unit" || fail "vane.service: Type= is not simple, exec or notify"
grep -qE '^(User=vane|DynamicUser=yes)$' "$unit" || fail "vane.service: neither User=vane nor DynamicUser=yes"

if command -v systemd-analyze >/dev/null; then
  # verify checks that ExecStart's binary exists: point it at the binary under test.
  mkdir "$tmp/unit"
  sed "s#/usr/local/bin/vane#$(realpath "$vane")#g" "$unit" > "$tmp/unit/vane.service"
  # It only warns about unknown keys and bad values (exit 0), so any message is a failure.
  if ! systemd-analyze verify --man=no "$tmp/unit/vane.service" > "$tmp/verify.txt" 2>&1 ||
     [ -s "$tmp/verify.txt" ]; then
    cat "$tmp/verify.txt"
    fail "systemd-analyze verify rejected vane.service or warned about it"
  fi
  if ! systemd-analyze --help | grep -q -- '--offline'; then
    echo "systemd-analyze is older than systemd 250: skipping the offline security review"
  elif ! systemd-analyze security --offline=yes --threshold=20 "$tmp/unit/vane.service" > "$tmp/security.txt" 2>&1; then
    cat "$tmp/security.txt"
    fail "systemd-analyze security: vane.service is more exposed than 2.0"
  else
    grep 'Overall exposure' "$tmp/security.txt"
  fi
else
  echo "systemd-analyze not found: skipping systemd-analyze verify and security"
fi

if [ "$failed" -ne 0 ]; then
  echo "lint.deploy: FAILED" >&2
  exit 1
fi
echo "lint.deploy: ok"
