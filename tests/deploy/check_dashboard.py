#!/usr/bin/env python3
"""Offline checks of deploy/grafana/vane.json and deploy/prometheus/vane-alerts.yaml.

Usage: check_dashboard.py ROOT

The dashboard: JSON, a recent schemaVersion, a `datasource` variable (Prometheus) that every panel
and target uses, a `rollout` variable from label_values(), every panel with at least one target
with an expr, unique panel ids, and no variable in an expr other than the dashboard's own and
$__rate_interval. Both files: every metric name they use is a family of docs/metrics.md (or
Prometheus' `up`), so a renamed metric cannot leave a panel or an alert silently empty. Whether
each expr returns data from a real vane is tests/integration/grafana_dashboard_test.cpp's part.
Prints one line per problem and exits 1 if there is any.
"""

import json
import re
import sys

import yaml

ROOT = sys.argv[1]
DASHBOARD = "deploy/grafana/vane.json"
RULES = "deploy/prometheus/vane-alerts.yaml"
DATASOURCE = "${datasource}"
METRIC = re.compile(r"\b((?:vane|process)_[a-z0-9_]+)")
VARIABLE = re.compile(r"\$\{?(\w+)")
errors = []


def documented_families():
    with open(f"{ROOT}/docs/metrics.md", encoding="utf-8") as f:
        return set(re.findall(r"^\| `([a-z0-9_]+)` \|", f.read(), re.M))


def check_names(where, expr, families):
    for name in METRIC.findall(expr):
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in families and family not in families:
            errors.append(f"{where}: {name} is not a metric of docs/metrics.md")


def uid(ds):
    return ds.get("uid") if isinstance(ds, dict) else ds


def check_dashboard(families):
    with open(f"{ROOT}/{DASHBOARD}", encoding="utf-8") as f:
        try:
            d = json.load(f)
        except json.JSONDecodeError as e:
            errors.append(f"{DASHBOARD}: not JSON: {e}")
            return
    if not isinstance(d.get("schemaVersion"), int) or d["schemaVersion"] < 36:
        errors.append(f"{DASHBOARD}: schemaVersion {d.get('schemaVersion')}, expected 36 or later")
    variables = {v.get("name"): v for v in (d.get("templating") or {}).get("list") or []}
    ds = variables.get("datasource") or {}
    if ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        errors.append(f"{DASHBOARD}: no `datasource` variable of type datasource (prometheus)")
    rollout = variables.get("rollout") or {}
    query = rollout.get("query")
    query = query.get("query") if isinstance(query, dict) else query
    if rollout.get("type") != "query" or not str(query).startswith("label_values(") \
            or uid(rollout.get("datasource")) != DATASOURCE:
        errors.append(f"{DASHBOARD}: no `rollout` variable from label_values() on {DATASOURCE}")
    ids = set()
    panels = [p for p in d.get("panels") or [] if p.get("type") != "row"]
    if not panels:
        errors.append(f"{DASHBOARD}: no panels")
    for p in panels:
        where = f"{DASHBOARD}: panel {p.get('title')!r}"
        if p.get("id") in ids:
            errors.append(f"{where}: id {p.get('id')} used twice")
        ids.add(p.get("id"))
        if uid(p.get("datasource")) != DATASOURCE:
            errors.append(f"{where}: datasource is not {DATASOURCE}")
        if not p.get("targets"):
            errors.append(f"{where}: no targets")
        for t in p.get("targets") or []:
            expr = t.get("expr")
            if not expr:
                errors.append(f"{where}: target {t.get('refId')} has no expr")
                continue
            if uid(t.get("datasource")) != DATASOURCE:
                errors.append(f"{where}: target {t.get('refId')}: datasource is not {DATASOURCE}")
            for name in VARIABLE.findall(expr):
                if name not in variables and name != "__rate_interval":
                    errors.append(f"{where}: ${name} is neither a variable of the dashboard nor $__rate_interval")
            check_names(where, expr, families)


def check_rules(families):
    with open(f"{ROOT}/{RULES}", encoding="utf-8") as f:
        groups = (yaml.safe_load(f) or {}).get("groups") or []
    for g in groups:
        for rule in g.get("rules") or []:
            check_names(f"{RULES}: {rule.get('alert') or rule.get('record')}", str(rule.get("expr")), families)


families = documented_families()
if not families:
    errors.append("docs/metrics.md: no metric families found")
check_dashboard(families)
check_rules(families)
for line in errors:
    print(line)
sys.exit(1 if errors else 0)
