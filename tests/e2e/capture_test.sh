#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR disable=SC2317,SC2015  # (traps; pass never fails)
# End-to-end test of what an operator sees with DPDK's own tools: the /sluice/ telemetry
# commands through the stock dpdk-telemetry.py, and packet capture with dpdk-dumpcap and
# a BPF filter. Plan "dr", prefix scap-, service "web" (dr, no health check). Run as root:
#
#   tests/e2e/capture_test.sh [PATH/TO/sluice]
#
# Sluice runs with the EAL's shared config (no --in-memory: dpdk-dumpcap is a secondary
# process) on a private hugetlbfs mount ($tmp/huge, --huge-dir) under --file-prefix
# sluice-scap. First a run with the harness's --in-memory: the log says capture is off,
# telemetry answers all the same, no hugepage file. Then with shared config: the log says
# capture is on; dpdk-telemetry.py -f sluice-scap lists
# services web and dns, web's three backends up (10.99.0.11:80 ...), table generation and
# a successful start-up load, an unknown service answers null; dpdk-dumpcap -i
# net_af_packet0 -f 'udp port 5353 and host CLIENT' -c 10 while the client pings the VIP
# (answered by Sluice), fetches from web (TCP) and sends 5 datagrams to dns: tcpdump -r
# finds exactly 10 packets, all matching the filter (each datagram on RX and TX), no ICMP,
# no TCP; after the traffic the telemetry counters (rx/tx, drops, service and backend
# packets and flows) match the traffic; a reload of a broken file shows in /sluice/status
# (last_reload_successful 0, reloads_failed 1, the FILE:LINE:COLUMN error, the
# generation unchanged); SIGTERM and accounting; Sluice removed its hugepage files. Cleanup (also on failure): dumpcap, the hugetlbfs mount,
# /var/run/dpdk/sluice-scap, the namespaces.
# Needs dpdk-dev (dpdk-dumpcap, dpdk-telemetry.py) and tcpdump. Exit 0 pass, 1 fail, 77
# skipped. Environment as for dr_test.sh (SLUICE_E2E_MEMORY=no-huge skips: capture needs
# hugepages).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/lib/harness.sh"
if [ "${SLUICE_E2E_MEMORY:-}" = no-huge ]; then
  echo "SKIP: capture_test needs hugepages (dpdk-dumpcap maps Sluice's memory)"
  exit 77
fi
e2e_init capture_test scap- dr "$@"
dumpcap=$(command -v dpdk-dumpcap) || die "no dpdk-dumpcap (apt-get install dpdk-dev)"
telemetry_py=$(command -v dpdk-telemetry.py) || die "no dpdk-telemetry.py (apt-get install dpdk-dev)"
command -v tcpdump >/dev/null || die "no tcpdump"
[ "$HP_MODE" = hugepages ] || die "no hugepages to be had (capture needs them)"

metrics_port=19771
huge=$tmp/huge
dumpcap_pid=""
capture=$tmp/capture.pcapng

# Called by the harness's cleanup after Sluice has stopped: dumpcap, then the hugepage
# files (Sluice removes its own on a clean stop; not after SIGKILL) and the mount.
e2e_test_cleanup() {
  if [ -n "$dumpcap_pid" ]; then
    kill -TERM "$dumpcap_pid" 2>/dev/null
    sleep 0.5
    kill -KILL "$dumpcap_pid" 2>/dev/null
    wait "$dumpcap_pid" 2>/dev/null
    dumpcap_pid=""
  fi
  if mountpoint -q "$huge"; then
    rm -f "$huge"/* 2>/dev/null
    umount "$huge" || echo "cannot unmount $huge"
  fi
}

# telemetry CMD...: the answers of dpdk-telemetry.py, one JSON document per line.
telemetry() { printf '%s\n' "$@" | timeout 10 "$telemetry_py" -f "$eal_prefix" 2>&1; }
# tel CMD EXPR: EXPR (Python, over `v`, the command's value) of one answer.
tel() {
  telemetry "$1" | "$TOPO_PYTHON" -c '
import json, sys
doc = json.loads(sys.stdin.readline())
v = doc[sys.argv[1].split(",")[0]]
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}
# check WHAT VALUE EXPECTED: pass if VALUE = EXPECTED.
check() { [ "$2" = "$3" ] && pass "$1: $2" || fail "$1: '$2' (want '$3')"; }

e2e_topology

step "private hugetlbfs for the shared-config EAL"
# A run killed with SIGKILL leaves its mount (the harness has emptied $tmp around it).
if mountpoint -q "$huge"; then rm -f "$huge"/*; umount "$huge"; fi
mkdir -p "$huge"
mount -t hugetlbfs -o pagesize=2M nodev "$huge" || die "cannot mount hugetlbfs on $huge"
pass "hugetlbfs on $huge"
e2e_web_config dr "$metrics_port"
# The capture's test flow: UDP datagrams to a second service. A backend has no listener
# on 5353 and answers with ICMP port unreachable straight to the client (DR), so every
# datagram crosses Sluice's port exactly twice (RX from the client, TX to the backend).
cat >>"$cfg" <<YAML
  - name: dns
    vip: $TOPO_VIP
    port: 5353
    protocol: udp
    forwarding: dr
    health_check: { type: none }
    backends:
      - { address: ${TOPO_IP[b1]} }
YAML

step "0. with the harness's --in-memory: telemetry works, capture is off"
e2e_start_sluice
grep -q "sluice: packet capture: off (the EAL runs with --in-memory; docs/observability.md)" \
  "$tmp/sluice.log" && pass "log: packet capture off (--in-memory)" ||
  fail "log does not say packet capture is off for --in-memory"
check "/sluice/services (--in-memory)" "$(tel /sluice/services 'sorted(v)')" "['dns', 'web']"
check "hugepage files on $huge (--in-memory)" "$(hp_files | grep -c "^$huge/")" 0
stop_sluice 10
check "sluice exit status" "$sluice_status" 0
# e2e_start_sluice waits for 'ready' in this file: not the first run's.
mv "$tmp/sluice.log" "$tmp/sluice-in-memory.log"

step "restart with shared config"
# Shared config: the harness's --in-memory (or --no-shconf) would rule dpdk-dumpcap out.
sed -i "s|^  eal: \[.*\]|  eal: [\"--file-prefix=$eal_prefix\", \"--huge-dir=$huge\"]|" "$cfg"
grep -q -- "--huge-dir=$huge" "$cfg" || die "could not set dataplane.eal in $cfg"
e2e_start_sluice
grep 'packet capture\|telemetry' "$tmp/sluice.log" | sed 's/^/  | /'
grep -q "sluice: packet capture: on (dpdk-dumpcap --file-prefix=$eal_prefix " "$tmp/sluice.log" &&
  pass "log: packet capture on" || fail "log does not say packet capture is on"
[ -S "/var/run/dpdk/$eal_prefix/dpdk_telemetry.v2" ] && pass "telemetry socket exists" ||
  fail "no /var/run/dpdk/$eal_prefix/dpdk_telemetry.v2"
n=$(hp_files | grep -c "^$huge/${eal_prefix}map_")
[ "$n" -gt 0 ] && pass "$n hugepage files of $eal_prefix on $huge" ||
  fail "no hugepage files on $huge (is the EAL sharing its memory?)"

step "1. telemetry before traffic (dpdk-telemetry.py -f $eal_prefix)"
telemetry /sluice/services /sluice/status "/sluice/service,web" | sed 's/^/  | /'
check "/sluice/services" "$(tel /sluice/services 'sorted(v)')" "['dns', 'web']"
check "/sluice/status last_reload_successful" "$(tel /sluice/status 'v["last_reload_successful"]')" 1
g=$(tel /sluice/status 'v["table_generation"]')
[ "$g" -ge 1 ] 2>/dev/null && pass "/sluice/status table_generation $g" ||
  fail "/sluice/status table_generation '$g'"
check "/sluice/status workers" "$(tel /sluice/status 'len(v["worker_table_generation"])')" 1
# backend_X[i] belongs to backends[i].
bval() { tel /sluice/service,web "v['backend_$2'][v['backends'].index('$1')]"; }
for b in "${TOPO_BACKENDS[@]}"; do
  a=${TOPO_IP[$b]}:80
  check "/sluice/service,web $a up/weight/draining/serving" \
    "$(bval "$a" up) $(bval "$a" weight) $(bval "$a" draining) $(bval "$a" serving)" "1 100 0 1"
done
check "/sluice/service,web vip" "$(tel /sluice/service,web 'v["vip"]')" "$TOPO_VIP:80"
check "/sluice/service,nosuch" "$(tel /sluice/service,nosuch 'v')" None
check "/help,/sluice/stats" \
  "$(telemetry /help,/sluice/stats | grep -c 'rx/tx totals, drops by reason')" 1

step "2. dpdk-dumpcap -c 10 -f 'udp port 5353 and host $TOPO_CLIENT_IP'"
filter="udp port 5353 and host $TOPO_CLIENT_IP"
# -p: no promiscuous mode (a secondary cannot switch af_packet's; Sluice's port needs none).
# Line-buffered, so that "Capturing on" shows when capture is enabled, not at exit.
stdbuf -oL "$dumpcap" --file-prefix="$eal_prefix" -i net_af_packet0 -p -f "$filter" -c 10 \
  -w "$capture" >"$tmp/dumpcap.log" 2>&1 &
dumpcap_pid=$!
# "Packets captured:" comes from its capture loop, which starts once capture is enabled.
attached() {
  grep -q "Capturing on 'net_af_packet0'" "$tmp/dumpcap.log" &&
    grep -q "Packets captured:" "$tmp/dumpcap.log"
}
if e2e_wait 20 attached; then pass "dumpcap attached to sluice"; else
  show_log "$tmp/dumpcap.log"
  die "dumpcap did not start capturing within 20 s"
fi
# Through the same port, from the same client, not matching the filter: ICMP echo (answered
# by Sluice) and TCP to the web service.
e2e_ping "$TOPO_VIP"
e2e_burst "http://$TOPO_VIP/" 10 0 30
# send_udp N: N datagrams to the dns service, 0.1 s apart.
send_udp() {
  in_client timeout 10 "$TOPO_PYTHON" -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[2])):
    s.sendto(b"capture test %d" % i, (sys.argv[1], 5353))
    time.sleep(0.1)' "$TOPO_VIP" "$1"
}
# The test flow: 5 datagrams = 10 matching packets. dpdk-dumpcap -c stops after the ring
# burst that reaches the count, so exactly 10 are written only if no more match: more
# come only after it has stopped.
send_udp 5 && pass "5 datagrams to $TOPO_VIP:5353 sent" || fail "the client could not send"
finished() { ! kill -0 "$dumpcap_pid" 2>/dev/null; }
if e2e_wait 20 finished; then
  wait "$dumpcap_pid"
  status=$?
  dumpcap_pid=""
  check "dumpcap exit status (stopped by -c 10)" "$status" 0
else
  fail "dumpcap still running 20 s after the test flow"
fi
send_udp 5 >/dev/null
sed 's/^/  | /' "$tmp/dumpcap.log"
tcpdump -n -r "$capture" 2>/dev/null | sed 's/^/  | /'
check "packets in $capture" "$(tcpdump -n -r "$capture" 2>/dev/null | wc -l)" 10
check "packets matching '$filter'" "$(tcpdump -n -r "$capture" "$filter" 2>/dev/null | wc -l)" 10
check "of them to $TOPO_VIP:5353 from the client" \
  "$(tcpdump -n -r "$capture" "src host $TOPO_CLIENT_IP and dst host $TOPO_VIP and udp dst port 5353" 2>/dev/null | wc -l)" 10
check "ICMP packets" "$(tcpdump -n -r "$capture" icmp 2>/dev/null | wc -l)" 0
check "TCP packets" "$(tcpdump -n -r "$capture" tcp 2>/dev/null | wc -l)" 0
# Each datagram once as received and once as sent to b1: 5 distinct payloads, twice each.
check "distinct datagrams (each seen on RX and TX)" \
  "$(tcpdump -n -r "$capture" -x 2>/dev/null | "$TOPO_PYTHON" -c '
import re, sys
pkts = re.split(r"\n(?=\S)", sys.stdin.read().strip())
print(len(set(re.sub(r"^\S+ ", "", p) for p in pkts)))')" 5

step "3. telemetry after traffic"
telemetry /sluice/stats "/sluice/service,web" | sed 's/^/  | /'
v=$(tel /sluice/stats 'v["rx_packets"]')
[ "$v" -gt 20 ] 2>/dev/null && pass "/sluice/stats rx_packets $v" || fail "/sluice/stats rx_packets '$v'"
v=$(tel /sluice/stats 'v["tx_packets"]')
[ "$v" -gt 20 ] 2>/dev/null && pass "/sluice/stats tx_packets $v" || fail "/sluice/stats tx_packets '$v'"
check "/sluice/stats drops_* add up to drops_total" \
  "$(tel /sluice/stats 'sum(n for k, n in v.items() if k.startswith("drops_") and k != "drops_total") == v["drops_total"]')" True
check "/sluice/service,web new_flows" "$(tel /sluice/service,web 'v["new_flows"]')" 10
# Flows leave the table only when they expire (tcp_timeout): all 10 are still there.
check "/sluice/service,web active_flows" "$(tel /sluice/service,web 'v["active_flows"]')" 10
check "/sluice/service,web backend_active_flows add up" \
  "$(tel /sluice/service,web 'sum(v["backend_active_flows"])')" 10
v=$(tel /sluice/service,web 'v["packets"]')
[ "$v" -ge 50 ] 2>/dev/null && pass "/sluice/service,web packets $v" ||
  fail "/sluice/service,web packets '$v' (want >= 50: 10 connections)"
check "/sluice/service,dns packets/backend_packets" \
  "$(tel /sluice/service,dns '"%d %s" % (v["packets"], v["backend_packets"])')" "10 [10]"
for b in "${TOPO_BACKENDS[@]}"; do
  a=${TOPO_IP[$b]}:80
  check "/sluice/service,web $a new_flows (= served by $b)" "$(bval "$a" new_flows)" \
    "${E2E_SERVED[$b]}"
done

step "4. a rejected reload, as /sluice/status shows it"
cp "$cfg" "$tmp/good.yaml"
sed -i 's/^    protocol: udp$/    protocol: udp\n    wieght: 3/' "$cfg" # an unknown key
sluicectl reload >/dev/null 2>&1
check "sluicectl reload of the broken file: exit status" "$?" 1
telemetry /sluice/status | sed 's/^/  | /'
check "/sluice/status after it" \
  "$(tel /sluice/status '"%d %d %d" % (v["last_reload_successful"], v["reloads_failed"], v["table_generation"])')" \
  "0 1 $g"
e=$(tel /sluice/status 'v["last_reload_error"]')
[[ $e == "$cfg:"*"wieght"* ]] && pass "last_reload_error: $e" ||
  fail "last_reload_error '$e' (want $cfg:LINE:COLUMN: ... wieght ...)"
cp "$tmp/good.yaml" "$cfg"

step "5. stop"
e2e_stop_and_account 50
grep 'hugepage files' "$tmp/sluice.log" | sed 's/^/  | /'
n=$(hp_files | grep -c "^$huge/")
check "hugepage files left on $huge after the stop" "$n" 0
exit 0
