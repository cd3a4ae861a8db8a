# shellcheck shell=bash disable=SC2034  # (variables are for the scripts that source this)
# The end-to-end topology: network namespaces joined by Linux bridges, with a client, the
# load balancer's port and three real HTTP backends. Sourced by tests/e2e/*_test.sh and
# deploy/demo.sh; see tests/e2e/README.md for the picture and the addresses.
#
#   source tests/e2e/lib/topology.sh
#   topo_require_tools                 # installs iproute2, ethtool, iputils-ping, python3
#   topo_up PREFIX                     # namespaces PREFIX{sw,client,lb,b1,b2,b3}
#   topo_start_backends PREFIX LOGDIR  # HTTP servers on b1..b3, port 80
#   topo_exec PREFIX NODE CMD...       # run CMD in a node: client, lb, b1, ...
#   topo_down PREFIX                   # kills every process in them, deletes them
#   topo_leftovers PREFIX              # prints namespaces with PREFIX; status 1 if any
#   topo_claim PREFIX / topo_release   # one user of a prefix at a time
#   hp_setup PAGES / hp_restore        # hugepages for DPDK, or the --no-huge fallback
#   hp_save FILE / hp_load FILE        # ... across processes (demo --keep / --stop)
#   hp_files                           # files on hugetlbfs mounts (to prove none leak)
#
# Every function is safe under `set -euo pipefail`; topo_down is idempotent, works on a
# half-built topology and is meant for EXIT traps. Every wait is bounded.

TOPO_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOPO_PYTHON=/usr/bin/python3 # Debian's, never a pyenv shim: it runs inside namespaces
TOPO_NODES=(sw client lb b1 b2 b3)
TOPO_BACKENDS=(b1 b2 b3)

# Data segment (bridge br-data): the client, the LB's DPDK port, the backends.
TOPO_PREFIXLEN=24
TOPO_LB_IP=10.99.0.2        # owned by Sluice (DPDK, af_packet on lb0), not the kernel
TOPO_CLIENT_IP=10.99.0.10
TOPO_VIP=10.99.0.100        # on every backend's lo (DR), answered for by Sluice
declare -A TOPO_IP=([client]=10.99.0.10 [b1]=10.99.0.11 [b2]=10.99.0.12 [b3]=10.99.0.13)
# Management segment (bridge br-mgmt): the LB's kernel (health checks) and the backends.
TOPO_MGMT_LB_IP=10.98.0.2
declare -A TOPO_MGMT_IP=([b1]=10.98.0.11 [b2]=10.98.0.12 [b3]=10.98.0.13)
# Fixed MACs make captures readable: 02:99:00:00:00:<last octet of the data address>.
declare -A TOPO_MAC=([lb]=02:99:00:00:00:02 [client]=02:99:00:00:00:10
                     [b1]=02:99:00:00:00:11 [b2]=02:99:00:00:00:12 [b3]=02:99:00:00:00:13)
declare -A TOPO_MGMT_MAC=([lb]=02:98:00:00:00:02 [b1]=02:98:00:00:00:11
                          [b2]=02:98:00:00:00:12 [b3]=02:98:00:00:00:13)

topo_log() { printf 'topology: %s\n' "$*" >&2; }

# topo_require_tools: installs what the topology uses if it is missing (root, Debian).
topo_require_tools() {
  local -A need=([ip]=iproute2 [ethtool]=ethtool [ping]=iputils-ping [sysctl]=procps
                 [$TOPO_PYTHON]=python3)
  local missing=() cmd
  for cmd in "${!need[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${need[$cmd]}")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  topo_log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
      { topo_log "cannot install ${missing[*]}"; return 1; }
  fi
}

topo_check_prefix() {
  [[ $1 =~ ^[a-z][a-z0-9-]{0,15}$ ]] ||
    { topo_log "bad prefix '$1' (1-16 of a-z 0-9 -, starting with a letter)"; return 1; }
}

# topo_exec PREFIX NODE CMD...: runs CMD inside node NODE's namespace.
topo_exec() {
  local ns=$1$2; shift 2
  ip netns exec "$ns" "$@"
}

# Namespaces whose name starts with PREFIX (whatever created them).
topo_namespaces() {
  ip netns list 2>/dev/null | awk -v p="$1" 'index($1, p) == 1 {print $1}'
}

# _topo_sysctl NS KEY=VALUE...
_topo_sysctl() {
  local ns=$1; shift
  ip netns exec "$ns" sysctl -q -w "$@" >/dev/null
}

# _topo_no_offloads NS DEV: no checksum offload, no segmentation, no GRO. Otherwise a veth
# hands partial checksums and 64 KiB super-packets to the af_packet socket, and what
# Sluice forwards gets dropped by the receiver.
_topo_no_offloads() {
  ip netns exec "$1" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 ||
    true
  ip netns exec "$1" ethtool -k "$2" 2>/dev/null | grep -q '^tx-checksumming: off' ||
    { topo_log "$1: cannot turn tx checksum offload off on $2"; return 1; }
}

# _topo_link PREFIX NODE IFNAME BRIDGE SWITCH_IFNAME MAC: a veth from NODE to a bridge.
_topo_link() {
  local p=$1 node=$2 ifname=$3 bridge=$4 swif=$5 mac=$6
  ip -n "${p}sw" link add name "$swif" mtu 1500 type veth \
    peer name "$ifname" mtu 1500 address "$mac" netns "$p$node" || return 1
  _topo_sysctl "${p}sw" "net.ipv6.conf.$swif.disable_ipv6=1" || return 1
  _topo_no_offloads "${p}sw" "$swif" || return 1
  _topo_no_offloads "$p$node" "$ifname" || return 1
  ip -n "${p}sw" link set "$swif" master "$bridge" up || return 1
}

# topo_up PREFIX: builds the whole topology (first removing any leftover with PREFIX).
# Returns non-zero on the first failure; the caller's trap runs topo_down.
topo_up() {
  local p=$1 node b
  topo_check_prefix "$p" || return 1
  topo_down "$p"
  for node in "${TOPO_NODES[@]}"; do
    ip netns add "$p$node" || return 1
    ip -n "$p$node" link set lo up || return 1
    # No IPv6 anywhere: nothing but the test's own traffic on the wires.
    _topo_sysctl "$p$node" net.ipv6.conf.all.disable_ipv6=1 \
      net.ipv6.conf.default.disable_ipv6=1 || return 1
  done

  # The switch: two bridges, no STP, forwarding at once.
  for b in br-data br-mgmt; do
    ip -n "${p}sw" link add name "$b" mtu 1500 type bridge stp_state 0 forward_delay 0 \
      mcast_snooping 0 || return 1
    ip -n "${p}sw" link set "$b" up || return 1
  done

  # Client.
  _topo_link "$p" client eth0 br-data d-client "${TOPO_MAC[client]}" || return 1
  ip -n "${p}client" addr add "$TOPO_CLIENT_IP/$TOPO_PREFIXLEN" dev eth0 || return 1
  ip -n "${p}client" link set eth0 up || return 1

  # LB: lb0 belongs to DPDK (net_af_packet): up, but no IPv4 address, no IPv6, no ARP
  # from the kernel. mgmt0 is an ordinary kernel interface for health checks.
  _topo_link "$p" lb lb0 br-data d-lb "${TOPO_MAC[lb]}" || return 1
  _topo_sysctl "${p}lb" net.ipv6.conf.lb0.disable_ipv6=1 net.ipv4.conf.all.arp_ignore=1 \
    || return 1
  ip -n "${p}lb" link set lb0 arp off up || return 1
  _topo_link "$p" lb mgmt0 br-mgmt m-lb "${TOPO_MGMT_MAC[lb]}" || return 1
  ip -n "${p}lb" addr add "$TOPO_MGMT_LB_IP/$TOPO_PREFIXLEN" dev mgmt0 || return 1
  ip -n "${p}lb" link set mgmt0 up || return 1

  # Backends: DR needs the VIP on lo and no ARP answers or announcements for it.
  for b in "${TOPO_BACKENDS[@]}"; do
    _topo_link "$p" "$b" eth0 br-data "d-$b" "${TOPO_MAC[$b]}" || return 1
    _topo_link "$p" "$b" mgmt0 br-mgmt "m-$b" "${TOPO_MGMT_MAC[$b]}" || return 1
    ip -n "$p$b" addr add "${TOPO_IP[$b]}/$TOPO_PREFIXLEN" dev eth0 || return 1
    ip -n "$p$b" addr add "${TOPO_MGMT_IP[$b]}/$TOPO_PREFIXLEN" dev mgmt0 || return 1
    ip -n "$p$b" addr add "$TOPO_VIP/32" dev lo || return 1
    _topo_sysctl "$p$b" \
      net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1 \
      net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2 \
      net.ipv4.conf.mgmt0.arp_ignore=1 net.ipv4.conf.mgmt0.arp_announce=2 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.mgmt0.rp_filter=0 \
      net.ipv4.conf.lo.rp_filter=0 || return 1
    ip -n "$p$b" link set eth0 up || return 1
    ip -n "$p$b" link set mgmt0 up || return 1
  done
}

# topo_start_backends PREFIX LOGDIR: starts backend.py NAME on port 80 in b1..b3 (logs in
# LOGDIR/NAME.log) and waits, at most 5 s, until each accepts connections.
topo_start_backends() {
  local p=$1 logdir=$2 b i
  for b in "${TOPO_BACKENDS[@]}"; do
    ip netns exec "$p$b" "$TOPO_PYTHON" "$TOPO_LIB_DIR/backend.py" "$b" 80 \
      </dev/null >>"$logdir/$b.log" 2>&1 &
  done
  for b in "${TOPO_BACKENDS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      ip netns exec "$p$b" timeout 1 bash -c 'exec 3<>/dev/tcp/127.0.0.1/80' 2>/dev/null &&
        continue 2
      sleep 0.1
    done
    topo_log "backend $b did not start listening on port 80 in 5 s; its log:"
    cat "$logdir/$b.log" >&2
    return 1
  done
}

# _topo_ns_pids NS...: the processes in these namespaces.
_topo_ns_pids() {
  local ns
  for ns in "$@"; do ip netns pids "$ns" 2>/dev/null; done
}

# topo_down PREFIX: SIGTERM to every process in every namespace named PREFIX*, SIGKILL to
# what is left after 5 s, then deletes the namespaces (which removes the veths and
# bridges). Idempotent; never fails the caller.
topo_down() (
  set +e
  p=$1
  topo_check_prefix "$p" || exit 0
  mapfile -t nss < <(topo_namespaces "$p")
  [ ${#nss[@]} -eq 0 ] && exit 0
  pids=$(_topo_ns_pids "${nss[@]}")
  if [ -n "$pids" ]; then
    # shellcheck disable=SC2086
    kill -TERM $pids 2>/dev/null
    for ((i = 0; i < 50; i++)); do
      [ -z "$(_topo_ns_pids "${nss[@]}")" ] && break
      sleep 0.1
    done
    pids=$(_topo_ns_pids "${nss[@]}")
    if [ -n "$pids" ]; then
      # shellcheck disable=SC2086
      topo_log "killing what did not stop on SIGTERM in 5 s:" \
        "$(ps -o pid=,comm= $pids | tr -s ' \n' ' ')"
      # shellcheck disable=SC2086
      kill -KILL $pids 2>/dev/null
      for ((i = 0; i < 30; i++)); do
        [ -z "$(_topo_ns_pids "${nss[@]}")" ] && break
        sleep 0.1
      done
    fi
  fi
  for ns in "${nss[@]}"; do
    ip netns del "$ns" 2>/dev/null || { sleep 0.2; ip netns del "$ns" 2>/dev/null; }
  done
  exit 0
)

# topo_claim PREFIX: marks PREFIX as in use by this shell ($$), so that a second run with
# the same prefix fails instead of tearing this one down (topo_up removes leftovers). A
# claim whose process is gone (killed with SIGKILL) is stale and taken over. Status 1 if
# a live process holds it. topo_release PREFIX drops the claim if it is ours.
TOPO_CLAIMS=/run/sluice-topology
_topo_proc_id() { # "PID STARTTIME": a process identity that survives PID reuse
  local start
  start=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20) || return 1
  [ -n "$start" ] && echo "$1 $start"
}
topo_claim() {
  local f=$TOPO_CLAIMS/${1%-}.claim me holder i
  mkdir -p "$TOPO_CLAIMS"
  me=$(_topo_proc_id $$)
  for i in 1 2; do
    if (set -C; echo "$me" >"$f") 2>/dev/null; then return 0; fi
    holder=$(cat "$f" 2>/dev/null)
    [ "$holder" = "$me" ] && return 0
    if [ -n "$holder" ] && [ "$(_topo_proc_id "${holder%% *}")" = "$holder" ]; then
      topo_log "prefix $1 is in use by process ${holder%% *}:" \
        "$(ps -o args= -p "${holder%% *}")"
      return 1
    fi
    rm -f "$f"
  done
  return 1
}
topo_release() {
  local f=$TOPO_CLAIMS/${1%-}.claim
  [ "$(cat "$f" 2>/dev/null)" = "$(_topo_proc_id $$)" ] && rm -f "$f"
  rmdir "$TOPO_CLAIMS" 2>/dev/null
  return 0
}

# topo_leftovers PREFIX: prints namespaces named PREFIX*; status 1 when there are any.
topo_leftovers() {
  local left
  left=$(topo_namespaces "$1")
  [ -z "$left" ] && return 0
  echo "$left"
  return 1
}

# hp_setup PAGES: chooses how DPDK gets memory and sets HP_EAL_ARGS (an array).
#  - hugepages already reserved with at least 256 free (512 MiB of 2 MiB pages): use them;
#  - none reserved: reserve PAGES (remembered, hp_restore puts the old value back);
#  - otherwise, or if the kernel gives fewer than half: --no-huge -m 512 --no-shconf.
# With hugepages the EAL runs --in-memory, which creates no hugetlbfs files.
# Sets HP_MODE (hugepages | no-huge), HP_PREVIOUS and HP_RESERVED ("" = nothing to undo).
HP_SYSCTL=/proc/sys/vm/nr_hugepages
HP_PREVIOUS=""
HP_RESERVED=""
HP_MODE=""
HP_EAL_ARGS=()
hp_setup() {
  local want=${1:-512} prev free got
  prev=$(cat "$HP_SYSCTL" 2>/dev/null || echo 0)
  free=$(awk '/^HugePages_Free:/ {print $2}' /proc/meminfo 2>/dev/null)
  free=${free:-0}
  if [ "$prev" -gt 0 ] && [ "$free" -ge 256 ]; then
    HP_MODE=hugepages
  elif [ "$prev" -eq 0 ] && echo "$want" >"$HP_SYSCTL" 2>/dev/null; then
    got=$(cat "$HP_SYSCTL")
    HP_PREVIOUS=$prev
    HP_RESERVED=$got
    if [ "$got" -ge $((want / 2)) ]; then
      HP_MODE=hugepages
    else
      hp_restore
      HP_MODE=no-huge
    fi
  else
    HP_MODE=no-huge
  fi
  if [ "$HP_MODE" = hugepages ]; then
    HP_EAL_ARGS=(--in-memory)
  else
    HP_EAL_ARGS=(--no-huge -m 512 --no-shconf)
  fi
}

# hp_restore: puts nr_hugepages back if hp_setup changed it and nobody changed it since.
hp_restore() {
  [ -n "$HP_RESERVED" ] || return 0
  if [ "$(cat "$HP_SYSCTL" 2>/dev/null)" = "$HP_RESERVED" ]; then
    echo "$HP_PREVIOUS" >"$HP_SYSCTL" 2>/dev/null ||
      topo_log "cannot restore $HP_SYSCTL to $HP_PREVIOUS"
  else
    topo_log "$HP_SYSCTL changed by someone else since it was set to $HP_RESERVED; left alone"
  fi
  HP_RESERVED=""
}

# hp_save FILE / hp_load FILE: keep what hp_restore needs in a file, so that a later
# process (deploy/demo.sh --stop, or the next test run after a SIGKILL) can restore it.
hp_save() { echo "${HP_PREVIOUS:--} ${HP_RESERVED:--} $HP_MODE" >"$1"; }
hp_load() {
  local prev reserved memory
  read -r prev reserved memory <"$1" 2>/dev/null || return 1
  HP_PREVIOUS=${prev#-}
  HP_RESERVED=${reserved#-}
  HP_MODE=$memory
}

# hp_files: every file on every mounted hugetlbfs (/dev/hugepages may not be mounted).
hp_files() {
  local mounts
  mounts=$(awk '$3 == "hugetlbfs" {print $2}' /proc/mounts 2>/dev/null | sort -u)
  [ -n "$mounts" ] || return 0
  # shellcheck disable=SC2086
  find $mounts -xdev -type f 2>/dev/null | sort
}
