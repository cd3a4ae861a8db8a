# shellcheck shell=bash disable=SC2034  # (variables are for the scripts that source this)
# The end-to-end topology: network namespaces joined by Linux bridges, with a client, the
# load balancer's port and three real HTTP backends. Sourced by tests/e2e/*_test.sh and
# deploy/demo.sh; see tests/e2e/README.md for the picture and the addresses.
#
#   source tests/e2e/lib/topology.sh
#   topo_require_tools                 # installs iproute2, ethtool, iputils-ping, python3
#   topo_plan NAME                     # optional, before topo_up: the address plan and the
#                                      # backends' setup of one test (dr, the default;
#                                      # tunnel, nat, ipv6, gateway, pmtu, decap)
#   topo_up PREFIX                     # namespaces PREFIX{sw,client,lb,b1,b2,b3} (+gw)
#   topo_start_backends PREFIX LOGDIR  # HTTP servers on b1..b3 (TOPO_BACKEND_PORTS)
#   topo_stop_backend PREFIX NODE      # stops one backend's HTTP server (connections refused)
#   topo_start_backend PREFIX NODE LOGDIR  # starts it again
#   topo_start_decap PREFIX LOGDIR     # decap.py on b1..b3 (tunnel plans)
#   topo_decap_stats LOGDIR NODE       # its counters: "decapsulated=N ipip=N ..."
#   topo_route_via_lb PREFIX           # nat/gateway plans: replies to the client via the LB
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

# The defaults are the DR plan (topo_plan dr); the other plans change them.
TOPO_PLAN=dr
# Data segment (bridge br-data): the client, the LB's DPDK port, the backends.
TOPO_PREFIXLEN=24
TOPO_LB_IP=10.99.0.2        # owned by Sluice (DPDK, af_packet on lb0), not the kernel
TOPO_CLIENT_IP=10.99.0.10
TOPO_VIP=10.99.0.100        # on every backend's lo (DR), answered for by Sluice
declare -gA TOPO_IP=([client]=10.99.0.10 [b1]=10.99.0.11 [b2]=10.99.0.12 [b3]=10.99.0.13)
# Management segment (bridge br-mgmt): the LB's kernel (health checks) and the backends.
TOPO_MGMT_LB_IP=10.98.0.2
declare -gA TOPO_MGMT_IP=([b1]=10.98.0.11 [b2]=10.98.0.12 [b3]=10.98.0.13)
# Fixed MACs make captures readable: 02:99:00:00:00:<last octet of the data address>.
declare -gA TOPO_MAC=([lb]=02:99:00:00:00:02 [client]=02:99:00:00:00:10
                      [b1]=02:99:00:00:00:11 [b2]=02:99:00:00:00:12 [b3]=02:99:00:00:00:13)
declare -gA TOPO_MGMT_MAC=([lb]=02:98:00:00:00:02 [b1]=02:98:00:00:00:11
                           [b2]=02:98:00:00:00:12 [b3]=02:98:00:00:00:13)
# What the plan builds (the DR plan's values):
TOPO_MGMT=1                 # br-mgmt, with mgmt0 in the LB and in every backend
TOPO_LO_ADDRS=(10.99.0.100) # on every backend's lo (/32 or /128): the VIPs it serves
TOPO_BACKEND_PORTS=(80)     # backend.py listens on these (all addresses)
TOPO_DECAP=0                # 1: the backends are tunnel endpoints (topo_start_decap)
TOPO_DECAP_SOURCES=()       # decap.py --expect-source: the outer sources it accepts
TOPO_TUNNEL_SOURCE=""       # the plan's dataplane.tunnel_source ("" = not set)
TOPO_NAT_RETURN=""          # topo_route_via_lb: "" | backends (host route) | gateway (rule)
# IPv6 (TOPO_IPV6=1): on the client's and the backends' data interfaces, no DAD.
TOPO_IPV6=0
TOPO_PREFIXLEN6=64
TOPO_LB_IP6=""              # Sluice's address6 (lb0 itself keeps IPv6 off in the kernel)
TOPO_CLIENT_IP6=""
TOPO_VIP6=""                # an IPv6 VIP served in dr mode
TOPO_VIP6_TUNNEL=""         # an IPv6 VIP served in tunnel mode
declare -gA TOPO_IP6=()
# A gateway (TOPO_GATEWAY=1): namespace PREFIXgw routes between br-data (eth0, TOPO_GW_IP)
# and br-far (eth1, TOPO_GW_FAR_IP), where the backends are (subnet TOPO_FAR_NET).
TOPO_GATEWAY=0
TOPO_GW_IP=""
TOPO_GW_FAR_IP=""
TOPO_FAR_NET=""
TOPO_VIP_NAT=""             # gateway plan: a second VIP, for a nat service
TOPO_BACKEND_BRIDGE=br-data

# _topo_plan_common NET: the data subnet 10.NET.0.0/24 with the usual host numbers (LB .2,
# client .10, backends .11-.13, VIP .100) and MACs 02:NN:00:00:00:HH (NN = NET mod 100,
# HH = the host number in decimal digits), no management segment, nothing else.
_topo_plan_common() {
  local net=$1 nn
  nn=$(printf '%02d' $((net % 100)))
  TOPO_NODES=(sw client lb b1 b2 b3)
  TOPO_BACKENDS=(b1 b2 b3)
  TOPO_LB_IP=10.$net.0.2
  TOPO_CLIENT_IP=10.$net.0.10
  TOPO_VIP=10.$net.0.100
  TOPO_IP=([client]=10.$net.0.10 [b1]=10.$net.0.11 [b2]=10.$net.0.12 [b3]=10.$net.0.13)
  TOPO_MAC=([lb]=02:$nn:00:00:00:02 [client]=02:$nn:00:00:00:10
            [b1]=02:$nn:00:00:00:11 [b2]=02:$nn:00:00:00:12 [b3]=02:$nn:00:00:00:13)
  TOPO_MGMT=0
  TOPO_LO_ADDRS=("$TOPO_VIP")
  TOPO_BACKEND_PORTS=(80)
  TOPO_DECAP=0
  TOPO_DECAP_SOURCES=()
  TOPO_TUNNEL_SOURCE=""
  TOPO_NAT_RETURN=""
  TOPO_IPV6=0
  TOPO_LB_IP6="" TOPO_CLIENT_IP6="" TOPO_VIP6="" TOPO_VIP6_TUNNEL=""
  TOPO_IP6=()
  TOPO_GATEWAY=0
  TOPO_GW_IP="" TOPO_GW_FAR_IP="" TOPO_FAR_NET="" TOPO_VIP_NAT=""
  TOPO_BACKEND_BRIDGE=br-data
}

# _topo_plan_ipv6 NET: adds fd00:NET::/64 with the same host numbers (LB ::2, client
# ::10, backends ::11-::13).
_topo_plan_ipv6() {
  local net=$1
  TOPO_IPV6=1
  TOPO_LB_IP6=fd00:$net::2
  TOPO_CLIENT_IP6=fd00:$net::10
  TOPO_IP6=([client]=fd00:$net::10 [b1]=fd00:$net::11 [b2]=fd00:$net::12 [b3]=fd00:$net::13)
}

# topo_plan NAME: one address plan per test, so that no two tests could ever collide
# (README.md has the table). Call it before topo_up; without it the plan is dr.
topo_plan() {
  case $1 in
    dr) # tests/e2e/dr_test.sh, deploy/demo.sh: 10.99.0.0/24, management 10.98.0.0/24
      _topo_plan_common 99
      TOPO_MGMT=1
      ;;
    tunnel) # tunnel_test.sh: IPv4-in-IPv4 to backends on the LB's segment
      _topo_plan_common 101
      TOPO_DECAP=1
      TOPO_DECAP_SOURCES=("$TOPO_LB_IP")
      ;;
    nat) # nat_test.sh: backends serve 8080 only, no VIP; replies to the client via the LB
      _topo_plan_common 102
      TOPO_LO_ADDRS=()
      TOPO_BACKEND_PORTS=(8080)
      TOPO_NAT_RETURN=backends
      ;;
    ipv6) # ipv6_test.sh: dr and tunnel over IPv6, and an IPv4 VIP over IPv6 tunnels
      _topo_plan_common 103
      _topo_plan_ipv6 103
      TOPO_VIP6=fd00:103::100
      TOPO_VIP6_TUNNEL=fd00:103::200
      TOPO_LO_ADDRS=("$TOPO_VIP" "$TOPO_VIP6" "$TOPO_VIP6_TUNNEL")
      TOPO_DECAP=1
      TOPO_DECAP_SOURCES=("$TOPO_LB_IP6")
      ;;
    gateway) # gateway_test.sh: backends on 10.105.0.0/24 behind PREFIXgw
      _topo_plan_common 104
      TOPO_NODES=(sw client lb gw b1 b2 b3)
      TOPO_IP+=([b1]=10.105.0.11 [b2]=10.105.0.12 [b3]=10.105.0.13)
      TOPO_MAC+=([gw]=02:04:00:00:00:01 [gw-far]=02:05:00:00:00:01
                 [b1]=02:05:00:00:00:11 [b2]=02:05:00:00:00:12 [b3]=02:05:00:00:00:13)
      TOPO_GATEWAY=1
      TOPO_GW_IP=10.104.0.1
      TOPO_GW_FAR_IP=10.105.0.1
      TOPO_FAR_NET=10.105.0.0/24
      TOPO_BACKEND_BRIDGE=br-far
      TOPO_VIP_NAT=10.104.0.101
      TOPO_BACKEND_PORTS=(80 8080)
      TOPO_DECAP=1
      TOPO_TUNNEL_SOURCE=10.104.0.3 # no interface has it: only Sluice's tunnels use it
      TOPO_DECAP_SOURCES=("$TOPO_TUNNEL_SOURCE")
      TOPO_NAT_RETURN=gateway
      ;;
    pmtu) # pmtu_test.sh: tunnel mode, everything at MTU 1500
      _topo_plan_common 106
      TOPO_DECAP=1
      TOPO_DECAP_SOURCES=("$TOPO_LB_IP")
      ;;
    decap) # decap_test.sh: decap.py alone; a client and one backend, no LB
      _topo_plan_common 107
      _topo_plan_ipv6 107
      TOPO_NODES=(sw client b1)
      TOPO_BACKENDS=(b1)
      TOPO_VIP6=fd00:107::100
      TOPO_LO_ADDRS=("$TOPO_VIP" "$TOPO_VIP6")
      TOPO_DECAP=1
      TOPO_DECAP_SOURCES=("$TOPO_LB_IP" "$TOPO_LB_IP6") # the client sends as if it were the LB
      ;;
    *)
      topo_log "unknown plan '$1' (dr, tunnel, nat, ipv6, gateway, pmtu, decap)"
      return 1
      ;;
  esac
  TOPO_PLAN=$1
}

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

# _topo_addr NS DEV ADDRESS/LEN: an IPv4 or IPv6 address (IPv6 without DAD: usable at once).
_topo_addr() {
  if [[ $3 == *:* ]]; then
    ip -n "$1" -6 addr add "$3" dev "$2" nodad
  else
    ip -n "$1" addr add "$3" dev "$2"
  fi
}

# _topo_ipv6_on NS: IPv6 on in a namespace, for the interfaces created after: no DAD (and
# so no tentative addresses, not even link-local ones), no router solicitations or
# advertisements.
_topo_ipv6_on() {
  local c
  for c in all default; do
    _topo_sysctl "$1" "net.ipv6.conf.$c.disable_ipv6=0" "net.ipv6.conf.$c.accept_dad=0" \
      "net.ipv6.conf.$c.dad_transmits=0" "net.ipv6.conf.$c.accept_ra=0" \
      "net.ipv6.conf.$c.router_solicitations=0" || return 1
  done
}

# _topo_ipv6_dev NS DEV: the same on an existing interface.
_topo_ipv6_dev() {
  _topo_sysctl "$1" "net.ipv6.conf.$2.disable_ipv6=0" "net.ipv6.conf.$2.accept_dad=0" \
    "net.ipv6.conf.$2.dad_transmits=0" "net.ipv6.conf.$2.accept_ra=0" \
    "net.ipv6.conf.$2.router_solicitations=0"
}

# topo_up PREFIX: builds the whole topology of the plan (first removing any leftover with
# PREFIX). Returns non-zero on the first failure; the caller's trap runs topo_down.
topo_up() {
  local p=$1 node b a len bridges=(br-data)
  topo_check_prefix "$p" || return 1
  topo_down "$p"
  for node in "${TOPO_NODES[@]}"; do
    ip netns add "$p$node" || return 1
    ip -n "$p$node" link set lo up || return 1
    if [ "$TOPO_IPV6" = 1 ] && [[ $node == client || $node == b[0-9]* ]]; then
      _topo_ipv6_on "$p$node" || return 1
    else
      # No IPv6: nothing but the test's own traffic on the wires.
      _topo_sysctl "$p$node" net.ipv6.conf.all.disable_ipv6=1 \
        net.ipv6.conf.default.disable_ipv6=1 || return 1
    fi
  done

  # The switch: bridges with no STP, forwarding at once, flooding multicast (IPv6 ND).
  [ "$TOPO_MGMT" = 1 ] && bridges+=(br-mgmt)
  [ "$TOPO_GATEWAY" = 1 ] && bridges+=(br-far)
  for b in "${bridges[@]}"; do
    ip -n "${p}sw" link add name "$b" mtu 1500 type bridge stp_state 0 forward_delay 0 \
      mcast_snooping 0 || return 1
    ip -n "${p}sw" link set "$b" up || return 1
  done

  # Client.
  _topo_link "$p" client eth0 br-data d-client "${TOPO_MAC[client]}" || return 1
  ip -n "${p}client" addr add "$TOPO_CLIENT_IP/$TOPO_PREFIXLEN" dev eth0 || return 1
  if [ "$TOPO_IPV6" = 1 ]; then
    _topo_ipv6_dev "${p}client" eth0 || return 1
    _topo_addr "${p}client" eth0 "$TOPO_CLIENT_IP6/$TOPO_PREFIXLEN6" || return 1
  fi
  ip -n "${p}client" link set eth0 up || return 1
  if [ "$TOPO_GATEWAY" = 1 ]; then # only to check the backends without Sluice
    ip -n "${p}client" route add "$TOPO_FAR_NET" via "$TOPO_GW_IP" || return 1
  fi

  # LB: lb0 belongs to DPDK (net_af_packet): up, but no IPv4 address, no IPv6, no ARP
  # from the kernel. mgmt0 is an ordinary kernel interface for health checks.
  if [[ " ${TOPO_NODES[*]} " == *" lb "* ]]; then
    _topo_link "$p" lb lb0 br-data d-lb "${TOPO_MAC[lb]}" || return 1
    _topo_sysctl "${p}lb" net.ipv6.conf.lb0.disable_ipv6=1 net.ipv4.conf.all.arp_ignore=1 \
      || return 1
    ip -n "${p}lb" link set lb0 arp off up || return 1
    if [ "$TOPO_MGMT" = 1 ]; then
      _topo_link "$p" lb mgmt0 br-mgmt m-lb "${TOPO_MGMT_MAC[lb]}" || return 1
      ip -n "${p}lb" addr add "$TOPO_MGMT_LB_IP/$TOPO_PREFIXLEN" dev mgmt0 || return 1
      ip -n "${p}lb" link set mgmt0 up || return 1
    fi
  fi

  # Gateway: an ordinary router between br-data and br-far. Reverse-path filtering off:
  # tunnel-mode replies leave the backends with the VIP as source, an address of br-data's
  # subnet arriving from br-far.
  if [ "$TOPO_GATEWAY" = 1 ]; then
    _topo_link "$p" gw eth0 br-data d-gw "${TOPO_MAC[gw]}" || return 1
    _topo_link "$p" gw eth1 br-far f-gw "${TOPO_MAC[gw-far]}" || return 1
    ip -n "${p}gw" addr add "$TOPO_GW_IP/$TOPO_PREFIXLEN" dev eth0 || return 1
    ip -n "${p}gw" addr add "$TOPO_GW_FAR_IP/$TOPO_PREFIXLEN" dev eth1 || return 1
    _topo_sysctl "${p}gw" net.ipv4.ip_forward=1 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.eth1.rp_filter=0 \
      net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.eth0.send_redirects=0 \
      net.ipv4.conf.eth1.send_redirects=0 || return 1
    ip -n "${p}gw" link set eth0 up || return 1
    ip -n "${p}gw" link set eth1 up || return 1
  fi

  # Backends: DR and tunnel need the VIPs on lo and no ARP answers or announcements for
  # them (arp_ignore, arp_announce); reverse-path filtering off.
  for b in "${TOPO_BACKENDS[@]}"; do
    _topo_link "$p" "$b" eth0 "$TOPO_BACKEND_BRIDGE" "d-$b" "${TOPO_MAC[$b]}" || return 1
    [ "$TOPO_MGMT" = 1 ] &&
      { _topo_link "$p" "$b" mgmt0 br-mgmt "m-$b" "${TOPO_MGMT_MAC[$b]}" || return 1; }
    ip -n "$p$b" addr add "${TOPO_IP[$b]}/$TOPO_PREFIXLEN" dev eth0 || return 1
    [ "$TOPO_MGMT" = 1 ] &&
      { ip -n "$p$b" addr add "${TOPO_MGMT_IP[$b]}/$TOPO_PREFIXLEN" dev mgmt0 || return 1; }
    if [ "$TOPO_IPV6" = 1 ]; then
      _topo_ipv6_dev "$p$b" eth0 || return 1
      _topo_addr "$p$b" eth0 "${TOPO_IP6[$b]}/$TOPO_PREFIXLEN6" || return 1
    fi
    for a in "${TOPO_LO_ADDRS[@]}"; do
      if [[ $a == *:* ]]; then len=128; else len=32; fi
      _topo_addr "$p$b" lo "$a/$len" || return 1
    done
    _topo_sysctl "$p$b" \
      net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1 \
      net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2 \
      net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
      net.ipv4.conf.eth0.rp_filter=0 net.ipv4.conf.lo.rp_filter=0 || return 1
    if [ "$TOPO_MGMT" = 1 ]; then
      _topo_sysctl "$p$b" net.ipv4.conf.mgmt0.arp_ignore=1 \
        net.ipv4.conf.mgmt0.arp_announce=2 net.ipv4.conf.mgmt0.rp_filter=0 || return 1
    fi
    ip -n "$p$b" link set eth0 up || return 1
    [ "$TOPO_MGMT" = 1 ] && { ip -n "$p$b" link set mgmt0 up || return 1; }
    if [ "$TOPO_GATEWAY" = 1 ]; then
      ip -n "$p$b" route add default via "$TOPO_GW_FAR_IP" || return 1
    fi
    # Health checks leave the LB namespace's kernel (lb0 has no kernel address) for each
    # backend's data address: a host route through the backend's management address. The
    # backend accepts it on mgmt0 (any local address; rp_filter off) and answers from its
    # data address out of mgmt0.
    if [ "$TOPO_MGMT" = 1 ] && [[ " ${TOPO_NODES[*]} " == *" lb "* ]]; then
      ip -n "${p}lb" route add "${TOPO_IP[$b]}/32" via "${TOPO_MGMT_IP[$b]}" dev mgmt0 ||
        return 1
    fi
  done
  return 0
}

# topo_start_backends PREFIX LOGDIR: starts backend.py NAME PORTS... in b1..b3 (logs in
# LOGDIR/NAME.log; dual-stack when the plan has IPv6) and waits, at most 5 s per port,
# until each accepts connections. TOPO_BACKEND_PID[NAME] is its process id.
declare -gA TOPO_BACKEND_PID=()
topo_start_backends() {
  local p=$1 logdir=$2 b
  for b in "${TOPO_BACKENDS[@]}"; do _topo_spawn_backend "$p" "$b" "$logdir"; done
  for b in "${TOPO_BACKENDS[@]}"; do _topo_wait_backend "$p" "$b" "$logdir" || return 1; done
}

# topo_start_backend PREFIX NODE LOGDIR: starts one backend's server (again) and waits, at
# most 5 s per port, until it accepts connections.
topo_start_backend() {
  _topo_spawn_backend "$1" "$2" "$3"
  _topo_wait_backend "$1" "$2" "$3"
}

# topo_stop_backend PREFIX NODE: SIGTERM to NODE's backend.py (SIGKILL after 3 s) and
# waits, at most 3 s more, until nothing accepts connections on its ports: from then on a
# connection to it is refused. The namespace and its addresses stay.
topo_stop_backend() {
  local p=$1 b=$2 pids pid i port busy
  pids=$(_topo_backend_pids "$p" "$b")
  # shellcheck disable=SC2086
  if [ -n "$pids" ]; then kill -TERM $pids 2>/dev/null || true; fi
  for ((i = 0; i < 30; i++)); do
    [ -z "$(_topo_backend_pids "$p" "$b")" ] && break
    sleep 0.1
  done
  pids=$(_topo_backend_pids "$p" "$b")
  # shellcheck disable=SC2086
  if [ -n "$pids" ]; then kill -KILL $pids 2>/dev/null || true; fi
  pid=${TOPO_BACKEND_PID[$b]:-}
  # (its exit status is the signal's: not a failure under set -e)
  if [ -n "$pid" ]; then wait "$pid" 2>/dev/null || true; fi
  TOPO_BACKEND_PID[$b]=""
  for ((i = 0; i < 30; i++)); do
    busy=0
    for port in "${TOPO_BACKEND_PORTS[@]}"; do
      ip netns exec "$p$b" timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" \
        2>/dev/null && busy=1
    done
    [ "$busy" = 0 ] && return 0
    sleep 0.1
  done
  topo_log "backend $b still accepts connections 6 s after SIGTERM"
  return 1
}

# The backend.py processes in NODE's namespace.
_topo_backend_pids() {
  local pid
  for pid in $(ip netns pids "$1$2" 2>/dev/null); do
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "/backend.py $2 " && echo "$pid"
  done
}

_topo_spawn_backend() {
  local p=$1 b=$2 logdir=$3 args=()
  [ "$TOPO_IPV6" = 1 ] && args+=(--ipv6)
  ip netns exec "$p$b" "$TOPO_PYTHON" "$TOPO_LIB_DIR/backend.py" "$b" \
    "${TOPO_BACKEND_PORTS[@]}" "${args[@]}" </dev/null >>"$logdir/$b.log" 2>&1 &
  TOPO_BACKEND_PID[$b]=$!
}

_topo_wait_backend() {
  local p=$1 b=$2 logdir=$3 port i
  for port in "${TOPO_BACKEND_PORTS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      ip netns exec "$p$b" timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" \
        2>/dev/null && continue 2
      sleep 0.1
    done
    topo_log "backend $b did not start listening on port $port in 5 s; its log:"
    cat "$logdir/$b.log" >&2
    return 1
  done
}

# topo_start_decap PREFIX LOGDIR: starts lib/decap.py in b1..b3 (TUN device decap0,
# accepting the outer sources TOPO_DECAP_SOURCES; counters in LOGDIR/decap-NAME.stats,
# log in LOGDIR/decap-NAME.log) and waits, at most 5 s each, until it is ready. It ends
# with its namespace (topo_down) or after 900 s. TOPO_DECAP_PID[NAME] is its process id.
declare -gA TOPO_DECAP_PID=()
topo_start_decap() {
  local p=$1 logdir=$2 b i args=(--tun decap0 --max-seconds 900) s
  for s in "${TOPO_DECAP_SOURCES[@]}"; do args+=(--expect-source "$s"); done
  for b in "${TOPO_BACKENDS[@]}"; do
    rm -f "$logdir/decap-$b.stats"
    ip netns exec "$p$b" "$TOPO_PYTHON" "$TOPO_LIB_DIR/decap.py" "${args[@]}" \
      --stats "$logdir/decap-$b.stats" </dev/null >>"$logdir/decap-$b.log" 2>&1 &
    TOPO_DECAP_PID[$b]=$!
  done
  for b in "${TOPO_BACKENDS[@]}"; do
    for ((i = 0; i < 50; i++)); do
      [ -s "$logdir/decap-$b.stats" ] && continue 2
      sleep 0.1
    done
    topo_log "decap.py on $b not ready in 5 s; its log:"
    cat "$logdir/decap-$b.log" >&2
    return 1
  done
}

# topo_decap_stats LOGDIR NODE: the decapsulator's counters on NODE (one line,
# "decapsulated=N ipip=N ip6ip6=N ip4ip6=N bytes=N largest=N wrong_source=N malformed=N
# write_errors=N"); topo_decap_count LOGDIR NODE KEY: one of them (0 if unknown).
topo_decap_stats() { cat "$1/decap-$2.stats" 2>/dev/null; }
topo_decap_count() {
  local v
  v=$(tr ' ' '\n' <"$1/decap-$2.stats" 2>/dev/null | sed -n "s/^$3=//p")
  echo "${v:-0}"
}

# topo_route_via_lb PREFIX: the return path of NAT: replies to the client go to the LB's
# port address. "backends" plan: a host route on each backend; "gateway" plan: on the
# gateway, a rule sends what comes from the backends' subnet through table 100, where the
# client is reached via the LB (tunnel-mode replies, from the VIP, still go direct). Call
# it after checking the backends directly from the client (that stops working).
topo_route_via_lb() {
  local p=$1 b
  case $TOPO_NAT_RETURN in
    backends)
      for b in "${TOPO_BACKENDS[@]}"; do
        ip -n "$p$b" route add "$TOPO_CLIENT_IP/32" via "$TOPO_LB_IP" dev eth0 || return 1
      done
      ;;
    gateway)
      ip -n "${p}gw" rule add from "$TOPO_FAR_NET" lookup 100 priority 100 || return 1
      ip -n "${p}gw" route add "$TOPO_CLIENT_IP/32" via "$TOPO_LB_IP" dev eth0 table 100 ||
        return 1
      ;;
    "") ;;
  esac
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
