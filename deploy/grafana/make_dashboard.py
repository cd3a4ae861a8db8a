#!/usr/bin/env python3
"""Writes deploy/grafana/sluice.json, the Grafana dashboard for Sluice.

The JSON is generated so that the layout (gridPos), the panel ids and the datasource
references stay consistent; edit this file, run it, commit both. tests/prometheus/
checks that the committed JSON is what this script writes, that it has the structure
Grafana's import needs, and that every query names only metrics Sluice exports.

    python3 deploy/grafana/make_dashboard.py            # rewrites sluice.json
    python3 deploy/grafana/make_dashboard.py --stdout   # prints it
"""
import json
import os
import sys

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Label matchers shared by the queries: the template variables.
INST = 'instance=~"$instance"'
SVC = INST + ', service=~"$service"'
BACKEND = SVC + ', backend=~"$backend"'
RATE = "[$__rate_interval]"


def rate(metric, matchers, by):
    return f"sum by ({by}) (rate({metric}{{{matchers}}}{RATE}))"


def target(expr, legend, ref):
    return {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref,
            "range": True}


def panel(title, unit, queries, description="", kind="timeseries", width=8, height=8,
          stack=False, step=False):
    """A panel; queries is a list of (expr, legend)."""
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "targets": [target(e, l, chr(ord("A") + i)) for i, (e, l) in enumerate(queries)],
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "options": {},
        "_size": (width, height),
    }
    if kind == "timeseries":
        custom = {"lineWidth": 1, "fillOpacity": 10, "showPoints": "never"}
        if stack:
            custom["stacking"] = {"mode": "normal", "group": "A"}
        if step:
            custom["lineInterpolation"] = "stepAfter"
        p["fieldConfig"]["defaults"]["custom"] = custom
        p["options"] = {"legend": {"displayMode": "list", "placement": "bottom"},
                        "tooltip": {"mode": "multi", "sort": "desc"}}
    elif kind == "stat":
        p["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                        "colorMode": "value", "graphMode": "none", "textMode": "auto"}
    return p


def rows():
    """(row title, [panels]) in dashboard order."""
    return [
        ("Overview", [
            panel("Services without a serving backend", "none",
                  [(f'count(sluice_service_up{{{SVC}}} == 0) or vector(0)', "")],
                  "Services whose backends are all down, drained or at weight 0.",
                  kind="stat", width=6, height=4),
            panel("Backends up", "none",
                  [(f'sum(sluice_backend_up{{{BACKEND}}})', "up"),
                   (f'count(sluice_backend_up{{{BACKEND}}})', "configured")],
                  kind="stat", width=6, height=4),
            panel("Last config reload", "bool_yes_no",
                  [(f'min(sluice_config_last_reload_successful{{{INST}}})', "")],
                  "No: the last reload was rejected and the previous config runs.",
                  kind="stat", width=6, height=4),
            panel("Version", "none", [(f'sluice_build_info{{{INST}}}', "{{version}}")],
                  kind="stat", width=6, height=4),
        ]),
        ("Traffic per service", [
            panel("Packets / s by service", "pps",
                  [(rate("sluice_service_packets_total", SVC, "service"), "{{service}}")],
                  "Client packets forwarded for each service.", width=6, stack=True),
            panel("Bytes / s by service", "Bps",
                  [(rate("sluice_service_bytes_total", SVC, "service"), "{{service}}")],
                  width=6, stack=True),
            panel("New flows / s by service", "cps",
                  [(rate("sluice_service_new_flows_total", SVC, "service"), "{{service}}")],
                  width=6, stack=True),
            panel("Active flows by service", "short",
                  [(f'sum by (service) (sluice_service_active_flows{{{SVC}}})', "{{service}}")],
                  "Flows in the workers' flow tables.", width=6, stack=True),
        ]),
        ("Traffic per backend", [
            panel("Packets / s by backend", "pps",
                  [(rate("sluice_backend_packets_total", BACKEND, "service, backend"),
                    "{{service}} {{backend}}")], width=6),
            panel("Bytes / s by backend", "Bps",
                  [(rate("sluice_backend_bytes_total", BACKEND, "service, backend"),
                    "{{service}} {{backend}}")], width=6),
            panel("New flows / s by backend", "cps",
                  [(rate("sluice_backend_new_flows_total", BACKEND, "service, backend"),
                    "{{service}} {{backend}}")], width=6),
            panel("Active flows by backend", "short",
                  [(f'sum by (service, backend) (sluice_backend_active_flows{{{BACKEND}}})',
                    "{{service}} {{backend}}")], width=6),
        ]),
        ("Health", [
            panel("Backend up", "bool_on_off",
                  [(f'min by (service, backend) (sluice_backend_up{{{BACKEND}}})',
                    "{{service}} {{backend}}")],
                  "Health-check state: 1 up, 0 down.", step=True, width=6),
            panel("Serving backends by service", "short",
                  [(f'sum by (service) (sluice_service_backends_serving{{{SVC}}})',
                    "{{service}} serving"),
                   (f'sum by (service) (sluice_service_backends{{{SVC}}})',
                    "{{service}} configured")],
                  "Serving: up, weight > 0 and not draining.", step=True, width=6),
            panel("Backend weight and draining", "short",
                  [(f'max by (service, backend) (sluice_backend_weight{{{BACKEND}}})',
                    "{{service}} {{backend}} weight"),
                   (f'max by (service, backend) (sluice_backend_draining{{{BACKEND}}})',
                    "{{service}} {{backend}} draining")], step=True, width=6),
            panel("Health checks / s by result", "ops",
                  [(rate("sluice_health_checks_total", SVC, "service, result"),
                    "{{service}} {{result}}")], width=6, stack=True),
            panel("Health-check duration", "s",
                  [(f'histogram_quantile(0.5, sum by (service, le) '
                    f'(rate(sluice_health_check_duration_seconds_bucket{{{SVC}}}{RATE})))',
                    "{{service}} p50"),
                   (f'histogram_quantile(0.99, sum by (service, le) '
                    f'(rate(sluice_health_check_duration_seconds_bucket{{{SVC}}}{RATE})))',
                    "{{service}} p99"),
                   (f'sum by (service) (rate(sluice_health_check_duration_seconds_sum{{{SVC}}}{RATE}))'
                    f' / sum by (service) (rate(sluice_health_check_duration_seconds_count{{{SVC}}}{RATE}))',
                    "{{service}} mean")], width=24),
        ]),
        ("Drops", [
            panel("Drops / s by reason", "pps",
                  [(f'sum by (reason) (rate(sluice_drops_total{{{INST}}}{RATE})) > 0',
                    "{{reason}}")],
                  "Every drop reason is listed in docs/dataplane.md.", width=16, stack=True),
            panel("Dropped share of received packets", "percentunit",
                  [(f'sum(rate(sluice_drops_total{{{INST}}}{RATE})) / '
                    f'sum(rate(sluice_rx_packets_total{{{INST}}}{RATE}))', "dropped")],
                  width=8),
        ]),
        ("Flow table", [
            panel("Flow-table entries vs capacity", "short",
                  [(f'sum by (family) (sluice_flow_table_entries{{{INST}}})', "{{family}} entries"),
                   (f'sum by (family) (sluice_flow_table_capacity{{{INST}}})',
                    "{{family}} capacity")], width=12),
            panel("Flow-table fill", "percentunit",
                  [(f'sum by (instance, family) (sluice_flow_table_entries{{{INST}}}) / on '
                    f'(instance, family) sum by (instance, family) '
                    f'(sluice_flow_table_capacity{{{INST}}} > 0)', "{{instance}} {{family}}")],
                  "The SluiceFlowTableNearlyFull alert fires above 80%.", width=12),
        ]),
        ("Ports and dataplane", [
            panel("Port packets / s", "pps",
                  [(rate("sluice_port_rx_packets_total", INST, "port"), "{{port}} rx"),
                   (rate("sluice_port_tx_packets_total", INST, "port"), "{{port}} tx")],
                  "From the NIC's own counters (rte_eth_stats).", width=6),
            panel("Port bytes / s", "Bps",
                  [(rate("sluice_port_rx_bytes_total", INST, "port"), "{{port}} rx"),
                   (rate("sluice_port_tx_bytes_total", INST, "port"), "{{port}} tx")], width=6),
            panel("Port missed, nombuf and errors / s", "pps",
                  [(rate("sluice_port_rx_missed_total", INST, "port"), "{{port}} rx missed"),
                   (rate("sluice_port_rx_nombuf_total", INST, "port"), "{{port}} rx nombuf"),
                   (rate("sluice_port_rx_errors_total", INST, "port"), "{{port}} rx errors"),
                   (rate("sluice_port_tx_errors_total", INST, "port"), "{{port}} tx errors")],
                  "Missed: RX queue full (workers too slow); nombuf: mempool empty.", width=6),
            panel("Mempool mbufs", "short",
                  [(f'sum by (instance) (sluice_mempool_available_mbufs{{{INST}}})',
                    "{{instance}} available"),
                   (f'sum by (instance) (sluice_mempool_size_mbufs{{{INST}}})',
                    "{{instance}} size")], width=6),
            panel("Worker rx / tx packets / s", "pps",
                  [(rate("sluice_rx_packets_total", INST, "instance"), "{{instance}} rx"),
                   (rate("sluice_tx_packets_total", INST, "instance"), "{{instance}} tx")],
                  width=8),
            panel("Worker rx / tx bytes / s", "Bps",
                  [(rate("sluice_rx_bytes_total", INST, "instance"), "{{instance}} rx"),
                   (rate("sluice_tx_bytes_total", INST, "instance"), "{{instance}} tx")],
                  width=8),
            panel("ICMP and NAT / s", "pps",
                  [(rate("sluice_icmp_echo_replies_total", INST, "instance"),
                    "{{instance}} echo replies"),
                   (rate("sluice_icmp_too_big_sent_total", INST, "instance"),
                    "{{instance}} too big sent"),
                   (rate("sluice_nat_reply_packets_total", INST, "instance"),
                    "{{instance}} NAT replies")], width=8),
        ]),
        ("Workers", [
            panel("Worker busy ratio", "percentunit",
                  [(f'max by (instance, worker) (sluice_worker_busy_ratio{{{INST}}})',
                    "{{instance}} worker {{worker}}"),
                   (f'sum by (instance, worker) (rate(sluice_worker_busy_seconds_total{{{INST}}}{RATE}))',
                    "{{instance}} worker {{worker}} (rate)")],
                  "Share of time spent on loop iterations that did work.", width=12),
            panel("Table generation", "none",
                  [(f'max by (instance) (sluice_table_generation{{{INST}}})', "{{instance}} published"),
                   (f'max by (instance, worker) (sluice_worker_table_generation{{{INST}}})',
                    "{{instance}} worker {{worker}}")],
                  "A worker below the published generation does not apply the latest table.",
                  step=True, width=12),
        ]),
        ("Reloads", [
            panel("Config reloads by result", "short",
                  [(f'sum by (result) (increase(sluice_config_reloads_total{{{INST}}}{RATE}))',
                    "{{result}}")], width=8, stack=True),
            panel("Last reload successful", "bool_yes_no",
                  [(f'min by (instance) (sluice_config_last_reload_successful{{{INST}}})',
                    "{{instance}}")], step=True, width=8),
            panel("Time since the last successful config load", "s",
                  [(f'time() - max by (instance) '
                    f'(sluice_config_last_reload_success_timestamp_seconds{{{INST}}})',
                    "{{instance}}")], width=8),

        ]),
    ]


def layout(sections):
    """Places rows and panels on Grafana's 24-column grid; assigns ids."""
    panels, y, next_id = [], 0, 1
    for title, members in sections:
        panels.append({"type": "row", "title": title, "id": next_id, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": 24, "h": 1}, "panels": []})
        next_id += 1
        y += 1
        x, row_height = 0, 0
        for p in members:
            w, h = p.pop("_size")
            if x + w > 24:
                x, y = 0, y + row_height
                row_height = 0
            p["id"] = next_id
            next_id += 1
            p["gridPos"] = {"x": x, "y": y, "w": w, "h": h}
            panels.append(p)
            x += w
            row_height = max(row_height, h)
        y += row_height
    return panels


def variable(name, label, query, multi=True):
    return {
        "name": name, "label": label, "type": "query", "datasource": DATASOURCE,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "definition": query, "refresh": 2, "sort": 1, "multi": multi, "includeAll": True,
        "allValue": ".*", "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [], "hide": 0, "regex": "",
    }


def dashboard():
    return {
        "uid": "sluice",
        "title": "Sluice",
        "description": "Sluice L4 load balancer: traffic, health, drops, flow table, ports, "
                       "workers and reloads (deploy/grafana/make_dashboard.py).",
        "tags": ["sluice", "load-balancer", "dpdk"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 37,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "timepicker": {},
        "links": [],
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts", "type": "dashboard"}]},
        "templating": {"list": [
            {"name": "datasource", "label": "Data source", "type": "datasource",
             "query": "prometheus", "current": {}, "hide": 0, "refresh": 1, "regex": "",
             "options": [], "includeAll": False, "multi": False},
            variable("instance", "Sluice", "label_values(sluice_build_info, instance)"),
            variable("service", "Service",
                     'label_values(sluice_service_up{instance=~"$instance"}, service)'),
            variable("backend", "Backend",
                     'label_values(sluice_backend_up{instance=~"$instance", '
                     'service=~"$service"}, backend)'),
        ]},
        "panels": layout(rows()),
    }


def render():
    return json.dumps(dashboard(), indent=2, sort_keys=False) + "\n"


def main():
    text = render()
    if "--stdout" in sys.argv[1:]:
        sys.stdout.write(text)
        return
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "sluice.json")
    with open(out, "w", encoding="utf-8") as f:
        f.write(text)


if __name__ == "__main__":
    main()
