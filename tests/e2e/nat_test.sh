#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of NAT mode (IPv4): the VIP's port 80 maps to port 8080 on three HTTP
# backends that listen on 8080 only and have no VIP; Sluice rewrites the destination, the
# backends send their replies back through it (a host route to the client via the LB's
# port address) and it rewrites their source back to VIP:80. Plan "nat" (README.md:
# 10.102.0.0/24, prefix snat-). Run as root:
#
#   tests/e2e/nat_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Checks: the client reaches each backend directly on 8080 (before the return routes are
# set); nothing listens on port 80 of any backend; sluice --check; ready within 20 s; ping
# the VIP and the LB's address; 300 requests, each a new connection, all answered, each
# backend serving at least 15%; /whoami through the VIP shows local = that backend's
# address:8080 and peer = the real client address (the client address is preserved); a
# 1 MiB download completes from one backend; SIGTERM: exit 0, 'sluice: stopped',
# rx + injected == tx + slow path + dropped.
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment as for dr_test.sh
# (SLUICE_E2E_PREFIX, default snat-; SLUICE_E2E_MEMORY; SLUICE_E2E_PCAP).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init nat_test snat- nat "$@"

e2e_topology
for b in "${TOPO_BACKENDS[@]}"; do
  if in_node "$b" timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80' 2>/dev/null; then
    die "$b accepts connections on port 80: NAT would not be tested"
  fi
  echo "  $b: $(in_node "$b" ip route get "$TOPO_CLIENT_IP" | head -n1)"
done
pass "backends listen on 8080 only and route the client via $TOPO_LB_IP"

cat >"$cfg" <<YAML
# Written by tests/e2e/nat_test.sh
dataplane:
  # Two workers (sharing a CPU: this machine has two): af_packet's fanout spreads the
  # client's packets and the backends' replies independently, so many replies arrive on
  # the worker that did not create their NAT session (docs/forwarding.md).
  workers: 2
  eal: [$(e2e_eal_list), "--lcores=0@0,1@1,2@1"]
  ports:
    - name: p0
      device: "net_af_packet0,iface=lb0,qpairs=2"
      address: $TOPO_LB_IP/$TOPO_PREFIXLEN
      mtu: 1500
  flow_table: { capacity: 65536, tcp_timeout: 300s, udp_timeout: 30s }
metrics: { listen: 127.0.0.1:19752 }
control: { socket: $tmp/sluice.sock }
services:
  - name: web
    vip: $TOPO_VIP
    port: 80
    protocol: tcp
    forwarding: nat
    health_check: { type: none }
    backends:
      - { address: ${TOPO_IP[b1]}, port: 8080 }
      - { address: ${TOPO_IP[b2]}, port: 8080 }
      - { address: ${TOPO_IP[b3]}, port: 8080 }
YAML
e2e_start_sluice

step "1. ping the VIP and the LB's address from the client"
e2e_ping "$TOPO_VIP" "$TOPO_LB_IP"

step "2. 300 requests, each a new connection, to http://$TOPO_VIP/ (port 80 -> 8080)"
e2e_burst "http://$TOPO_VIP/" 300 15 40

step "3. /whoami through the VIP: the backend sees itself:8080 as local, the client as peer"
e2e_whoami_nat "http://$TOPO_VIP/whoami" 8080 nat

step "4. a 1 MiB download through the VIP"
e2e_download "http://$TOPO_VIP/slow?seconds=1" 15

step "5. SIGTERM"
e2e_stop_and_account 300

step "both workers created NAT sessions and translated replies"
# Each connection's request and reply are hashed to a worker independently, so with both
# workers busy on both directions, ~half the replies (1 - 2^-300 certain: at least one)
# were translated by the worker that did not create their session.
busy=0
for w in 0 1; do
  line=$(grep -o "worker $w: rx [0-9]*, tx [0-9]*, new flows [0-9]*, nat replies [0-9]*" \
    "$tmp/sluice.log")
  echo "  $line"
  read -r _ _ _ flows replies < <(tr -cs '0-9' ' ' <<<"$line")
  if [ "${flows:-0}" -gt 0 ] && [ "${replies:-0}" -gt 0 ]; then busy=$((busy + 1)); fi
done
if [ "$busy" -eq 2 ]; then
  pass "both workers created sessions and translated replies: replies crossed workers"
else
  fail "a worker created no NAT flow or translated no reply: cross-worker replies untested"
fi
exit 0
