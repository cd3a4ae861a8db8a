#!/usr/bin/env python3
"""Checks every PromQL query of the alert rules and of the Grafana dashboard.

    check_queries.py [--scrape FILE] [--pending FILE] [--promtool PATH] RULES DASHBOARD

1. promtool parses each one: the dashboard's queries (Grafana variables replaced, the
   metric selector of label_values() variables) go into a temporary rules file as
   recording rules, and `promtool check rules` runs on it and on RULES.
2. With --scrape (a metrics page of a running Sluice): every metric name the queries
   select is a family the scrape declares (`# TYPE`), a histogram's _bucket/_sum/_count,
   or `up` (added by Prometheus). --pending lists families of the metric contract
   (docs/metrics.md) that other branches add and this build does not export yet: they are
   reported, not failed; a pending name the scrape does export is an error (the list is
   stale: remove it from the file).
Exit 0 when all is well, 1 otherwise; one line per problem.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promql_names import (PROMETHEUS_SERIES, exported_families, family_of,  # noqa: E402
                          grafana_to_promql, metric_names)

_LABEL_VALUES = re.compile(r"^\s*label_values\s*\((.*?)(?:,\s*\w+\s*)?\)\s*$", re.DOTALL)
_QUERY_RESULT = re.compile(r"^\s*query_result\s*\((.*)\)\s*$", re.DOTALL)


def rule_queries(path):
    """[(where, expr)] of an alerting/recording rules file."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    out = []
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            out.append((f"{os.path.basename(path)}: {name}", str(rule["expr"])))
    return out


def _panels(panels):
    for p in panels:
        yield p
        yield from _panels(p.get("panels", []))


def dashboard_queries(path):
    """[(where, expr)] of a Grafana dashboard: panel targets and query variables."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    out = []
    for p in _panels(doc.get("panels", [])):
        for t in p.get("targets", []):
            if "expr" in t:
                out.append((f"panel {p.get('id')} '{p.get('title')}' {t.get('refId')}", t["expr"]))
    for v in doc.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = _LABEL_VALUES.match(q) or _QUERY_RESULT.match(q)
        if m:
            q = m.group(1)
        if q.strip():
            out.append((f"variable ${v.get('name')}", q))
    return out


def promtool_parse(promtool, rules_path, queries):
    """Problems promtool finds in RULES and in the queries (as recording rules)."""
    problems = []
    run = subprocess.run([promtool, "check", "rules", rules_path], capture_output=True,
                         text=True, check=False)
    if run.returncode != 0:
        problems.append(f"promtool check rules {rules_path}: {run.stdout}{run.stderr}")
    rules = [{"record": f"sluice_dashboard_query:{i}", "expr": grafana_to_promql(expr)}
             for i, (_, expr) in enumerate(queries)]
    with tempfile.NamedTemporaryFile("w", suffix=".yml", delete=False) as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        tmp = f.name
    try:
        run = subprocess.run([promtool, "check", "rules", tmp], capture_output=True, text=True,
                             check=False)
        if run.returncode != 0:
            problems.append(f"promtool rejects a dashboard query: {run.stdout}{run.stderr}")
    finally:
        os.unlink(tmp)
    return problems


def read_pending(path):
    if not path:
        return set()
    with open(path, encoding="utf-8") as f:
        return {line.split("#")[0].strip() for line in f} - {""}


def check_names(queries, families, pending):
    """(problems, notes) for the names the queries select."""
    problems, notes, used = [], [], set()
    for where, expr in queries:
        names = metric_names(expr)
        if not names:
            problems.append(f"{where}: no metric name found in '{expr}'")
        for name in names:
            family = family_of(name, families)
            if family is not None:
                used.add(family)
            elif name in PROMETHEUS_SERIES:
                pass
            elif name in pending or (name.endswith(("_bucket", "_sum", "_count")) and
                                     name.rsplit("_", 1)[0] in pending):
                notes.append(f"{where}: {name} is pending (not exported by this build yet)")
            else:
                problems.append(f"{where}: {name} is not exported by Sluice")
    for name in sorted(pending & set(families)):
        problems.append(f"{name} is in the pending list but exported: remove it from the list")
    return problems, notes, used


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("rules")
    ap.add_argument("dashboard")
    ap.add_argument("--scrape", help="a metrics page of a running Sluice")
    ap.add_argument("--pending", help="families of the contract not exported yet")
    ap.add_argument("--promtool", default="promtool")
    args = ap.parse_args()

    queries = rule_queries(args.rules) + dashboard_queries(args.dashboard)
    problems = promtool_parse(args.promtool, args.rules, queries)
    print(f"{len(queries)} queries ({args.rules}, {args.dashboard}); promtool parses "
          f"{'all' if not problems else 'NOT all'}")
    if args.scrape:
        with open(args.scrape, encoding="utf-8") as f:
            families = exported_families(f.read())
        if not families:
            problems.append(f"{args.scrape}: no '# TYPE' line (empty scrape?)")
        name_problems, notes, used = check_names(queries, families, read_pending(args.pending))
        problems += name_problems
        for n in notes:
            print("pending:", n)
        print(f"{len(families)} families exported, {len(used)} of them used by the queries; "
              f"unused: {' '.join(sorted(set(families) - used)) or 'none'}")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
