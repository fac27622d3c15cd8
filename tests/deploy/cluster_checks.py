"""Checks of the cluster variant (deploy/kubernetes/overlays/cluster, SPEC §9): vane's `cluster:` section
against the etcd StatefulSet and its Service, the etcd members' own URLs, etcd's budget, the
rolling update of vane, and that the NetworkPolicy still lets the right pods through.
"""

import re
from collections import namedtuple
from urllib.parse import urlsplit

from manifests import (allows, container, describe, dig, flags, label_selector_selects, named_port,
                       pod_labels)

VANE_REPLICAS = 3
ETCD_MEMBERS = 3
ETCD_IMAGE = re.compile(r"quay\.io/coreos/etcd:v3\.[45]\.\d+|registry\.k8s\.io/etcd:3\.[45]\.\d+-\d+")
# A member by its stable name under the headless Service: STS-ORDINAL.SERVICE.NAMESPACE.svc...
MEMBER_HOST = re.compile(r"([a-z0-9-]+)-(\d+)\.([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.cluster\.local)?")
Member = namedtuple("Member", "sts ordinal service namespace url")  # one etcd endpoint of vane.yaml


def check_cluster_config(r, v):
    """vane.yaml's `cluster:`; returns its etcd endpoints as Members."""
    cluster = v.config.get("cluster")
    if not isinstance(cluster, dict):
        r.error("vane.yaml has no `cluster:` section")
        return []
    if "state" in v.config:
        r.error("vane.yaml: `state:` in a cluster config: rollout progress lives in etcd (SPEC §9)")
    if cluster.get("replicaName"):
        r.error("vane.yaml: cluster.replicaName set in the one file every replica reads: "
                "all would claim the same name (the default, the pod name, is unique)")
    # https works without `tls` (the system's CAs); `tls` with http endpoints would be ignored.
    schemes = ("https",) if dig(cluster, "etcd", "tls") else ("http", "https")
    members = []
    for endpoint in dig(cluster, "etcd", "endpoints", default=[]) or []:
        url = urlsplit(str(endpoint))
        m = MEMBER_HOST.fullmatch(url.hostname or "")
        if url.scheme not in schemes:
            r.error(f"vane.yaml: etcd endpoint {endpoint}: expected {' or '.join(schemes)}://")
        if not m or url.port is None:
            r.error(f"vane.yaml: etcd endpoint {endpoint} does not name an etcd member by its stable "
                    "name and port (POD.SERVICE.NAMESPACE.svc.cluster.local:PORT)")
            continue
        members.append(Member(m.group(1), int(m.group(2)), m.group(3), m.group(4), url))
    if not members:
        r.error("vane.yaml: cluster.etcd.endpoints names no etcd member")
    return members


def etcd_of(r, members):
    """The StatefulSet and headless Service the endpoints name, each member exactly once."""
    clusters = {(m.sts, m.service, m.namespace) for m in members}
    if len(clusters) != 1:
        r.error(f"vane.yaml: the etcd endpoints name {len(clusters)} StatefulSets, expected one")
        return None, None
    sts_name, svc_name, ns = clusters.pop()
    sts, svc = r.one("StatefulSet", sts_name, ns), r.one("Service", svc_name, ns)
    if not sts or not svc:
        return None, None
    if dig(sts, "spec", "serviceName") != svc_name:
        r.error(f"{describe(sts)}: serviceName is not {svc_name}, the Service the endpoints name")
    replicas = dig(sts, "spec", "replicas", default=1)
    ordinals = sorted(m.ordinal for m in members)
    if ordinals != list(range(replicas)):
        r.error(f"vane.yaml: the etcd endpoints name members {ordinals} of {replicas}: name each once")
    listen = urlsplit(flags(container(sts, "etcd") or {}).get("--listen-client-urls", ""))
    for url in sorted({m.url for m in members}, key=lambda u: u.geturl()):
        if (url.scheme, url.port) != (listen.scheme, listen.port):
            r.error(f"vane.yaml: etcd endpoint {url.geturl()}: etcd listens for clients on "
                    f"{listen.scheme}://…:{listen.port}")
    return sts, svc


def check_etcd_members(r, sts, svc):
    """Each member's name and URLs are its pod's stable DNS name; initial-cluster lists them all."""
    c = container(sts, "etcd")
    if not c:
        r.error(f"{describe(sts)}: no container named etcd")
        return
    f = flags(c)
    name, ns = dig(sts, "metadata", "name"), dig(sts, "metadata", "namespace")
    domain = f"{dig(svc, 'metadata', 'name')}.{ns}.svc.cluster.local"
    client_url, peer_url = urlsplit(f.get("--listen-client-urls", "")), urlsplit(f.get("--listen-peer-urls", ""))
    client, peer = client_url.port, peer_url.port
    env = {e.get("name"): e for e in c.get("env") or []}
    if dig(env.get("POD_NAME"), "valueFrom", "fieldRef", "fieldPath") != "metadata.name":
        r.error(f"{describe(sts)}: env POD_NAME is not the pod's name (fieldRef metadata.name)")
    members = ",".join(f"{name}-{i}={peer_url.scheme}://{name}-{i}.{domain}:{peer}"
                       for i in range(dig(sts, "spec", "replicas", default=1)))
    want = {"--name": "$(POD_NAME)",
            "--advertise-client-urls": f"{client_url.scheme}://$(POD_NAME).{domain}:{client}",
            "--initial-advertise-peer-urls": f"{peer_url.scheme}://$(POD_NAME).{domain}:{peer}",
            "--initial-cluster": members, "--initial-cluster-state": "new"}
    for flag, value in want.items():
        if f.get(flag) != value:
            r.error(f"{describe(sts)}: {flag}={f.get(flag)}, expected {value}")
    if "--auto-compaction-retention" not in f:
        r.error(f"{describe(sts)}: no --auto-compaction-retention: the history would grow to the quota")
    declared = {p.get("containerPort") for p in c.get("ports") or []}
    for port in (client, peer):
        if port not in declared:
            r.error(f"{describe(sts)}: etcd listens on {port}, the container does not declare it")
        if port not in [named_port(c, p.get("targetPort", p.get("port"))) for p in dig(svc, "spec", "ports", default=[])]:
            r.error(f"{describe(svc)}: no port reaches etcd's port {port}")
    if dig(svc, "spec", "clusterIP") != "None" or dig(svc, "spec", "publishNotReadyAddresses") is not True:
        r.error(f"{describe(svc)}: must be headless and publish unready members (they find each other by it)")


def check_etcd_pod(r, sts):
    """Image, members, storage, probes and the budget of the etcd StatefulSet."""
    c = container(sts, "etcd") or {}
    f = flags(c)
    replicas = dig(sts, "spec", "replicas", default=1)
    if replicas != ETCD_MEMBERS:
        r.error(f"{describe(sts)}: {replicas} members, expected {ETCD_MEMBERS}")
    if dig(sts, "spec", "podManagementPolicy") != "Parallel":
        r.error(f"{describe(sts)}: podManagementPolicy is not Parallel: member 1 would wait for member 0 "
                "to be ready, which needs a quorum")
    if not ETCD_IMAGE.fullmatch(str(c.get("image"))):
        r.error(f"{describe(sts)}: image {c.get('image')!r} is not a pinned etcd 3.4/3.5 image")
    claims = {dig(t, "metadata", "name") for t in dig(sts, "spec", "volumeClaimTemplates", default=[]) or []}
    data = f.get("--data-dir", "")
    mounts = [m for m in c.get("volumeMounts") or [] if m.get("name") in claims
              and data.startswith(m.get("mountPath", "").rstrip("/") + "/")]
    if not mounts:
        r.error(f"{describe(sts)}: --data-dir {data!r} is not inside a volume of volumeClaimTemplates")
    served = {urlsplit(f.get(k, "")).port for k in ("--listen-client-urls", "--listen-metrics-urls")}
    for probe in ("livenessProbe", "readinessProbe"):
        get = dig(c, probe, "httpGet") or {}
        if str(get.get("path", "")).split("?")[0] != "/health" or named_port(c, get.get("port")) not in served:
            r.error(f"{describe(sts)}: {probe} is not an httpGet of /health on a port etcd serves")
    budgets = r.selecting("PodDisruptionBudget", pod_labels(sts), dig(sts, "metadata", "namespace"))
    quorum = replicas // 2 + 1
    if len(budgets) != 1 or dig(budgets[0], "spec", "minAvailable") != quorum:
        r.error(f"{describe(sts)}: expected one PodDisruptionBudget with minAvailable {quorum} (the quorum)")


def check_network_policy(r, v, sts):
    """Where policies select etcd, vane must reach the client port, members each other's peer
    port, and the probes the port they use."""
    ns, labels, c = dig(sts, "metadata", "namespace"), pod_labels(sts), container(sts, "etcd") or {}
    policies = [p for p in r.find("NetworkPolicy", namespace=ns)
                if label_selector_selects(dig(p, "spec", "podSelector"), labels)
                and "Ingress" in (dig(p, "spec", "policyTypes") or ["Ingress"])]
    if not policies:
        return
    f = flags(c)
    probe_ports = {named_port(c, dig(c, probe, "httpGet", "port"))
                   for probe in ("startupProbe", "livenessProbe", "readinessProbe") if dig(c, probe)}
    wanted = [("the vane pods", v.labels, urlsplit(f.get("--listen-client-urls", "")).port),
              ("the other members", labels, urlsplit(f.get("--listen-peer-urls", "")).port)]
    wanted += [("the kubelet's probes", None, port) for port in probe_ports]
    for who, source, port in wanted:
        if not any(allows(p, source, port, c) for p in policies):
            r.error(f"NetworkPolicy in {ns}: {who} cannot reach etcd's port {port}")


def check_vane_cluster(r, v):
    """The vane Deployment as three interchangeable replicas rolled one at a time."""
    dep, name = v.dep, "Deployment vane"
    if dig(dep, "spec", "replicas", default=1) != VANE_REPLICAS:
        r.error(f"{name}: replicas {dig(dep, 'spec', 'replicas', default=1)}, expected {VANE_REPLICAS}")
    rolling = dig(dep, "spec", "strategy", "rollingUpdate", default={}) or {}
    if dig(dep, "spec", "strategy", "type", default="RollingUpdate") != "RollingUpdate" \
            or rolling.get("maxUnavailable") not in (0, "0%") or rolling.get("maxSurge") in (None, 0, "0%"):
        r.error(f"{name}: strategy is not a RollingUpdate with maxUnavailable 0 and a maxSurge")
    if r.find("PersistentVolumeClaim") or any("persistentVolumeClaim" in vol for vol in v.volumes.values()):
        r.error("a PersistentVolumeClaim for vane: in a cluster its state lives in etcd")
    if not v.prestop_sleep():
        r.error(f"{name}: no preStop sleep: a replaced replica would refuse connections still sent to it")


def check_cluster(r, v):
    check_vane_cluster(r, v)
    sts, svc = etcd_of(r, check_cluster_config(r, v))
    if sts and svc:
        check_etcd_members(r, sts, svc)
        check_etcd_pod(r, sts)
        check_network_policy(r, v, sts)
