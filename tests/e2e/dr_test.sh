#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of direct-routing (DR) mode: a real client, Sluice on a DPDK af_packet
# port and three real HTTP backends, each in its own network namespace (lib/topology.sh,
# README.md). Run as root:
#
#   tests/e2e/dr_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment:
#   SLUICE_E2E_PREFIX   namespace prefix (default se2e-)
#   SLUICE_E2E_MEMORY   hugepages | no-huge: force how DPDK gets memory (default: reserve
#                       512 hugepages if none are, else fall back to --no-huge)
#   SLUICE_E2E_PCAP     a directory: capture the data bridge there (needs tcpdump)
# Everything it creates (namespaces, processes, /run/sluice-e2e/PREFIX, the hugepage
# reservation) is removed by an EXIT trap, also on failure or Ctrl-C, and then checked to
# be gone; what a SIGKILLed run leaves is removed by the next run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
sluice=${1:-${SLUICE:-$root/build/lb/sluice}}
prefix=${SLUICE_E2E_PREFIX:-se2e-}
started=$SECONDS

if [ "$(id -u)" -ne 0 ]; then
  echo "SKIP: dr_test.sh needs root (network namespaces, hugepages)"
  exit 77
fi
if [ ! -x "$sluice" ]; then
  echo "FAIL: no sluice binary at $sluice (build first: meson setup build && ninja -C build)"
  exit 1
fi
sluice=$(realpath "$sluice")
source "$here/lib/topology.sh"
topo_check_prefix "$prefix" || exit 1

passed=0
failed=0
pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
die() { fail "$*"; exit 1; }
step() { printf '\n--- %s\n' "$*"; }
in_client() { topo_exec "$prefix" client "$@"; }
client_py() { in_client timeout "$1" "$TOPO_PYTHON" "$here/lib/client.py" "${@:2}"; }

tmp=""
sluice_pid=""
cfg=""
eal_prefix="sluice-${prefix%-}" # one run per prefix (topo_claim)

# Prints a log, shortened to its first 60 and last 140 lines.
show_log() {
  local f=$1 n
  [ -s "$f" ] || { echo "($f is empty)"; return; }
  n=$(wc -l <"$f")
  if [ "$n" -le 200 ]; then sed 's/^/  | /' "$f"; else
    head -n 60 "$f" | sed 's/^/  | /'
    echo "  | ... $((n - 200)) lines ..."
    tail -n 140 "$f" | sed 's/^/  | /'
  fi
}

# stop_sluice SECONDS: SIGTERM, wait (bounded), SIGKILL. Sets sluice_status.
sluice_status=""
stop_sluice() {
  local limit=$1 i
  [ -n "$sluice_pid" ] || return 0
  kill -TERM "$sluice_pid" 2>/dev/null
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$sluice_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$sluice_pid" 2>/dev/null; then
    kill -KILL "$sluice_pid" 2>/dev/null
    wait "$sluice_pid" 2>/dev/null
    sluice_status=killed
  else
    wait "$sluice_pid" 2>/dev/null
    sluice_status=$?
  fi
  sluice_pid=""
}

cleanup() {
  local rc=$? left
  trap - EXIT INT TERM HUP
  set +e
  step "cleanup"
  [ -n "$sluice_pid" ] && { stop_sluice 5; echo "sluice stopped by cleanup ($sluice_status)"; }
  topo_down "$prefix"
  hp_restore
  # The EAL leaves its (empty) runtime directory behind; it is ours (unique prefix).
  [ -n "$eal_prefix" ] && rm -rf "/var/run/dpdk/$eal_prefix"
  if left=$(topo_leftovers "$prefix"); then pass "no namespace named $prefix* left"; else
    fail "namespaces left: $(echo "$left" | tr '\n' ' ')"
  fi
  if [ -n "$cfg" ]; then
    if left=$(pgrep -a -f -- "--config $cfg"); then fail "sluice still running: $left"; else
      pass "no sluice process left"
    fi
  fi
  if [ -n "$tmp" ] && [ -f "$tmp/hugepages.before" ]; then
    if left=$(hp_files | comm -13 "$tmp/hugepages.before" -) && [ -z "$left" ]; then
      pass "no new file on hugetlbfs"
    else
      fail "new hugetlbfs files: $(echo "$left" | tr '\n' ' ')"
    fi
  fi
  if [ -n "$HP_PREVIOUS" ] && [ "$(cat "$HP_SYSCTL")" != "$HP_PREVIOUS" ]; then
    fail "$HP_SYSCTL is $(cat "$HP_SYSCTL"), was $HP_PREVIOUS"
  fi
  if [ "$failed" -gt 0 ] && [ -n "$tmp" ] && [ -f "$tmp/sluice.log" ]; then
    echo
    echo "sluice log ($tmp/sluice.log):"
    show_log "$tmp/sluice.log"
  fi
  [ -n "$tmp" ] && rm -rf "$tmp" && rmdir /run/sluice-e2e 2>/dev/null
  topo_release "$prefix"
  echo
  echo "dr_test: $passed passed, $failed failed ($((SECONDS - started)) s)"
  if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
    [ "$rc" -gt 1 ] && exit "$rc"
    exit 1
  fi
  exit 0
}
# One run per prefix at a time (topo_up removes leftovers with the same prefix), claimed
# before the trap is set so that a refused run tears nothing down.
topo_claim "$prefix" || { echo "FAIL: prefix $prefix is in use; set SLUICE_E2E_PREFIX"; exit 1; }
trap cleanup EXIT
trap 'fail "interrupted (SIGINT)"; exit 130' INT
trap 'fail "terminated (SIGTERM or SIGHUP)"; exit 143' TERM HUP

# Work files live in /run (root only), one directory per prefix. One left by a run that
# was killed with SIGKILL is removed, and the hugepages it reserved are given back.
tmp=/run/sluice-e2e/${prefix%-}
if [ -d "$tmp" ]; then
  echo "removing what a killed run left in $tmp"
  topo_down "$prefix"
  hp_load "$tmp/hugepages.state" && hp_restore
  rm -rf "$tmp"
fi
mkdir -p "$tmp"
cfg=$tmp/sluice.yaml

step "setup"
topo_require_tools || die "missing tools"
hp_files >"$tmp/hugepages.before"
case ${SLUICE_E2E_MEMORY:-} in
  no-huge) HP_MODE=no-huge; HP_EAL_ARGS=(--no-huge -m 512 --no-shconf) ;;
  *) hp_setup 512 ;;
esac
hp_save "$tmp/hugepages.state"
[ "${SLUICE_E2E_MEMORY:-$HP_MODE}" = "$HP_MODE" ] ||
  die "SLUICE_E2E_MEMORY=$SLUICE_E2E_MEMORY, but hugepages could not be had"
echo "memory: $HP_MODE (EAL ${HP_EAL_ARGS[*]}; nr_hugepages $(cat "$HP_SYSCTL"))"

topo_up "$prefix" || die "cannot build the topology"
topo_start_backends "$prefix" "$tmp" || die "backends did not start"
if [ -n "${SLUICE_E2E_PCAP:-}" ]; then
  mkdir -p "$SLUICE_E2E_PCAP"
  ip netns exec "${prefix}sw" tcpdump -i br-data -U -n -w "$SLUICE_E2E_PCAP/data.pcap" \
    >/dev/null 2>"$SLUICE_E2E_PCAP/tcpdump.log" &
  sleep 0.5
fi
# The plumbing works without Sluice: the client reaches every backend directly.
for b in "${TOPO_BACKENDS[@]}"; do
  out=$(client_py 10 get "http://${TOPO_IP[$b]}/" --timeout 2 2>&1)
  [ "$(tail -n1 <<<"$out")" = "$b" ] || die "topology: client cannot reach backend $b directly: $out"
done
echo "topology up: client, lb (lb0 for DPDK), b1..b3 serving HTTP; client reaches each backend"

eal_list=$(printf '"%s", ' "${HP_EAL_ARGS[@]}" "--file-prefix=$eal_prefix")
cat >"$cfg" <<YAML
# Written by tests/e2e/dr_test.sh
dataplane:
  workers: 1
  eal: [${eal_list%, }]
  ports:
    - name: p0
      device: "net_af_packet0,iface=lb0"
      address: $TOPO_LB_IP/$TOPO_PREFIXLEN
      mtu: 1500
  flow_table: { capacity: 65536, tcp_timeout: 300s, udp_timeout: 30s }
metrics: { listen: 127.0.0.1:19750 }
control: { socket: $tmp/sluice.sock }
services:
  - name: web
    vip: $TOPO_VIP
    port: 80
    protocol: tcp
    forwarding: dr
    health_check: { type: none }
    backends:
      - { address: ${TOPO_IP[b1]} }
      - { address: ${TOPO_IP[b2]} }
      - { address: ${TOPO_IP[b3]} }
YAML
"$sluice" --config "$cfg" --check >"$tmp/check.out" 2>&1 ||
  die "sluice --check rejects the test config: $(cat "$tmp/check.out")"

step "start sluice"
# Not through a shell function: $! must be sluice itself (ip netns exec execs it).
ip netns exec "${prefix}lb" "$sluice" --config "$cfg" </dev/null >"$tmp/sluice.log" 2>&1 &
sluice_pid=$!
for ((i = 0; i < 200; i++)); do
  grep -q 'sluice: ready' "$tmp/sluice.log" && break
  kill -0 "$sluice_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q 'sluice: ready' "$tmp/sluice.log"; then
  if kill -0 "$sluice_pid" 2>/dev/null; then die "no 'sluice: ready' within 20 s"; fi
  wait "$sluice_pid"
  status=$?
  sluice_pid=""
  die "sluice exited with status $status before 'sluice: ready'"
fi
pass "sluice ready after $(((i + 1) / 10)).$(((i + 1) % 10)) s"

step "1. ping the VIP and the LB's address from the client"
for target in "$TOPO_VIP" "$TOPO_LB_IP"; do
  if out=$(in_client ping -n -c 3 -i 0.2 -W 1 -w 5 "$target" 2>&1); then
    pass "ping $target: $(grep -o '[0-9]* packets transmitted, [0-9]* received' <<<"$out")"
  else
    fail "ping $target: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
  fi
done

step "2. 300 requests, each a new connection, to http://$TOPO_VIP/"
out=$(client_py 60 burst "http://$TOPO_VIP/" 300 --timeout 2 --deadline 40 \
  --max-failures 5 2>&1)
echo "$out" | grep -v '^served '
if grep -q '^total ok=300 failed=0' <<<"$out"; then pass "300 of 300 requests answered"; else
  fail "not every request was answered"
fi
ok_share=1
for b in "${TOPO_BACKENDS[@]}"; do
  n=$(awk -v b="$b" '$1 == "served" && $2 == b {print $3}' <<<"$out")
  n=${n:-0}
  printf '  %-3s %4d  %5.1f%%\n' "$b" "$n" "$(awk -v n="$n" 'BEGIN {print n / 3}')"
  { [ "$n" -ge 60 ] && [ "$n" -le 141 ]; } || ok_share=0
done
other=$(awk '$1 == "served" && $2 !~ /^b[123]$/' <<<"$out")
[ -z "$other" ] || { ok_share=0; echo "  unexpected bodies: $other"; }
if [ "$ok_share" = 1 ]; then pass "each backend served 20%-47%"; else
  fail "distribution outside 20%-47% per backend"
fi

step "3. /whoami through the VIP: the backend sees the VIP as local and the client as peer"
out=$(client_py 10 get "http://$TOPO_VIP/whoami" --timeout 2 2>&1)
echo "  $(tail -n1 <<<"$out")"
if grep -qE "^backend=b[123] local=${TOPO_VIP//./\\.}:80 peer=${TOPO_CLIENT_IP//./\\.}:[0-9]+$" \
  <<<"$out"; then
  pass "DR: local is $TOPO_VIP:80, peer is $TOPO_CLIENT_IP"
else
  fail "whoami: $out"
fi

step "4. a long-lived connection (/slow?seconds=5) while new connections keep coming"
client_py 30 get "http://$TOPO_VIP/slow?seconds=5" --timeout 10 --out "$tmp/slow.body" \
  >"$tmp/slow.out" 2>&1 &
slow_pid=$!
sleep 1
out=$(client_py 30 burst "http://$TOPO_VIP/" 50 --timeout 2 --deadline 20 \
  --max-failures 5 2>&1)
if kill -0 "$slow_pid" 2>/dev/null; then overlap=1; else overlap=0; fi
echo "  meanwhile: $(grep '^total' <<<"$out")"
if grep -q '^total ok=50 failed=0' <<<"$out" && [ "$overlap" = 1 ]; then
  pass "50 new connections answered while the slow one was open"
else
  fail "new connections during the slow one: $(grep '^total' <<<"$out") (slow one still open: $overlap)"
fi
wait "$slow_pid"
slow_status=$?
slow_out=$(cat "$tmp/slow.out")
echo "  slow: $slow_out"
senders=$(cut -d' ' -f1 "$tmp/slow.body" 2>/dev/null | sort -u | tr '\n' ' ')
header=$(sed -n 's/.*backend=\([^ ]*\).*/\1/p' <<<"$slow_out")
seconds=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$slow_out")
if [ "$slow_status" -eq 0 ] && grep -q 'status=200 .*length=1048576 ' <<<"$slow_out" &&
  [ "$senders" = "$header " ] && awk -v s="${seconds:-0}" 'BEGIN {exit !(s >= 4)}'; then
  pass "slow transfer: 1 MiB in ${seconds} s, all from $header"
else
  fail "slow transfer: status $slow_status, '$slow_out', body lines from: ${senders:-none}"
fi

step "5. SIGTERM"
stop_sluice 10
if [ "$sluice_status" = 0 ]; then pass "sluice exited 0 on SIGTERM"; else
  fail "sluice on SIGTERM: exit status $sluice_status (want 0 within 10 s)"
fi
if grep -q 'sluice: stopped' "$tmp/sluice.log"; then pass "log says 'sluice: stopped'"; else
  fail "no 'sluice: stopped' in the log"
fi
# Every packet is accounted for: rx + injected == tx + slow path + dropped (workers).
summary=$(grep -o 'workers: rx [0-9]*, injected [0-9]*, tx [0-9]*, slow path [0-9]*, dropped [0-9]*' \
  "$tmp/sluice.log")
echo "  $summary"
read -r rx injected tx slow dropped < <(tr -cs '0-9' ' ' <<<"$summary")
if [ -n "${dropped:-}" ] && [ $((rx + injected)) -eq $((tx + slow + dropped)) ] &&
  [ "$rx" -ge 300 ]; then
  pass "accounting: rx $rx + injected $injected == tx $tx + slow path $slow + dropped $dropped"
else
  fail "accounting identity does not hold: '$summary'"
fi
exit 0
