"""What the checks of deploy/kubernetes/ share: a rendered variant and small helpers.

A Render is the output of `kubectl kustomize DIR`, i.e. exactly the objects `kubectl apply -k DIR`
would send, loaded into dicts. Problems are collected, never raised, so that one run reports all.
"""

import os
import re

import yaml


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


def selects(selector, labels):
    """A matchLabels-style selector (or a Service's selector) against a label map."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def label_selector_selects(selector, labels):
    """A LabelSelector ({matchLabels, matchExpressions}); only the forms the manifests use."""
    if not isinstance(selector, dict) or set(selector) - {"matchLabels"}:
        return False
    return selects(selector.get("matchLabels"), labels)


def named_port(container, port):
    """A container port given by number or name -> its number (None if the name is unknown)."""
    if isinstance(port, int):
        return port
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return p.get("containerPort")
    return None


def pod_labels(workload):
    return dig(workload, "spec", "template", "metadata", "labels", default={}) or {}


def pod_spec(workload):
    return dig(workload, "spec", "template", "spec", default={}) or {}


def container(workload, name):
    found = [c for c in pod_spec(workload).get("containers") or [] if c.get("name") == name]
    return found[0] if found else None


def flags(c):
    """A container's command line as {"--flag": value} for the --flag=value arguments."""
    result = {}
    for arg in (c.get("command") or []) + (c.get("args") or []):
        m = re.fullmatch(r"(--[a-z0-9-]+)=(.*)", str(arg))
        if m:
            result[m.group(1)] = m.group(2)
    return result


def allows(policy, source_labels, port, target):
    """Whether an ingress NetworkPolicy lets pods with source_labels (None: anything outside
    the namespace, e.g. the kubelet) reach port on the target container."""
    for rule in dig(policy, "spec", "ingress", default=[]) or []:
        ports = rule.get("ports") or []
        if ports and not any(named_port(target, p.get("port")) == port for p in ports):
            continue
        sources = rule.get("from") or []
        if not sources or (source_labels is not None and any(
                set(s) == {"podSelector"} and (s["podSelector"] == {} or
                                               label_selector_selects(s["podSelector"], source_labels))
                for s in sources)):
            return True
    return False


def describe(obj):
    return f"{obj.get('kind')} {dig(obj, 'metadata', 'namespace')}/{dig(obj, 'metadata', 'name')}"


class Render:
    """The objects of one rendered variant, e.g. deploy/kubernetes/cluster."""

    WORKLOADS = ("Deployment", "StatefulSet")

    def __init__(self, variant, path, errors):
        self.variant = variant
        self.errors = errors
        self.objects = []
        if not os.path.isfile(path) or os.path.getsize(path) == 0:
            self.error(f"no render ({path}): `kubectl kustomize {variant}` failed or did not run")
            return
        with open(path, encoding="utf-8") as f:
            docs = [d for d in yaml.safe_load_all(f) if d is not None]
        seen = set()
        for doc in docs:
            if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind") \
                    or not dig(doc, "metadata", "name"):
                self.error(f"an object without apiVersion, kind or metadata.name: {str(doc)[:80]}")
                continue
            if doc["kind"] != "Namespace" and not dig(doc, "metadata", "namespace"):
                self.error(f"{describe(doc)}: no metadata.namespace")
            if describe(doc) in seen:
                self.error(f"{describe(doc)} defined twice")
            seen.add(describe(doc))
            self.objects.append(doc)

    def error(self, message):
        self.errors.append(f"{self.variant}: {message}")

    def find(self, kind, name=None, namespace=None):
        return [o for o in self.objects if o.get("kind") == kind
                and (name is None or dig(o, "metadata", "name") == name)
                and (namespace is None or dig(o, "metadata", "namespace") == namespace)]

    def one(self, kind, name, namespace):
        found = self.find(kind, name, namespace)
        if len(found) != 1:
            self.error(f"expected one {kind} {namespace}/{name}, found {len(found)}")
            return None
        return found[0]

    def workloads(self, namespace=None):
        return [o for kind in self.WORKLOADS for o in self.find(kind, namespace=namespace)]

    def selecting(self, kind, labels, namespace):
        """The objects of kind in namespace whose selector selects these pod labels."""
        result = []
        for o in self.find(kind, namespace=namespace):
            selector = dig(o, "spec", "selector")
            if kind == "Service" and selects(selector, labels):
                result.append(o)
            elif kind != "Service" and label_selector_selects(selector, labels):
                result.append(o)
        return result
