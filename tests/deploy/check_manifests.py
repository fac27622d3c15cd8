#!/usr/bin/env python3
"""Consistency checks of deploy/kubernetes/, offline (no cluster, no kubectl).

Usage: check_manifests.py ROOT OUTDIR

Checks that the manifests agree with each other and with the vane config inside the ConfigMap
(ports, probes, mounts, Service selectors, the headless Services the upstreams name, the state
claim), that every pod meets the "restricted" Pod Security Standard where its namespace enforces
it, and writes the ConfigMap's vane.yaml to OUTDIR for `vane validate`:
  OUTDIR/configmap-vane.yaml          the file as shipped
  OUTDIR/configmap-vane-rollout.yaml  the same with the rollout's desired upstream switched to the
                                      other version (the edit README.md tells users to make)
Prints one line per problem and exits 1 if there is any.
"""

import os
import re
import sys

import yaml

ROOT, OUTDIR = sys.argv[1], sys.argv[2]
KDIR = os.path.join(ROOT, "deploy", "kubernetes")
errors = []


def error(where, message):
    errors.append(f"{where}: {message}")


def dig(obj, *path, default=None):
    for key in path:
        if isinstance(obj, dict) and key in obj:
            obj = obj[key]
        elif isinstance(obj, list) and isinstance(key, int) and key < len(obj):
            obj = obj[key]
        else:
            return default
    return obj


def port_of(address):
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def cpu_cores(quantity):
    text = str(quantity)
    return float(text[:-1]) / 1000 if text.endswith("m") else float(text)


# --- load every object -------------------------------------------------------------------------
objects = []  # (file, object)
files = sorted(f for f in os.listdir(KDIR) if f.endswith((".yaml", ".yml")))
kustomization = None
for name in files:
    with open(os.path.join(KDIR, name), encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if name == "kustomization.yaml":
        kustomization = docs[0]
        continue
    for doc in docs:
        where = f"deploy/kubernetes/{name}"
        if not isinstance(doc, dict):
            error(where, "a document that is not a mapping")
            continue
        for key in ("apiVersion", "kind"):
            if not doc.get(key):
                error(where, f"an object without {key}")
        if not dig(doc, "metadata", "name"):
            error(where, f"a {doc.get('kind')} without metadata.name")
        if doc.get("kind") != "Namespace" and not dig(doc, "metadata", "namespace"):
            error(where, f"{doc.get('kind')} {dig(doc, 'metadata', 'name')}: no metadata.namespace")
        objects.append((where, doc))

seen = set()
for where, o in objects:
    key = (o.get("kind"), dig(o, "metadata", "namespace"), dig(o, "metadata", "name"))
    if key in seen:
        error(where, f"{key[0]} {key[2]} defined twice")
    seen.add(key)

if kustomization is not None:
    listed = set(kustomization.get("resources") or [])
    present = set(files) - {"kustomization.yaml"}
    for missing in sorted(present - listed):
        error("deploy/kubernetes/kustomization.yaml", f"resources does not list {missing}")
    for extra in sorted(listed - present):
        error("deploy/kubernetes/kustomization.yaml", f"resources lists {extra}, which does not exist")


def find(kind, name=None, namespace=None):
    return [(w, o) for w, o in objects if o.get("kind") == kind
            and (name is None or dig(o, "metadata", "name") == name)
            and (namespace is None or dig(o, "metadata", "namespace") == namespace)]


def one(kind, name, namespace):
    found = find(kind, name, namespace)
    if len(found) != 1:
        error("deploy/kubernetes", f"expected one {kind} {namespace}/{name}, found {len(found)}")
        return None, None
    return found[0]


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def named_port(container, port):
    """A container port given by number or name -> its number (None if the name is unknown)."""
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


# --- the vane config in the ConfigMap ----------------------------------------------------------
cm_where, cm = one("ConfigMap", "vane-config", "vane")
config_text = dig(cm, "data", "vane.yaml") if cm else None
config = {}
if cm and not isinstance(config_text, str):
    error(cm_where, "data has no vane.yaml")
elif cm:
    config = yaml.safe_load(config_text) or {}
    with open(os.path.join(OUTDIR, "configmap-vane.yaml"), "w", encoding="utf-8") as f:
        f.write(config_text)
    # The rollout edit of README.md: the desired upstream switched to the other version.
    rollout = dig(config, "rollouts", 0) or {}
    desired = rollout.get("upstream")
    others = [u["name"] for u in config.get("upstreams") or [] if u.get("name") != desired]
    pattern = re.compile(rf"^(\s*upstream:\s*){re.escape(str(desired))}(\s*(#.*)?)$", re.M)
    if not others or len(pattern.findall(config_text)) != 1:
        error(cm_where, f"cannot find the one line `upstream: {desired}` of the rollout to edit")
    else:
        edited = pattern.sub(rf"\g<1>{others[-1]}\g<2>", config_text)
        with open(os.path.join(OUTDIR, "configmap-vane-rollout.yaml"), "w", encoding="utf-8") as f:
            f.write(edited)

listener_ports = [port_of(l["address"])[1] for l in config.get("listeners") or [] if "address" in l]
admin_host, admin_port = port_of(dig(config, "admin", "address", default="127.0.0.1:9901"))
if config:
    if admin_host not in ("0.0.0.0", "::"):
        error(cm_where, f"admin.address {admin_host}: the kubelet's probes cannot reach a loopback admin port")
    if not any(r.get("rollout") for r in config.get("routes") or []):
        error(cm_where, "no route goes through a rollout")

# --- the vane Deployment -----------------------------------------------------------------------
dep_where, dep = one("Deployment", "vane", "vane")
pod = dig(dep, "spec", "template", "spec", default={}) or {}
pod_labels = dig(dep, "spec", "template", "metadata", "labels", default={}) or {}
containers = [c for c in pod.get("containers") or [] if c.get("name") == "vane"]
vane = containers[0] if containers else {}
if dep:
    if not containers:
        error(dep_where, "no container named vane")
    if not selects(dig(dep, "spec", "selector", "matchLabels"), pod_labels):
        error(dep_where, "spec.selector does not select the pod template's labels")
    if vane.get("image") != "vane:latest":
        error(dep_where, f"image {vane.get('image')!r}, expected 'vane:latest'")
    args = vane.get("args") or []
    if args[:2] != ["run", "-c"] or len(args) < 3:
        error(dep_where, f"args {args}, expected ['run', '-c', FILE]")
    if dig(vane, "lifecycle", "preStop"):
        error(dep_where, "a preStop hook: vane drains on SIGTERM by itself")
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if grace <= 30:
        error(dep_where, f"terminationGracePeriodSeconds {grace}: vane drains for up to 30 s, leave it more")
    if pod.get("automountServiceAccountToken") is not False:
        error(dep_where, "automountServiceAccountToken should be false: vane does not use the API")

    # securityContext: container fields override the pod's.
    effective = dict(pod.get("securityContext") or {})
    effective.update(vane.get("securityContext") or {})
    csc = vane.get("securityContext") or {}
    for key, want in (("runAsNonRoot", True), ("runAsUser", 10001)):
        if effective.get(key) != want:
            error(dep_where, f"securityContext.{key} is {effective.get(key)!r}, expected {want!r}")
    if dig(effective, "seccompProfile", "type") != "RuntimeDefault":
        error(dep_where, "securityContext.seccompProfile.type is not RuntimeDefault")
    for key, want in (("readOnlyRootFilesystem", True), ("allowPrivilegeEscalation", False)):
        if csc.get(key) is not want:
            error(dep_where, f"container securityContext.{key} is {csc.get(key)!r}, expected {want!r}")
    if "ALL" not in (dig(csc, "capabilities", "drop") or []):
        error(dep_where, "container securityContext.capabilities.drop does not contain ALL")
    if dig(csc, "capabilities", "add"):
        error(dep_where, "container securityContext.capabilities.add is not empty")

    for part in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if dig(vane, "resources", part, res) is None:
                error(dep_where, f"resources.{part}.{res} is not set")
    workers = config.get("workers")
    cpu_limit = dig(vane, "resources", "limits", "cpu")
    if isinstance(workers, int) and cpu_limit is not None and workers != max(1, round(cpu_cores(cpu_limit))):
        error(dep_where, f"workers {workers} in the ConfigMap, but a CPU limit of {cpu_limit}")

    container_ports = {p.get("containerPort") for p in vane.get("ports") or []}
    for port in listener_ports + [admin_port]:
        if port not in container_ports:
            error(dep_where, f"the container does not declare port {port} (from the vane config)")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = dig(vane, probe, "httpGet") or {}
        if get.get("path") != path:
            error(dep_where, f"{probe} is not an httpGet of {path}")
        elif named_port(vane, get.get("port")) != admin_port:
            error(dep_where, f"{probe} does not probe the admin port {admin_port}")

    # Mounts: the config directory, the state directory, the admin token.
    volumes = {v.get("name"): v for v in pod.get("volumes") or []}
    mounts = vane.get("volumeMounts") or []

    def mount_for(path):
        """The volumeMount whose mountPath holds path (the longest), or None."""
        best = None
        for m in mounts:
            base = m.get("mountPath", "").rstrip("/")
            if (path == base or path.startswith(base + "/")) and (best is None or len(base) > len(best["mountPath"].rstrip("/"))):
                best = m
        return best

    for m in mounts:
        if "configMap" in volumes.get(m.get("name"), {}) and (m.get("subPath") or m.get("subPathExpr")):
            error(dep_where, f"ConfigMap volume {m.get('name')} mounted with subPath: it would never see updates")
    if len(args) >= 3:
        config_path = args[2]
        m = mount_for(config_path)
        volume = volumes.get(m.get("name"), {}) if m else {}
        if dig(volume, "configMap", "name") != "vane-config":
            error(dep_where, f"{config_path} is not on a mount of the vane-config ConfigMap")
        elif os.path.dirname(config_path) != m["mountPath"].rstrip("/") or \
                os.path.basename(config_path) not in (dig(cm, "data") or {}):
            error(dep_where, f"{config_path} is not a key of vane-config mounted at {m['mountPath']}")

    state_dir = dig(config, "state", "dir", default="./vane-state")
    m = mount_for(state_dir) if state_dir.startswith("/") else None
    claim = dig(volumes.get(m.get("name"), {}) if m else {}, "persistentVolumeClaim", "claimName")
    if not m:
        error(dep_where, f"state.dir {state_dir} is not on a volume (the root filesystem is read-only)")
    elif m.get("readOnly"):
        error(dep_where, f"state.dir {state_dir} is on a read-only mount")
    elif claim is None:
        error(dep_where, f"state.dir {state_dir} is not on a PersistentVolumeClaim: rollouts would restart from scratch")
    else:
        pvc_where, pvc = one("PersistentVolumeClaim", claim, "vane")
        modes = dig(pvc, "spec", "accessModes", default=[]) or []
        if pvc and "ReadWriteMany" not in modes:
            if dig(dep, "spec", "strategy", "type") != "Recreate":
                error(dep_where, "a ReadWriteOnce state claim needs strategy Recreate")
    if dig(dep, "spec", "replicas", default=1) != 1:
        error(dep_where, "more than one replica: each would walk the rollout on its own")

    token = dig(config, "admin", "tokenFile")
    if token:
        m = mount_for(token) if token.startswith("/") else None
        if not m or "secret" not in volumes.get(m.get("name"), {}):
            error(dep_where, f"admin.tokenFile {token} is not on a Secret volume")

# --- Services of vane --------------------------------------------------------------------------
services = find("Service", namespace="vane")
lb = [(w, s) for w, s in services if dig(s, "spec", "type") == "LoadBalancer"]
admin_svcs = [(w, s) for w, s in services if dig(s, "spec", "type", default="ClusterIP") == "ClusterIP"]
if len(lb) != 1:
    error("deploy/kubernetes", f"expected one LoadBalancer Service in namespace vane, found {len(lb)}")
if len(admin_svcs) != 1:
    error("deploy/kubernetes", f"expected one ClusterIP Service in namespace vane, found {len(admin_svcs)}")
for where, svc in services:
    name = dig(svc, "metadata", "name")
    if not selects(dig(svc, "spec", "selector"), pod_labels):
        error(where, f"Service {name} does not select the vane pod")
    for p in dig(svc, "spec", "ports", default=[]) or []:
        if named_port(vane, p.get("targetPort", p.get("port"))) not in listener_ports + [admin_port]:
            error(where, f"Service {name} port {p.get('port')} targets no port vane listens on")
for where, svc in lb:
    ports = {p.get("port"): named_port(vane, p.get("targetPort", p.get("port")))
             for p in dig(svc, "spec", "ports", default=[]) or []}
    if ports.get(80) not in listener_ports:
        error(where, "the LoadBalancer Service's port 80 does not reach vane's listener")
for where, svc in admin_svcs:
    notes = dig(svc, "metadata", "annotations", default={}) or {}
    targets = [named_port(vane, p.get("targetPort", p.get("port"))) for p in dig(svc, "spec", "ports", default=[]) or []]
    if admin_port not in targets:
        error(where, f"the admin Service does not reach the admin port {admin_port}")
    if notes.get("prometheus.io/scrape") != "true" or notes.get("prometheus.io/port") != str(admin_port) \
            or notes.get("prometheus.io/path", "/metrics") != "/metrics":
        error(where, f"the admin Service lacks prometheus.io annotations for :{admin_port}/metrics")

# --- upstream endpoints -> headless Services -> pods -------------------------------------------
for upstream in config.get("upstreams") or []:
    for endpoint in upstream.get("endpoints") or []:
        host, port = port_of(endpoint)
        m = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?", host)
        if not m:
            continue
        if not upstream.get("dnsRefresh"):
            error(cm_where, f"upstream {upstream['name']}: a Service name without dnsRefresh")
        where, svc = one("Service", m.group(1), m.group(2))
        if not svc:
            continue
        if dig(svc, "spec", "clusterIP") != "None":
            error(where, f"Service {m.group(1)} is not headless: vane would see one virtual IP, not the pods")
        # A headless name resolves to pod IPs: the endpoint's port must be the pods' port.
        backends = [(w, d) for w, d in find("Deployment", namespace=m.group(2))
                    if selects(dig(svc, "spec", "selector"), dig(d, "spec", "template", "metadata", "labels", default={}) or {})]
        if not backends:
            error(where, f"Service {m.group(1)} selects no Deployment")
        for w, d in backends:
            ports = {p.get("containerPort") for c in dig(d, "spec", "template", "spec", "containers", default=[])
                     for p in c.get("ports") or []}
            if port not in ports:
                error(w, f"Deployment {dig(d, 'metadata', 'name')} has no containerPort {port} ({endpoint})")

# --- the "restricted" Pod Security Standard where a namespace enforces it ----------------------
restricted = {dig(o, "metadata", "name") for _, o in find("Namespace")
              if dig(o, "metadata", "labels", "pod-security.kubernetes.io/enforce") == "restricted"}
for where, d in find("Deployment"):
    if dig(d, "metadata", "namespace") not in restricted:
        continue
    spec = dig(d, "spec", "template", "spec", default={}) or {}
    for c in spec.get("containers") or []:
        sc = dict(spec.get("securityContext") or {})
        sc.update(c.get("securityContext") or {})
        what = f"Deployment {dig(d, 'metadata', 'name')} container {c.get('name')}"
        if sc.get("runAsNonRoot") is not True or sc.get("allowPrivilegeEscalation") is not False \
                or "ALL" not in (dig(sc, "capabilities", "drop") or []) \
                or dig(sc, "seccompProfile", "type") not in ("RuntimeDefault", "Localhost"):
            error(where, f"{what} does not meet the restricted Pod Security Standard")
        if not dig(c, "resources", "limits", "memory"):
            error(where, f"{what} has no memory limit")

for line in errors:
    print(line)
sys.exit(1 if errors else 0)
