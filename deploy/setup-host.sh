#!/usr/bin/env bash
# Prepares a host for Sluice: checks the CPU, IOMMU, cores, memory and the config,
# reserves hugepages (dpdk-hugepages.py) and binds data NICs to vfio-pci
# (dpdk-devbind.py). Every change is a command printed before it runs; --dry-run prints
# them and changes nothing. docs/operations.md ("Host preparation") explains each step.
#
# Exit codes:
#   0  done (warnings may have been printed)
#   1  a host check failed (CPU flags, IOMMU, cores, memory, config); nothing was changed
#   2  usage error
#   3  a device cannot be bound: not found, not PCI, or in use by the kernel (up, has a
#      route, is the management interface) and --force was not given; nothing was changed
#   4  a command failed or did not have the effect asked for (fewer pages reserved, no
#      mount, device not bound); earlier steps stay done
#   5  changes were asked for without root (use --dry-run to look first)
# When both 1 and 3 apply, the exit code is 3.
#
# SLUICE_SYSFS (default /sys) and SLUICE_PROCFS (default /proc) move the files the
# script reads and writes, so that tests can run it against a fake host.
set -euo pipefail

readonly SYS=${SLUICE_SYSFS:-/sys}
readonly PROC=${SLUICE_PROCFS:-/proc}
readonly PROG=setup-host

usage() {
  cat <<'EOF'
Usage: deploy/setup-host.sh [OPTIONS]

Checks the host and prepares it for Sluice. Without --pages and --bind it only checks.

  --pages N           have at least N hugepages on each NUMA node (or on --node), never
                      fewer than now, and hugetlbfs mounted
  --page-size 2M|1G   hugepage size (default 2M)
  --node N            reserve on NUMA node N only
  --huge-dir DIR      hugetlbfs mount point when none of that size exists (/dev/hugepages)
  --bind DEV          bind DEV (PCI address like 0000:03:00.0 or 03:00.0, or a kernel
                      interface name) to vfio-pci; repeatable
  --noiommu           allow vfio's unsafe no-IOMMU mode when the host has no IOMMU
  --config FILE       check FILE with `sluice --config FILE --check` and take
                      dataplane.workers from it
  --workers N         worker lcores to check cores for (default: from --config, else 1)
  --sluice PATH       the sluice binary (default: $SLUICE_BIN, sluice in PATH, build/lb/sluice)
  --force             bind even an interface that is up, has routes or is the
                      management interface (you may lose the connection)
  --dry-run           print every command that would run, change nothing
  -h, --help          this text

Exit codes: 0 done, 1 host check failed, 2 usage error, 3 device cannot be bound,
4 a command failed, 5 not root.
EOF
}

say() { printf '%s: %s\n' "$PROG" "$*"; }
ok() { say "ok: $*"; }
warn() { say "warning: $*" >&2; }
check_errors=0
device_errors=0
check_fail() {
  say "error: $*" >&2
  check_errors=$((check_errors + 1))
}
device_fail() {
  say "error: $*" >&2
  device_errors=$((device_errors + 1))
}
usage_error() {
  say "$*" >&2
  say "try --help" >&2
  exit 2
}

pages=""
page_size=2M
node=""
huge_dir=/dev/hugepages
binds=()
noiommu=0
config=""
workers=""
sluice_bin=${SLUICE_BIN:-}
force=0
dry_run=0

need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "$1 needs a value"; fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --pages) need_value "$@"; pages=$2; shift 2 ;;
    --page-size) need_value "$@"; page_size=$2; shift 2 ;;
    --node) need_value "$@"; node=$2; shift 2 ;;
    --huge-dir) need_value "$@"; huge_dir=$2; shift 2 ;;
    --bind) need_value "$@"; binds+=("$2"); shift 2 ;;
    --noiommu) noiommu=1; shift ;;
    --config) need_value "$@"; config=$2; shift 2 ;;
    --workers) need_value "$@"; workers=$2; shift 2 ;;
    --sluice) need_value "$@"; sluice_bin=$2; shift 2 ;;
    --force) force=1; shift ;;
    --dry-run) dry_run=1; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown argument: $1" ;;
  esac
done

is_count() { [[ $1 =~ ^[0-9]+$ ]]; }
if [ -n "$pages" ] && { ! is_count "$pages" || [ "$pages" -lt 1 ]; }; then
  usage_error "--pages: '$pages' is not a positive number of pages"
fi
case "$page_size" in
  2M | 2m) page_size=2M; page_kb=2048 ;;
  1G | 1g) page_size=1G; page_kb=1048576 ;;
  *) usage_error "--page-size: '$page_size' is not 2M or 1G" ;;
esac
[ -z "$node" ] || is_count "$node" || usage_error "--node: '$node' is not a node number"
if [ -n "$workers" ] && { ! is_count "$workers" || [ "$workers" -lt 1 ]; }; then
  usage_error "--workers: '$workers' is not a positive number"
fi
[[ $huge_dir == /* ]] || usage_error "--huge-dir: '$huge_dir' is not an absolute path"
if [ -n "$config" ] && [ ! -r "$config" ]; then
  usage_error "--config: cannot read '$config'"
fi

# --- running commands -------------------------------------------------------------------

run() {
  if [ "$dry_run" = 1 ]; then
    say "would run: $*"
    return 0
  fi
  say "running: $*"
  "$@"
}

# Writes VALUE to FILE (a sysfs knob) the same way.
run_write() {
  if [ "$dry_run" = 1 ]; then
    say "would run: echo $1 > $2"
    return 0
  fi
  say "running: echo $1 > $2"
  printf '%s\n' "$1" >"$2"
}

# --- checks -----------------------------------------------------------------------------

# Number of CPUs in a list like "0-3,8,10-11".
count_cpu_list() {
  local total=0 part lo hi
  local IFS=,
  for part in $1; do
    if [[ $part =~ ^([0-9]+)-([0-9]+)$ ]]; then
      lo=${BASH_REMATCH[1]}
      hi=${BASH_REMATCH[2]}
      total=$((total + hi - lo + 1))
    elif [[ $part =~ ^[0-9]+$ ]]; then
      total=$((total + 1))
    fi
  done
  echo "$total"
}

check_cpu_flags() {
  local flags
  flags=$(grep -m1 '^flags' "$PROC/cpuinfo" 2>/dev/null || true)
  if [ -z "$flags" ]; then
    warn "cannot read CPU flags from $PROC/cpuinfo (not x86?); skipping the sse4.2 check"
  elif [[ " $flags " == *" sse4_2 "* ]]; then
    ok "CPU has sse4.2 (DPDK's CRC32 flow hash needs it)"
  else
    check_fail "CPU lacks sse4.2: Debian's DPDK 22.11 is built for it; a VM needs the host's CPU model passed through (e.g. -cpu host)"
  fi
}

# Sets workers from the config when --workers was not given.
read_workers_from_config() {
  [ -n "$workers" ] && return 0
  workers=1
  [ -n "$config" ] || return 0
  local value
  if value=$(python3 - "$config" 2>/dev/null <<'EOF'
import sys, yaml
with open(sys.argv[1]) as f:
    doc = yaml.safe_load(f) or {}
print((doc.get("dataplane") or {}).get("workers", 1))
EOF
  ) && is_count "$value"; then
    workers=$value
  else
    warn "cannot read dataplane.workers from $config (python3-yaml missing or the file is not YAML); assuming 1, pass --workers N"
  fi
}

check_cores() {
  local allowed count need=$((workers + 1))
  allowed=$(awk '/^Cpus_allowed_list:/ {print $2}' "$PROC/self/status" 2>/dev/null || true)
  if [ -z "$allowed" ]; then
    warn "cannot read Cpus_allowed_list from $PROC/self/status; skipping the core check"
    return 0
  fi
  count=$(count_cpu_list "$allowed")
  if [ "$count" -ge "$need" ]; then
    ok "cores: $workers worker(s) + the main lcore need $need CPUs, $count available ($allowed)"
  else
    check_fail "cores: $workers worker(s) + the main lcore need $need CPUs, only $count available ($allowed); lower dataplane.workers"
  fi
}

# Nodes whose nr_hugepages file the reservation writes, as directories.
hugepage_dirs() {
  local numa=("$SYS"/devices/system/node/node[0-9]*)
  if [ -n "$node" ]; then
    echo "$SYS/devices/system/node/node$node/hugepages/hugepages-${page_kb}kB"
  elif [ -e "${numa[0]}" ]; then
    local n
    for n in "${numa[@]}"; do echo "$n/hugepages/hugepages-${page_kb}kB"; done
  else
    echo "$SYS/kernel/mm/hugepages/hugepages-${page_kb}kB"
  fi
}

short_dirs=()  # hugepage directories (nodes) holding fewer than --pages pages

check_memory() {
  [ -n "$pages" ] || return 0
  if [ ! -d "$SYS/kernel/mm/hugepages/hugepages-${page_kb}kB" ]; then
    check_fail "hugepages: the kernel has no $page_size pages ($SYS/kernel/mm/hugepages/hugepages-${page_kb}kB missing; 1G needs the pdpe1gb CPU flag)"
    return 0
  fi
  local dir current missing_pages=0
  while read -r dir; do
    if [ ! -r "$dir/nr_hugepages" ]; then
      check_fail "hugepages: $dir/nr_hugepages does not exist (no such NUMA node?)"
      return 0
    fi
    current=$(cat "$dir/nr_hugepages")
    if [ "$current" -lt "$pages" ]; then
      missing_pages=$((missing_pages + pages - current))
      short_dirs+=("$dir")
    fi
  done < <(hugepage_dirs)
  local available_kb need_kb=$((missing_pages * page_kb))
  available_kb=$(awk '/^MemAvailable:/ {print $2}' "$PROC/meminfo")
  if [ "$missing_pages" = 0 ]; then
    ok "memory: $pages $page_size page(s) already reserved"
  elif [ "$need_kb" -le "$available_kb" ]; then
    ok "memory: $missing_pages more $page_size page(s) need $((need_kb / 1024)) MiB, $((available_kb / 1024)) MiB available"
  else
    check_fail "memory: $missing_pages more $page_size page(s) need $((need_kb / 1024)) MiB, only $((available_kb / 1024)) MiB available; lower --pages"
  fi
}

iommu_enabled() {
  local groups=("$SYS"/kernel/iommu_groups/*)
  [ -e "${groups[0]}" ]
}

noiommu_file="$SYS/module/vfio/parameters/enable_unsafe_noiommu_mode"
noiommu_enabled() { [ "$(cat "$noiommu_file" 2>/dev/null)" = Y ]; }

check_iommu() {
  if iommu_enabled; then
    ok "IOMMU: enabled ($SYS/kernel/iommu_groups is not empty)"
    return 0
  fi
  local advice="enable it in firmware (VT-d / AMD-Vi) and on the kernel command line (intel_iommu=on iommu=pt, or amd_iommu=on), then reboot"
  if noiommu_enabled; then
    warn "IOMMU: none, vfio runs in unsafe no-IOMMU mode (devices can DMA anywhere in memory); $advice"
  elif [ ${#binds[@]} -eq 0 ]; then
    warn "IOMMU: none ($SYS/kernel/iommu_groups is empty): vfio-pci cannot bind devices; $advice (or, in a VM without a virtual IOMMU, --noiommu)"
  elif [ "$noiommu" = 1 ]; then
    warn "IOMMU: none; --noiommu: vfio's unsafe no-IOMMU mode will be enabled (devices can DMA anywhere in memory)"
  else
    check_fail "IOMMU: none ($SYS/kernel/iommu_groups is empty), so vfio-pci cannot bind: $advice; in a VM without a virtual IOMMU, --noiommu allows vfio's unsafe no-IOMMU mode"
  fi
}

find_sluice() {
  if [ -n "$sluice_bin" ]; then
    echo "$sluice_bin"
  elif command -v sluice >/dev/null 2>&1; then
    command -v sluice
  else
    local here
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    echo "$here/../build/lb/sluice"
  fi
}

check_config() {
  [ -n "$config" ] || return 0
  local bin
  bin=$(find_sluice)
  if [ ! -x "$bin" ]; then
    check_fail "config: no sluice binary at $bin to check $config (pass --sluice PATH)"
    return 0
  fi
  if "$bin" --config "$config" --check >/dev/null; then
    ok "config: $config is valid ($bin --check)"
  else
    check_fail "config: $config is invalid (the errors above, from $bin --config $config --check)"
  fi
}

# --- devices ----------------------------------------------------------------------------

bind_addrs=()  # PCI addresses to bind, in order

# The PCI address at or above a sysfs device path (virtio-net's device is a child of it).
pci_of_path() {
  local path=$1
  while [ -n "$path" ] && [ "$path" != / ]; do
    if [[ $(basename "$path") =~ ^[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]$ ]]; then
      basename "$path"
      return 0
    fi
    path=$(dirname "$path")
  done
  return 1
}

# Kernel interfaces of a PCI device (directly or under a virtio child).
interfaces_of() {
  local dev="$SYS/bus/pci/devices/$1" n
  for n in "$dev"/net/* "$dev"/*/net/*; do
    [ -e "$n" ] && basename "$n"
  done
  return 0
}

management_interfaces() {
  {
    ip -o route show default 2>/dev/null
    ip -o -6 route show default 2>/dev/null
    if [ -n "${SSH_CONNECTION:-}" ]; then
      ip -o route get "${SSH_CONNECTION%% *}" 2>/dev/null
    fi
  } | awk '{for (i = 1; i < NF; ++i) if ($i == "dev") print $(i + 1)}' | sort -u
}

# Why the kernel still uses IFACE ("" when it does not).
in_use_reasons() {
  local iface=$1 reasons=() flags
  flags=$(cat "$SYS/class/net/$iface/flags" 2>/dev/null || echo 0)
  if (((flags & 1) != 0)); then reasons+=("is up"); fi
  if [ -n "$(ip -o route show dev "$iface" 2>/dev/null)$(ip -o -6 route show dev "$iface" 2>/dev/null | grep -v '^fe80::/64' || true)" ]; then
    reasons+=("has routes")
  fi
  if management_interfaces | grep -qx "$iface"; then
    reasons+=("is the management interface (default route or this SSH session)")
  fi
  local IFS=,
  echo "${reasons[*]}"
}

resolve_device() {
  local arg=$1 addr
  if [[ $arg =~ ^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]]; then
    addr=$(tr 'A-F' 'a-f' <<<"$arg")
    [[ $addr == ????:* ]] || addr="0000:$addr"
    if [ ! -e "$SYS/bus/pci/devices/$addr" ]; then
      device_fail "bind $arg: no PCI device $addr (dpdk-devbind.py --status lists the devices)"
      return 0
    fi
  elif [ -e "$SYS/class/net/$arg" ]; then
    if ! addr=$(pci_of_path "$(readlink -f "$SYS/class/net/$arg/device" 2>/dev/null || true)"); then
      device_fail "bind $arg: $arg is not a PCI device (a virtual interface: use a DPDK vdev such as net_af_xdp in dataplane.ports[].device instead)"
      return 0
    fi
  else
    device_fail "bind $arg: no such interface or PCI address (give 0000:BB:DD.F or an interface name)"
    return 0
  fi

  local driver=""
  [ -e "$SYS/bus/pci/devices/$addr/driver" ] &&
    driver=$(basename "$(readlink -f "$SYS/bus/pci/devices/$addr/driver")")
  if [ "$driver" = vfio-pci ]; then
    ok "bind $arg: $addr is already bound to vfio-pci"
    return 0
  fi
  local iface refused=0 reasons
  for iface in $(interfaces_of "$addr"); do
    reasons=$(in_use_reasons "$iface")
    [ -n "$reasons" ] || continue
    if [ "$force" = 1 ]; then
      warn "bind $arg: $addr ($iface) ${reasons//,/, }; binding anyway (--force): the kernel loses $iface"
    else
      device_fail "bind $arg: refusing to take $addr from the kernel: $iface ${reasons//,/, } (take it down and remove its addresses first, or --force)"
      refused=1
    fi
  done
  [ "$refused" = 1 ] && return 0
  ok "bind $arg: $addr (driver ${driver:-none}) can be bound to vfio-pci"
  bind_addrs+=("$addr")
}

# --- actions ----------------------------------------------------------------------------

change_failed() {
  say "error: $*" >&2
  exit 4
}

hugetlbfs_mounted() {
  # A hugetlbfs mount of this page size: pagesize=2M/1G in its options, or no pagesize
  # option when this is the default size.
  local default_kb
  default_kb=$(awk '/^Hugepagesize:/ {print $2}' "$PROC/meminfo")
  awk -v size="$page_size" -v is_default="$([ "$default_kb" = "$page_kb" ] && echo 1)" '
    $3 == "hugetlbfs" {
      if ($4 ~ ("pagesize=" size "(,|$)")) found = 1
      else if ($4 !~ /pagesize=/ && is_default == "1") found = 1
    }
    END { exit !found }' "$PROC/mounts"
}

reserve_hugepages() {
  # Only where pages are missing, one node at a time: dpdk-hugepages.py sets the count,
  # and lowering a reservation could take pages from a running process.
  local size dir
  if [ "$page_size" = 1G ]; then size="${pages}G"; else size="$((pages * 2))M"; fi
  for dir in "${short_dirs[@]}"; do
    if [[ $dir =~ /node([0-9]+)/hugepages/ ]]; then
      run dpdk-hugepages.py -p "$page_size" -n "${BASH_REMATCH[1]}" -r "$size" ||
        change_failed "dpdk-hugepages.py could not reserve the pages"
    else
      run dpdk-hugepages.py -p "$page_size" -r "$size" ||
        change_failed "dpdk-hugepages.py could not reserve the pages"
    fi
  done
  [ ${#short_dirs[@]} -gt 0 ] || ok "hugepages: $pages $page_size page(s) already reserved"
  if hugetlbfs_mounted; then
    ok "hugetlbfs for $page_size pages is mounted"
  else
    run mkdir -p "$huge_dir" || change_failed "cannot create $huge_dir"
    run dpdk-hugepages.py -p "$page_size" -m -d "$huge_dir" ||
      change_failed "dpdk-hugepages.py could not mount hugetlbfs on $huge_dir"
  fi
  [ "$dry_run" = 1 ] && return 0
  local got
  while read -r dir; do
    got=$(cat "$dir/nr_hugepages")
    [ "$got" -ge "$pages" ] || change_failed "hugepages: the kernel reserved $got of $pages $page_size pages in $dir (memory too fragmented: reserve them at boot, see below)"
  done < <(hugepage_dirs)
  ok "hugepages: $pages $page_size page(s) reserved"
  # dpdk-hugepages.py ignores mount's exit status: look for ourselves.
  hugetlbfs_mounted || change_failed "hugepages: no hugetlbfs mount for $page_size pages after mounting $huge_dir"
}

bind_devices() {
  [ ${#bind_addrs[@]} -gt 0 ] || return 0
  run modprobe vfio-pci || change_failed "modprobe vfio-pci failed"
  if ! iommu_enabled && [ "$noiommu" = 1 ] && ! noiommu_enabled; then
    run_write 1 "$noiommu_file" || change_failed "cannot enable vfio's no-IOMMU mode"
  fi
  local devbind=(dpdk-devbind.py --bind=vfio-pci)
  [ "$force" = 0 ] || devbind+=(--force)
  run "${devbind[@]}" "${bind_addrs[@]}" || change_failed "dpdk-devbind.py could not bind ${bind_addrs[*]}"
  [ "$dry_run" = 1 ] && return 0
  local addr driver
  for addr in "${bind_addrs[@]}"; do
    driver=$(basename "$(readlink -f "$SYS/bus/pci/devices/$addr/driver" 2>/dev/null)")
    [ "$driver" = vfio-pci ] || change_failed "$addr is bound to '${driver:-nothing}', not vfio-pci"
    ok "$addr bound to vfio-pci"
  done
}

print_advice() {
  say "to keep this across reboots:"
  if [ -n "$pages" ]; then
    if [ "$page_size" = 1G ]; then
      say "  kernel command line: default_hugepagesz=1G hugepagesz=1G hugepages=$pages (1G pages are only reliably available at boot)"
    else
      local total=$((pages * $(hugepage_dirs | wc -l)))
      say "  /etc/sysctl.d/80-sluice.conf: vm.nr_hugepages = $total (all NUMA nodes together; or hugepages=$total on the kernel command line)"
    fi
    say "  /etc/fstab (systemd already mounts /dev/hugepages for the default size): nodev $huge_dir hugetlbfs pagesize=$page_size 0 0"
  fi
  local addr
  for addr in "${bind_addrs[@]}"; do
    say "  binding: driverctl set-override $addr vfio-pci (package driverctl), or run this script at boot"
  done
  if ! grep -qw isolcpus "$PROC/cmdline" 2>/dev/null; then
    say "  dedicate the worker CPUs: isolcpus=LIST nohz_full=LIST rcu_nocbs=LIST on the kernel command line, --lcores in dataplane.eal (docs/operations.md)"
  fi
}

# --- main -------------------------------------------------------------------------------

read_workers_from_config
check_cpu_flags
check_cores
check_memory
check_iommu
check_config
for dev in "${binds[@]}"; do resolve_device "$dev"; done

if [ "$device_errors" -gt 0 ]; then
  say "nothing changed: $device_errors device problem(s)$([ "$check_errors" = 0 ] || echo " and $check_errors failed check(s)")" >&2
  exit 3
fi
if [ "$check_errors" -gt 0 ]; then
  say "nothing changed: $check_errors failed check(s)" >&2
  exit 1
fi
if [ -z "$pages" ] && [ ${#bind_addrs[@]} -eq 0 ]; then
  say "checks passed; nothing to change (--pages, --bind)"
  exit 0
fi
if [ "$dry_run" = 0 ] && [ "$(id -u)" != 0 ]; then
  say "error: changing hugepages or drivers needs root (run with sudo, or --dry-run to look first)" >&2
  exit 5
fi
[ -z "$pages" ] || reserve_hugepages
bind_devices
print_advice
if [ "$dry_run" = 1 ]; then say "dry run: nothing changed"; else say "done"; fi
