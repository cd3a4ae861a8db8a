#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of tunnel mode over IPv4 (IPv4-in-IPv4, protocol 4): Sluice on a DPDK
# af_packet port encapsulates the client's packets to three HTTP backends on its segment,
# each decapsulating with lib/decap.py (no ipip module here) and answering the client
# directly. Plan "tunnel" (README.md: 10.101.0.0/24, prefix stun-). Run as root:
#
#   tests/e2e/tunnel_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Checks: the client reaches each backend directly; sluice --check accepts the config;
# Sluice ready within 20 s; ping the VIP and the LB's address; 300 requests, each a new
# connection, all answered, each backend serving at least 15%; /whoami through the VIP
# shows local VIP:80 and peer = the client; every decapsulator got packets, all with outer
# source = the LB's port address (no tunnel_source set), at least one per connection it
# served; a 1 MiB download completes from one backend; SIGTERM: exit 0, 'sluice: stopped',
# rx + injected == tx + slow path + dropped.
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment as for dr_test.sh
# (SLUICE_E2E_PREFIX, default stun-; SLUICE_E2E_MEMORY; SLUICE_E2E_PCAP).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init tunnel_test stun- tunnel "$@"

e2e_topology

e2e_web_config tunnel 19751
e2e_start_sluice

step "1. ping the VIP and the LB's address from the client"
e2e_ping "$TOPO_VIP" "$TOPO_LB_IP"

step "2. 300 requests, each a new connection, to http://$TOPO_VIP/"
e2e_burst "http://$TOPO_VIP/" 300 15 40

step "3. /whoami through the VIP: the backend sees the VIP as local and the client as peer"
e2e_whoami "http://$TOPO_VIP/whoami" \
  "^backend=b[123] local=$(e2e_re "$TOPO_VIP"):80 peer=$(e2e_re "$TOPO_CLIENT_IP"):[0-9]+$" \
  "tunnel: local is $TOPO_VIP:80, peer is $TOPO_CLIENT_IP"

step "4. the backends' decapsulators"
sleep 0.5 # decap.py writes its counters at most every 0.2 s
e2e_decap_check "${TOPO_BACKENDS[@]}"
for b in "${TOPO_BACKENDS[@]}"; do
  n=$(topo_decap_count "$tmp" "$b" ipip)
  if [ "$n" -ge "${E2E_SERVED[$b]:-0}" ] && [ "$n" -gt 0 ]; then
    pass "$b: $n IPv4-in-IPv4 packets for the ${E2E_SERVED[$b]:-0} connections it served"
  else
    fail "$b: $n IPv4-in-IPv4 packets, fewer than the ${E2E_SERVED[$b]:-0} connections it served"
  fi
done

step "5. a 1 MiB download through the VIP"
e2e_download "http://$TOPO_VIP/slow?seconds=1" 15

step "6. SIGTERM"
e2e_stop_and_account 300
exit 0
