#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of direct-routing (DR) mode: a real client, Sluice on a DPDK af_packet
# port and three real HTTP backends, each in its own network namespace. Plan "dr", the
# default of lib/topology.sh (README.md: 10.99.0.0/24, management 10.98.0.0/24, prefix
# se2e-). Run as root:
#
#   tests/e2e/dr_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Checks: the client reaches each backend directly; sluice --check accepts the config;
# Sluice ready within 20 s; ping the VIP and the LB's address; 300 requests, each a new
# connection, all answered, each backend serving 20%-47%; /whoami through the VIP shows
# local VIP:80 and peer = the client (DR really is DR); a 5 s download of 1 MiB completes
# (status 200, at least 4 s) from a single backend while 50 other new connections are all
# answered; SIGTERM: exit 0 within 10 s, 'sluice: stopped', rx + injected + generated ==
# tx + slow path + dropped with rx >= 300, and nothing generated (no fragmentation).
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment (lib/harness.sh; the same for
# every test, each with its own default prefix):
#   SLUICE_E2E_PREFIX   namespace prefix (default se2e-)
#   SLUICE_E2E_MEMORY   hugepages | no-huge: force how DPDK gets memory (default: reserve
#                       512 hugepages if none are, else fall back to --no-huge)
#   SLUICE_E2E_PCAP     a directory: capture the data bridge there (needs tcpdump)
# Everything it creates (namespaces, processes, /run/sluice-e2e/PREFIX, the hugepage
# reservation) is removed by an EXIT trap, also on failure or Ctrl-C, and then checked to
# be gone; what a SIGKILLed run leaves is removed by the next run.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init dr_test se2e- dr "$@"

e2e_topology
e2e_web_config dr 19750
e2e_start_sluice

step "1. ping the VIP and the LB's address from the client"
e2e_ping "$TOPO_VIP" "$TOPO_LB_IP"

step "2. 300 requests, each a new connection, to http://$TOPO_VIP/"
e2e_burst "http://$TOPO_VIP/" 300 20 40 47

step "3. /whoami through the VIP: the backend sees the VIP as local and the client as peer"
e2e_whoami "http://$TOPO_VIP/whoami" \
  "^backend=b[123] local=$(e2e_re "$TOPO_VIP"):80 peer=$(e2e_re "$TOPO_CLIENT_IP"):[0-9]+$" \
  "DR: local is $TOPO_VIP:80, peer is $TOPO_CLIENT_IP"

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
e2e_stop_and_account 300
# Nothing in this test is larger than the path: Sluice must not have fragmented anything.
if [ "${E2E_ACCOUNT[generated]:-x}" = 0 ]; then
  pass "no packet generated (nothing fragmented)"
else
  fail "generated packets: '${E2E_ACCOUNT[generated]:-}' (want 0: nothing needs fragmenting)"
fi
exit 0
