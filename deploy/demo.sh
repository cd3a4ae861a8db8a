#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR/..
# The demo: Sluice balancing real traffic on this machine, no NIC needed.
#
#   sudo deploy/demo.sh          install, build, run the demo, tear it all down
#   sudo deploy/demo.sh --keep   ... and leave it running to look around
#   sudo deploy/demo.sh --stop   tear down a demo left running by --keep
#
# It installs the dependencies (deploy/install-deps.sh), builds Sluice if needed, validates
# deploy/demo/sluice.yaml, builds a network of namespaces (tests/e2e/lib/topology.sh with
# the prefix "sdemo-": a client, three HTTP backends, the load balancer's DPDK port),
# starts Sluice there in direct-routing mode with http health checks, waits for them to
# bring the backends in, pings the VIP, sends 200 requests from the client and shows how
# many each backend served, stops one backend's server (the checks take it out; 100
# requests go to the others) and starts it again, then shows a broken config being
# rejected. Everything it creates lives in namespaces sdemo-*, /run/sluice-demo and (if
# none were reserved) 512 hugepages, all removed at the end or by --stop.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
prefix=sdemo-
run=/run/sluice-demo
config=deploy/demo/sluice.yaml
sluice=build/lb/sluice
sluicectl_bin=build/lb/sluicectl
requests=200

mode=run
case ${1:-} in
  "") ;;
  --keep) mode=keep ;;
  --stop) mode=stop ;;
  -h | --help) sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "usage: sudo deploy/demo.sh [--keep | --stop]" >&2; exit 2 ;;
esac
if [ "$(id -u)" -ne 0 ]; then
  echo "deploy/demo.sh needs root (network namespaces, hugepages): sudo deploy/demo.sh" >&2
  exit 1
fi

say() { printf '\n== %s\n' "$*"; }
ctl() { "$sluicectl_bin" --socket /run/sluice-demo/sluice.sock "$@"; }
# wait_serving N: until `sluicectl list` says serving=N (10 s at most); prints the list.
wait_serving() {
  local i
  for ((i = 0; i < 100; i++)); do
    ctl list 2>/dev/null | grep -q "serving=$1\b" && break
    sleep 0.1
  done
  ctl list | sed 's/^/  /'
}
# burst N: N requests from the client, each a new connection; prints who served them.
burst() {
  local n=$1 out b count bar
  out=$(ip netns exec "${prefix}client" timeout 60 "$TOPO_PYTHON" tests/e2e/lib/client.py \
    burst "http://$TOPO_VIP/" "$n" --timeout 2 --deadline 40 || true)
  printf '  %-8s %-11s %8s\n' backend address served
  for b in "${TOPO_BACKENDS[@]}"; do
    count=$(awk -v b="$b" '$1 == "served" && $2 == b {print $3}' <<<"$out")
    count=${count:-0}
    bar=$(printf '%*s' $((count * 40 / n)) '' | tr ' ' '#')
    printf '  %-8s %-11s %8d  %3d%%  %s\n' "$b" "${TOPO_IP[$b]}" "$count" $((count * 100 / n)) "$bar"
  done
  grep -E '^(total|error)' <<<"$out" | sed 's/^/  /'
}

# stop_demo: SIGTERM to Sluice (its summary goes to the log), then every process and
# namespace of the demo, then the hugepages it reserved. Idempotent.
stop_demo() (
  set +e
  source "$root/tests/e2e/lib/topology.sh"
  pids=$(ip netns pids "${prefix}lb" 2>/dev/null)
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    for ((i = 0; i < 100; i++)); do
      [ -z "$(ip netns pids "${prefix}lb" 2>/dev/null)" ] && break
      sleep 0.1
    done
  fi
  topo_down "$prefix"
  hp_load "$run/hugepages.state" 2>/dev/null && hp_restore
  rm -rf "/var/run/dpdk/sluice-demo"
  [ -f "$run/sluice.log" ] && cp "$run/sluice.log" /run/sluice-demo.log
  rm -rf "$run"
  exit 0
)

if [ "$mode" = stop ]; then
  if ! ip netns list 2>/dev/null | grep -q "^$prefix" && [ ! -d "$run" ]; then
    echo "no demo is running"
    exit 0
  fi
  stop_demo
  echo "demo stopped; Sluice's log is in /run/sluice-demo.log"
  exit 0
fi

deploy/install-deps.sh
source tests/e2e/lib/topology.sh
topo_require_tools

build_log=$(mktemp)
if [ ! -f build/build.ninja ]; then
  echo "building (the first time takes a few minutes)"
  meson setup build >"$build_log" 2>&1 || { tail -n 30 "$build_log"; exit 1; }
fi
ninja -C build lb/sluice lb/sluicectl >"$build_log" 2>&1 || { tail -n 30 "$build_log"; exit 1; }
rm -f "$build_log"

say "$("$sluice" --version)"
echo "validating $config"
"$sluice" --config "$config" --check

# A demo left running by --keep is replaced.
stop_demo
rm -f /run/sluice-demo.log
mkdir -p "$run"
kept=0
cleanup() {
  local rc=$?
  trap - EXIT INT TERM HUP
  if [ "$kept" = 0 ]; then
    stop_demo
    if [ "$rc" -ne 0 ] && [ -f /run/sluice-demo.log ]; then
      echo "Sluice's log:"
      sed 's/^/  | /' /run/sluice-demo.log | tail -n 40
    fi
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

say "building the network (namespaces ${prefix}*)"
hp_setup 512
hp_save "$run/hugepages.state"
topo_up "$prefix"
topo_start_backends "$prefix" "$run"
cat <<EOF
  client  ${prefix}client  $TOPO_CLIENT_IP
  sluice  ${prefix}lb      $TOPO_LB_IP on lb0 (DPDK net_af_packet), VIP $TOPO_VIP:80
  b1..b3  ${prefix}b1..b3  ${TOPO_IP[b1]} ${TOPO_IP[b2]} ${TOPO_IP[b3]}, each an HTTP server with the VIP on lo
  all on one bridge in ${prefix}sw
EOF

say "starting Sluice (DPDK memory: $HP_MODE)"
# setsid: with --keep, Sluice outlives this script and its terminal.
ip netns exec "${prefix}lb" setsid "$sluice" --config "$config" -- "${HP_EAL_ARGS[@]}" \
  </dev/null >"$run/sluice.log" 2>&1 &
for ((i = 0; i < 200; i++)); do
  grep -q 'sluice: ready' "$run/sluice.log" && break
  [ -n "$(ip netns pids "${prefix}lb")" ] || break
  sleep 0.1
done
grep -q 'sluice: ready' "$run/sluice.log" || { echo "Sluice did not start"; exit 1; }
grep '^sluice: ' "$run/sluice.log" | sed 's/^/  /'

say "ping the VIP from the client"
if out=$(ip netns exec "${prefix}client" ping -n -c 3 -i 0.2 -W 1 -w 5 "$TOPO_VIP" 2>&1); then
  grep -E 'bytes from|packets transmitted' <<<"$out" | sed 's/^/  /'
else
  echo "  ping failed:"
  # shellcheck disable=SC2001
  sed 's/^/  | /' <<<"$out"
fi

say "health checks (http /healthz every 500 ms from the LB's kernel): sluicectl list"
wait_serving 3

say "$requests requests from the client to http://$TOPO_VIP/, each a new connection"
burst "$requests"

say "who answered? /whoami, seen by the backend"
out=$(ip netns exec "${prefix}client" timeout 10 "$TOPO_PYTHON" tests/e2e/lib/client.py \
  get "http://$TOPO_VIP/whoami" --timeout 2 || true)
echo "  $(tail -n 1 <<<"$out")"
echo "  (direct routing: the backend's socket is the VIP's, and it answered the client itself)"

say "what Sluice saw: sluicectl lookup of that connection, list --stats, the metrics endpoint"
peer=$(tail -n 1 <<<"$out" | sed -n 's/.*peer=\([0-9.]*\):\([0-9]*\).*/\1 \2/p')
if [ -n "$peer" ]; then
  # shellcheck disable=SC2086  # "ADDRESS PORT" splits into two arguments on purpose
  ctl lookup tcp $peer "$TOPO_VIP" 80 2>&1 | head -n 1 | sed 's/^/  /'
fi
ctl list --stats 2>&1 | sed 's/^/  /'
ip netns exec "${prefix}lb" "$TOPO_PYTHON" -c \
  'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9750/metrics").read().decode())' \
  2>/dev/null | grep -E '^sluice_(backend_new_flows_total|drops_total\{reason="no_service"|port_rx_packets_total)' |
  sed 's/^/  /'

say "b2's server stops: the health checks take it out (fall 2 x 500 ms)"
topo_stop_backend "$prefix" b2
wait_serving 2
grep -E 'sluice: (backend|service)' "$run/sluice.log" | tail -n 1 | sed 's/^/  /'
burst 100

say "b2's server is back: in again after rise 2 x 500 ms"
topo_start_backend "$prefix" b2 "$run"
wait_serving 3

say "rejecting a broken copy of config/examples/sluice.yaml (every error, with file:line:column)"
broken=$run/broken.yaml
sed -e 's/port: 80$/port: 0/' -e 's/forwarding: dr /forwarding: drr/' \
    -e 's/weight: 50/wieght: 50/' config/examples/sluice.yaml >"$broken"
"$sluice" --config "$broken" --check 2>&1 | sed 's/^/  /' || true

if [ "$mode" = keep ]; then
  kept=1
  cat <<EOF

== the demo keeps running. Look around:
  ip netns exec ${prefix}client curl -s http://$TOPO_VIP/
  ip netns exec ${prefix}client curl -s http://$TOPO_VIP/whoami
  ip netns exec ${prefix}client curl -s -o /dev/null -w '%{size_download} bytes\\n' 'http://$TOPO_VIP/slow?seconds=5'
  ip netns exec ${prefix}client ping -c 3 $TOPO_VIP
  $sluicectl_bin --socket /run/sluice-demo/sluice.sock list      (also: list --stats|--rate, status, lookup tcp SRC SPORT DST DPORT, drain web 10.99.0.12:80, reload)
  ip netns exec ${prefix}lb python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9750/metrics").read().decode())' | grep ^sluice_
  ip netns exec ${prefix}sw tcpdump -eni br-data      (apt-get install tcpdump)
  less $run/sluice.log
Stop it:  sudo deploy/demo.sh --stop
EOF
  exit 0
fi

say "stopping"
stop_demo
grep -E '^sluice: (workers|stopped)' /run/sluice-demo.log | sed 's/^/  /' || true
echo "  all namespaces removed; Sluice's log: /run/sluice-demo.log"
