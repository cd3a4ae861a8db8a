#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015  # (traps; pass never fails)
# End-to-end test of hot reload: service "web" (VIP:80, dr, no health check) stays
# byte-identical in every config while a second service "api" (VIP:8080, dr; the backends
# also listen on 8080) is added, re-weighted and removed by 50 reloads, cycling through
# the three triggers: SIGHUP, an atomic rename onto the config path, `sluicectl reload`.
# Plan "dr", prefix srl-. Run as root:
#
#   tests/e2e/reload_test.sh [PATH/TO/sluice]   (sluicectl is taken from the same directory)
#
# Checks: each reload applies (sluicectl status: reloads_succeeded + 1, within 5 s) and
# the list shows api as written; reloads_succeeded grew by exactly 50, reloads_failed by 0;
# a client loop against web saw 0 failures; a 1 MiB download through web that spans the
# reloads completes, every line from one backend; api answered whenever it existed and not
# after its removal. Then a broken file (an unknown key): `sluicectl reload` exits 1 with
# FILE:LINE:COLUMN on stderr, status says `last_reload failed` and the error, the metric
# sluice_config_last_reload_successful is 0, web still serves (0 failures); a good reload
# brings the metric back to 1. SIGTERM and accounting. Exit 0 pass, 1 fail, 77 skipped.
# Environment as for dr_test.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init reload_test srl- dr "$@"
[ -x "$sluicectl_bin" ] || die "no sluicectl next to sluice ($sluicectl_bin)"
TOPO_BACKEND_PORTS=(80 8080) # api's backends: the same servers on 8080

metrics_port=19761
reloads=50

# write_config FILE API [WEIGHTS]: web as e2e_web_config writes it, plus, for API "yes",
# service api at VIP:8080 on b1..b3:8080 with WEIGHTS ("W1 W2 W3").
write_config() {
  local file=$1 api=$2 w i=0 b
  local -a weights
  read -r -a weights <<<"${3:-100 100 100}"
  cfg=$file e2e_web_config dr "$metrics_port"
  [ "$api" = yes ] || return 0
  cat >>"$file" <<YAML
  - name: api
    vip: $TOPO_VIP
    port: 8080
    protocol: tcp
    forwarding: dr
    health_check: { type: none }
    backends:
YAML
  for b in "${TOPO_BACKENDS[@]}"; do
    w=${weights[$i]}
    i=$((i + 1))
    echo "      - { address: ${TOPO_IP[$b]}, port: 8080, weight: $w }" >>"$file"
  done
}

# in_place NEW FILE: FILE gets NEW's content, keeping its inode (Sluice's file watch does
# not take it: SIGHUP or sluicectl reload must), and NEW is removed.
in_place() { cat "$1" >"$2" && rm -f "$1"; }

# web_block FILE: the web service's lines (everything up to "  - name: api").
web_block() { sed '/^  - name: api$/,$d' "$1"; }

e2e_topology
write_config "$cfg" no
e2e_start_sluice
cp "$cfg" "$tmp/web.reference"

succeeded0=$(e2e_ctl_field reloads_succeeded)
failed0=$(e2e_ctl_field reloads_failed)
echo "  status before: reloads_succeeded=$succeeded0 reloads_failed=$failed0"
[ -n "$succeeded0" ] || die "sluicectl status did not answer: $(sluicectl status 2>&1)"

step "1. a long download and a client loop on web, then $reloads reloads"
e2e_slow_start 30
[ -n "$E2E_SLOW_BACKEND" ] && pass "long download started, served by $E2E_SLOW_BACKEND" ||
  fail "no backend logged the long download"
e2e_loop_start "http://$TOPO_VIP/" 120

api_ok=0 api_bad=0 web_changed=0 apply_bad=0 slow_reloads=0
declare -A trigger_count=() max_wait=()
expect=$succeeded0
t_start=$SECONDS
for ((i = 0; i < reloads; i++)); do
  change=$((i % 3))              # 0 add api, 1 re-weight api, 2 remove api
  trigger=$(((i + i / 3) % 3))   # every change with every trigger
  case $change in
    0) api=yes; wts="100 100 100" ;;
    1) api=yes; wts="$((10 + i)) $((200 - i)) 100" ;;
    2) api=no; wts="" ;;
  esac
  write_config "$cfg.new" "$api" "$wts"
  if [ "$(web_block "$cfg.new")" != "$(web_block "$tmp/web.reference")" ]; then
    web_changed=$((web_changed + 1))
  fi
  expect=$((expect + 1))
  # docs/reload.md: Sluice takes a file that replaces the path (another inode, checked every
  # 500 ms) by itself; one written in place (same inode) only on SIGHUP or sluicectl
  # reload. So SIGHUP and sluicectl get in-place writes: one trigger, one reload.
  case $trigger in
    0) name=SIGHUP; in_place "$cfg.new" "$cfg"; kill -HUP "$sluice_pid" ;;
    1) name=rename; mv "$cfg.new" "$cfg" ;;
    2) name=sluicectl
       in_place "$cfg.new" "$cfg"
       out=$(sluicectl reload 2>&1) || { fail "reload $i: sluicectl reload: $out"; } ;;
  esac
  trigger_count[$name]=$((${trigger_count[$name]:-0} + 1))
  applied() { [ "$(e2e_ctl_field reloads_succeeded)" -ge "$expect" ] 2>/dev/null; }
  if ! e2e_wait 5 applied; then
    fail "reload $i ($name): reloads_succeeded $(e2e_ctl_field reloads_succeeded), want $expect within 5 s"
    sluicectl status 2>&1 | sed 's/^/  | /'
    break
  fi
  awk -v w="$E2E_WAITED" 'BEGIN {exit !(w > 1.5)}' && slow_reloads=$((slow_reloads + 1))
  max_wait[$name]=$(awk -v a="${max_wait[$name]:-0}" -v b="$E2E_WAITED" \
    'BEGIN {printf "%.1f", (b + 0 > a + 0 ? b : a)}')
  # What the list says about api must be what was written.
  list=$(sluicectl list 2>&1)
  if [ "$api" = yes ]; then
    read -r w1 w2 w3 <<<"$wts"
    want="$(printf '  backend %s:8080 weight %s up\n' "${TOPO_IP[b1]}" "$w1" "${TOPO_IP[b2]}" \
      "$w2" "${TOPO_IP[b3]}" "$w3")"
    got=$(awk '$1 == "service" {s = $2; next} s == "api" {sub(/ active=[0-9]+/, ""); print}' \
      <<<"$list")
    if [ "$got" != "$want" ] || ! grep -q "^service api $TOPO_VIP:8080 " <<<"$list"; then
      apply_bad=$((apply_bad + 1))
      echo "  reload $i ($name): list shows api as:"; awk '{print "  | " $0}' <<<"$list"
    fi
    # api answers while it exists.
    out=$(client_py 10 get "http://$TOPO_VIP:8080/" --timeout 2 2>&1)
    if [[ $(tail -n1 <<<"$out") == b[123] ]]; then api_ok=$((api_ok + 1)); else
      api_bad=$((api_bad + 1)); echo "  reload $i: api did not answer: $out"
    fi
  elif grep -q '^service api ' <<<"$list"; then
    apply_bad=$((apply_bad + 1))
    echo "  reload $i ($name): api still listed after its removal"
  fi
done
echo "  $i reloads in $((SECONDS - t_start)) s (SIGHUP ${trigger_count[SIGHUP]:-0}," \
  "rename ${trigger_count[rename]:-0}, sluicectl ${trigger_count[sluicectl]:-0});" \
  "$slow_reloads took over 1.5 s to apply"
sluicectl status | sed 's/^/  | /'
succeeded=$(e2e_ctl_field reloads_succeeded)
failed1=$(e2e_ctl_field reloads_failed)
echo "  longest wait for a reload to apply: SIGHUP ${max_wait[SIGHUP]:-?} s," \
  "rename ${max_wait[rename]:-?} s, sluicectl ${max_wait[sluicectl]:-?} s"
[ "$slow_reloads" = 0 ] && pass "every reload applied within 1.5 s of its trigger" ||
  fail "$slow_reloads reloads took more than 1.5 s to apply"
[ "$web_changed" = 0 ] || fail "the test wrote web differently $web_changed times"
if [ "$((succeeded - succeeded0))" = "$reloads" ] && [ "$failed1" = "$failed0" ]; then
  pass "reloads_succeeded grew by exactly $reloads, reloads_failed by 0"
else
  fail "reloads_succeeded grew by $((succeeded - succeeded0)) (want $reloads), reloads_failed by $((failed1 - failed0))"
fi
[ "$apply_bad" = 0 ] && pass "after every reload the list showed api as written" ||
  fail "$apply_bad reloads did not show api as written"
[ "$api_bad" = 0 ] && [ "$api_ok" -gt 0 ] &&
  pass "api answered all $api_ok times it was asked while configured" ||
  fail "api: $api_ok answered, $api_bad not"
# The last change (i = 49: 49 % 3 = 1) leaves api configured; remove it for the check.
write_config "$cfg.new" no
in_place "$cfg.new" "$cfg"
out=$(sluicectl reload 2>&1) || fail "sluicectl reload (remove api): $out"
if out=$(client_py 5 get "http://$TOPO_VIP:8080/" --timeout 1 2>&1); then
  fail "api still answers after its removal: $out"
else
  pass "api no longer answers after its removal ($(head -c 80 <<<"$out"))"
fi
base_ok=$(e2e_ctl_field reloads_succeeded)

step "2. a broken file is rejected whole; web keeps serving"
write_config "$cfg.new" yes
sed -i 's/weight: 100 }/wieght: 100 }/' "$cfg.new" # an unknown key
in_place "$cfg.new" "$cfg"
failed_before=$(e2e_ctl_field reloads_failed)
sluicectl reload >"$tmp/bad.out" 2>"$tmp/bad.err"
status=$?
awk '{print "  stderr: " $0}' "$tmp/bad.err"
if [ "$status" = 1 ] && grep -qE "$(e2e_re "$cfg"):[0-9]+:[0-9]+" "$tmp/bad.err"; then
  pass "sluicectl reload exits 1 with FILE:LINE:COLUMN on stderr"
else
  fail "sluicectl reload of a broken file: exit $status, stderr '$(cat "$tmp/bad.err")'"
fi
sluicectl status | sed 's/^/  | /'
st=$(sluicectl status 2>&1)
if grep -q '^last_reload failed$' <<<"$st" && grep -q '^last_error:$' <<<"$st" &&
  grep -qE "^  $(e2e_re "$cfg"):[0-9]+:[0-9]+" <<<"$st" &&
  [ "$(e2e_ctl_field reloads_failed)" -gt "$failed_before" ]; then
  pass "status: last_reload failed, last_error with FILE:LINE:COLUMN"
else
  fail "status after a broken reload does not show the failure"
fi
[ "$(e2e_ctl_field reloads_succeeded)" = "$base_ok" ] &&
  pass "reloads_succeeded unchanged by the broken file" ||
  fail "reloads_succeeded changed by the broken file"
v=$(e2e_metric "$metrics_port" sluice_config_last_reload_successful)
[ "$v" = 0 ] && pass "metric sluice_config_last_reload_successful 0" ||
  fail "metric sluice_config_last_reload_successful is '$v' (want 0)"
grep -q '^service api ' <<<"$(sluicectl list)" && fail "the broken file's api was applied" ||
  pass "nothing of the broken file applied (no api)"
e2e_burst "http://$TOPO_VIP/" 100 10 30

step "3. a good reload again"
write_config "$cfg.new" no
in_place "$cfg.new" "$cfg"
out=$(sluicectl reload 2>&1) && pass "sluicectl reload of the good file: exit 0" ||
  fail "sluicectl reload of the good file: $out"
metric1() { [ "$(e2e_metric "$metrics_port" sluice_config_last_reload_successful)" = 1 ]; }
e2e_wait 3 metric1 && pass "metric sluice_config_last_reload_successful back to 1" ||
  fail "metric sluice_config_last_reload_successful not back to 1 within 3 s"
grep -q '^last_reload ok$' <<<"$(sluicectl status)" && pass "status: last_reload ok" ||
  fail "status after a good reload: $(sluicectl status | tr '\n' ';')"
# Every worker applies the latest table within a loop iteration (issue 6: status shows
# the generation per worker).
workers_current() {
  local st published
  st=$(sluicectl status) || return 1
  published=$(awk '$1 == "table_generation" {print $2}' <<<"$st")
  grep -q '^worker 0 table_generation ' <<<"$st" &&
    ! grep -q '^worker .* (behind)$' <<<"$st" &&
    [ -z "$(awk -v g="$published" '$1 == "worker" && $4 != g' <<<"$st")" ]
}
e2e_wait 2 workers_current && pass "status: every worker on the published table generation" ||
  fail "status: a worker behind the published table: $(sluicectl status | tr '\n' ';')"

step "4. the long download and the client loop"
e2e_slow_check "$E2E_SLOW_BACKEND"
e2e_loop_stop
echo "  client loop: ok=$E2E_LOOP_OK failed=$E2E_LOOP_FAILED served: $E2E_LOOP_SERVED"
if [ "$E2E_LOOP_FAILED" = 0 ] && [ "$E2E_LOOP_OK" -gt 0 ]; then
  pass "client loop on web: $E2E_LOOP_OK requests, 0 failed, across every reload"
else
  fail "client loop on web: $E2E_LOOP_OK ok, $E2E_LOOP_FAILED failed"
  grep '^error' "$tmp/loop.out" | head -n 10 | sed 's/^/  /'
fi
grep 'sluice: reload' "$tmp/sluice.log" | tail -n 3 | sed 's/^/  log: /'

step "5. SIGTERM"
e2e_stop_and_account 300
exit 0
