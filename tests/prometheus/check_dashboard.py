#!/usr/bin/env python3
"""Checks deploy/grafana/sluice.json has what Grafana's dashboard import needs.

    check_dashboard.py DASHBOARD [GENERATOR]

- valid JSON; title, uid, schemaVersion, time, templating.list, panels;
- every panel: unique integer id, type, title, gridPos with integers inside the 24-column
  grid, no two panels overlapping; rows are full width;
- every query panel: targets with expr and a refId unique in the panel, and the
  Prometheus datasource by the `datasource` variable (`${datasource}`);
- template variables: `datasource` (type datasource, prometheus), `service` and `backend`
  as label_values() queries on that datasource; every `$variable` a query uses is
  defined (or one of Grafana's $__ variables);
- the sections the issue asks for are there: traffic per service and per backend,
  health, drops by reason, flow table, ports, workers, reloads (by the metrics their
  queries use);
- with GENERATOR: the file is exactly what `GENERATOR --stdout` prints.
Exit 0 when all is well, 1 with one line per problem.
"""
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from promql_names import metric_names  # noqa: E402

GRID_COLUMNS = 24
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__interval_ms",
                     "__range_s", "__all"}
# Section -> metrics at least one panel query must use.
REQUIRED = {
    "service traffic": ["sluice_service_packets_total", "sluice_service_bytes_total",
                        "sluice_service_new_flows_total", "sluice_service_active_flows"],
    "backend traffic": ["sluice_backend_packets_total", "sluice_backend_bytes_total",
                        "sluice_backend_new_flows_total", "sluice_backend_active_flows"],
    "health": ["sluice_backend_up", "sluice_service_backends_serving",
               "sluice_health_checks_total", "sluice_health_check_duration_seconds_bucket"],
    "drops": ["sluice_drops_total"],
    "flow table": ["sluice_flow_table_entries", "sluice_flow_table_capacity"],
    "ports": ["sluice_port_rx_packets_total", "sluice_port_tx_packets_total",
              "sluice_port_rx_missed_total", "sluice_port_rx_nombuf_total",
              "sluice_port_rx_errors_total"],
    "workers": ["sluice_worker_busy_ratio", "sluice_worker_table_generation",
                "sluice_table_generation"],
    "reloads": ["sluice_config_reloads_total", "sluice_config_last_reload_successful"],
}


def check(doc):
    problems = []

    def need(cond, msg):
        if not cond:
            problems.append(msg)

    for key, kind in (("title", str), ("uid", str), ("schemaVersion", int), ("time", dict),
                      ("templating", dict), ("panels", list)):
        need(isinstance(doc.get(key), kind), f"top level: '{key}' missing or not {kind.__name__}")
    if problems:
        return problems
    need(doc["schemaVersion"] >= 30, f"schemaVersion {doc['schemaVersion']} older than 30")

    variables = {v.get("name"): v for v in doc["templating"].get("list", [])}
    ds = variables.get("datasource", {})
    need(ds.get("type") == "datasource" and ds.get("query") == "prometheus",
         "no 'datasource' variable of type datasource for prometheus")
    for name in ("service", "backend"):
        v = variables.get(name, {})
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        need(v.get("type") == "query" and q.startswith("label_values(") and
             q.rstrip().endswith(f", {name})"),
             f"variable '{name}' is not a label_values(..., {name}) query")
        need(v.get("datasource", {}).get("uid") == "${datasource}",
             f"variable '{name}' does not use ${{datasource}}")

    ids, boxes, used = set(), [], set()
    for p in doc["panels"]:
        where = f"panel {p.get('id')} '{p.get('title')}'"
        need(isinstance(p.get("id"), int) and p.get("id") not in ids, f"{where}: id missing or repeated")
        ids.add(p.get("id"))
        need(isinstance(p.get("type"), str) and isinstance(p.get("title"), str) and p["title"],
             f"{where}: type or title missing")
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in ("x", "y", "w", "h")):
            problems.append(f"{where}: gridPos needs integer x, y, w, h")
            continue
        need(g["x"] >= 0 and g["y"] >= 0 and g["w"] > 0 and g["h"] > 0 and
             g["x"] + g["w"] <= GRID_COLUMNS, f"{where}: gridPos {g} outside the grid")
        for other, og in boxes:
            if (g["x"] < og["x"] + og["w"] and og["x"] < g["x"] + g["w"] and
                    g["y"] < og["y"] + og["h"] and og["y"] < g["y"] + g["h"]):
                problems.append(f"{where}: overlaps {other}")
        boxes.append((where, g))
        if p.get("type") == "row":
            need(g["w"] == GRID_COLUMNS, f"{where}: a row must be full width")
            continue
        need(p.get("datasource", {}).get("uid") == "${datasource}",
             f"{where}: datasource is not ${{datasource}}")
        targets = p.get("targets", [])
        need(targets, f"{where}: no targets")
        refs = [t.get("refId") for t in targets]
        need(len(set(refs)) == len(refs) and all(refs), f"{where}: refIds missing or repeated")
        for t in targets:
            expr = t.get("expr", "")
            need(expr, f"{where}: a target has no expr")
            need(t.get("datasource", {}).get("uid") == "${datasource}",
                 f"{where} {t.get('refId')}: datasource is not ${{datasource}}")
            for var in re.findall(r"\$\{?(\w+)", expr):
                need(var in variables or var in BUILTIN_VARIABLES,
                     f"{where}: ${var} is not a dashboard variable")
            used.update(metric_names(expr))

    for section, metrics in REQUIRED.items():
        missing = [m for m in metrics if m not in used]
        need(not missing, f"section {section}: no panel queries {' '.join(missing)}")
    return problems


def main():
    if len(sys.argv) not in (2, 3):
        print(__doc__)
        return 2
    path = sys.argv[1]
    with open(path, encoding="utf-8") as f:
        text = f.read()
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        print(f"PROBLEM: {path} is not JSON: {e}")
        return 1
    problems = check(doc)
    if len(sys.argv) == 3:
        generated = subprocess.run([sys.executable, sys.argv[2], "--stdout"], capture_output=True,
                                   text=True, check=False).stdout
        if generated != text:
            problems.append(f"{path} differs from what {sys.argv[2]} writes: run it")
    panels = [p for p in doc.get("panels", []) if p.get("type") != "row"]
    print(f"{path}: {len(panels)} panels, "
          f"{sum(len(p.get('targets', [])) for p in panels)} queries, "
          f"{len(doc.get('templating', {}).get('list', []))} variables")
    for p in problems:
        print("PROBLEM:", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
