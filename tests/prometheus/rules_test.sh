#!/usr/bin/env bash
# shellcheck disable=SC2001  # (indenting multi-line output with sed)
# deploy/prometheus/alerts.yml: `promtool check rules` accepts it, `promtool test rules`
# passes deploy/prometheus/alerts_test.yml (each alert fires on a series that should fire
# it and stays silent on ones that should not), and promtool parses every query of the
# alerts and of deploy/grafana/sluice.json (check_queries.py). The names the queries use
# are checked against a live Sluice in tests/e2e/prometheus_test.sh. Skips (77) when
# promtool is not installed (Debian: package `prometheus`).
# Usage: rules_test.sh REPO_ROOT
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
if ! command -v promtool >/dev/null; then
  echo "SKIP: promtool not installed"
  exit 77
fi
failed=0
run() {
  local out
  if out=$("$@" 2>&1); then echo "PASS: $*"; else
    echo "FAIL: $*"
    failed=1
  fi
  sed 's/^/  | /' <<<"$out"
}
run promtool check rules "$root/deploy/prometheus/alerts.yml"
run promtool test rules "$root/deploy/prometheus/alerts_test.yml"
run python3 "$root/tests/prometheus/check_queries.py" "$root/deploy/prometheus/alerts.yml" \
  "$root/deploy/grafana/sluice.json"
exit "$failed"
