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
problems=$(promtool check metrics <"$out" 2>&1)
status=$?
if [ "$status" -ne 0 ] || [ -n "$problems" ]; then
  echo "FAIL: promtool check metrics (exit $status):"
  echo "$problems"
  exit 1
fi
echo "PASS"
