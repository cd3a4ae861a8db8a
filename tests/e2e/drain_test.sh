#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015  # (traps; pass never fails)
# End-to-end test of draining with sluicectl: service "web" (dr, no health check). Plan
# "dr", prefix sdn-. Run as root:
#
#   tests/e2e/drain_test.sh [PATH/TO/sluice]    (sluicectl is taken from the same directory)
#
# Checks: a long download through the VIP starts; `sluicectl list` shows its backend with
# active flows (and sluice_backend_active_flows); `sluicectl lookup` names the backend that
# answered a /whoami as a flow-table hit, Maglev's pick for a tuple never seen and no
# service for another protocol; `sluicectl drain web` on the backend
# that serves it: list shows it `drained(runtime)` and serving=2, metrics serving 2; 200
# new requests all answered, none by the drained backend; a reload of the unchanged file
# (sluicectl reload) keeps the runtime drain (a runtime drain lasts until undrain, or until
# the backend is removed from the config); 100 more requests avoid it; the download
# completes (1 MiB, every line from that backend: existing flows continue); `sluicectl
# undrain`: no longer drained, serving=3, 200 new requests reach it again; drain of an
# unknown backend exits 1; drained again, removed by a reload and added back by another, it
# is up and not drained. SIGTERM and accounting; then sluicectl exits 3 (no daemon).
# Exit 0 pass, 1 fail, 77 skipped. Environment as for dr_test.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init drain_test sdn- dr "$@"
[ -x "$sluicectl_bin" ] || die "no sluicectl next to sluice ($sluicectl_bin)"

metrics_port=19762
e2e_topology
e2e_web_config dr "$metrics_port"
e2e_start_sluice
sluicectl list | sed 's/^/  | /'

step "1. a long download through the VIP; drain the backend that serves it"
e2e_slow_start 12
[ -n "$E2E_SLOW_BACKEND" ] || die "no backend logged the long download"
d=$E2E_SLOW_BACKEND
d_addr=${TOPO_IP[$d]}:80
pass "the long download is served by $d ($d_addr)"

step "1a. sluicectl list: active flows during the download; lookup names who served"
a=$(e2e_active_flows web "$d_addr")
[ "${a:-0}" -ge 1 ] 2>/dev/null && pass "list: $d_addr active=$a during the long download" ||
  fail "list: $d_addr active='$a' during the long download (want >= 1)"
v=$(e2e_metric "$metrics_port" "sluice_backend_active_flows{service=\"web\",backend=\"$d_addr\"}")
[ "${v:-0}" -ge 1 ] 2>/dev/null && pass "metric sluice_backend_active_flows{...$d_addr} $v" ||
  fail "metric sluice_backend_active_flows{...$d_addr} is '$v' (want >= 1)"
# A finished connection: its flow entry stays until the TCP timeout, naming the backend
# that answered /whoami ("backend=NAME local=... peer=CLIENT:PORT").
who=$(client_py 10 get "http://$TOPO_VIP/whoami" --timeout 2 2>&1 | tail -n1)
w_name=$(sed -n 's/.*backend=\([^ ]*\) .*/\1/p' <<<"$who")
w_port=$(sed -n 's/.*peer=[^ ]*:\([0-9]*\).*/\1/p' <<<"$who")
if [ -n "$w_name" ] && [ -n "$w_port" ]; then
  out=$(sluicectl lookup tcp "$TOPO_CLIENT_IP" "$w_port" "$TOPO_VIP" 80 2>&1)
  echo "$out" | sed 's/^/  | /'
  grep -qE "^flow table hit on worker [0-9]+ \(backend $(e2e_re "${TOPO_IP[$w_name]}"):80, " <<<"$out" &&
    pass "lookup tcp $TOPO_CLIENT_IP $w_port: flow table hit, $w_name (who answered /whoami)" ||
    fail "lookup tcp $TOPO_CLIENT_IP $w_port does not name $w_name (${TOPO_IP[$w_name]}): $out"
else
  fail "/whoami: '$who'"
fi
# A tuple never seen: Maglev's pick, one of the service's backends.
out=$(sluicectl lookup tcp 192.0.2.1 1 "$TOPO_VIP" 80 2>&1)
echo "$out" | sed 's/^/  | /'
picked=$(sed -n 's/^no flow entry: Maglev slot [0-9]*\/[0-9]* of service web -> backend \([^ ]*\)$/\1/p' \
  <<<"$out")
known=no
for b in "${TOPO_BACKENDS[@]}"; do [ "$picked" = "${TOPO_IP[$b]}:80" ] && known=yes; done
[ "$known" = yes ] && pass "lookup of a new tuple: Maglev picks $picked" ||
  fail "lookup of a new tuple: $out"
out=$(sluicectl --json lookup tcp 192.0.2.1 1 "$TOPO_VIP" 80 2>&1)
grep -qF "\"source\":\"maglev\",\"service\":\"web\"" <<<"$out" &&
  grep -qF "\"backend\":\"$picked\"" <<<"$out" && pass "lookup --json: maglev, $picked" ||
  fail "lookup --json: $out"
out=$(sluicectl lookup udp "$TOPO_CLIENT_IP" 1234 "$TOPO_VIP" 80 2>&1)
[ "$out" != "${out#no service for $TOPO_VIP:80/udp}" ] && pass "lookup udp: no service" ||
  fail "lookup udp $TOPO_VIP 80: $out"
sluicectl list --stats | sed 's/^/  | /'
if out=$(sluicectl drain web "$d_addr" 2>&1); then pass "sluicectl drain web $d_addr: exit 0"; else
  fail "sluicectl drain web $d_addr: exit $?: $out"
fi
sluicectl list | sed 's/^/  | /'
s=$(e2e_backend_state web "$d_addr")
[ "$s" = "up drained(runtime)" ] && pass "$d: '$s'" || fail "$d: '$s' (want 'up drained(runtime)')"
[ "$(e2e_serving web)" = 2 ] && pass "serving=2" || fail "serving=$(e2e_serving web) (want 2)"
v=$(e2e_metric "$metrics_port" 'sluice_service_backends_serving{service="web"}')
[ "$v" = 2 ] && pass "metric sluice_service_backends_serving 2" ||
  fail "metric sluice_service_backends_serving is '$v' (want 2)"
v=$(e2e_metric "$metrics_port" "sluice_backend_draining{service=\"web\",backend=\"$d_addr\"}")
[ "$v" = 1 ] && pass "metric sluice_backend_draining{...$d_addr} 1" ||
  fail "metric sluice_backend_draining{...$d_addr} is '$v' (want 1)"

step "2. 200 new requests: none reach the drained $d"
e2e_burst "http://$TOPO_VIP/" 200 0 40
[ "${E2E_SERVED[$d]}" = 0 ] && pass "$d served none of them" ||
  fail "the drained $d served ${E2E_SERVED[$d]}"

step "3. a reload of the unchanged file keeps the runtime drain"
before=$(e2e_ctl_field reloads_succeeded)
if out=$(sluicectl reload 2>&1); then pass "sluicectl reload: exit 0"; else
  fail "sluicectl reload: $out"
fi
reloaded() { [ "$(e2e_ctl_field reloads_succeeded)" -gt "$before" ] 2>/dev/null; }
e2e_wait 5 reloaded && pass "reloads_succeeded $before -> $(e2e_ctl_field reloads_succeeded)" ||
  fail "reloads_succeeded did not grow within 5 s"
s=$(e2e_backend_state web "$d_addr")
[ "$s" = "up drained(runtime)" ] && pass "after the reload $d is still '$s'" ||
  fail "after the reload $d is '$s' (want 'up drained(runtime)')"
e2e_burst "http://$TOPO_VIP/" 100 0 30
[ "${E2E_SERVED[$d]}" = 0 ] && pass "$d served none of 100 after the reload" ||
  fail "the drained $d served ${E2E_SERVED[$d]} after the reload"
if kill -0 "$E2E_SLOW_PID" 2>/dev/null; then
  pass "the long download was still open through all of this"
else
  fail "the long download ended before the checks were done (make it longer)"
fi

# The download's ACKs give the rate estimator a packet rate once it has sampled twice
# (about a second apart; the steps above may take less than that).
rate_of_d() {
  r=$(sluicectl list --rate | awk -v b="$d_addr" '$1 == "backend" && $2 == b {
    for (i = 3; i <= NF; i++) if ($i ~ /^packets\/s=/) {sub(/^packets\/s=/, "", $i); print $i}}')
  awk -v r="${r:-0}" 'BEGIN {exit !(r > 0)}'
}
e2e_wait 5 rate_of_d && pass "list --rate: $d_addr packets/s=$r" ||
  fail "list --rate: $d_addr packets/s='$r' during the download (want > 0 within 5 s)"
sluicectl list --rate | sed 's/^/  | /'
for view in "" --stats --rate; do
  # shellcheck disable=SC2086 # an empty view is no argument
  if sluicectl --json list $view | python3 -c '
import json, sys
d = json.load(sys.stdin)
b = d["services"][0]["backends"][0]
assert "active_flows" in b, b
assert sys.argv[1] != "--stats" or "packets" in b["stats"], b
assert sys.argv[1] != "--rate" or "packets_per_second" in b["rate"], b
' "${view:-none}"; then pass "sluicectl --json list $view: valid JSON"; else
    fail "sluicectl --json list $view: $(sluicectl --json list $view)"
  fi
done

step "4. the long download on the drained $d completes"
e2e_slow_check "$d"

step "5. undrain: $d takes new flows again"
if out=$(sluicectl undrain web "$d_addr" 2>&1); then pass "sluicectl undrain web $d_addr: exit 0"; else
  fail "sluicectl undrain web $d_addr: $out"
fi
s=$(e2e_backend_state web "$d_addr")
[ "$s" = up ] && pass "$d: 'up'" || fail "$d: '$s' (want 'up')"
[ "$(e2e_serving web)" = 3 ] && pass "serving=3" || fail "serving=$(e2e_serving web) (want 3)"
e2e_burst "http://$TOPO_VIP/" 200 10 40

step "6. a runtime drain ends when its backend leaves the config"
sluicectl drain web "$d_addr" >/dev/null 2>&1 || fail "sluicectl drain web $d_addr (again)"
cp "$cfg" "$tmp/full.yaml"
grep -v "address: ${TOPO_IP[$d]} }" "$tmp/full.yaml" >"$tmp/without.yaml"
cat "$tmp/without.yaml" >"$cfg"
out=$(sluicectl reload 2>&1) || fail "reload without $d: $out"
s=$(e2e_backend_state web "$d_addr")
[ -z "$s" ] && [ "$(e2e_serving web)" = 2 ] && pass "$d removed by a reload (serving=2)" ||
  fail "after removing $d from the config: '$s', serving=$(e2e_serving web)"
cat "$tmp/full.yaml" >"$cfg"
out=$(sluicectl reload 2>&1) || fail "reload with $d back: $out"
s=$(e2e_backend_state web "$d_addr")
[ "$s" = up ] && [ "$(e2e_serving web)" = 3 ] &&
  pass "$d back in the config: 'up', not drained, serving=3" ||
  fail "$d back in the config: '$s' (want 'up': the runtime drain went with its removal)"

step "7. drain of a backend the service does not have"
out=$(sluicectl drain web 10.99.0.99:80 2>&1)
status=$?
if [ "$status" = 1 ]; then pass "sluicectl drain of an unknown backend: exit 1: $out"; else
  fail "sluicectl drain web 10.99.0.99:80: exit $status (want 1): $out"
fi

step "8. SIGTERM"
e2e_stop_and_account 400
out=$(sluicectl status 2>&1)
status=$?
if [ "$status" = 3 ]; then pass "sluicectl with no daemon: exit 3 ($out)"; else
  fail "sluicectl status with no daemon: exit $status (want 3): $out"
fi
exit 0
