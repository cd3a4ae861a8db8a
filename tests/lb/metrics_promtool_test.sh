#!/usr/bin/env bash
# `promtool check metrics` finds nothing in a scrape of the metrics endpoint (DESIGN.md
# "Metrics"). Skips (77) when promtool is not installed (Debian: package `prometheus`).
# Usage: metrics_promtool_test.sh PATH/TO/metrics_scrape
set -u
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not installed"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$1" >"$out" || { echo "FAIL: $1 exited $?"; exit 1; }
grep -q '^sluice_config_last_reload_successful ' "$out" || { echo "FAIL: empty scrape"; exit 1; }
# The issue-6 families are in the scrape that promtool checks.
for series in 'sluice_port_rx_packets_total{port="p0"}' 'sluice_port_rx_nombuf_total{port="p0"}' \
    'sluice_mempool_available_mbufs' 'sluice_mempool_size_mbufs' \
    'sluice_worker_busy_seconds_total{worker="0"}' 'sluice_worker_busy_ratio{worker="0"} 0.25' \
    'sluice_flow_table_entries{family="ipv6"}' \
    'sluice_health_checks_total{service="web",result="timeout"}' \
    'sluice_health_check_duration_seconds_bucket{service="dns",le="+Inf"}'; do
  grep -qF "$series" "$out" || { echo "FAIL: no $series in the scrape"; exit 1; }
done
problems=$(promtool check metrics <"$out" 2>&1)
status=$?
if [ "$status" -ne 0 ] || [ -n "$problems" ]; then
  echo "FAIL: promtool check metrics (exit $status):"
  echo "$problems"
  exit 1
fi
echo "PASS"
