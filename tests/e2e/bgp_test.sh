#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015  # (traps; pass never fails)
# End-to-end test of health-gated VIP announcement over BGP (docs/bgp.md): Debian's ExaBGP
# on each LB, running deploy/bgp/sluice-announce.py, and Debian's BIRD 2 as the router.
# Plan "dr" plus two namespaces of its own, prefix sbg-. Run as root:
#
#   tests/e2e/bgp_test.sh [PATH/TO/sluice]   (sluicectl is taken from the same directory)
#
#   PREFIXrt   the router: eth0 on br-data (10.99.0.1), mgmt0 on br-mgmt (10.98.0.1);
#              BIRD 2, AS 65000, kernel protocol with `merge paths` (ECMP routes)
#   PREFIXlb   Sluice 1 (DPDK net_af_packet on lb0, 10.99.0.2) + ExaBGP, AS 65001, BGP
#              over mgmt0 (10.98.0.2), next hop = Sluice's data address 10.99.0.2
#   PREFIXlb2  the same for Sluice 2 (10.99.0.3, mgmt 10.98.0.3)
#
# Checks: the example configs in deploy/bgp/ parse (bird -p, exabgp --test); ExaBGP's session comes up with no Sluice running and the router has no VIP
# route; Sluice 1 starts: `sluicectl announce` says "VIP up" and the router learns
# VIP/32 via 10.99.0.2 (time printed); a GET from the router to the VIP follows that
# route through Sluice to a backend; all three backends' servers are stopped: announce
# says "VIP down" and the route is withdrawn within fall x interval + timeout + poll +
# 2 s; they are started again: the route returns within rise x interval + poll + 2 s;
# Sluice 2 and its ExaBGP start: the router installs one route with two next hops
# (ECMP); ExaBGP 2 stopped (draining an LB host): one next hop within 2 s, back to two
# when it restarts; Sluice 2 killed (SIGKILL): back to one next hop within poll +
# sluicectl timeout + 2 s;
# Sluice 1 stopped (SIGTERM): the route is gone within poll + 2 s. Every wait is
# bounded; every namespace, Sluice, ExaBGP and BIRD process is removed on any exit.
# Exit 0 pass, 1 fail, 77 skipped. Environment as for dr_test.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
e2e_init bgp_test sbg- dr "$@"
[ -x "$sluicectl_bin" ] || die "no sluicectl next to sluice ($sluicectl_bin)"
for tool in exabgp bird birdc; do
  command -v "$tool" >/dev/null || die "no $tool (deploy/install-deps.sh installs exabgp, bird2)"
done
announce_py=$E2E_ROOT/deploy/bgp/sluice-announce.py
bird -p -c "$E2E_ROOT/deploy/bgp/bird-router.conf" &&
  pass "deploy/bgp/bird-router.conf: bird -p accepts it" || fail "bird -p rejects deploy/bgp/bird-router.conf"
env exabgp_daemon_user=root exabgp_daemon_drop=false timeout 20 exabgp --test \
  "$E2E_ROOT/deploy/bgp/exabgp.conf" >"$tmp/exabgp-check.log" 2>&1 &&
  pass "deploy/bgp/exabgp.conf: exabgp --test accepts it" ||
  fail "exabgp --test rejects deploy/bgp/exabgp.conf: $(tail -n 5 "$tmp/exabgp-check.log")"

metrics_port=19781 metrics_port2=19782
interval_ms=500 timeout_ms=300 rise=2 fall=2 poll_s=1 ctl_timeout_s=2
E2E_HEALTH_CHECK="{ type: http, path: /healthz, interval: ${interval_ms}ms, timeout: ${timeout_ms}ms, rise: $rise, fall: $fall }"
# The bounds (docs/bgp.md): health decides, the script sees it at its next poll, and a BGP
# UPDATE reaches BIRD and the kernel in milliseconds; 2 s of margin for a loaded machine.
withdraw_limit_ms=$((fall * interval_ms + timeout_ms + poll_s * 1000 + 2000))
announce_limit_ms=$((rise * interval_ms + poll_s * 1000 + 2000))
stop_limit_ms=$((poll_s * 1000 + 2000))
# A killed (or hung) daemon: until the process is gone its socket may still accept a
# connection that is never answered; the script gives sluicectl ctl_timeout_s.
kill_limit_ms=$((poll_s * 1000 + ctl_timeout_s * 1000 + 2000))
vip=$TOPO_VIP
rt_ip=10.99.0.1 rt_mgmt=10.98.0.1
lb2_ip=10.99.0.3 lb2_mgmt=10.98.0.3
cfg2=$tmp/sluice2.yaml ctl_socket2=$tmp/sluice2.sock
sluice2_pid="" bird_pid=""
declare -A exabgp_pid=()

# --- helpers

# The VIP's route in the router's kernel: "0" (none), else its next hops, sorted, e.g.
# "10.99.0.2" or "10.99.0.2 10.99.0.3".
rt_route() { ip -n "${prefix}rt" -4 route show "$vip/32" 2>/dev/null; }
rt_nexthops() {
  local hops
  hops=$(rt_route | grep -o 'via [0-9.]*' | awk '{print $2}' | sort | tr '\n' ' ')
  echo "${hops% }"
}
rt_has() { [ "$(rt_nexthops)" = "$1" ]; }
# mark: the moment an action starts (the clock `within` measures from).
t_mark=0
mark() { t_mark=$(date +%s%N); }
# within NAME LIMIT_MS WANT: waits (LIMIT_MS + 5 s at most) until the router's next hops
# are WANT ("" = no route), then checks the time since `mark` against LIMIT_MS and
# prints it ("TIME NAME S").
within() {
  local name=$1 limit=$2 want=$3 ms bound took
  bound=$(awk -v m="$limit" 'BEGIN {printf "%.1f", m / 1000}')
  if e2e_wait $((limit / 1000 + 5)) rt_has "$want"; then
    ms=$((($(date +%s%N) - t_mark) / 1000000))
    took=$(awk -v m="$ms" 'BEGIN {printf "%.1f", m / 1000}')
    if [ "$ms" -le "$limit" ]; then
      pass "$name: next hops '${want:-none}' after $took s (bound $bound s)"
    else
      fail "$name: next hops '${want:-none}' only after $took s (bound $bound s)"
    fi
    echo "TIME $name ${took}s"
  else
    fail "$name: router's next hops '$(rt_nexthops)' after ${E2E_WAITED} s (want '${want:-none}')"
    rt_route | sed 's/^/  | /'
  fi
}
birdc_rt() { birdc -s "$tmp/bird.ctl" "$@" 2>&1; }
bgp_state() { birdc_rt show protocols "$1" | awk -v p="$1" '$1 == p {print $6}'; }
established() { [ "$(bgp_state "$1")" = Established ]; }
announce_line() { "$sluicectl_bin" --socket "$1" announce 2>/dev/null; }
# rt_get: GET http://VIP/ from the router (through whatever its route says); the body.
rt_get() {
  in_node rt timeout 5 "$TOPO_PYTHON" "$E2E_LIB_DIR/client.py" get "http://$vip/" \
    --timeout 2 2>&1 | tail -n1
}

# start_exabgp N NS LOCAL NEXT_HOP SOCKET: ExaBGP in namespace NS, peering with the router
# from LOCAL, running sluice-announce.py against SOCKET. Log $tmp/exabgpN.log.
start_exabgp() {
  local n=$1 ns=$2 local_ip=$3 next_hop=$4 socket=$5
  cat >"$tmp/exabgp$n.conf" <<EOF
# Written by tests/e2e/bgp_test.sh (deploy/bgp/exabgp.conf is the commented example)
process sluice-announce {
  run $TOPO_PYTHON $announce_py --sluicectl $sluicectl_bin --socket $socket --next-hop $next_hop --poll $poll_s --timeout $ctl_timeout_s;
  encoder text;
}
neighbor $rt_mgmt {
  router-id $local_ip;
  local-address $local_ip;
  local-as 65001;
  peer-as 65000;
  hold-time 9;
  api { processes [ sluice-announce ]; }
}
EOF
  # As root, without dropping to the exabgp user (the control socket is root's 0600),
  # and with no CLI named pipes.
  env exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_api_cli=false \
    exabgp_log_destination=stdout ip netns exec "$ns" exabgp "$tmp/exabgp$n.conf" \
    </dev/null >>"$tmp/exabgp$n.log" 2>&1 &
  exabgp_pid[$n]=$!
}

e2e_test_cleanup() {
  local n left
  e2e_stop_pid "$sluice2_pid" 5
  sluice2_pid=""
  for n in "${!exabgp_pid[@]}"; do e2e_stop_pid "${exabgp_pid[$n]}" 5; done
  exabgp_pid=()
  e2e_stop_pid "$bird_pid" 5
  bird_pid=""
  rm -rf "/var/run/dpdk/$eal_prefix-2"
  # Everything this run started names a file in $tmp on its command line.
  if left=$(pgrep -af -- "$tmp/"); then
    fail "processes left: $left"
    # shellcheck disable=SC2046
    kill -KILL $(pgrep -f -- "$tmp/") 2>/dev/null
  else
    pass "no sluice, exabgp, sluice-announce.py or bird process of this run left"
  fi
  if [ "$failed" -gt 0 ]; then
    for f in "$tmp"/exabgp*.log "$tmp/bird.log" "$tmp/sluice2.log"; do
      [ -s "$f" ] || continue
      echo
      echo "$(basename "$f"):"
      show_log "$f"
    done
  fi
}

# --- topology: the plan's, plus the router and the second LB

e2e_topology
step "the router ($rt_ip, mgmt $rt_mgmt) and a second LB namespace ($lb2_ip, mgmt $lb2_mgmt)"
for node in rt lb2; do
  ip netns add "$prefix$node" || die "cannot add namespace $prefix$node"
  ip -n "$prefix$node" link set lo up
  ip netns exec "$prefix$node" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
    net.ipv6.conf.default.disable_ipv6=1 >/dev/null
done
_topo_link "$prefix" rt eth0 br-data d-rt 02:99:00:00:00:01 || die "router eth0"
_topo_link "$prefix" rt mgmt0 br-mgmt m-rt 02:98:00:00:00:01 || die "router mgmt0"
ip -n "${prefix}rt" addr add "$rt_ip/24" dev eth0
ip -n "${prefix}rt" addr add "$rt_mgmt/24" dev mgmt0
ip -n "${prefix}rt" link set eth0 up
ip -n "${prefix}rt" link set mgmt0 up
# The second LB as topo_up builds the first: lb0 for DPDK (no kernel address, no ARP),
# mgmt0 for health checks (host routes to the backends' data addresses) and BGP.
_topo_link "$prefix" lb2 lb0 br-data d-lb2 02:99:00:00:00:03 || die "lb2 lb0"
_topo_link "$prefix" lb2 mgmt0 br-mgmt m-lb2 02:98:00:00:00:03 || die "lb2 mgmt0"
ip netns exec "${prefix}lb2" sysctl -q -w net.ipv4.conf.all.arp_ignore=1 >/dev/null
ip -n "${prefix}lb2" link set lb0 arp off up
ip -n "${prefix}lb2" addr add "$lb2_mgmt/24" dev mgmt0
ip -n "${prefix}lb2" link set mgmt0 up
for b in "${TOPO_BACKENDS[@]}"; do
  ip -n "${prefix}lb2" route add "${TOPO_IP[$b]}/32" via "${TOPO_MGMT_IP[$b]}" dev mgmt0 ||
    die "lb2: route to ${TOPO_IP[$b]}"
done
in_node rt ping -n -q -c 1 -W 2 "$TOPO_MGMT_LB_IP" >/dev/null && in_node rt ping -n -q -c 1 -W 2 \
  "$lb2_mgmt" >/dev/null && pass "router reaches both LBs' mgmt0" || die "router cannot reach the LBs"

step "BIRD 2 on the router: AS 65000, peers 10.98.0.2 and $lb2_mgmt (AS 65001), merge paths"
cat >"$tmp/bird.conf" <<EOF
# Written by tests/e2e/bgp_test.sh (deploy/bgp/bird-router.conf is the commented example)
router id $rt_mgmt;
protocol device { scan time 10; }
protocol kernel {
  ipv4 { import none; export where source = RTS_BGP; };
  merge paths on;
}
template bgp lb {
  local $rt_mgmt as 65000;
  hold time 9;
  ipv4 { import all; export none; };
}
protocol bgp lb1 from lb { neighbor $TOPO_MGMT_LB_IP as 65001; }
protocol bgp lb2 from lb { neighbor $lb2_mgmt as 65001; }
EOF
ip netns exec "${prefix}rt" bird -f -c "$tmp/bird.conf" -s "$tmp/bird.ctl" \
  -P "$tmp/bird.pid" </dev/null >"$tmp/bird.log" 2>&1 &
bird_pid=$!
e2e_wait 5 test -S "$tmp/bird.ctl" && pass "bird running (control socket after ${E2E_WAITED} s)" ||
  die "bird did not start: $(cat "$tmp/bird.log")"

step "ExaBGP on LB 1, no Sluice yet: the session comes up, nothing is announced"
start_exabgp 1 "${prefix}lb" "$TOPO_MGMT_LB_IP" "$TOPO_LB_IP" "$ctl_socket"
e2e_wait 15 established lb1 && pass "BGP lb1 Established after ${E2E_WAITED} s" ||
  die "BGP lb1 is '$(bgp_state lb1)' after ${E2E_WAITED} s"
sleep $((poll_s * 2))
[ "$(rt_nexthops)" = "" ] && pass "no route to $vip on the router while Sluice is not running" ||
  fail "router has a route to $vip with no Sluice: $(rt_route)"
grep -q 'sluice-announce: sluice is not running' "$tmp/exabgp1.log" &&
  pass "sluice-announce.py logs 'sluice is not running'" ||
  echo "  (ExaBGP's log does not show the script's stderr)"

step "start Sluice 1: health checks bring the backends up, the VIP is announced"
e2e_web_config dr "$metrics_port"
e2e_start_sluice
mark
within "announce after sluice ready" $((rise * interval_ms + poll_s * 1000 + 3000)) "$TOPO_LB_IP"
out=$(announce_line "$ctl_socket")
[ "$out" = "$vip up" ] && pass "sluicectl announce: '$out'" || fail "sluicectl announce: '$out'"
out=$(sluicectl --json announce 2>&1)
[ "$out" = "{\"vips\":[{\"vip\":\"$vip\",\"prefix\":\"$vip/32\",\"up\":true,\"services\":1,\"serving_services\":1}]}" ] &&
  pass "sluicectl --json announce: $out" || fail "sluicectl --json announce: $out"
birdc_rt show route "$vip/32" all | sed 's/^/  | /'
rt_route | sed 's/^/  | /'
body=$(rt_get)
[[ $body == b[123] ]] && pass "GET http://$vip/ from the router (BGP route via Sluice): $body" ||
  fail "GET http://$vip/ from the router: '$body'"

step "stop every backend's server: the VIP is withdrawn (bound fall x interval + timeout + poll + 2 s)"
mark
for b in "${TOPO_BACKENDS[@]}"; do topo_stop_backend "$prefix" "$b" || fail "stop $b"; done
within "withdraw after all backends stopped" "$withdraw_limit_ms" ""
out=$(announce_line "$ctl_socket")
[ "$out" = "$vip down" ] && pass "sluicectl announce: '$out'" || fail "sluicectl announce: '$out'"
[ "$(e2e_serving web)" = 0 ] && pass "serving=0" || fail "serving=$(e2e_serving web) (want 0)"

step "start them again: the VIP returns (bound rise x interval + poll + 2 s)"
mark
for b in "${TOPO_BACKENDS[@]}"; do topo_start_backend "$prefix" "$b" "$tmp" || fail "start $b"; done
within "announce after backends back" "$announce_limit_ms" "$TOPO_LB_IP"

step "Sluice 2 and ExaBGP 2 on LB 2: ECMP, one route with two next hops"
sed -e "s|address: $TOPO_LB_IP/|address: $lb2_ip/|" -e "s|$ctl_socket|$ctl_socket2|" \
  -e "s|127.0.0.1:$metrics_port|127.0.0.1:$metrics_port2|" \
  -e "s|--file-prefix=$eal_prefix\"|--file-prefix=$eal_prefix-2\"|" "$cfg" >"$cfg2"
grep -q "address: $lb2_ip/" "$cfg2" && grep -q -- "--file-prefix=$eal_prefix-2\"" "$cfg2" ||
  die "cannot derive $cfg2 from $cfg"
"$sluice" --config "$cfg2" --check >/dev/null 2>&1 || die "sluice --check rejects $cfg2"
ip netns exec "${prefix}lb2" "$sluice" --config "$cfg2" </dev/null >"$tmp/sluice2.log" 2>&1 &
sluice2_pid=$!
e2e_wait 20 grep -qs 'sluice: ready' "$tmp/sluice2.log" &&
  pass "sluice 2 ready after ${E2E_WAITED} s" || die "sluice 2 not ready in 20 s"
start_exabgp 2 "${prefix}lb2" "$lb2_mgmt" "$lb2_ip" "$ctl_socket2"
e2e_wait 15 established lb2 && pass "BGP lb2 Established after ${E2E_WAITED} s" ||
  fail "BGP lb2 is '$(bgp_state lb2)' after ${E2E_WAITED} s"
mark
within "ECMP after LB 2 announces" "$announce_limit_ms" "$TOPO_LB_IP $lb2_ip"
rt_route | sed 's/^/  | /'
n=$(rt_route | grep -c '^[[:space:]]*nexthop via')
[ "$n" = 2 ] && pass "ip route show $vip: two nexthop lines" || fail "ip route show $vip: $n nexthop lines"
out=$(announce_line "$ctl_socket2")
[ "$out" = "$vip up" ] && pass "sluicectl announce on LB 2: '$out'" || fail "LB 2 announce: '$out'"
body=$(rt_get)
[[ $body == b[123] ]] && pass "GET http://$vip/ from the router over ECMP: $body" ||
  fail "GET http://$vip/ from the router over ECMP: '$body'"

step "drain LB 2 by stopping its ExaBGP (SIGTERM): one next hop (bound 2 s); start it again"
mark
e2e_stop_pid "${exabgp_pid[2]}" 5
unset 'exabgp_pid[2]'
within "withdraw on ExaBGP stop" 2000 "$TOPO_LB_IP"
mark
start_exabgp 2 "${prefix}lb2" "$lb2_mgmt" "$lb2_ip" "$ctl_socket2"
within "ECMP again after ExaBGP restart" 15000 "$TOPO_LB_IP $lb2_ip"

step "kill Sluice 2 (SIGKILL): its ExaBGP withdraws (bound poll + sluicectl timeout + 2 s)"
mark
kill -KILL "$sluice2_pid"
wait "$sluice2_pid" 2>/dev/null
sluice2_pid=""
within "withdraw after sluice 2 killed" "$kill_limit_ms" "$TOPO_LB_IP"
established lb2 && pass "the BGP session of LB 2 stays up (only the route went)" ||
  fail "BGP lb2 is '$(bgp_state lb2)'"

step "stop Sluice 1 (SIGTERM): the route is gone (bound poll + 2 s)"
mark
stop_sluice 10
[ "$sluice_status" = 0 ] && pass "sluice 1 exited 0 on SIGTERM" ||
  fail "sluice 1 on SIGTERM: $sluice_status"
within "withdraw after sluice 1 stopped" "$stop_limit_ms" ""
birdc_rt show protocols | sed 's/^/  | /'
exit 0
