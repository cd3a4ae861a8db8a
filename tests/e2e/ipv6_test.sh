#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of IPv6: Sluice's port has address and address6; three services on the
# same three backends:
#   web6-dr      [fd00:103::100]:80  dr      (MAC rewrite; the VIP on the backends' lo)
#   web6-tunnel  [fd00:103::200]:80  tunnel  (IPv6-in-IPv6, next header 41)
#   web4-over6   10.103.0.100:80     tunnel  to IPv6 backends (IPv4-in-IPv6, next header 4)
# The backends decapsulate with lib/decap.py and answer the client directly. ND: the
# client resolves the VIPs and the port's address6 through Sluice's neighbour
# advertisements; Sluice resolves the backends. Every IPv6 address is configured without
# DAD. Plan "ipv6" (README.md: 10.103.0.0/24 and fd00:103::/64, prefix sv6-). Run as root:
#
#   tests/e2e/ipv6_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Checks: the client reaches each backend directly over IPv4 and IPv6; sluice --check;
# ready within 20 s; ping (ICMPv6 echo) the two IPv6 VIPs and address6, ping the IPv4 VIP
# and address; for each service 100 requests, each a new connection, all answered, each
# backend serving at least 10%, and /whoami shows local = the VIP:80 and peer = the client
# (its IPv6 address for the IPv6 VIPs); every decapsulator got IPv6-in-IPv6 and
# IPv4-in-IPv6 packets, all from address6 (no tunnel_source set); SIGTERM: exit 0,
# 'sluice: stopped', rx + injected == tx + slow path + dropped.
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment as for dr_test.sh
# (SLUICE_E2E_PREFIX, default sv6-; SLUICE_E2E_MEMORY; SLUICE_E2E_PCAP).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init ipv6_test sv6- ipv6 "$@"

e2e_topology

backends6() {
  local b
  for b in "${TOPO_BACKENDS[@]}"; do echo "      - { address: \"${TOPO_IP6[$b]}\" }"; done
}
cat >"$cfg" <<YAML
# Written by tests/e2e/ipv6_test.sh
dataplane:
  workers: 1
  eal: [$(e2e_eal_list)]
  ports:
    - name: p0
      device: "net_af_packet0,iface=lb0"
      address: $TOPO_LB_IP/$TOPO_PREFIXLEN
      address6: "$TOPO_LB_IP6/$TOPO_PREFIXLEN6"
      mtu: 1500
  flow_table: { capacity: 65536, tcp_timeout: 300s, udp_timeout: 30s }
metrics: { listen: 127.0.0.1:19753 }
control: { socket: $tmp/sluice.sock }
services:
  - name: web6-dr
    vip: "$TOPO_VIP6"
    port: 80
    protocol: tcp
    forwarding: dr
    health_check: { type: none }
    backends:
$(backends6)
  - name: web6-tunnel
    vip: "$TOPO_VIP6_TUNNEL"
    port: 80
    protocol: tcp
    forwarding: tunnel
    health_check: { type: none }
    backends:
$(backends6)
  - name: web4-over6
    vip: $TOPO_VIP
    port: 80
    protocol: tcp
    forwarding: tunnel
    health_check: { type: none }
    backends:
$(backends6)
YAML
e2e_start_sluice

step "1. ping the VIPs and the port's addresses from the client (ICMPv6 echo, ND)"
e2e_ping "$TOPO_VIP6" "$TOPO_VIP6_TUNNEL" "$TOPO_LB_IP6" "$TOPO_VIP" "$TOPO_LB_IP"
for a in "$TOPO_VIP6" "$TOPO_VIP6_TUNNEL" "$TOPO_LB_IP6"; do
  n=$(in_client ip -6 neigh show "$a" dev eth0)
  echo "  client's neighbour entry: $n"
  if grep -q "lladdr ${TOPO_MAC[lb]}" <<<"$n"; then pass "ND: $a is at Sluice's MAC ${TOPO_MAC[lb]}"; else
    fail "ND: the client's entry for $a is '$n', want lladdr ${TOPO_MAC[lb]}"
  fi
done

n=1
for svc in "dr $TOPO_VIP6" "tunnel $TOPO_VIP6_TUNNEL" "ip4-in-ip6 $TOPO_VIP"; do
  read -r mode vip <<<"$svc"
  n=$((n + 1))
  step "$n. $mode: 100 requests, each a new connection, to $(e2e_url "$vip" /)"
  e2e_burst "$(e2e_url "$vip" /)" 100 10 40
  if [[ $vip == *:* ]]; then
    local_re="\[$(e2e_re "$vip")\]:80" peer_re="\[$(e2e_re "$TOPO_CLIENT_IP6")\]"
    peer=$TOPO_CLIENT_IP6
  else
    local_re="$(e2e_re "$vip"):80" peer_re=$(e2e_re "$TOPO_CLIENT_IP")
    peer=$TOPO_CLIENT_IP
  fi
  e2e_whoami "$(e2e_url "$vip" /whoami)" "^backend=b[123] local=$local_re peer=$peer_re:[0-9]+$" \
    "$mode: local is $vip port 80, peer is $peer"
done

step "$((n + 1)). the backends' decapsulators"
sleep 0.5 # decap.py writes its counters at most every 0.2 s
e2e_decap_check "${TOPO_BACKENDS[@]}"
for b in "${TOPO_BACKENDS[@]}"; do
  six=$(topo_decap_count "$tmp" "$b" ip6ip6)
  four=$(topo_decap_count "$tmp" "$b" ip4ip6)
  if [ "$six" -gt 0 ] && [ "$four" -gt 0 ] && [ "$(topo_decap_count "$tmp" "$b" ipip)" -eq 0 ]; then
    pass "$b: $six IPv6-in-IPv6 and $four IPv4-in-IPv6 packets (no IPv4 outer header)"
  else
    fail "$b: $(topo_decap_stats "$tmp" "$b") (want ip6ip6 > 0, ip4ip6 > 0, ipip 0)"
  fi
done

step "$((n + 2)). SIGTERM"
e2e_stop_and_account 300
exit 0
