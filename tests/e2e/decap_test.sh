#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317  # (functions called from traps)
# Tests the tests' tunnel endpoint, lib/decap.py, without Sluice: the kernel here has no
# ipip or ip6_tunnel module, so tunnel-mode backends decapsulate in user space, and the
# tunnel tests (tunnel, ipv6, gateway, pmtu) are only as good as this. Plan "decap"
# (README.md): a client and one backend b1 on one bridge; the client plays the load
# balancer with lib/tunnel_tool.py. Run as root:
#
#   tests/e2e/decap_test.sh            (an argument, the sluice binary, is ignored)
#
# Checks:
#  1. hand-built tunnelled packets - IPv4-in-IPv4 (whole, IP_HDRINCL), IPv6-in-IPv6 and
#     IPv4-in-IPv6 - each carrying an ICMP echo request and a TCP SYN from the client to
#     the VIP, from the LB's address: b1's kernel answers the client directly (echo
#     reply, SYN-ACK, seen by a raw socket in the client), and decap.py counts them;
#  2. the same from another outer source: dropped, no answer, counted as wrong_source;
#  3. real TCP through each kind of tunnel (tunnel_tool.py encap: the client routes the
#     VIP into a TUN device and encapsulates): /whoami shows local=VIP:80 and
#     peer=client, a 1 MiB download and a 1 MiB upload complete, and decap.py received
#     every packet the encapsulator sent;
#  4. SIGTERM: decap.py exits 0, prints its counters, and its TUN device is gone.
# Exit 0 pass, 1 fail, 77 skipped (not root). SLUICE_E2E_PREFIX (default sdc-).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
E2E_NEEDS_SLUICE=0
source "$here/lib/harness.sh"
e2e_init decap_test sdc- decap

tool() { in_client timeout "$1" "$TOPO_PYTHON" "$here/lib/tunnel_tool.py" "${@:2}"; }
count() { topo_decap_count "$tmp" b1 "$1"; }
# wait_stats: decap.py rewrites its stats at most every 0.2 s.
wait_stats() { sleep 0.6; }

encap_pid=""
stop_encap() {
  [ -n "$encap_pid" ] || return 0
  kill -TERM "$encap_pid" 2>/dev/null
  wait "$encap_pid" 2>/dev/null
  encap_pid=""
}

e2e_topology
b1=${TOPO_IP[b1]}
b1_6=${TOPO_IP6[b1]}
# The client sends as if it were the LB: the LB's addresses are the outer sources.
in_client ip addr add "$TOPO_LB_IP/$TOPO_PREFIXLEN" dev eth0 || die "client: LB address"
in_client ip -6 addr add "$TOPO_LB_IP6/$TOPO_PREFIXLEN6" dev eth0 nodad || die "client: LB address6"
# Answers come back on eth0 from the VIP, which step 3 routes into a TUN device.
in_client sysctl -q -w net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0 ||
  die "client: rp_filter"

step "1. hand-built tunnelled packets: b1's kernel answers the client directly"
for mode in ipip ip6ip6 ip4ip6; do
  case $mode in
    ipip) outer=(--outer-src "$TOPO_LB_IP" --outer-dst "$b1") ;;
    *) outer=(--outer-src "$TOPO_LB_IP6" --outer-dst "$b1_6") ;;
  esac
  case $mode in
    ip6ip6) inner=(--inner-src "$TOPO_CLIENT_IP6" --inner-dst "$TOPO_VIP6") ;;
    *) inner=(--inner-src "$TOPO_CLIENT_IP" --inner-dst "$TOPO_VIP") ;;
  esac
  for what in icmp tcp; do
    if out=$(tool 10 probe "$mode" "$what" "${outer[@]}" "${inner[@]}" --timeout 3 2>&1); then
      pass "$out"
    else
      fail "$mode $what: $out"
    fi
  done
done
wait_stats
echo "  decap b1: $(topo_decap_stats "$tmp" b1)"
if [ "$(count ipip)" -ge 2 ] && [ "$(count ip6ip6)" -ge 2 ] && [ "$(count ip4ip6)" -ge 2 ] &&
  [ "$(count wrong_source)" -eq 0 ] && [ "$(count malformed)" -eq 0 ]; then
  pass "decap.py counted them: ipip $(count ipip), ip6ip6 $(count ip6ip6), ip4ip6 $(count ip4ip6)"
else
  fail "decap.py counters: $(topo_decap_stats "$tmp" b1)"
fi

step "2. the wrong outer source is dropped and counted"
before=$(count decapsulated)
if out=$(tool 10 probe ipip icmp --outer-src "$TOPO_CLIENT_IP" --outer-dst "$b1" \
  --inner-src "$TOPO_CLIENT_IP" --inner-dst "$TOPO_VIP" --timeout 2 2>&1); then
  fail "answered although the outer source was $TOPO_CLIENT_IP: $out"
else
  pass "no answer from outer source $TOPO_CLIENT_IP"
fi
wait_stats
if [ "$(count wrong_source)" -ge 1 ] && [ "$(count decapsulated)" -eq "$before" ]; then
  pass "counted as wrong_source ($(count wrong_source)), nothing decapsulated"
else
  fail "wrong source: $(topo_decap_stats "$tmp" b1)"
fi

step "3. TCP through each tunnel (the client encapsulates, decap.py on b1 decapsulates)"
for mode in ipip ip6ip6 ip4ip6; do
  case $mode in
    ipip) backend=$b1 source=$TOPO_LB_IP ;;
    *) backend=$b1_6 source=$TOPO_LB_IP6 ;;
  esac
  if [ "$mode" = ip6ip6 ]; then
    vip=$TOPO_VIP6 client=$TOPO_CLIENT_IP6 len=128 peer_re="\[$(e2e_re "$client")\]"
    local_re="\[$(e2e_re "$vip")\]:80" shown="[$vip]:80"
  else
    vip=$TOPO_VIP client=$TOPO_CLIENT_IP len=32 peer_re=$(e2e_re "$client")
    local_re="$(e2e_re "$vip"):80" shown="$vip:80"
  fi
  counter=$mode
  before=$(count "$counter")
  ip netns exec "${prefix}client" "$TOPO_PYTHON" "$here/lib/tunnel_tool.py" encap "$mode" \
    --tun enc0 --backend "$backend" --source "$source" --max-seconds 60 \
    </dev/null >"$tmp/encap-$mode.log" 2>&1 &
  encap_pid=$!
  for ((i = 0; i < 50; i++)); do
    grep -q 'encap: ready' "$tmp/encap-$mode.log" && break
    sleep 0.1
  done
  in_client ip route add "$vip/$len" dev enc0 src "$client" ||
    { stop_encap; die "$mode: cannot route $vip into enc0: $(cat "$tmp/encap-$mode.log")"; }
  e2e_whoami "$(e2e_url "$vip" /whoami)" \
    "^backend=b1 local=$local_re peer=$peer_re:[0-9]+$" \
    "$mode: /whoami shows local $shown and peer $client"
  e2e_download "$(e2e_url "$vip" '/slow?seconds=0')" 10
  out=$(client_py 20 post "$(e2e_url "$vip" /upload)" --bytes 1048576 --timeout 10 2>&1)
  echo "  $out"
  if grep -q '^status=200 .* received=1048576 sha256=match' <<<"$out"; then
    pass "$mode: 1 MiB upload arrived whole"
  else
    fail "$mode: upload: $out"
  fi
  stop_encap
  sent=$(sed -n 's/^encapsulated=\([0-9]*\).*/\1/p' "$tmp/encap-$mode.log")
  wait_stats
  got=$(($(count "$counter") - before))
  if [ -n "$sent" ] && [ "$sent" -gt 0 ] && [ "$got" -eq "$sent" ]; then
    pass "$mode: decap.py received all $sent packets the encapsulator sent"
  else
    fail "$mode: encapsulator sent ${sent:-?}, decap.py decapsulated $got"
  fi
done
echo "  decap b1: $(topo_decap_stats "$tmp" b1)"

step "4. SIGTERM ends decap.py cleanly"
pid=${TOPO_DECAP_PID[b1]}
kill -TERM "$pid"
for ((i = 0; i < 50; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
if kill -0 "$pid" 2>/dev/null; then
  fail "decap.py still running 5 s after SIGTERM"
else
  wait "$pid"
  status=$?
  last=$(tail -n 1 "$tmp/decap-b1.log")
  echo "  its last line: $last"
  if [ "$status" -eq 0 ] && [[ $last == decapsulated=* ]]; then
    pass "decap.py exited 0 and printed its counters"
  else
    fail "decap.py exit status $status, last line '$last'"
  fi
fi
if in_node b1 ip link show decap0 >/dev/null 2>&1; then fail "decap0 still exists"; else
  pass "its TUN device decap0 is gone"
fi
exit 0
