# shellcheck shell=bash disable=SC2034,SC2317  # (variables for the tests; trap functions)
# What every end-to-end test shares: root check, one claim per namespace prefix, work
# directory, hugepages, the topology of a plan (lib/topology.sh), starting and stopping
# Sluice, PASS/FAIL bookkeeping, and the EXIT trap that removes everything and checks it
# is gone.
#
#   source "$here/lib/harness.sh"
#   e2e_init NAME DEFAULT_PREFIX PLAN "$@"   # NAME like tunnel_test; "$@" = [PATH/TO/sluice]
#   e2e_topology                             # topo_up + backends (+ decap.py) of the plan
#   ... write "$cfg" (with "$(e2e_eal_list)" in dataplane.eal), or for one service "web"
#       at VIP:80 on the plan's backends: e2e_web_config FORWARDING METRICS_PORT ...
#   e2e_start_sluice                         # --check, start in PREFIXlb, wait for ready
#   ... checks: pass / fail / die, e2e_burst, e2e_whoami(_nat), e2e_ping ...
#   e2e_stop_and_account MIN_RX              # SIGTERM, exit 0, 'stopped', the summary identity
#   exit 0                                   # the trap prints the totals, exit 1 on a FAIL
#
# Set E2E_NEEDS_SLUICE=0 before e2e_init for a test that runs no Sluice (no binary needed,
# no hugepages). Environment: SLUICE_E2E_PREFIX, SLUICE_E2E_MEMORY, SLUICE_E2E_PCAP, as
# for dr_test.sh (README.md).

E2E_NEEDS_SLUICE=${E2E_NEEDS_SLUICE:-1}
E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_DIR=$(cd "$E2E_LIB_DIR/.." && pwd)
E2E_ROOT=$(cd "$E2E_DIR/../.." && pwd)
e2e_name=""
prefix=""
sluice=""
started=$SECONDS
passed=0
failed=0
tmp=""
cfg=""
sluice_pid=""
sluice_status=""
sluicectl_bin="" # next to the sluice binary
ctl_socket=""    # $tmp/sluice.sock: the control socket of the generated configs
eal_prefix=""
pcap_pid=""

pass() { echo "PASS: $*"; passed=$((passed + 1)); }
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }
die() { fail "$*"; exit 1; }
step() { printf '\n--- %s\n' "$*"; }
in_client() { topo_exec "$prefix" client "$@"; }
in_node() { topo_exec "$prefix" "$@"; }
# sluicectl ARGS...: the control client on this run's socket. Sluice runs in PREFIXlb, but
# the socket is a file: sluicectl runs from the root namespace.
sluicectl() { "$sluicectl_bin" --socket "$ctl_socket" "$@"; }
# client_py SECONDS ARGS...: lib/client.py in the client namespace, bounded by timeout.
client_py() { in_client timeout "$1" "$TOPO_PYTHON" "$E2E_LIB_DIR/client.py" "${@:2}"; }
# A URL for an address: IPv6 in brackets.
e2e_url() { if [[ $1 == *:* ]]; then echo "http://[$1]${2:-}"; else echo "http://$1${2:-}"; fi; }
# An address as a regular expression (dots and brackets escaped).
e2e_re() {
  local s=${1//./\\.}
  s=${s//[/\\[}
  echo "${s//]/\\]}"
}

# Prints a log, shortened to its first 60 and last 140 lines.
show_log() {
  local f=$1 n
  [ -s "$f" ] || { echo "($f is empty)"; return; }
  n=$(wc -l <"$f")
  if [ "$n" -le 200 ]; then sed 's/^/  | /' "$f"; else
    head -n 60 "$f" | sed 's/^/  | /'
    echo "  | ... $((n - 200)) lines ..."
    tail -n 140 "$f" | sed 's/^/  | /'
  fi
}

# e2e_stop_pid PID SECONDS: SIGTERM, wait (bounded), SIGKILL. Sets E2E_STOP_STATUS to the
# exit status (of a child of this shell), or "killed" when SIGTERM was not enough.
e2e_stop_pid() {
  local pid=$1 limit=$2 i
  E2E_STOP_STATUS=""
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < limit * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    E2E_STOP_STATUS=killed
  else
    wait "$pid" 2>/dev/null
    E2E_STOP_STATUS=$?
  fi
  return 0
}

# stop_sluice SECONDS: e2e_stop_pid for Sluice. Sets sluice_status.
stop_sluice() {
  [ -n "$sluice_pid" ] || return 0
  e2e_stop_pid "$sluice_pid" "$1"
  sluice_status=$E2E_STOP_STATUS
  sluice_pid=""
}

e2e_cleanup() {
  local rc=$? left f
  # A second signal must not cut the cleanup short: timeout(1) sends its signal to the
  # test and again to the whole process group, and Ctrl-C may be pressed twice. Every
  # wait below is bounded; SIGKILL still works (the next run removes what is left).
  trap '' INT TERM HUP
  trap - EXIT
  set +e
  step "cleanup"
  [ -n "$sluice_pid" ] && { stop_sluice 5; echo "sluice stopped by cleanup ($sluice_status)"; }
  if [ -n "$pcap_pid" ]; then
    kill -TERM "$pcap_pid" 2>/dev/null
    wait "$pcap_pid" 2>/dev/null
  fi
  # The test's own cleanup, if it defines one (processes it started, mounts), after
  # Sluice has stopped and before the leftover checks below.
  if declare -F e2e_test_cleanup >/dev/null; then e2e_test_cleanup; fi
  topo_down "$prefix"
  hp_restore
  # The EAL leaves its (empty) runtime directory behind; it is ours (unique prefix).
  [ -n "$eal_prefix" ] && rm -rf "/var/run/dpdk/$eal_prefix"
  if left=$(topo_leftovers "$prefix"); then pass "no namespace named $prefix* left"; else
    fail "namespaces left: $(echo "$left" | tr '\n' ' ')"
  fi
  if [ -n "$cfg" ] && [ "$E2E_NEEDS_SLUICE" = 1 ]; then
    if left=$(pgrep -a -f -- "--config $cfg"); then fail "sluice still running: $left"; else
      pass "no sluice process left"
    fi
  fi
  # decap.py is started with "--stats $tmp/...": none of this run's may be left.
  if [ -n "$tmp" ] && left=$(pgrep -a -f -- "--stats $tmp/"); then
    fail "decap.py processes left: $left"
  fi
  if [ -n "$tmp" ] && [ -f "$tmp/hugepages.before" ]; then
    if left=$(hp_files | comm -13 "$tmp/hugepages.before" -) && [ -z "$left" ]; then
      pass "no new file on hugetlbfs"
    else
      fail "new hugetlbfs files: $(echo "$left" | tr '\n' ' ')"
    fi
  fi
  if [ -n "$HP_PREVIOUS" ] && [ "$(cat "$HP_SYSCTL")" != "$HP_PREVIOUS" ]; then
    fail "$HP_SYSCTL is $(cat "$HP_SYSCTL"), was $HP_PREVIOUS"
  fi
  if [ "$failed" -gt 0 ] && [ -n "$tmp" ]; then
    if [ -f "$tmp/sluice.log" ]; then
      echo
      echo "sluice log ($tmp/sluice.log):"
      show_log "$tmp/sluice.log"
    fi
    for f in "$tmp"/decap-*.log; do
      [ -s "$f" ] || continue
      echo
      echo "$(basename "$f" .log) log:"
      show_log "$f"
    done
  fi
  [ -n "$tmp" ] && rm -rf "$tmp" && rmdir /run/sluice-e2e 2>/dev/null
  topo_release "$prefix"
  echo
  echo "$e2e_name: $passed passed, $failed failed ($((SECONDS - started)) s)"
  if [ "$failed" -gt 0 ] || [ "$rc" -ne 0 ]; then
    [ "$rc" -gt 1 ] && exit "$rc"
    exit 1
  fi
  exit 0
}

# e2e_init NAME DEFAULT_PREFIX PLAN [PATH/TO/sluice]: everything before the topology.
e2e_init() {
  e2e_name=$1
  local default_prefix=$2 plan=$3
  sluice=${4:-${SLUICE:-$E2E_ROOT/build/lb/sluice}}
  prefix=${SLUICE_E2E_PREFIX:-$default_prefix}
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: $e2e_name needs root (network namespaces, hugepages)"
    exit 77
  fi
  if [ "$E2E_NEEDS_SLUICE" = 1 ]; then
    if [ ! -x "$sluice" ]; then
      echo "FAIL: no sluice binary at $sluice (build first: meson setup build && ninja -C build)"
      exit 1
    fi
    sluice=$(realpath "$sluice")
  fi
  sluicectl_bin=$(dirname "$sluice")/sluicectl
  # shellcheck disable=SC1091  # (lib/topology.sh, checked on its own)
  source "$E2E_LIB_DIR/topology.sh"
  topo_check_prefix "$prefix" || exit 1
  topo_plan "$plan" || exit 1
  eal_prefix="sluice-${prefix%-}" # one run per prefix (topo_claim)
  # One run per prefix at a time (topo_up removes leftovers with the same prefix), claimed
  # before the trap is set so that a refused run tears nothing down.
  topo_claim "$prefix" ||
    { echo "FAIL: prefix $prefix is in use; set SLUICE_E2E_PREFIX"; exit 1; }
  trap e2e_cleanup EXIT
  trap 'trap "" INT TERM HUP; fail "interrupted (SIGINT)"; exit 130' INT
  trap 'trap "" INT TERM HUP; fail "terminated (SIGTERM or SIGHUP)"; exit 143' TERM HUP

  # Work files live in /run (root only), one directory per prefix. One left by a run that
  # was killed with SIGKILL is removed, and the hugepages it reserved are given back.
  tmp=/run/sluice-e2e/${prefix%-}
  if [ -d "$tmp" ]; then
    echo "removing what a killed run left in $tmp"
    topo_down "$prefix"
    hp_load "$tmp/hugepages.state" && hp_restore
    rm -rf "$tmp"
  fi
  mkdir -p "$tmp"
  cfg=$tmp/sluice.yaml
  ctl_socket=$tmp/sluice.sock

  step "setup ($e2e_name, plan $plan, prefix $prefix)"
  topo_require_tools || die "missing tools"
  hp_files >"$tmp/hugepages.before"
  if [ "$E2E_NEEDS_SLUICE" = 1 ]; then
    case ${SLUICE_E2E_MEMORY:-} in
      no-huge) HP_MODE=no-huge; HP_EAL_ARGS=(--no-huge -m 512 --no-shconf) ;;
      *) hp_setup 512 ;;
    esac
    hp_save "$tmp/hugepages.state"
    [ "${SLUICE_E2E_MEMORY:-$HP_MODE}" = "$HP_MODE" ] ||
      die "SLUICE_E2E_MEMORY=$SLUICE_E2E_MEMORY, but hugepages could not be had"
    echo "memory: $HP_MODE (EAL ${HP_EAL_ARGS[*]}; nr_hugepages $(cat "$HP_SYSCTL"))"
  fi
}

# e2e_topology: builds the plan's topology, starts the backends (and decap.py), and checks
# that the client reaches every backend directly on each of its ports (the plumbing works
# without Sluice). Then sets up the NAT return path, if the plan has one.
e2e_topology() {
  local b port out url
  topo_up "$prefix" || die "cannot build the topology"
  topo_start_backends "$prefix" "$tmp" || die "backends did not start"
  if [ "$TOPO_DECAP" = 1 ]; then
    topo_start_decap "$prefix" "$tmp" || die "decap.py did not start"
  fi
  if [ -n "${SLUICE_E2E_PCAP:-}" ]; then
    mkdir -p "$SLUICE_E2E_PCAP"
    ip netns exec "${prefix}sw" tcpdump -i br-data -U -n -w "$SLUICE_E2E_PCAP/data.pcap" \
      >/dev/null 2>"$SLUICE_E2E_PCAP/tcpdump.log" &
    pcap_pid=$!
    sleep 0.5
  fi
  for b in "${TOPO_BACKENDS[@]}"; do
    for port in "${TOPO_BACKEND_PORTS[@]}"; do
      url="http://${TOPO_IP[$b]}:$port/"
      out=$(client_py 10 get "$url" --timeout 2 2>&1)
      [ "$(tail -n1 <<<"$out")" = "$b" ] ||
        die "topology: client cannot reach backend $b directly at $url: $out"
      if [ "$TOPO_IPV6" = 1 ]; then
        url="http://[${TOPO_IP6[$b]}]:$port/"
        out=$(client_py 10 get "$url" --timeout 2 2>&1)
        [ "$(tail -n1 <<<"$out")" = "$b" ] ||
          die "topology: client cannot reach backend $b directly at $url: $out"
      fi
    done
  done
  topo_route_via_lb "$prefix" || die "cannot route the replies to the client via the LB"
  local families=IPv4
  [ "$TOPO_IPV6" = 1 ] && families="IPv4 and IPv6"
  echo "topology up (plan $TOPO_PLAN): client reaches each backend directly" \
    "(port ${TOPO_BACKEND_PORTS[*]}, $families)"
  [ "$TOPO_DECAP" = 1 ] && echo "decap.py runs on ${TOPO_BACKENDS[*]}" \
    "(accepting outer source ${TOPO_DECAP_SOURCES[*]})"
  [ -n "$TOPO_NAT_RETURN" ] && echo "replies to $TOPO_CLIENT_IP go via the LB ($TOPO_NAT_RETURN)"
  return 0
}

# e2e_eal_list: the EAL arguments as the inside of a YAML flow list.
e2e_eal_list() {
  local s
  s=$(printf '"%s", ' "${HP_EAL_ARGS[@]}" "--file-prefix=$eal_prefix")
  echo "${s%, }"
}

# e2e_web_config FORWARDING METRICS_PORT: writes $cfg for the usual single-service test:
# one worker, port p0 on lb0 (the plan's LB address, MTU 1500), the control socket
# $ctl_socket, and service "web" at $TOPO_VIP:80/tcp with that forwarding mode, the plan's
# backends on port 80, and no health check: health_check is $E2E_HEALTH_CHECK if set (a
# YAML flow mapping, e.g. "{ type: http, path: /healthz, interval: 500ms, timeout: 300ms,
# rise: 2, fall: 2 }"; only the dr plan has the management network checks need), else
# "{ type: none }" (the default check, tcp with assume down, would mark every backend of a
# plan without management routes down). METRICS_PORT (on 127.0.0.1) is the test's own.
E2E_HEALTH_CHECK=${E2E_HEALTH_CHECK:-}
e2e_web_config() {
  local forwarding=$1 metrics_port=$2 b check=${E2E_HEALTH_CHECK:-"{ type: none }"}
  cat >"$cfg" <<YAML
# Written by tests/e2e/$e2e_name.sh
dataplane:
  workers: 1
  eal: [$(e2e_eal_list)]
  ports:
    - name: p0
      device: "net_af_packet0,iface=lb0"
      address: $TOPO_LB_IP/$TOPO_PREFIXLEN
      mtu: 1500
  flow_table: { capacity: 65536, tcp_timeout: 300s, udp_timeout: 30s }
metrics: { listen: 127.0.0.1:$metrics_port }
control: { socket: $ctl_socket }
services:
  - name: web
    vip: $TOPO_VIP
    port: 80
    protocol: tcp
    forwarding: $forwarding
    health_check: $check
    backends:
YAML
  for b in "${TOPO_BACKENDS[@]}"; do
    echo "      - { address: ${TOPO_IP[$b]} }" >>"$cfg"
  done
}

# e2e_start_sluice: sluice --check on $cfg, then Sluice in PREFIXlb; waits (20 s at most)
# for "sluice: ready".
e2e_start_sluice() {
  local i status
  echo "config ($cfg):"
  sed 's/^/  | /' "$cfg"
  "$sluice" --config "$cfg" --check >"$tmp/check.out" 2>&1 ||
    die "sluice --check rejects the test config: $(cat "$tmp/check.out")"
  pass "sluice --check accepts the config"

  step "start sluice"
  # Not through a shell function's pipeline: $! must be sluice itself (ip netns exec
  # execs it).
  ip netns exec "${prefix}lb" "$sluice" --config "$cfg" </dev/null >"$tmp/sluice.log" 2>&1 &
  sluice_pid=$!
  for ((i = 0; i < 200; i++)); do
    grep -qs 'sluice: ready' "$tmp/sluice.log" && break
    kill -0 "$sluice_pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q 'sluice: ready' "$tmp/sluice.log"; then
    if kill -0 "$sluice_pid" 2>/dev/null; then die "no 'sluice: ready' within 20 s"; fi
    wait "$sluice_pid"
    status=$?
    sluice_pid=""
    die "sluice exited with status $status before 'sluice: ready'"
  fi
  pass "sluice ready after $(((i + 1) / 10)).$(((i + 1) % 10)) s"
}

# e2e_ping TARGET...: 3 pings to each from the client (ping -6 for IPv6).
e2e_ping() {
  local target out
  for target in "$@"; do
    if out=$(in_client ping -n -c 3 -i 0.2 -W 1 -w 5 "$target" 2>&1); then
      pass "ping $target: $(grep -o '[0-9]* packets transmitted, [0-9]* received' <<<"$out")"
    else
      fail "ping $target: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
    fi
  done
}

# e2e_burst URL COUNT MIN_PERCENT [SECONDS [MAX_PERCENT]]: COUNT requests, each a new
# connection; every one must be answered, each backend must serve at least MIN_PERCENT
# (and at most MAX_PERCENT, if given), and no answer may come from anything but the plan's
# backends. Sets E2E_BURST_OUT (client.py's output) and E2E_SERVED[NAME].
declare -gA E2E_SERVED=()
E2E_BURST_OUT=""
e2e_burst() {
  local url=$1 count=$2 min=$3 seconds=${4:-60} max=${5:-} out b n ok=1 other names
  out=$(client_py "$((seconds + 20))" burst "$url" "$count" --timeout 2 \
    --deadline "$seconds" --max-failures 5 2>&1)
  E2E_BURST_OUT=$out
  grep -v '^served ' <<<"$out" | sed 's/^/  /'
  if grep -q "^total ok=$count failed=0" <<<"$out"; then
    pass "$count of $count requests to $url answered"
  else
    fail "not every request to $url was answered"
  fi
  E2E_SERVED=()
  for b in "${TOPO_BACKENDS[@]}"; do
    n=$(awk -v b="$b" '$1 == "served" && $2 == b {print $3}' <<<"$out")
    n=${n:-0}
    E2E_SERVED[$b]=$n
    printf '  %-3s %4d  %5.1f%%\n' "$b" "$n" "$(awk -v n="$n" -v c="$count" 'BEGIN {print 100 * n / c}')"
    [ $((n * 100)) -ge $((min * count)) ] || ok=0
    [ -z "$max" ] || [ $((n * 100)) -le $((max * count)) ] || ok=0
  done
  names=$(printf '%s|' "${TOPO_BACKENDS[@]}")
  other=$(awk -v re="^(${names%|})\$" '$1 == "served" && $2 !~ re' <<<"$out")
  [ -z "$other" ] || { ok=0; echo "  unexpected bodies: $other"; }
  if [ -z "$max" ]; then
    if [ "$ok" = 1 ]; then pass "each backend served at least $min% of $url"; else
      fail "some backend served less than $min% of $url"
    fi
  elif [ "$ok" = 1 ]; then pass "each backend served $min%-$max% of $url"; else
    fail "distribution of $url outside $min%-$max% per backend"
  fi
}

# e2e_whoami URL REGEX DESCRIPTION: GET URL (a /whoami) must answer a line matching REGEX.
e2e_whoami() {
  local out
  out=$(client_py 10 get "$1" --timeout 2 2>&1)
  echo "  $(tail -n1 <<<"$out")"
  if grep -qE "$2" <<<"$(tail -n1 <<<"$out")"; then pass "$3"; else
    fail "$3: $1 answered: $out"
  fi
}

# e2e_whoami_nat URL PORT WHAT: GET URL (a /whoami through a nat VIP) must show local =
# the answering backend's own address:PORT and peer = the client (its address preserved).
e2e_whoami_nat() {
  local url=$1 port=$2 what=$3 out line b
  out=$(client_py 10 get "$url" --timeout 2 2>&1)
  line=$(tail -n1 <<<"$out")
  echo "  $line"
  b=$(sed -n 's/^backend=\(b[0-9]\) .*/\1/p' <<<"$line")
  if [ -n "$b" ] && grep -qE \
    "^backend=$b local=$(e2e_re "${TOPO_IP[$b]}"):$port peer=$(e2e_re "$TOPO_CLIENT_IP"):[0-9]+$" \
    <<<"$line"; then
    pass "$what: local is ${TOPO_IP[$b]}:$port ($b), peer is the client $TOPO_CLIENT_IP"
  else
    fail "$what whoami: $out"
  fi
}

# e2e_download URL SECONDS: GET of /slow (1 MiB of lines that each start with the
# backend's name) must complete, all from the backend named in X-Backend.
e2e_download() {
  local url=$1 limit=$2 out status senders header
  out=$(client_py "$((limit + 5))" get "$url" --timeout "$limit" --out "$tmp/download.body" 2>&1)
  status=$?
  echo "  $out"
  senders=$(cut -d' ' -f1 "$tmp/download.body" 2>/dev/null | sort -u | tr '\n' ' ')
  header=$(sed -n 's/.*backend=\([^ ]*\).*/\1/p' <<<"$out")
  if [ "$status" -eq 0 ] && grep -q 'status=200 .*length=1048576 ' <<<"$out" &&
    [ "$senders" = "$header " ]; then
    pass "1 MiB download from $url complete, all from $header"
  else
    fail "download $url: status $status, '$out', body lines from: ${senders:-none}"
  fi
  rm -f "$tmp/download.body"
}

# e2e_stop_and_account MIN_RX: SIGTERM must make Sluice exit 0 within 10 s, log
# 'sluice: stopped' and a worker summary where rx + injected + generated == tx + slow
# path + dropped (every packet accounted for) with rx >= MIN_RX. Sets E2E_ACCOUNT[rx],
# [injected], [tx], [slow], [dropped], [generated] (empty if there was no summary).
declare -gA E2E_ACCOUNT=()
e2e_stop_and_account() {
  local min_rx=$1 summary rx injected tx slow dropped
  stop_sluice 10
  if [ "$sluice_status" = 0 ]; then pass "sluice exited 0 on SIGTERM"; else
    fail "sluice on SIGTERM: exit status $sluice_status (want 0 within 10 s)"
  fi
  if grep -q 'sluice: stopped' "$tmp/sluice.log"; then pass "log says 'sluice: stopped'"; else
    fail "no 'sluice: stopped' in the log"
  fi
  summary=$(grep -o 'workers: rx [0-9]*, injected [0-9]*, tx [0-9]*, slow path [0-9]*, dropped [0-9]*, generated [0-9]*' \
    "$tmp/sluice.log")
  echo "  $summary"
  grep -o 'drops: .*' "$tmp/sluice.log" | head -1 | sed 's/^/  workers /'
  local generated
  read -r rx injected tx slow dropped generated < <(tr -cs '0-9' ' ' <<<"$summary")
  E2E_ACCOUNT=([rx]=$rx [injected]=$injected [tx]=$tx [slow]=$slow [dropped]=$dropped
               [generated]=$generated)
  if [ -n "${generated:-}" ] && [ $((rx + injected + generated)) -eq $((tx + slow + dropped)) ] &&
    [ "$rx" -ge "$min_rx" ]; then
    pass "accounting: rx $rx + injected $injected + generated $generated == tx $tx + slow path $slow + dropped $dropped"
  else
    fail "accounting identity does not hold (or rx < $min_rx): '$summary'"
  fi
}

# e2e_decap_check NODE... : each decapsulator got packets, none from a wrong outer source,
# none malformed or unwritable. Prints the counters.
e2e_decap_check() {
  local b stats n bad
  for b in "$@"; do
    stats=$(topo_decap_stats "$tmp" "$b")
    echo "  decap $b: $stats"
    n=$(topo_decap_count "$tmp" "$b" decapsulated)
    bad=$(($(topo_decap_count "$tmp" "$b" wrong_source) + $(topo_decap_count "$tmp" "$b" malformed) +
      $(topo_decap_count "$tmp" "$b" write_errors)))
    if [ "$n" -gt 0 ] && [ "$bad" -eq 0 ]; then
      pass "decap on $b: $n packets decapsulated, all from ${TOPO_DECAP_SOURCES[*]}"
    else
      fail "decap on $b: $stats (want decapsulated > 0, nothing wrong)"
    fi
  done
}

# e2e_wait SECONDS CMD...: runs CMD every 0.1 s until it succeeds (status 0) or SECONDS
# have passed (status 1). Sets E2E_WAITED to the seconds waited (one decimal).
E2E_WAITED=""
e2e_wait() {
  local limit=$1 t0 now
  shift
  t0=$(date +%s%N)
  while :; do
    if "$@"; then
      now=$(date +%s%N)
      E2E_WAITED=$(awk -v d=$((now - t0)) 'BEGIN {printf "%.1f", d / 1e9}')
      return 0
    fi
    now=$(date +%s%N)
    if [ $((now - t0)) -ge $((limit * 1000000000)) ]; then
      E2E_WAITED=$(awk -v d=$((now - t0)) 'BEGIN {printf "%.1f", d / 1e9}')
      return 1
    fi
    sleep 0.1
  done
}

# e2e_metrics PORT: Sluice's metrics page (http://127.0.0.1:PORT/metrics inside PREFIXlb,
# 2 s at most); status 1 if it could not be fetched.
e2e_metrics() {
  in_node lb timeout 3 "$TOPO_PYTHON" -c '
import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1],
                                        timeout=2).read().decode())' "$1"
}

# e2e_metric PORT SAMPLE: the value of one sample, e.g.
# 'sluice_backend_up{service="web",backend="10.99.0.12:80"}' (empty if absent).
e2e_metric() {
  e2e_metrics "$1" 2>/dev/null | awk -v k="$2" '$1 == k {print $2; exit}'
}

# e2e_ctl_field KEY: a value of `sluicectl status` ("table_generation 3" -> 3).
e2e_ctl_field() { sluicectl status 2>/dev/null | awk -v k="$1" '$1 == k {print $2; exit}'; }

# e2e_backend_state SERVICE ADDRESS:PORT: that backend's line of `sluicectl list`, after
# the weight and active flows ("up", "down (connect refused)", "up drained(runtime)", ...).
e2e_backend_state() {
  sluicectl list 2>/dev/null | awk -v s="$1" -v b="$2" '
    $1 == "service" {svc = $2; next}
    svc == s && $1 == "backend" && $2 == b {
      sub(/^ *backend [^ ]+ weight [0-9]+ active=[0-9]+ /, ""); print; exit}'
}

# e2e_active_flows SERVICE ADDRESS:PORT: that backend's active=N in `sluicectl list`.
e2e_active_flows() {
  sluicectl list 2>/dev/null | awk -v s="$1" -v b="$2" '
    $1 == "service" {svc = $2; next}
    svc == s && $1 == "backend" && $2 == b {
      for (i = 3; i <= NF; i++) if ($i ~ /^active=/) {sub(/^active=/, "", $i); print $i; exit}}'
}

# e2e_serving SERVICE: serving=N of that service in `sluicectl list`.
e2e_serving() {
  sluicectl list 2>/dev/null |
    awk -v s="$1" '$1 == "service" && $2 == s {
      for (i = 3; i <= NF; i++) if ($i ~ /^serving=/) {sub(/^serving=/, "", $i); print $i}}'
}

# e2e_loop_start URL SECONDS: in the background, bursts of 20 requests (each a new
# connection, 2 s timeout) to URL from the client, one after the other, until
# e2e_loop_stop or SECONDS (at most 600 bursts). Output in $tmp/loop.out.
E2E_LOOP_PID=""
e2e_loop_start() {
  local url=$1 limit=$2
  rm -f "$tmp/loop.stop" "$tmp/loop.out"
  (
    end=$((SECONDS + limit))
    for ((n = 0; n < 600 && SECONDS < end; n++)); do
      [ -f "$tmp/loop.stop" ] && break
      client_py 30 burst "$url" 20 --timeout 2 --deadline 20 >>"$tmp/loop.out" 2>&1
    done
  ) &
  E2E_LOOP_PID=$!
}

# e2e_loop_stop: ends the loop (after its current burst; 30 s at most) and sets
# E2E_LOOP_OK, E2E_LOOP_FAILED and E2E_LOOP_SERVED (e.g. "b1=120 b2=40 b3=118").
E2E_LOOP_OK=0
E2E_LOOP_FAILED=0
E2E_LOOP_SERVED=""
e2e_loop_stop() {
  local i
  [ -n "$E2E_LOOP_PID" ] || return 0
  touch "$tmp/loop.stop"
  for ((i = 0; i < 300; i++)); do
    kill -0 "$E2E_LOOP_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill "$E2E_LOOP_PID" 2>/dev/null
  wait "$E2E_LOOP_PID" 2>/dev/null
  E2E_LOOP_PID=""
  E2E_LOOP_OK=$(awk -F'[ =]' '$1 == "total" {s += $3} END {print s + 0}' "$tmp/loop.out" 2>/dev/null)
  E2E_LOOP_FAILED=$(awk -F'[ =]' '$1 == "total" {s += $5} END {print s + 0}' "$tmp/loop.out" 2>/dev/null)
  E2E_LOOP_SERVED=$(awk '$1 == "served" {n[$2] += $3} END {for (b in n) printf "%s=%d ", b, n[b]}' \
    "$tmp/loop.out" 2>/dev/null | tr ' ' '\n' | sort | tr '\n' ' ')
}

# e2e_slow_start SECONDS: in the background, GET /slow?seconds=SECONDS through the VIP
# (1 MiB over SECONDS s), body to $tmp/slow.body; waits (5 s at most) until a backend's
# log shows the request and sets E2E_SLOW_BACKEND to it (b1..b3; "" if none did).
E2E_SLOW_PID=""
E2E_SLOW_BACKEND=""
e2e_slow_start() {
  local seconds=$1 i b
  rm -f "$tmp/slow.body" "$tmp/slow.out"
  client_py "$((seconds + 30))" get "http://$TOPO_VIP/slow?seconds=$seconds" \
    --timeout "$((seconds + 20))" --out "$tmp/slow.body" >"$tmp/slow.out" 2>&1 &
  E2E_SLOW_PID=$!
  E2E_SLOW_BACKEND=""
  for ((i = 0; i < 50; i++)); do
    for b in "${TOPO_BACKENDS[@]}"; do
      if grep -q "GET /slow?seconds=$seconds " "$tmp/$b.log" 2>/dev/null; then
        E2E_SLOW_BACKEND=$b
        return 0
      fi
    done
    sleep 0.1
  done
}

# e2e_slow_check [BACKEND]: waits for the download of e2e_slow_start (bounded by its own
# timeout) and checks it is a complete 1 MiB, every line from one backend (BACKEND, if
# given).
e2e_slow_check() {
  local want=${1:-} status out senders header
  wait "$E2E_SLOW_PID"
  status=$?
  E2E_SLOW_PID=""
  out=$(cat "$tmp/slow.out")
  echo "  slow: $out"
  senders=$(cut -d' ' -f1 "$tmp/slow.body" 2>/dev/null | sort -u | tr '\n' ' ')
  header=$(sed -n 's/.*backend=\([^ ]*\).*/\1/p' <<<"$out")
  if [ "$status" -eq 0 ] && grep -q 'status=200 .*length=1048576 ' <<<"$out" &&
    [ "$senders" = "$header " ] && { [ -z "$want" ] || [ "$header" = "$want" ]; }; then
    pass "long download: 1 MiB complete, every line from $header"
  else
    fail "long download: status $status, '$out', body lines from: ${senders:-none} (want ${want:-one backend})"
  fi
}
