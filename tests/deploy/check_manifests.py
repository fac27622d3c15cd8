#!/usr/bin/env python3
"""Consistency checks of deploy/kubernetes/, offline (no cluster).

Usage: check_manifests.py ROOT OUTDIR

OUTDIR holds what tests/deploy/check_deploy.sh rendered with `kubectl kustomize`, i.e. exactly
what `kubectl apply -k` sends:
  OUTDIR/render-single.yaml   deploy/kubernetes/overlays/single   one replica, progress on a volume
  OUTDIR/render-cluster.yaml  deploy/kubernetes/overlays/cluster  three replicas and etcd (SPEC §9)
Checks that every kustomization lists its directory's files, that each render agrees with itself
and with the vane config in its ConfigMap (vane_checks.py, plus cluster_checks.py for the cluster),
and that the two configs differ only in `state:` / `cluster:`. Writes for `vane validate`:
  OUTDIR/configmap-vane.yaml                  the single-node ConfigMap's vane.yaml
  OUTDIR/configmap-vane-rollout.yaml          the same with the rollout's desired upstream switched
                                              to the other version (the edit README.md describes)
  OUTDIR/cluster-vane.yaml, cluster-vane-rollout.yaml   the same two for the cluster's ConfigMap
Prints one line per problem and exits 1 if there is any.
"""

import os
import re
import sys

import yaml

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
from cluster_checks import check_cluster  # noqa: E402
from manifests import Render, dig  # noqa: E402
from vane_checks import check_common  # noqa: E402

ROOT, OUTDIR = sys.argv[1], sys.argv[2]
KDIR = os.path.join(ROOT, "deploy", "kubernetes")
errors = []


def check_kustomizations():
    """Each kustomization lists every YAML file of its directory, and only files that exist."""
    for directory, _, names in sorted(os.walk(KDIR)):
        where = os.path.relpath(directory, ROOT)
        yamls = {n for n in names if n.endswith((".yaml", ".yml"))} - {"kustomization.yaml"}
        if "kustomization.yaml" not in names:
            if yamls:
                errors.append(f"{where}: YAML files but no kustomization.yaml")
            continue
        with open(os.path.join(directory, "kustomization.yaml"), encoding="utf-8") as f:
            k = yaml.safe_load(f) or {}
        files = set(k.get("resources") or []) | set(k.get("patchesStrategicMerge") or [])
        for missing in sorted(yamls - files):
            errors.append(f"{where}/kustomization.yaml: does not list {missing}")
        for entry in sorted(files - yamls):
            errors.append(f"{where}/kustomization.yaml: lists {entry}, which is no file here")
        for base in k.get("bases") or []:
            if not os.path.isfile(os.path.join(directory, base, "kustomization.yaml")):
                errors.append(f"{where}/kustomization.yaml: base {base} has no kustomization.yaml")


def check_single(r, v):
    """One replica whose rollout progress survives on a PersistentVolumeClaim."""
    if not v.dep:
        return
    if dig(v.dep, "spec", "replicas", default=1) != 1:
        r.error("Deployment vane: more than one replica: each would walk the rollout on its own")
    if dig(v.container, "lifecycle", "preStop"):
        r.error("Deployment vane: a preStop hook: vane drains on SIGTERM by itself")
    state_dir = dig(v.config, "state", "dir", default="./vane-state")
    m = v.mount_for(state_dir) if state_dir.startswith("/") else None
    claim = dig(v.volumes.get(m.get("name"), {}) if m else {}, "persistentVolumeClaim", "claimName")
    if not m:
        r.error(f"Deployment vane: state.dir {state_dir} is not on a volume (the root filesystem is read-only)")
    elif m.get("readOnly"):
        r.error(f"Deployment vane: state.dir {state_dir} is on a read-only mount")
    elif claim is None:
        r.error(f"Deployment vane: state.dir {state_dir} is not on a PersistentVolumeClaim: rollouts would restart from scratch")
    else:
        r.one("PersistentVolumeClaim", claim, "vane")
    # The old pod goes before the new one comes: two vane processes must never share the state.
    strategy = dig(v.dep, "spec", "strategy", default={}) or {}
    if strategy.get("type", "RollingUpdate") != "RollingUpdate" or \
            dig(strategy, "rollingUpdate", "maxSurge") not in (0, "0%"):
        r.error("Deployment vane: strategy is not a RollingUpdate with maxSurge 0: a surge pod "
                "would walk the rollout beside the old one on the same state")


def write_configs(r, v, prefix):
    """The ConfigMap's vane.yaml, and the same after README.md's rollout edit, for vane validate."""
    if not isinstance(v.config_text, str):
        return
    with open(os.path.join(OUTDIR, f"{prefix}.yaml"), "w", encoding="utf-8") as f:
        f.write(v.config_text)
    desired = (dig(v.config, "rollouts", 0) or {}).get("upstream")
    others = [u["name"] for u in v.config.get("upstreams") or [] if u.get("name") != desired]
    pattern = re.compile(rf"^(\s*upstream:\s*){re.escape(str(desired))}(\s*(#.*)?)$", re.M)
    if not others or len(pattern.findall(v.config_text)) != 1:
        r.error(f"vane.yaml: cannot find the one line `upstream: {desired}` of the rollout to edit")
        return
    with open(os.path.join(OUTDIR, f"{prefix}-rollout.yaml"), "w", encoding="utf-8") as f:
        f.write(pattern.sub(rf"\g<1>{others[-1]}\g<2>", v.config_text))


def check_same_config(single, cluster):
    """The cluster's vane.yaml is the single-node one with `cluster:` in place of `state:`."""
    def rest(config):
        return {k: val for k, val in config.items() if k not in ("state", "cluster")}
    if single.config and cluster.config and rest(single.config) != rest(cluster.config):
        keys = sorted(k for k in set(rest(single.config)) | set(rest(cluster.config))
                      if single.config.get(k) != cluster.config.get(k))
        errors.append(f"deploy/kubernetes/overlays/cluster: vane.yaml differs from the single-node one in {keys}, "
                      "not only in state/cluster")


check_kustomizations()
single_render = Render("deploy/kubernetes/overlays/single", os.path.join(OUTDIR, "render-single.yaml"), errors)
single = check_common(single_render)
check_single(single_render, single)
write_configs(single_render, single, "configmap-vane")

cluster_render = Render("deploy/kubernetes/overlays/cluster", os.path.join(OUTDIR, "render-cluster.yaml"), errors)
cluster = check_common(cluster_render)
check_cluster(cluster_render, cluster)
write_configs(cluster_render, cluster, "cluster-vane")
check_same_config(single, cluster)

for line in errors:
    print(line)
sys.exit(1 if errors else 0)
