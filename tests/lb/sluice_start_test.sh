#!/usr/bin/env bash
# Start-up failures of `sluice --config FILE`: each exits 1 with one clear line naming
# the cause, never a crash. Needs no root for the checks made before DPDK starts; the
# missing-PCI-device case starts the EAL (--no-huge) and runs when we are root.
# Usage: sluice_start_test.sh PATH/TO/sluice
set -u
sluice=$1
tmp=$(mktemp -d)
# The EAL's runtime directory under this test's own file prefix (sluice-start-test-PID:
# sluice_check_test, running in parallel, ignores prefixes that end in a PID).
trap 'rm -rf "$tmp" /var/run/dpdk/sluice-start-test-$$' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# config NAME WORKERS DEVICE EAL-LIST [METRICS-PORT [SOCKET]]: writes $tmp/NAME.yaml
config() {
  cat >"$tmp/$1.yaml" <<YAML
dataplane:
  workers: $2
  eal: $4
  ports: [{ name: p0, device: "$3", address: 10.0.0.2/24 }]
metrics: { listen: "127.0.0.1:${5:-19750}" }
control: { socket: "${6:-$tmp/sluice.sock}" }
services:
  - { name: web, vip: 10.0.0.100, port: 80, forwarding: dr, backends: [{ address: 10.0.0.11 }] }
YAML
}

# expect_failure NAME MESSAGE: sluice exits 1 within 30 s and says MESSAGE on stderr.
expect_failure() {
  timeout 30 "$sluice" --config "$tmp/$1.yaml" >"$tmp/out" 2>"$tmp/err"
  local status=$?
  [ "$status" -eq 1 ] || fail "$1: exit status $status, want 1; stderr: $(tail -3 "$tmp/err")"
  grep -qF "$2" "$tmp/err" || fail "$1: stderr lacks '$2': $(tail -3 "$tmp/err")"
}

nohuge='["--no-huge", "-m", "128", "--no-shconf", "--file-prefix", "sluice-start-test-'"$$"'"]'
# Enough to get past the ports to the route table (an LPM is 64 MiB) and beyond.
nohuge_big='["--no-huge", "-m", "640", "--no-shconf", "--file-prefix", "sluice-start-test-'"$$"'"]'

config workers 128 net_null0 "$nohuge"
expect_failure workers "sluice: cannot start: dataplane.workers: 128 workers need 129 CPUs"

config iface 1 "net_af_packet0,iface=sluice-no-such-if" "$nohuge"
expect_failure iface "sluice: cannot start: port p0: interface sluice-no-such-if"

if ! grep -qs '[1-9]' /sys/kernel/mm/hugepages/*/free_hugepages; then
  config hugepages 1 net_null0 '["--in-memory"]'
  expect_failure hugepages "sluice: cannot start: no free hugepages"
fi

if [ "$(id -u)" -eq 0 ]; then
  config pci 1 "0000:ff:1f.7" "$nohuge"
  expect_failure pci "sluice: cannot start: port p0: no DPDK device 0000:ff:1f.7"

  # The metrics port is taken (a listener held by python for the duration).
  port=$((20000 + RANDOM % 20000))
  python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(30)' "$port" &
holder=$!
sleep 0.5
config metrics 1 net_null0 "$nohuge_big" "$port"
expect_failure metrics "sluice: cannot start: metrics.listen 127.0.0.1:$port: cannot listen"
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null

  # The control socket's directory cannot exist (a file is in the way).
  touch "$tmp/not-a-dir"
  config control 1 net_null0 "$nohuge_big" "" "$tmp/not-a-dir/sluice.sock"
  expect_failure control "sluice: cannot start:"
  grep -qF "not-a-dir" "$tmp/err" || fail "control: stderr does not name the path: $(tail -3 "$tmp/err")"

fi

[ "$failures" -eq 0 ] && echo "sluice start-up failures: all checks passed"
exit $((failures > 0))
