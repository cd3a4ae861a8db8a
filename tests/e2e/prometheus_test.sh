#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015,SC2001  # (traps; pass never fails)
# End-to-end test with a real Prometheus server (Debian's /usr/bin/prometheus): service
# "web" (dr) with HTTP health checks, plan "dr", prefix sprm-. Sluice serves metrics on
# 127.0.0.1:19763 inside the LB namespace; Prometheus runs in the same namespace on
# 127.0.0.1:19764 with a generated config (scrape_interval 1s, job "sluice", the rules of
# deploy/prometheus/alerts.yml with every `for:` cut to 2s), a temporary TSDB under the
# work directory and a bounded life; it is stopped and removed on any exit. Run as root:
#
#   tests/e2e/prometheus_test.sh [PATH/TO/sluice]
#
# Checks: Prometheus becomes ready and scrapes Sluice (up{job="sluice"} 1); /api/v1/rules
# lists every alert of alerts.yml, each evaluated without error; `promtool check metrics`
# on a live scrape of Sluice reports nothing but prometheus-cpp's own exposer_* families;
# every query of alerts.yml and deploy/grafana/sluice.json parses and names only metric
# families that scrape declares (tests/prometheus/check_queries.py, with
# tests/prometheus/pending_metrics.txt); 200 requests through the VIP: each backend's
# sluice_backend_packets_total in Prometheus grows by at least 3 per request that backend
# answered (SYN, handshake ACK, request; who answered is in each answer's body), the sum
# by at least 3 x 200, and ends equal to Sluice's own page; b2's server stops:
# Prometheus sees sluice_backend_up 0 for b2 and the SluiceBackendDown alert for b2 fires
# (and no other alert); b2 starts again: up 1, the alert resolves; SIGTERM and
# accounting, then up{job="sluice"} 0 and SluiceDown fires.
# Exit 0 pass, 1 fail, 77 skipped. Environment as for dr_test.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init prometheus_test sprm- dr "$@"

metrics_port=19763
prom_port=19764
prom_bin=/usr/bin/prometheus
prom_life=240 # seconds: Prometheus is killed by timeout(1) after this, whatever happens
requests=200
rules_src=$E2E_ROOT/deploy/prometheus/alerts.yml
dashboard=$E2E_ROOT/deploy/grafana/sluice.json
checker=$E2E_ROOT/tests/prometheus/check_queries.py
pending=$E2E_ROOT/tests/prometheus/pending_metrics.txt
prom_dir=$tmp/prometheus
prom_pid=""
b2_addr=${TOPO_IP[b2]}:80

for tool in "$prom_bin" /usr/bin/promtool /usr/bin/curl; do
  [ -x "$tool" ] || die "$tool missing (deploy/install-deps.sh installs prometheus and curl)"
done

# stop_prometheus: SIGTERM (timeout(1) passes it on), then SIGKILL to what is left of
# this run's server (found by its TSDB path) after 10 s.
stop_prometheus() {
  local i pids
  [ -n "$prom_pid" ] || return 0
  kill -TERM "$prom_pid" 2>/dev/null
  for ((i = 0; i < 100; i++)); do
    kill -0 "$prom_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$prom_pid" 2>/dev/null; then
    pids=$(pgrep -f -- "--storage.tsdb.path=$prom_dir/data")
    # shellcheck disable=SC2086  # (one pid per word)
    [ -n "$pids" ] && kill -KILL $pids "$prom_pid" 2>/dev/null
  fi
  wait "$prom_pid" 2>/dev/null
  prom_pid=""
}

# Prometheus goes first; then the harness's cleanup (with the exit status it would have
# seen) removes Sluice, the namespaces and $tmp, and prints the totals.
prom_cleanup() {
  local rc=$? left
  trap '' INT TERM HUP
  if [ -n "$prom_pid" ]; then
    stop_prometheus
    echo "prometheus stopped by cleanup"
  fi
  if left=$(pgrep -a -f -- "--storage.tsdb.path=$prom_dir/"); then
    fail "prometheus still running: $left"
  fi
  if [ "$failed" -gt 0 ] && [ -s "$prom_dir/prometheus.log" ]; then
    echo "prometheus log ($prom_dir/prometheus.log):"
    show_log "$prom_dir/prometheus.log"
  fi
  (exit "$rc")
  e2e_cleanup
}
trap prom_cleanup EXIT

# prom_api PATH [CURL-ARGS...]: GET from the Prometheus HTTP API inside PREFIXlb (3 s).
prom_api() {
  in_node lb curl -sS --max-time 3 -G "http://127.0.0.1:$prom_port$1" "${@:2}"
}
# prom_query EXPR: the instant vector of EXPR, one "LABELS VALUE" line per element with
# LABELS as name=value,... sorted (status 1 if the query failed).
prom_query() {
  prom_api /api/v1/query --data-urlencode "query=$1" 2>/dev/null | "$TOPO_PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
if d.get("status") != "success": sys.exit(1)
for r in d["data"]["result"]:
    m = r["metric"]
    print(",".join("%s=%s" % (k, m[k]) for k in sorted(m)), r["value"][1])'
}
# prom_value EXPR: the value of a one-element result ("" if there is not exactly one).
prom_value() {
  local out
  out=$(prom_query "$1") || return 1
  [ "$(wc -l <<<"$out")" = 1 ] && [ -n "$out" ] && echo "${out##* }"
}

e2e_topology

E2E_HEALTH_CHECK="{ type: http, path: /healthz, interval: 500ms, timeout: 300ms, rise: 2, fall: 2 }"
e2e_web_config dr "$metrics_port"
e2e_start_sluice
serving3() { [ "$(e2e_metric "$metrics_port" 'sluice_service_backends_serving{service="web"}')" = 3 ]; }
if e2e_wait 10 serving3; then pass "every backend up (serving 3) after $E2E_WAITED s"; else
  die "not serving 3 within 10 s"
fi

step "1. Prometheus in ${prefix}lb on 127.0.0.1:$prom_port"
mkdir -p "$prom_dir/data"
# The shipped rules with every `for:` cut to 2s, so that an alert fires within seconds.
sed -E 's/^( *)for: .*/\1for: 2s/' "$rules_src" >"$prom_dir/alerts.yml"
cat >"$prom_dir/prometheus.yml" <<YAML
# Written by tests/e2e/prometheus_test.sh
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
  evaluation_interval: 1s
rule_files:
  - $prom_dir/alerts.yml
scrape_configs:
  - job_name: sluice
    static_configs:
      - targets: ["127.0.0.1:$metrics_port"]
YAML
sed 's/^/  | /' "$prom_dir/prometheus.yml"
out=$(promtool check config "$prom_dir/prometheus.yml" 2>&1) &&
  pass "promtool check config accepts the generated config (and the rules it loads)" ||
  die "promtool check config: $out"
ip netns exec "${prefix}lb" timeout "$prom_life" "$prom_bin" \
  --config.file="$prom_dir/prometheus.yml" --storage.tsdb.path="$prom_dir/data" \
  --storage.tsdb.retention.time=1h --web.listen-address="127.0.0.1:$prom_port" \
  --log.level=warn </dev/null >"$prom_dir/prometheus.log" 2>&1 &
prom_pid=$!
prom_ready() { [ "$(prom_api /-/ready 2>/dev/null)" = "Prometheus Server is Ready." ]; }
if e2e_wait 30 prom_ready; then pass "prometheus ready after $E2E_WAITED s"; else
  die "prometheus not ready within 30 s"
fi
sluice_up() { [ "$(prom_value 'up{job="sluice"}')" = 1 ]; }
if e2e_wait 15 sluice_up; then pass "up{job=\"sluice\"} 1 after $E2E_WAITED s"; else
  die "up{job=\"sluice\"} is '$(prom_value 'up{job="sluice"}')' after 15 s (want 1)"
fi

step "2. the alert rules are loaded and evaluate cleanly"
want_alerts=$(sed -n 's/^ *- alert: *//p' "$rules_src" | sort)
rules_ok() {
  prom_api /api/v1/rules >"$prom_dir/rules.json" 2>/dev/null || return 1
  "$TOPO_PYTHON" - "$prom_dir/rules.json" >"$prom_dir/rules.txt" <<'PY' || return 1
import json, sys
d = json.load(open(sys.argv[1]))
rules = [r for g in d["data"]["groups"] for r in g["rules"]]
# every rule evaluated at least once, without error
if not rules or any(r.get("health") != "ok" for r in rules): sys.exit(1)
for r in rules: print(r["name"], r["type"], r["health"])
PY
}
if e2e_wait 10 rules_ok; then
  got=$(awk '$2 == "alerting" {print $1}' "$prom_dir/rules.txt" | sort)
  if [ "$got" = "$want_alerts" ]; then
    pass "/api/v1/rules: all $(wc -l <<<"$got") alerts of alerts.yml loaded, health ok"
  else
    fail "/api/v1/rules alerts: $(tr '\n' ' ' <<<"$got")(want $(tr '\n' ' ' <<<"$want_alerts"))"
  fi
else
  fail "/api/v1/rules: not every rule evaluated with health ok within 10 s: $(head -c 600 "$prom_dir/rules.json" 2>/dev/null)"
fi

step "3. promtool check metrics on a live scrape; every query names exported metrics"
in_node lb curl -sS --max-time 3 "http://127.0.0.1:$metrics_port/metrics" >"$prom_dir/scrape.txt" ||
  fail "cannot curl Sluice's /metrics"
echo "  $(grep -c '^# TYPE' "$prom_dir/scrape.txt") families, $(grep -vc '^#' "$prom_dir/scrape.txt") samples"
problems=$(promtool check metrics <"$prom_dir/scrape.txt" 2>&1)
# prometheus-cpp's exposer adds exposer_* families of its own, which Sluice cannot remove.
ours=$(grep -v '^exposer_' <<<"$problems")
[ -n "$problems" ] && grep '^exposer_' <<<"$problems" | sed 's/^/  (prometheus-cpp) /'
if [ -z "$ours" ]; then pass "promtool check metrics: nothing about Sluice's families"; else
  fail "promtool check metrics:"
  echo "$ours" | sed 's/^/  /'
fi
if out=$(python3 "$checker" --scrape "$prom_dir/scrape.txt" --pending "$pending" \
  "$rules_src" "$dashboard" 2>&1); then
  pass "alerts.yml and sluice.json: every query parses and names an exported metric"
else
  fail "alerts.yml and sluice.json queries (check_queries.py):"
fi
sed 's/^/  | /' <<<"$out"

step "4. $requests requests: Prometheus sees the backends' packet counters grow"
declare -A before=()
for b in "${TOPO_BACKENDS[@]}"; do
  before[$b]=$(prom_value "sluice_backend_packets_total{job=\"sluice\",service=\"web\",backend=\"${TOPO_IP[$b]}:80\"}")
  [ -n "${before[$b]}" ] || die "Prometheus has no sluice_backend_packets_total for $b"
done
echo "  before: $(for b in "${TOPO_BACKENDS[@]}"; do printf '%s=%s ' "$b" "${before[$b]}"; done)"
e2e_burst "http://$TOPO_VIP/" "$requests" 10 40
# DR: every request is a new connection, and at least its SYN, the handshake's ACK and the
# request itself go through Sluice to the backend that answered it. Prometheus' latest
# sample may predate the end of the burst: wait (bounded) for the scrapes to catch up.
backend_packets() {
  prom_value "sluice_backend_packets_total{job=\"sluice\",service=\"web\",backend=\"${TOPO_IP[$1]}:80\"}"
}
grown() {
  local b now sum_before=0 sum_now
  for b in "${TOPO_BACKENDS[@]}"; do
    now=$(backend_packets "$b")
    [ -n "$now" ] && [ $((${now%.*} - ${before[$b]%.*})) -ge $((3 * E2E_SERVED[$b])) ] || return 1
    sum_before=$((sum_before + ${before[$b]%.*}))
  done
  sum_now=$(prom_value 'sum(sluice_backend_packets_total{job="sluice"})')
  [ -n "$sum_now" ] && [ $((${sum_now%.*} - sum_before)) -ge $((3 * requests)) ]
}
if e2e_wait 15 grown; then
  pass "Prometheus: each backend's packets grew by >= 3 x the requests it answered, the sum by >= 3 x $requests (after $E2E_WAITED s)"
else
  fail "Prometheus: the backends' packet counters did not grow by >= 3 x their requests within 15 s"
fi
for b in "${TOPO_BACKENDS[@]}"; do
  now=$(backend_packets "$b")
  printf '  %s: answered %d requests, packets %s -> %s (+%d)\n' "$b" "${E2E_SERVED[$b]}" \
    "${before[$b]}" "$now" "$((${now%.*} - ${before[$b]%.*}))"
done
# Traffic has stopped: what Prometheus stored equals what Sluice's page says.
same() {
  local b want
  for b in "${TOPO_BACKENDS[@]}"; do
    want=$(e2e_metric "$metrics_port" "sluice_backend_packets_total{service=\"web\",backend=\"${TOPO_IP[$b]}:80\"}")
    [ -n "$want" ] && [ "$(prom_value "sluice_backend_packets_total{job=\"sluice\",backend=\"${TOPO_IP[$b]}:80\"}")" = "$want" ] || return 1
  done
}
if e2e_wait 10 same; then pass "Prometheus' values equal Sluice's own page"; else
  fail "Prometheus' sluice_backend_packets_total differs from Sluice's page after 10 s"
fi

step "5. b2's server stops: sluice_backend_up 0 and SluiceBackendDown in Prometheus"
topo_stop_backend "$prefix" b2 || fail "b2's server did not stop"
b2_down() { [ "$(prom_value "sluice_backend_up{job=\"sluice\",backend=\"$b2_addr\"}")" = 0 ]; }
if e2e_wait 15 b2_down; then pass "Prometheus: sluice_backend_up{backend=\"$b2_addr\"} 0 after $E2E_WAITED s"; else
  fail "Prometheus: sluice_backend_up{backend=\"$b2_addr\"} not 0 within 15 s"
fi
firing() { prom_query 'ALERTS{alertstate="firing"}' | sed 's/ [^ ]*$//'; }
b2_alert() { firing | grep -q "alertname=SluiceBackendDown,.*backend=$b2_addr,"; }
if e2e_wait 15 b2_alert; then pass "SluiceBackendDown fires for $b2_addr after $E2E_WAITED s (for: 2s)"; else
  fail "SluiceBackendDown does not fire for $b2_addr within 15 s: $(prom_query ALERTS | tr '\n' ';')"
fi
alerts=$(firing)
sed 's/^/  firing: /' <<<"$alerts"
if [ "$(wc -l <<<"$alerts")" = 1 ]; then pass "no other alert fires"; else
  fail "other alerts fire too"
fi

step "6. b2's server starts again: up 1, the alert resolves"
topo_start_backend "$prefix" b2 "$tmp" || fail "b2's server did not start"
b2_up() { [ "$(prom_value "sluice_backend_up{job=\"sluice\",backend=\"$b2_addr\"}")" = 1 ]; }
if e2e_wait 15 b2_up; then pass "Prometheus: sluice_backend_up{backend=\"$b2_addr\"} 1 after $E2E_WAITED s"; else
  fail "Prometheus: sluice_backend_up{backend=\"$b2_addr\"} not 1 within 15 s"
fi
quiet() { [ -z "$(firing)" ]; }
if e2e_wait 10 quiet; then pass "no alert fires after $E2E_WAITED s"; else
  fail "alerts still firing: $(firing | tr '\n' ';')"
fi

step "7. SIGTERM Sluice: up 0 and SluiceDown in Prometheus"
e2e_stop_and_account $((3 * requests))
sluice_down() { firing | grep -q "alertname=SluiceDown,.*job=sluice,"; }
if e2e_wait 15 sluice_down; then
  pass "SluiceDown fires after $E2E_WAITED s (up{job=\"sluice\"} $(prom_value 'up{job="sluice"}'))"
else
  fail "SluiceDown does not fire within 15 s of Sluice stopping: $(firing | tr '\n' ';')"
fi
stop_prometheus
if pgrep -f -- "--storage.tsdb.path=$prom_dir/" >/dev/null; then fail "prometheus still running"; else
  pass "prometheus stopped"
fi
exit 0
