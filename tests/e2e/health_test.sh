#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015  # (traps; pass never fails)
# End-to-end test of health checks: service "web" (dr) with an HTTP check of /healthz
# (interval 500ms, timeout 300ms, rise 2, fall 2), sent by Sluice from the LB namespace's
# kernel over the management network (topology.sh: host routes to the backends' data
# addresses via mgmt0). Plan "dr", prefix shc-. Run as root:
#
#   tests/e2e/health_test.sh [PATH/TO/sluice]   (sluicectl is taken from the same directory)
#
# Checks: the LB namespace's kernel reaches every backend's /healthz; all three backends
# come up (sluicectl list: serving=3, the exact service line; metrics); with a client loop
# running, b2's HTTP server is stopped: b2 is marked down within fall x interval + timeout
# + 1 s (printed), metrics say sluice_backend_up{...10.99.0.12:80} 0 and serving 2; 200 new
# requests all answered, none by b2; b2's server is started again: up within rise x
# interval + 1 s (printed), serving=3, and 200 new requests reach b2 again; SIGTERM and
# accounting. Exit 0 pass, 1 fail, 77 skipped. Environment as for dr_test.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init health_test shc- dr "$@"
[ -x "$sluicectl_bin" ] || die "no sluicectl next to sluice ($sluicectl_bin)"

metrics_port=19760
interval_ms=500 timeout_ms=300 rise=2 fall=2
down_limit_ms=$((fall * interval_ms + timeout_ms + 1000))
up_limit_ms=$((rise * interval_ms + 1000))
b2_addr=${TOPO_IP[b2]}:80

e2e_topology
step "the LB namespace's kernel reaches each backend's /healthz (via mgmt0)"
for b in "${TOPO_BACKENDS[@]}"; do
  out=$(in_node lb timeout 5 "$TOPO_PYTHON" -c '
import sys, urllib.request
r = urllib.request.urlopen("http://%s/healthz" % sys.argv[1], timeout=2)
print(r.status, r.read().decode().strip(), r.getheader("X-Backend"))' "${TOPO_IP[$b]}" 2>&1)
  if [ "$out" = "200 ok $b" ]; then pass "lb -> ${TOPO_IP[$b]}/healthz: $out"; else
    die "lb -> ${TOPO_IP[$b]}/healthz: $out (routes: $(in_node lb ip route | tr '\n' ';'))"
  fi
done

# SLUICE_E2E_HEALTH=syn: the same test with half-open tcp checks (health_syn_test.sh).
if [ "${SLUICE_E2E_HEALTH:-http}" = syn ]; then
  check_type=tcp
  E2E_HEALTH_CHECK="{ type: tcp, tcp_mode: syn, interval: ${interval_ms}ms, timeout: ${timeout_ms}ms, rise: $rise, fall: $fall }"
else
  check_type=http
  E2E_HEALTH_CHECK="{ type: http, path: /healthz, interval: ${interval_ms}ms, timeout: ${timeout_ms}ms, rise: $rise, fall: $fall }"
fi
e2e_web_config dr "$metrics_port"
e2e_start_sluice

step "1. every backend comes up (assume down, rise $rise)"
serving3() { [ "$(e2e_serving web)" = 3 ]; }
if e2e_wait 10 serving3; then pass "serving=3 after $E2E_WAITED s"; else
  fail "not serving=3 within 10 s"
fi
sluicectl list | sed 's/^/  | /'
line=$(sluicectl list | head -n1)
want="service web $TOPO_VIP:80 tcp dr maglev health=$check_type backends=3 serving=3"
if [ "$line" = "$want" ]; then pass "sluicectl list: '$want'"; else
  fail "sluicectl list service line: '$line' (want '$want')"
fi
for b in "${TOPO_BACKENDS[@]}"; do
  s=$(e2e_backend_state web "${TOPO_IP[$b]}:80")
  if [ "$s" = up ]; then pass "$b: up"; else fail "$b: '$s' (want 'up')"; fi
done
metrics=$(e2e_metrics "$metrics_port" 2>&1)
grep -E '^sluice_(backend_up|service_backends_serving)' <<<"$metrics" | sed 's/^/  | /'
ok=1
for b in "${TOPO_BACKENDS[@]}"; do
  v=$(awk -v k="sluice_backend_up{service=\"web\",backend=\"${TOPO_IP[$b]}:80\"}" \
    '$1 == k {print $2}' <<<"$metrics")
  [ "$v" = 1 ] || ok=0
done
v=$(awk '$1 == "sluice_service_backends_serving{service=\"web\"}" {print $2}' <<<"$metrics")
if [ "$ok" = 1 ] && [ "$v" = 3 ]; then pass "metrics: every backend up, serving 3"; else
  fail "metrics: backend_up not 1 for all, or serving '$v' (want 3)"
fi

step "2. b2's HTTP server stops while a client keeps sending"
e2e_loop_start "http://$TOPO_VIP/" 60
sleep 1
t0=$(date +%s%N)
topo_stop_backend "$prefix" b2 || fail "b2's server did not stop"
b2_down() { [[ $(e2e_backend_state web "$b2_addr") == down* ]]; }
if e2e_wait 10 b2_down; then
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "  b2: $(e2e_backend_state web "$b2_addr")"
  if [ "$ms" -le "$down_limit_ms" ]; then
    pass "b2 marked down ${ms} ms after its server stopped (limit $down_limit_ms ms)"
  else
    fail "b2 marked down only ${ms} ms after its server stopped (limit $down_limit_ms ms)"
  fi
else
  fail "b2 not marked down within 10 s: $(e2e_backend_state web "$b2_addr")"
fi
sluicectl list | sed 's/^/  | /'
[ "$(e2e_serving web)" = 2 ] && pass "serving=2" || fail "serving=$(e2e_serving web) (want 2)"
v=$(e2e_metric "$metrics_port" "sluice_backend_up{service=\"web\",backend=\"$b2_addr\"}")
if [ "$v" = 0 ]; then pass "metric sluice_backend_up{...$b2_addr} 0"; else
  fail "metric sluice_backend_up{...$b2_addr} is '$v' (want 0)"
fi
v=$(e2e_metric "$metrics_port" 'sluice_service_backends_serving{service="web"}')
[ "$v" = 2 ] && pass "metric sluice_service_backends_serving 2" ||
  fail "metric sluice_service_backends_serving is '$v' (want 2)"
grep -E 'sluice: backend web .*(down|up)' "$tmp/sluice.log" | sed 's/^/  log: /'

step "3. 200 new requests while b2 is down: all answered, none by b2"
e2e_burst "http://$TOPO_VIP/" 200 0 40
if [ "${E2E_SERVED[b2]}" = 0 ]; then pass "b2 served none of them"; else
  fail "b2 served ${E2E_SERVED[b2]} requests while marked down"
fi

step "4. b2's server starts again"
# Timed from when the server accepts connections (topo_start_backend waits for that):
# python's start-up is not the health checker's.
ts=$(date +%s%N)
topo_start_backend "$prefix" b2 "$tmp" || fail "b2's server did not start"
t0=$(date +%s%N)
b2_up() { [ "$(e2e_backend_state web "$b2_addr")" = up ]; }
if e2e_wait 10 b2_up; then
  ms=$((($(date +%s%N) - t0) / 1000000))
  echo "  (b2's server took $(((t0 - ts) / 1000000)) ms to start listening)"
  if [ "$ms" -le "$up_limit_ms" ]; then
    pass "b2 up again ${ms} ms after its server listened (limit $up_limit_ms ms)"
  else
    fail "b2 up again only ${ms} ms after its server listened (limit $up_limit_ms ms)"
  fi
else
  fail "b2 not up again within 10 s: $(e2e_backend_state web "$b2_addr")"
fi
[ "$(e2e_serving web)" = 3 ] && pass "serving=3" || fail "serving=$(e2e_serving web) (want 3)"
v=$(e2e_metric "$metrics_port" "sluice_backend_up{service=\"web\",backend=\"$b2_addr\"}")
[ "$v" = 1 ] && pass "metric sluice_backend_up{...$b2_addr} 1" ||
  fail "metric sluice_backend_up{...$b2_addr} is '$v' (want 1)"

step "5. 200 new requests: b2 serves again"
e2e_burst "http://$TOPO_VIP/" 200 10 40
e2e_loop_stop
# Requests that hit b2 between its stop and the mark-down are refused: reported only.
echo "  client loop: ok=$E2E_LOOP_OK failed=$E2E_LOOP_FAILED served: $E2E_LOOP_SERVED"
[ "$E2E_LOOP_OK" -gt 0 ] && pass "client loop kept being answered ($E2E_LOOP_OK ok)" ||
  fail "client loop got no answers"

step "5b. issue-6 metrics: health results and durations, port, pool, worker busy time"
metrics=$(e2e_metrics "$metrics_port" 2>&1)
grep -E '^sluice_(health_checks_total|health_check_duration_seconds_count|port_rx_packets|port_rx_missed|mempool|worker_busy|flow_table_entries)' \
  <<<"$metrics" | sed 's/^/  | /'
m() { awk -v k="$1" '$1 == k {print $2}' <<<"$metrics"; }
ok_n=$(m 'sluice_health_checks_total{service="web",result="success"}')
bad_n=$(m 'sluice_health_checks_total{service="web",result="failure"}')
to_n=$(m 'sluice_health_checks_total{service="web",result="timeout"}')
count=$(m 'sluice_health_check_duration_seconds_count{service="web"}')
# b2's stopped server refused (failure) or, at worst, timed out: either way not success.
if [ "${ok_n:-0}" -gt 0 ] 2>/dev/null && [ $((${bad_n:-0} + ${to_n:-0})) -gt 0 ] &&
  [ "$count" = $((ok_n + bad_n + to_n)) ]; then
  pass "health results: success $ok_n, failure $bad_n, timeout $to_n = histogram count $count"
else
  fail "health results: success '$ok_n' failure '$bad_n' timeout '$to_n' histogram count '$count'"
fi
rx=$(m 'sluice_port_rx_packets_total{port="p0"}')
busy=$(m 'sluice_worker_busy_seconds_total{worker="0"}')
avail=$(m 'sluice_mempool_available_mbufs')
flows=$(m 'sluice_flow_table_entries{family="ipv4"}')
if [ "${rx:-0}" -gt 400 ] 2>/dev/null && awk -v b="$busy" 'BEGIN{exit !(b > 0)}' &&
  [ "${avail:-0}" -gt 0 ] 2>/dev/null && [ "${flows:-0}" -gt 0 ] 2>/dev/null; then
  pass "port p0 rx $rx, worker 0 busy ${busy}s, pool $avail free, $flows IPv4 flows"
else
  fail "port p0 rx '$rx', busy '$busy', pool '$avail', IPv4 flows '$flows'"
fi

step "6. SIGTERM"
e2e_stop_and_account 400
exit 0
