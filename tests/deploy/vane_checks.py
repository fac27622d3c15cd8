"""Checks every rendered overlay of deploy/kubernetes/ must pass: the vane config in the ConfigMap,
the vane pod (hardening, ports, probes, mounts, spreading), its Services, budget, ServiceMonitor
and NetworkPolicy, the headless Services the upstreams name, selectors and the "restricted" Pod
Security Standard.
"""

import os
import re

import yaml

from manifests import (allows, container, cpu_cores, describe, dig, label_selector_selects, named_port,
                       pod_labels, pod_spec, port_of, selects)

DRAIN_SECONDS = 30  # how long vane lets in-flight requests finish after SIGTERM


class Vane:
    """The vane objects of one variant and what the checks derive from them."""

    def __init__(self, r):
        self.cm = r.one("ConfigMap", "vane-config", "vane")
        self.config_text = dig(self.cm, "data", "vane.yaml")
        self.config = {}
        if self.cm and not isinstance(self.config_text, str):
            r.error("ConfigMap vane-config: data has no vane.yaml")
        elif self.cm:
            self.config = yaml.safe_load(self.config_text) or {}
        self.dep = r.one("Deployment", "vane", "vane")
        self.pod = pod_spec(self.dep) if self.dep else {}
        self.labels = pod_labels(self.dep) if self.dep else {}
        self.container = (container(self.dep, "vane") if self.dep else None) or {}
        if self.dep and not self.container:
            r.error("Deployment vane: no container named vane")
        self.listener_ports = [port_of(l["address"])[1] for l in self.config.get("listeners") or []
                               if "address" in l]
        self.admin_host, self.admin_port = port_of(
            dig(self.config, "admin", "address", default="127.0.0.1:9901"))
        self.volumes = {v.get("name"): v for v in self.pod.get("volumes") or []}

    def mount_for(self, path):
        """The volumeMount whose mountPath holds path (the longest), or None."""
        best = None
        for m in self.container.get("volumeMounts") or []:
            base = m.get("mountPath", "").rstrip("/")
            if (path == base or path.startswith(base + "/")) and \
                    (best is None or len(base) > len(best["mountPath"].rstrip("/"))):
                best = m
        return best

    def prestop_sleep(self):
        """Seconds the preStop hook waits: 0 without one, None for a hook that is not a sleep."""
        hook = dig(self.container, "lifecycle", "preStop")
        if not hook:
            return 0
        if dig(hook, "sleep", "seconds") is not None:
            return int(dig(hook, "sleep", "seconds"))
        command = [str(a) for a in dig(hook, "exec", "command", default=[]) or []]
        if len(command) == 2 and os.path.basename(command[0]) == "sleep" and command[1].isdigit():
            return int(command[1])
        return None


def check_config(r, v):
    if not v.config:
        return
    if v.admin_host not in ("0.0.0.0", "::"):
        r.error(f"admin.address {v.admin_host}: the kubelet's probes cannot reach a loopback admin port")
    if not any(route.get("rollout") for route in v.config.get("routes") or []):
        r.error("vane.yaml: no route goes through a rollout")


def check_pod(r, v):
    c, pod = v.container, v.pod
    if not label_selector_selects(dig(v.dep, "spec", "selector"), v.labels):
        r.error("Deployment vane: spec.selector does not select the pod template's labels")
    if c.get("image") != "vane:latest":
        r.error(f"Deployment vane: image {c.get('image')!r}, expected 'vane:latest'")
    args = c.get("args") or []
    if args[:2] != ["run", "-c"] or len(args) < 3:
        r.error(f"Deployment vane: args {args}, expected ['run', '-c', FILE]")
    if "--no-watch-config" in args:
        r.error("Deployment vane: --no-watch-config: vane would not follow ConfigMap updates")
    sleep = v.prestop_sleep()
    grace = pod.get("terminationGracePeriodSeconds", 30)
    if sleep is None:
        r.error("Deployment vane: a preStop hook that is not a sleep")
    elif grace <= sleep + DRAIN_SECONDS:
        r.error(f"Deployment vane: terminationGracePeriodSeconds {grace}: vane drains for up to "
                f"{DRAIN_SECONDS} s after a preStop sleep of {sleep} s, leave it more")
    if pod.get("automountServiceAccountToken") is not False:
        r.error("Deployment vane: automountServiceAccountToken should be false: vane does not use the API")


def check_ports_and_probes(r, v):
    c = v.container
    for part in ("requests", "limits"):
        for res in ("cpu", "memory"):
            if dig(c, "resources", part, res) is None:
                r.error(f"Deployment vane: resources.{part}.{res} is not set")
    workers = v.config.get("workers")
    cpu_limit = dig(c, "resources", "limits", "cpu")
    if isinstance(workers, int) and cpu_limit is not None and workers != max(1, round(cpu_cores(cpu_limit))):
        r.error(f"Deployment vane: workers {workers} in the ConfigMap, but a CPU limit of {cpu_limit}")
    container_ports = {p.get("containerPort") for p in c.get("ports") or []}
    for port in v.listener_ports + [v.admin_port]:
        if port not in container_ports:
            r.error(f"Deployment vane: the container does not declare port {port} (from the vane config)")
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
        get = dig(c, probe, "httpGet") or {}
        if get.get("path") != path:
            r.error(f"Deployment vane: {probe} is not an httpGet of {path}")
        elif named_port(c, get.get("port")) != v.admin_port:
            r.error(f"Deployment vane: {probe} does not probe the admin port {v.admin_port}")


def check_security(r, v):
    """The vane container's securityContext: container fields override the pod's."""
    effective = dict(v.pod.get("securityContext") or {})
    effective.update(v.container.get("securityContext") or {})
    csc = v.container.get("securityContext") or {}
    for key, want in (("runAsNonRoot", True), ("runAsUser", 10001)):
        if effective.get(key) != want:
            r.error(f"Deployment vane: securityContext.{key} is {effective.get(key)!r}, expected {want!r}")
    if dig(effective, "seccompProfile", "type") != "RuntimeDefault":
        r.error("Deployment vane: securityContext.seccompProfile.type is not RuntimeDefault")
    for key, want in (("readOnlyRootFilesystem", True), ("allowPrivilegeEscalation", False)):
        if csc.get(key) is not want:
            r.error(f"Deployment vane: container securityContext.{key} is {csc.get(key)!r}, expected {want!r}")
    if "ALL" not in (dig(csc, "capabilities", "drop") or []):
        r.error("Deployment vane: container securityContext.capabilities.drop does not contain ALL")
    if dig(csc, "capabilities", "add"):
        r.error("Deployment vane: container securityContext.capabilities.add is not empty")


def check_mounts(r, v):
    """The config directory and the admin token (the state directory is the variant's business)."""
    for m in v.container.get("volumeMounts") or []:
        if "configMap" in v.volumes.get(m.get("name"), {}) and (m.get("subPath") or m.get("subPathExpr")):
            r.error(f"Deployment vane: ConfigMap volume {m.get('name')} mounted with subPath: it would never see updates")
    args = v.container.get("args") or []
    if len(args) >= 3:
        path = args[2]
        m = v.mount_for(path)
        volume = v.volumes.get(m.get("name"), {}) if m else {}
        if dig(volume, "configMap", "name") != "vane-config":
            r.error(f"Deployment vane: {path} is not on a mount of the vane-config ConfigMap")
        elif os.path.dirname(path) != m["mountPath"].rstrip("/") or \
                os.path.basename(path) not in (dig(v.cm, "data") or {}):
            r.error(f"Deployment vane: {path} is not a key of vane-config mounted at {m['mountPath']}")
    token = dig(v.config, "admin", "tokenFile")
    if token:
        m = v.mount_for(token) if token.startswith("/") else None
        if not m or "secret" not in v.volumes.get(m.get("name"), {}):
            r.error(f"Deployment vane: admin.tokenFile {token} is not on a Secret volume")


def check_services(r, v):
    services = r.selecting("Service", v.labels, "vane")
    lb = [s for s in services if dig(s, "spec", "type") == "LoadBalancer"]
    admin = [s for s in services if dig(s, "spec", "type", default="ClusterIP") == "ClusterIP"]
    if len(lb) != 1:
        r.error(f"expected one LoadBalancer Service of the vane pods, found {len(lb)}")
    if len(admin) != 1:
        r.error(f"expected one ClusterIP Service of the vane pods, found {len(admin)}")
    for svc in services:
        for p in dig(svc, "spec", "ports", default=[]) or []:
            if named_port(v.container, p.get("targetPort", p.get("port"))) not in v.listener_ports + [v.admin_port]:
                r.error(f"{describe(svc)}: port {p.get('port')} targets no port vane listens on")
    for svc in lb:
        ports = {p.get("port"): named_port(v.container, p.get("targetPort", p.get("port")))
                 for p in dig(svc, "spec", "ports", default=[]) or []}
        if ports.get(80) not in v.listener_ports:
            r.error(f"{describe(svc)}: port 80 does not reach vane's listener")
    for svc in admin:
        notes = dig(svc, "metadata", "annotations", default={}) or {}
        targets = [named_port(v.container, p.get("targetPort", p.get("port")))
                   for p in dig(svc, "spec", "ports", default=[]) or []]
        if v.admin_port not in targets:
            r.error(f"{describe(svc)}: does not reach the admin port {v.admin_port}")
        if notes.get("prometheus.io/scrape") != "true" or notes.get("prometheus.io/port") != str(v.admin_port) \
                or notes.get("prometheus.io/path", "/metrics") != "/metrics":
            r.error(f"{describe(svc)}: no prometheus.io annotations for :{v.admin_port}/metrics")


def check_spread(r, v):
    """Replicas spread over nodes, softly (a hard rule would stall a surge on a small cluster)."""
    for c in v.pod.get("topologySpreadConstraints") or []:
        if c.get("topologyKey") == "kubernetes.io/hostname" and \
                label_selector_selects(c.get("labelSelector"), v.labels):
            if c.get("whenUnsatisfiable") != "ScheduleAnyway":
                r.error("Deployment vane: the spread over nodes is not ScheduleAnyway: a rolling "
                        "update's surge pod could stay Pending on a small cluster")
            return
    r.error("Deployment vane: no topologySpreadConstraints on kubernetes.io/hostname for its own pods")


def check_budget(r, v):
    """One PodDisruptionBudget lets exactly one vane pod be evicted at a time: none would block
    every node drain (one replica), more would risk the cluster's serving capacity."""
    budgets = r.selecting("PodDisruptionBudget", v.labels, "vane")
    if len(budgets) != 1:
        r.error(f"expected one PodDisruptionBudget of the vane pods, found {len(budgets)}")
        return
    spec = dig(budgets[0], "spec", default={}) or {}
    replicas = dig(v.dep, "spec", "replicas", default=1)
    allowed = spec.get("maxUnavailable") if "maxUnavailable" in spec else replicas - spec.get("minAvailable", 0)
    if allowed != 1:
        r.error(f"{describe(budgets[0])}: allows {allowed} of {replicas} vane pods to be evicted at once, expected 1")


def check_service_monitor(r, v):
    """A ServiceMonitor that selects the admin Service (by its labels) and scrapes its /metrics."""
    admin = [s for s in r.selecting("Service", v.labels, "vane")
             if v.admin_port in [named_port(v.container, p.get("targetPort", p.get("port")))
                                 for p in dig(s, "spec", "ports", default=[]) or []]]
    monitors = r.find("ServiceMonitor", namespace="vane")
    if len(monitors) != 1 or monitors[0].get("apiVersion") != "monitoring.coreos.com/v1":
        r.error(f"expected one ServiceMonitor (monitoring.coreos.com/v1) in vane, found {len(monitors)}")
        return
    sm = monitors[0]
    if dig(sm, "spec", "namespaceSelector") not in (None, {}):
        r.error(f"{describe(sm)}: a namespaceSelector: the admin Service is in its own namespace")
    selected = [s for s in r.find("Service", namespace="vane")
                if label_selector_selects(dig(sm, "spec", "selector"), dig(s, "metadata", "labels", default={}) or {})]
    if selected != admin or len(admin) != 1:
        r.error(f"{describe(sm)}: selects Services {[describe(s) for s in selected]}, expected the admin Service")
        return
    ports = {p.get("name"): named_port(v.container, p.get("targetPort", p.get("port")))
             for p in dig(admin[0], "spec", "ports", default=[]) or []}
    endpoints = dig(sm, "spec", "endpoints", default=[]) or []
    if not endpoints:
        r.error(f"{describe(sm)}: no endpoints")
    for e in endpoints:
        if ports.get(e.get("port")) != v.admin_port or e.get("path", "/metrics") != "/metrics":
            r.error(f"{describe(sm)}: endpoint {e} is not /metrics on a port of {describe(admin[0])} "
                    f"reaching the admin port {v.admin_port}")


def check_network_policy(r, v):
    """The listener open to all, the admin port only to named sources: the other vane pods (a
    follower hands commands to the leader) and Prometheus from its own namespace."""
    policies = [p for p in r.find("NetworkPolicy", namespace="vane")
                if label_selector_selects(dig(p, "spec", "podSelector"), v.labels)
                and "Ingress" in (dig(p, "spec", "policyTypes") or ["Ingress"])]
    if not policies:
        r.error("no NetworkPolicy selects the vane pods: anyone in the cluster reaches the admin port")
        return
    for port in v.listener_ports:
        if not any(allows(p, None, port, v.container) for p in policies):
            r.error(f"NetworkPolicy vane: the listener port {port} is not open to every client")
    if any(allows(p, None, v.admin_port, v.container) for p in policies):
        r.error(f"NetworkPolicy vane: the admin port {v.admin_port} is open to everyone")
    if not any(allows(p, v.labels, v.admin_port, v.container) for p in policies):
        r.error(f"NetworkPolicy vane: the vane pods cannot reach each other's admin port {v.admin_port}")
    from_elsewhere = [s for p in policies for rule in dig(p, "spec", "ingress", default=[]) or []
                      if any(named_port(v.container, q.get("port")) == v.admin_port for q in rule.get("ports") or [])
                      for s in rule.get("from") or [] if "namespaceSelector" in s]
    if not from_elsewhere:
        r.error(f"NetworkPolicy vane: nothing from another namespace (Prometheus) reaches the admin port {v.admin_port}")


def check_upstreams(r, v):
    """Upstream endpoints that name a Service -> a headless Service -> pods with that port."""
    for upstream in v.config.get("upstreams") or []:
        for endpoint in upstream.get("endpoints") or []:
            host, port = port_of(endpoint)
            m = re.fullmatch(r"([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?", host)
            if not m:
                continue
            if not upstream.get("dnsRefresh"):
                r.error(f"vane.yaml: upstream {upstream['name']}: a Service name without dnsRefresh")
            svc = r.one("Service", m.group(1), m.group(2))
            if not svc:
                continue
            if dig(svc, "spec", "clusterIP") != "None":
                r.error(f"{describe(svc)} is not headless: vane would see one virtual IP, not the pods")
            # A headless name resolves to pod IPs: the endpoint's port must be the pods' port.
            backends = [w for w in r.workloads(m.group(2)) if selects(dig(svc, "spec", "selector"), pod_labels(w))]
            if not backends:
                r.error(f"{describe(svc)} selects no workload")
            for w in backends:
                ports = {p.get("containerPort") for c in pod_spec(w).get("containers") or []
                         for p in c.get("ports") or []}
                if port not in ports:
                    r.error(f"{describe(w)} has no containerPort {port} ({endpoint})")


def check_workloads(r):
    """Selectors of every workload, Service and budget; the restricted Pod Security Standard."""
    workloads = r.workloads()
    for w in workloads:
        if not label_selector_selects(dig(w, "spec", "selector"), pod_labels(w)):
            r.error(f"{describe(w)}: spec.selector does not select its pod template")
    for kind in ("Service", "PodDisruptionBudget"):
        for o in r.find(kind):
            ns = dig(o, "metadata", "namespace")
            if not any(o in r.selecting(kind, pod_labels(w), ns) for w in r.workloads(ns)):
                r.error(f"{describe(o)} selects no pods of this variant")
    restricted = {dig(o, "metadata", "name") for o in r.find("Namespace")
                  if dig(o, "metadata", "labels", "pod-security.kubernetes.io/enforce") == "restricted"}
    for w in workloads:
        if dig(w, "metadata", "namespace") in restricted:
            check_restricted(r, w)


def check_restricted(r, w):
    spec = pod_spec(w)
    for c in spec.get("containers") or []:
        sc = dict(spec.get("securityContext") or {})
        sc.update(c.get("securityContext") or {})
        what = f"{describe(w)} container {c.get('name')}"
        if sc.get("runAsNonRoot") is not True or sc.get("runAsUser") == 0 \
                or sc.get("allowPrivilegeEscalation") is not False \
                or "ALL" not in (dig(sc, "capabilities", "drop") or []) \
                or dig(sc, "seccompProfile", "type") not in ("RuntimeDefault", "Localhost"):
            r.error(f"{what} does not meet the restricted Pod Security Standard")
        if not dig(c, "resources", "limits", "memory"):
            r.error(f"{what} has no memory limit")


def check_common(r):
    """Every check both overlays share; returns the Vane for the overlay's own checks."""
    v = Vane(r)
    check_config(r, v)
    if v.dep:
        check_pod(r, v)
        check_ports_and_probes(r, v)
        check_security(r, v)
        check_mounts(r, v)
        check_services(r, v)
        check_spread(r, v)
        check_budget(r, v)
        check_service_monitor(r, v)
        check_network_policy(r, v)
    check_upstreams(r, v)
    check_workloads(r)
    return v
