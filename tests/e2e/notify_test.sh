#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015  # (traps; pass never fails)
# End-to-end test of the daemon's sd_notify messages (systemd Type=notify,
# deploy/systemd/sluice.service.in) without systemd: NOTIFY_SOCKET points at a unix
# datagram socket that lib/notify_listener.py reads in the LB namespace. Service "web"
# (dr, no health check), plan "dr", prefix sntf-. Run as root:
#
#   tests/e2e/notify_test.sh [PATH/TO/sluice]   (sluicectl is taken from the same directory)
#
# Checks: the first READY=1 arrives within 20 s of the start, after the log's "sluice:
# ready" and when the metrics endpoint already answers (the listener looks when READY
# arrives), with a STATUS saying it serves, and nothing said READY before it; traffic
# flows. SIGHUP: RELOADING=1 with a MONOTONIC_USEC= within 5 s of the listener's clock,
# then READY=1 with STATUS "reload (SIGHUP) applied". `sluicectl reload` of a broken file
# (exit 1): RELOADING=1 then READY=1 with STATUS "reload (sluicectl) failed" naming the
# file. SIGTERM: STOPPING=1 and exit 0, nothing after STOPPING. Failed starts (an
# interface that does not exist, a PCI device that is not there, an invalid config): exit
# 1, a STATUS "cannot start", no READY=1. Exit 0 pass, 1 fail, 77 skipped. Environment as
# for dr_test.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init notify_test sntf- dr "$@"
[ -x "$sluicectl_bin" ] || die "no sluicectl next to sluice ($sluicectl_bin)"
if ! ldd "$sluice" | grep -q 'libsystemd\.so'; then
  echo "SKIP: $sluice is built without libsystemd (meson -Dsystemd=disabled or libsystemd-dev missing)"
  exit 77
fi

metrics_port=19764
notify_socket=$tmp/notify.sock
notify_log=$tmp/notify.log
listener_pid=""

e2e_test_cleanup() {
  if [ -n "$listener_pid" ]; then
    kill -TERM "$listener_pid" 2>/dev/null
    wait "$listener_pid" 2>/dev/null
  fi
  if [ -s "$notify_log" ] && [ "$failed" -gt 0 ]; then
    echo "notifications ($notify_log):"
    sed 's/^/  | /' "$notify_log"
  fi
}

# Messages from line N+1 on (N = lines before the step).
lines() { wc -l <"$notify_log" 2>/dev/null || echo 0; }
since() { tail -n "+$(($1 + 1))" "$notify_log" 2>/dev/null; }
# has_after N PATTERN: a message after line N matches the extended regex PATTERN.
has_after() { since "$1" | grep -qE "$2"; }

e2e_topology
e2e_web_config dr "$metrics_port"

step "listener on $notify_socket (in ${prefix}lb)"
: >"$notify_log"
in_node lb "$TOPO_PYTHON" "$E2E_LIB_DIR/notify_listener.py" "$notify_socket" "$notify_log" \
  "$tmp/sluice.log" "http://127.0.0.1:$metrics_port/metrics" &
listener_pid=$!
socket_there() { [ -S "$notify_socket" ]; }
e2e_wait 5 socket_there && pass "listener bound $notify_socket" || die "no listener socket"

step "1. start: READY=1 only once Sluice serves"
t0=$(date +%s%N)
export NOTIFY_SOCKET=$notify_socket
e2e_start_sluice
unset NOTIFY_SOCKET
ready_seen() { grep -q 'READY=1' "$notify_log"; }
if e2e_wait 20 ready_seen; then
  secs=$(awk -v d=$(($(date +%s%N) - t0)) 'BEGIN {printf "%.1f", d / 1e9}')
  pass "READY=1 within $secs s of the start"
else
  die "no READY=1 within 20 s of 'sluice: ready'"
fi
sed 's/^/  | /' "$notify_log"
first=$(grep -m1 'READY=1' "$notify_log")
[[ $first == *"[at_ready log=1 metrics=1]"* ]] &&
  pass "at READY=1 the log already said 'sluice: ready' and the metrics endpoint answered" ||
  fail "READY=1 came too early: $first"
[[ $first == *"|STATUS=serving: 1 service, 1 port, table generation "* ]] &&
  pass "READY=1 comes with STATUS=serving: ..." || fail "READY=1 without the serving STATUS: $first"
[ "$(grep -c 'READY=1' "$notify_log")" = 1 ] && pass "exactly one READY=1 at start" ||
  fail "$(grep -c 'READY=1' "$notify_log") READY=1 messages at start"
grep -q 'RELOADING=1\|STOPPING=1' "$notify_log" && fail "RELOADING/STOPPING before any reload" ||
  pass "no RELOADING/STOPPING at start"
e2e_burst "http://$TOPO_VIP/" 60 10 30

step "2. SIGHUP: RELOADING=1, then READY=1 (applied)"
n=$(lines)
kill -HUP "$sluice_pid"
reload_done() { since "$n" | grep -q 'READY=1'; }
e2e_wait 10 reload_done && pass "READY=1 $E2E_WAITED s after SIGHUP" ||
  fail "no READY=1 within 10 s of SIGHUP"
since "$n" | sed 's/^/  | /'
mapfile -t msgs < <(since "$n")
if [ "${#msgs[@]}" = 2 ] && [[ ${msgs[0]} == *RELOADING=1* ]] && [[ ${msgs[1]} == *READY=1* ]]; then
  pass "SIGHUP: RELOADING=1 then READY=1, nothing else"
else
  fail "SIGHUP: ${#msgs[@]} messages, want RELOADING=1 then READY=1"
fi
# MONOTONIC_USEC is the daemon's CLOCK_MONOTONIC at the reload's start: close to the
# listener's clock when it arrived.
read -r arrived usec < <(sed -n 's/^\([0-9]*\) .*MONOTONIC_USEC=\([0-9]*\).*/\1 \2/p' <<<"${msgs[0]:-}")
if [ -n "${usec:-}" ] && [ "$usec" -le "$arrived" ] && [ $((arrived - usec)) -lt 5000000 ]; then
  pass "RELOADING=1 with MONOTONIC_USEC=$usec ($((arrived - usec)) us before it arrived)"
else
  fail "RELOADING=1 without a plausible MONOTONIC_USEC: '${msgs[0]:-}'"
fi
[[ ${msgs[1]:-} == *"STATUS=serving; reload (SIGHUP) applied"* ]] &&
  pass "READY=1 after SIGHUP: STATUS says the reload applied" ||
  fail "READY=1 after SIGHUP: '${msgs[1]:-}'"

step "3. sluicectl reload of a broken file: RELOADING=1, then READY=1 (failed)"
cp "$cfg" "$tmp/good.yaml"
sed 's/^metrics:/metricz:/' "$tmp/good.yaml" >"$cfg" # in place: same inode, no file watch
n=$(lines)
out=$(sluicectl reload 2>&1)
status=$?
[ "$status" = 1 ] && pass "sluicectl reload of the broken file exits 1" ||
  fail "sluicectl reload of the broken file: exit $status: $out"
e2e_wait 5 reload_done || fail "no READY=1 within 5 s of the failed reload"
since "$n" | sed 's/^/  | /'
mapfile -t msgs < <(since "$n")
if [ "${#msgs[@]}" = 2 ] && [[ ${msgs[0]} == *RELOADING=1*"STATUS=reloading (sluicectl)"* ]] &&
  [[ ${msgs[1]} == *READY=1* ]]; then
  pass "broken reload: RELOADING=1 then READY=1"
else
  fail "broken reload: ${#msgs[@]} messages, want RELOADING=1 then READY=1"
fi
[[ ${msgs[1]:-} == *"STATUS=serving the previous config; reload (sluicectl) failed: $cfg:"* ]] &&
  pass "READY=1 after the broken reload: STATUS says it failed, naming $cfg" ||
  fail "READY=1 after the broken reload: '${msgs[1]:-}'"
cat "$tmp/good.yaml" >"$cfg"
e2e_burst "http://$TOPO_VIP/" 60 10 30

step "4. SIGTERM: STOPPING=1"
n=$(lines)
stop_sluice 10
[ "$sluice_status" = 0 ] && pass "sluice exited 0 on SIGTERM" ||
  fail "sluice on SIGTERM: exit status $sluice_status"
since "$n" | sed 's/^/  | /'
mapfile -t msgs < <(since "$n")
[ "${#msgs[@]}" = 1 ] && [[ ${msgs[0]} == *"STOPPING=1|STATUS=stopping (signal 15)"* ]] &&
  pass "SIGTERM: STOPPING=1 (STATUS=stopping (signal 15)), nothing after it" ||
  fail "SIGTERM: ${#msgs[@]} messages, want one STOPPING=1"

# start_failing NAME: runs Sluice on $tmp/NAME.yaml in PREFIXlb with NOTIFY_SOCKET (60 s at
# most); it must exit 1 with a STATUS=cannot start and no READY=1.
start_failing() {
  local name=$1 n status
  n=$(lines)
  NOTIFY_SOCKET=$notify_socket timeout 60 ip netns exec "${prefix}lb" "$sluice" \
    --config "$tmp/$name.yaml" </dev/null >"$tmp/$name.log" 2>&1
  status=$?
  sleep 0.2 # the listener writes what it got
  sed 's/^/  log | /' "$tmp/$name.log" | tail -n 3
  since "$n" | sed 's/^/  | /'
  [ "$status" = 1 ] && pass "$name: exit 1" || fail "$name: exit $status (want 1)"
  has_after "$n" 'READY=1' && fail "$name: READY=1 sent" || pass "$name: no READY=1"
  has_after "$n" '^[0-9]+ STATUS=cannot start: ' && pass "$name: STATUS=cannot start: ..." ||
    fail "$name: no STATUS=cannot start"
}

step "5. failed starts: no READY=1, exit 1"
sed 's/iface=lb0/iface=sntfnone0/' "$tmp/good.yaml" >"$tmp/no-interface.yaml"
start_failing no-interface
sed 's/device: "net_af_packet0,iface=lb0"/device: "0000:ff:1f.7"/' "$tmp/good.yaml" \
  >"$tmp/no-pci-device.yaml"
start_failing no-pci-device
sed 's/^metrics:/metricz:/' "$tmp/good.yaml" >"$tmp/invalid.yaml"
start_failing invalid
exit 0
