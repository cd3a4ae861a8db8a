#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# End-to-end test of path-MTU discovery through tunnel mode (IPv4-in-IPv4): the LB's port,
# the client, the bridge and the backends all have MTU 1500, so a full-size packet from the
# client (1500 bytes, DF set: Linux TCP) no longer fits once Sluice adds the 20-byte outer
# header. Sluice must then answer the client, from the VIP, with ICMP "fragmentation
# needed" (type 3 code 4) and next-hop MTU 1480; the client's kernel caches it and resends
# smaller segments. A download only sends small packets toward the VIP (ACKs); an upload
# sends full-size ones. Plan "pmtu" (README.md: 10.106.0.0/24, prefix spmtu-). Run as root:
#
#   tests/e2e/pmtu_test.sh [PATH/TO/sluice]        (default: build/lb/sluice)
#
# Checks: the client reaches each backend directly; sluice --check; ready within 20 s;
# ping the VIP; the client's route cache is flushed and `ip route get VIP` shows no mtu;
# a 1 MiB download (GET) through the VIP completes; a 1 MiB upload (POST /upload; the
# backend answers the byte count and SHA-256) through the VIP arrives whole; afterwards
# `ip route get VIP` in the client shows "mtu 1480" (printed), the client counted an ICMP
# destination unreachable, and the largest inner packet the uploading backend's
# decapsulator received is 1480 bytes; SIGTERM: exit 0, 'sluice: stopped',
# rx + injected == tx + slow path + dropped.
# Exit 0 pass, 1 fail, 77 skipped (not root). Environment as for dr_test.sh
# (SLUICE_E2E_PREFIX, default spmtu-; SLUICE_E2E_MEMORY; SLUICE_E2E_PCAP).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init pmtu_test spmtu- pmtu "$@"

# icmp_unreach: the client's ICMP InDestUnreachs (IPv4).
icmp_unreach() {
  # shellcheck disable=SC2016  # (awk program)
  in_client awk '$1 == "Icmp:" && !h {for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next}
                 $1 == "Icmp:" {for (i = 2; i <= NF; i++) if (k[i] == "InDestUnreachs") print $i}' \
    /proc/net/snmp
}
route_get() { in_client ip route get "$TOPO_VIP" | tr -s ' \n' ' '; }

e2e_topology
mtus=""
for node in client "${TOPO_BACKENDS[@]}"; do
  mtus+="$node $(in_node "$node" cat /sys/class/net/eth0/mtu), "
done
echo "  MTUs: ${mtus}lb0 $(in_node lb cat /sys/class/net/lb0/mtu), bridge" \
  "$(in_node sw cat /sys/class/net/br-data/mtu)"

e2e_web_config tunnel 19756
e2e_start_sluice

step "1. ping the VIP"
e2e_ping "$TOPO_VIP"

step "2. a clean route cache"
in_client ip route flush cache
before=$(route_get)
echo "  ip route get $TOPO_VIP: $before"
if grep -q ' mtu ' <<<"$before"; then fail "the client already has a path MTU for $TOPO_VIP"; else
  pass "no path MTU cached for $TOPO_VIP"
fi
unreach0=$(icmp_unreach)

step "3. download 1 MiB through the VIP (small packets toward the VIP)"
e2e_download "http://$TOPO_VIP/slow?seconds=0" 20
echo "  ip route get $TOPO_VIP: $(route_get)"

step "4. upload 1 MiB through the VIP (full-size packets toward the VIP)"
out=$(client_py 40 post "http://$TOPO_VIP/upload" --bytes 1048576 --timeout 30 2>&1)
echo "  $out"
if grep -q '^status=200 .* received=1048576 sha256=match' <<<"$out"; then
  pass "1 MiB upload arrived whole"
else
  fail "upload: $out"
fi
uploader=$(sed -n 's/.*backend=\(b[0-9]\) .*/\1/p' <<<"$out")

step "5. the client learned the path MTU"
after=$(route_get)
echo "  ip route get $TOPO_VIP: $after"
if grep -q ' mtu 1480 ' <<<"$after "; then
  pass "the client caches mtu 1480 for $TOPO_VIP"
else
  fail "no 'mtu 1480' in the client's route to $TOPO_VIP: $after"
fi
unreach1=$(icmp_unreach)
echo "  client ICMP InDestUnreachs: $unreach0 -> $unreach1"
if [ "${unreach1:-0}" -gt "${unreach0:-0}" ]; then
  pass "the client received $((unreach1 - unreach0)) ICMP destination unreachable"
else
  fail "the client received no ICMP destination unreachable"
fi
sleep 0.5 # decap.py writes its counters at most every 0.2 s
# Two connections: only the backends that served them decapsulated anything.
for b in "${TOPO_BACKENDS[@]}"; do echo "  decap $b: $(topo_decap_stats "$tmp" "$b")"; done
if [ -n "$uploader" ]; then
  bad=0
  for b in "${TOPO_BACKENDS[@]}"; do
    bad=$((bad + $(topo_decap_count "$tmp" "$b" wrong_source) +
      $(topo_decap_count "$tmp" "$b" malformed) + $(topo_decap_count "$tmp" "$b" write_errors)))
  done
  if [ "$bad" -eq 0 ]; then pass "no decapsulator saw a wrong outer source or a bad packet"; else
    fail "$bad packets with a wrong outer source, malformed or unwritable"
  fi
  largest=$(topo_decap_count "$tmp" "$uploader" largest)
  if [ "$largest" -eq 1480 ]; then
    pass "$uploader (the upload) got inner packets of up to 1480 bytes: the path is used fully"
  else
    fail "$uploader (the upload): largest inner packet $largest bytes, want 1480"
  fi
fi

step "6. SIGTERM"
e2e_stop_and_account 700
exit 0
