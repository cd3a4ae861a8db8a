#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of routed backends: the three backends are on another subnet
# (10.105.0.0/24, bridge br-far) behind a gateway namespace (PREFIXgw, forwarding on), and
# Sluice reaches them through a route, dataplane.routes [{prefix: 10.105.0.0/24,
# via: 10.104.0.1}]. Two services on the same backends:
#   web-tunnel  10.104.0.100:80  tunnel (IPv4-in-IPv4), outer source = tunnel_source
#               10.104.0.3 (an address no interface has); replies go backend -> gateway
#               -> client, from the VIP
#   web-nat     10.104.0.101:80  nat to port 8080; replies go backend -> gateway -> LB
#               (a rule on the gateway: from 10.105.0.0/24, the client is via the LB)
# Plan "gateway" (README.md: 10.104.0.0/24 and 10.105.0.0/24, prefix sgw-). Run as root:
#
#   tests/e2e/gateway_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Checks: the client reaches each backend directly through the gateway (ports 80 and
# 8080); sluice --check; ready within 20 s; ping both VIPs and the LB's address; per
# service 100 requests, each a new connection, all answered, each backend serving at
# least 10%, and /whoami (tunnel: local VIP:80, peer the client; nat: local the
# backend:8080, peer the client); the decapsulators got packets, all with outer source
# 10.104.0.3; the gateway forwarded the traffic (its IP ForwDatagrams and the packets it
# sent to the backends' subnet, at least 3 per request, printed); SIGTERM: exit 0,
# 'sluice: stopped', rx + injected == tx + slow path + dropped.
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment as for dr_test.sh
# (SLUICE_E2E_PREFIX, default sgw-; SLUICE_E2E_MEMORY; SLUICE_E2E_PCAP).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init gateway_test sgw- gateway "$@"

# gw_counters: "FORWARDED TX_FAR RX_FAR": the gateway's IP ForwDatagrams and the packets
# it sent to / received from the backends' subnet (eth1).
gw_counters() {
  local fwd tx rx
  # shellcheck disable=SC2016  # (awk program)
  fwd=$(in_node gw awk '$1 == "Ip:" && !h {for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next}
                        $1 == "Ip:" {for (i = 2; i <= NF; i++) if (k[i] == "ForwDatagrams") print $i}' \
    /proc/net/snmp)
  tx=$(in_node gw cat /sys/class/net/eth1/statistics/tx_packets)
  rx=$(in_node gw cat /sys/class/net/eth1/statistics/rx_packets)
  echo "${fwd:-0} ${tx:-0} ${rx:-0}"
}

e2e_topology
echo "  gateway ${prefix}gw: eth0 $TOPO_GW_IP (br-data), eth1 $TOPO_GW_FAR_IP (br-far)," \
  "ip_forward $(in_node gw sysctl -n net.ipv4.ip_forward)"
in_node gw ip rule show | sed 's/^/  gw rule: /'
in_node gw ip route show table 100 | sed 's/^/  gw table 100: /'

backends() { # backends PORT
  local b
  for b in "${TOPO_BACKENDS[@]}"; do echo "      - { address: ${TOPO_IP[$b]}, port: $1 }"; done
}
cat >"$cfg" <<YAML
# Written by tests/e2e/gateway_test.sh
dataplane:
  workers: 1
  eal: [$(e2e_eal_list)]
  ports:
    - name: p0
      device: "net_af_packet0,iface=lb0"
      address: $TOPO_LB_IP/$TOPO_PREFIXLEN
      mtu: 1500
  routes:
    - { prefix: $TOPO_FAR_NET, via: $TOPO_GW_IP }
  tunnel_source: $TOPO_TUNNEL_SOURCE
  flow_table: { capacity: 65536, tcp_timeout: 300s, udp_timeout: 30s }
metrics: { listen: 127.0.0.1:19754 }
control: { socket: $tmp/sluice.sock }
services:
  - name: web-tunnel
    vip: $TOPO_VIP
    port: 80
    protocol: tcp
    forwarding: tunnel
    health_check: { type: none }
    backends:
$(backends 80)
  - name: web-nat
    vip: $TOPO_VIP_NAT
    port: 80
    protocol: tcp
    forwarding: nat
    health_check: { type: none }
    backends:
$(backends 8080)
YAML
e2e_start_sluice
read -r fwd0 tx0 rx0 < <(gw_counters)

step "1. ping the VIPs and the LB's address from the client"
e2e_ping "$TOPO_VIP" "$TOPO_VIP_NAT" "$TOPO_LB_IP"

step "2. tunnel through the gateway: 100 requests to http://$TOPO_VIP/"
e2e_burst "http://$TOPO_VIP/" 100 10 40
e2e_whoami "http://$TOPO_VIP/whoami" \
  "^backend=b[123] local=$(e2e_re "$TOPO_VIP"):80 peer=$(e2e_re "$TOPO_CLIENT_IP"):[0-9]+$" \
  "tunnel: local is $TOPO_VIP:80, peer is $TOPO_CLIENT_IP"
sleep 0.5 # decap.py writes its counters at most every 0.2 s
e2e_decap_check "${TOPO_BACKENDS[@]}"

step "3. nat through the gateway: 100 requests to http://$TOPO_VIP_NAT/ (port 80 -> 8080)"
e2e_burst "http://$TOPO_VIP_NAT/" 100 10 40
e2e_whoami_nat "http://$TOPO_VIP_NAT/whoami" 8080 nat

step "4. the traffic went through the gateway"
read -r fwd1 tx1 rx1 < <(gw_counters)
fwd=$((fwd1 - fwd0)) tx=$((tx1 - tx0)) rx=$((rx1 - rx0))
echo "  gateway: forwarded $fwd packets; to the backends' subnet $tx, from it $rx" \
  "(during 200 requests and 2 /whoami)"
if [ "$fwd" -ge 1000 ] && [ "$tx" -ge 600 ] && [ "$rx" -ge 400 ]; then
  pass "the gateway forwarded $fwd packets ($tx toward the backends, $rx from them)"
else
  fail "too little through the gateway: forwarded $fwd, toward the backends $tx, from them $rx" \
    "(want at least 1000, 600, 400)"
fi

step "5. SIGTERM"
e2e_stop_and_account 800
exit 0
