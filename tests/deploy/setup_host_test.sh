#!/usr/bin/env bash
# deploy/setup-host.sh: usage errors, its checks and refusals, the exact commands it runs
# (or would run with --dry-run), and that --dry-run changes nothing.
# Part 1 runs read-only against this machine (--dry-run only). Part 2 runs against a fake
# host (SLUICE_SYSFS / SLUICE_PROCFS) with logging stand-ins for dpdk-hugepages.py,
# dpdk-devbind.py, modprobe and id first in PATH, so the real tools never run.
# No root needed. Usage: setup_host_test.sh SOURCE_ROOT PATH/TO/sluice
set -u
root=$1
sluice=$2
script=$root/deploy/setup-host.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run WANT_STATUS ARGS...: runs the script; output (stdout+stderr) in $tmp/out.
run() {
  local want=$1
  shift
  checks=$((checks + 1))
  "$script" "$@" >"$tmp/out" 2>&1
  local got=$?
  [ "$got" -eq "$want" ] || fail "setup-host.sh $* exited $got, want $want; output:
$(cat "$tmp/out")"
}
# expect TEXT: the last run's output contains TEXT (a fixed string).
expect() {
  checks=$((checks + 1))
  grep -qF -- "$1" "$tmp/out" || fail "output lacks '$1'; output:
$(cat "$tmp/out")"
}
expect_not() {
  checks=$((checks + 1))
  ! grep -qF -- "$1" "$tmp/out" || fail "output has '$1'; output:
$(cat "$tmp/out")"
}
equal() {  # equal WHAT GOT WANT
  checks=$((checks + 1))
  [ "$2" = "$3" ] || fail "$1: got '$2', want '$3'"
}

# --- usage ------------------------------------------------------------------------------
run 0 --help
expect "Exit codes: 0 done, 1 host check failed, 2 usage error, 3 device cannot be bound"
for bad in "--pages x" "--pages 0" "--page-size 4M" "--bogus" "--bind" "--workers 0" \
  "--huge-dir relative" "--config $tmp/missing.yaml" "--node a"; do
  # shellcheck disable=SC2086  # split on purpose
  run 2 $bad
  expect "try --help"
done

# --- stand-ins for the tools that change the host, first in PATH for every run ----------
# (so that even a --dry-run that is broken changes nothing real; they act only on the
# fake host of part 2).
fake=$tmp/host
bin=$tmp/bin
log=$tmp/log
export FAKE_LOG=$log
mkdir -p "$bin"
: >"$log"
cat >"$bin/dpdk-hugepages.py" <<'EOF'
#!/usr/bin/env bash
# Stand-in: logs, reserves in the fake sysfs (FAKE_SHORT pages fewer), mounts in the fake /proc/mounts.
echo "dpdk-hugepages.py $*" >>"$FAKE_LOG"
size="" reserve="" node="" mount=0 dir=""
while [ $# -gt 0 ]; do
  case "$1" in
    -p) size=$2; shift 2 ;; -r) reserve=$2; shift 2 ;; -n) node=$2; shift 2 ;;
    -m) mount=1; shift ;; -d) dir=$2; shift 2 ;; *) exit 9 ;;
  esac
done
kb() { case "$1" in *G) echo $((${1%G} * 1048576)) ;; *M) echo $((${1%M} * 1024)) ;; esac; }
if [ -n "$reserve" ]; then
  pages=$(($(kb "$reserve") / $(kb "$size") - ${FAKE_SHORT:-0}))
  if [ -n "$node" ]; then d=${SLUICE_SYSFS:?}/devices/system/node/node$node/hugepages
  else d=${SLUICE_SYSFS:?}/kernel/mm/hugepages; fi
  echo "$pages" >"$d/hugepages-$(kb "$size")kB/nr_hugepages"
fi
if [ "$mount" = 1 ] && [ -z "${FAKE_NO_MOUNT:-}" ]; then
  echo "nodev $dir hugetlbfs rw,relatime,pagesize=$size 0 0" >>"${SLUICE_PROCFS:?}/mounts"
fi
EOF
cat >"$bin/dpdk-devbind.py" <<'EOF'
#!/usr/bin/env bash
echo "dpdk-devbind.py $*" >>"$FAKE_LOG"
for a in "$@"; do
  case "$a" in
    -*) ;;
    *) ln -sfn "${SLUICE_SYSFS:?}/bus/pci/drivers/vfio-pci" "${SLUICE_SYSFS:?}/bus/pci/devices/$a/driver" ;;
  esac
done
EOF
# shellcheck disable=SC2016  # expanded by the stand-ins
printf '#!/bin/sh\necho "modprobe $*" >>"$FAKE_LOG"\n' >"$bin/modprobe"
# shellcheck disable=SC2016
printf '#!/bin/sh\necho "${FAKE_UID:-0}"\n' >"$bin/id"
# mkdir: only inside the test's directory (a fake-host run must not touch the real host).
cat >"$bin/mkdir" <<EOF
#!/bin/sh
case "\$*" in *" $tmp/"*) exec /bin/mkdir "\$@" ;; esac
echo "mkdir outside the test directory: \$*" >&2
exit 1
EOF
chmod +x "$bin"/*
export PATH="$bin:$PATH"

# --- part 1: this machine, --dry-run only -----------------------------------------------
nr=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
before=$(cat "$nr")
huge_dir=$tmp/hugepages-never-created
mounts_before=$(grep -c " $huge_dir " /proc/mounts)
run 0 --dry-run --pages $((before + 8)) --huge-dir "$huge_dir"
expect "would run: dpdk-hugepages.py -p 2M"
expect "-r $(((before + 8) * 2))M"
expect "dry run: nothing changed"
expect_not "running:"
equal "nr_hugepages after --dry-run" "$(cat "$nr")" "$before"
equal "mounts on $huge_dir after --dry-run" "$(grep -c " $huge_dir " /proc/mounts)" "$mounts_before"
checks=$((checks + 1))
[ ! -e "$huge_dir" ] || fail "--dry-run created $huge_dir"

# The management interface (the default route's) is refused, whatever else is wrong.
mgmt=$(ip -o route show default | awk '{for (i = 1; i < NF; ++i) if ($i == "dev") {print $(i + 1); exit}}')
if [ -n "$mgmt" ]; then
  run 3 --dry-run --bind "$mgmt"
  if readlink -f "/sys/class/net/$mgmt/device" | grep -qE '/[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]'; then
    expect "refusing to take"
    expect "$mgmt is up"
    expect "is the management interface"
  else
    expect "$mgmt is not a PCI device"
  fi
  expect "nothing changed"
  expect_not "would run:"
fi
run 3 --dry-run --bind 0000:ff:1f.7
expect "bind 0000:ff:1f.7: no PCI device 0000:ff:1f.7"
run 3 --dry-run --bind ff:1f.6
expect "no PCI device 0000:ff:1f.6"
run 3 --dry-run --bind no-such-if0
expect "bind no-such-if0: no such interface or PCI address"
run 3 --dry-run --bind lo
expect "lo is not a PCI device"

# The config check uses sluice --check.
run 0 --dry-run --sluice "$sluice" --workers 1 --config "$root/config/examples/sluice.yaml"
expect "ok: config: $root/config/examples/sluice.yaml is valid"
printf 'dataplane:\n  workers: 1\n  bogus: 1\n' >"$tmp/bad.yaml"
run 1 --dry-run --sluice "$sluice" --config "$tmp/bad.yaml"
expect "error: config: $tmp/bad.yaml is invalid"
expect "bogus"  # sluice's own message
run 1 --sluice "$tmp/no-sluice" --config "$root/config/examples/sluice.yaml"
expect "no sluice binary at $tmp/no-sluice"

equal "commands run on this machine" "$(cat "$log")" ""

# --- part 2: a fake host ----------------------------------------------------------------
export SLUICE_SYSFS=$fake/sys SLUICE_PROCFS=$fake/proc

# make_host: a 4-CPU host with 8 GiB available, an IOMMU, no hugepages, and three NICs:
# 0000:05:00.0 (sltest0, down), 0000:06:00.0 (sltest1, up), 0000:07:00.0 (virtio, sltest2, down).
make_host() {
  rm -rf "$fake" "$log"
  : >"$log"
  mkdir -p "$fake/proc/self" "$fake/sys/kernel/iommu_groups/0" "$fake/sys/module/vfio/parameters" \
    "$fake/sys/bus/pci/drivers/ixgbe" "$fake/sys/bus/pci/drivers/virtio-pci" \
    "$fake/sys/bus/pci/drivers/vfio-pci"
  printf 'processor\t: 0\nflags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 pdpe1gb\n' >"$fake/proc/cpuinfo"
  printf 'MemTotal:       16777216 kB\nMemAvailable:    8388608 kB\nHugepagesize:       2048 kB\n' \
    >"$fake/proc/meminfo"
  printf 'Name:\tbash\nCpus_allowed_list:\t0-3\n' >"$fake/proc/self/status"
  printf 'proc /proc proc rw 0 0\n' >"$fake/proc/mounts"
  printf 'BOOT_IMAGE=/vmlinuz quiet\n' >"$fake/proc/cmdline"
  echo N >"$fake/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
  for kb in 2048 1048576; do
    mkdir -p "$fake/sys/kernel/mm/hugepages/hugepages-${kb}kB"
    echo 0 >"$fake/sys/kernel/mm/hugepages/hugepages-${kb}kB/nr_hugepages"
  done
  local spec addr iface flags driver sub dev
  for spec in "0000:05:00.0 sltest0 0x1002 ixgbe -" "0000:06:00.0 sltest1 0x1003 ixgbe -" \
    "0000:07:00.0 sltest2 0x1002 virtio-pci virtio3"; do
    read -r addr iface flags driver sub <<<"$spec"
    dev=$fake/sys/bus/pci/devices/$addr
    [ "$sub" = - ] || dev=$dev/$sub
    mkdir -p "$dev/net/$iface" "$fake/sys/class/net/$iface"
    ln -s "$fake/sys/bus/pci/drivers/$driver" "$fake/sys/bus/pci/devices/$addr/driver"
    ln -s "$dev" "$fake/sys/class/net/$iface/device"
    echo "$flags" >"$fake/sys/class/net/$iface/flags"
  done
}
driver_of() { basename "$(readlink -f "$fake/sys/bus/pci/devices/$1/driver")"; }

make_host
run 0
expect "checks passed; nothing to change"
expect "ok: IOMMU: enabled"
expect "4 available (0-3)"
equal "commands run by a check-only run" "$(cat "$log")" ""

# Hugepages, for real on the fake host: the exact commands, then verified.
run 0 --pages 512 --huge-dir "$fake/hugepages"
equal "commands for --pages 512" "$(cat "$log")" "dpdk-hugepages.py -p 2M -r 1024M
dpdk-hugepages.py -p 2M -m -d $fake/hugepages"
equal "nr_hugepages" "$(cat "$fake/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" 512
expect "running: mkdir -p $fake/hugepages"
expect "ok: hugepages: 512 2M page(s) reserved"
expect "vm.nr_hugepages = 512"
expect "isolcpus="
checks=$((checks + 1))
[ -d "$fake/hugepages" ] || fail "$fake/hugepages was not created"
# Again: nothing missing, already mounted: nothing runs. Fewer pages never lower it.
: >"$log"
run 0 --pages 512 --huge-dir "$fake/hugepages"
expect "already reserved"
expect "hugetlbfs for 2M pages is mounted"
run 0 --pages 100
equal "commands when enough pages are reserved" "$(cat "$log")" ""
equal "nr_hugepages after --pages 100" "$(cat "$fake/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" 512

# --dry-run on the fake host: every command printed, none run, nothing changed.
make_host
run 0 --dry-run --pages 512 --huge-dir "$fake/hugepages" --bind sltest0 --bind 07:00.0
expect "would run: dpdk-hugepages.py -p 2M -r 1024M"
expect "would run: mkdir -p $fake/hugepages"
expect "would run: dpdk-hugepages.py -p 2M -m -d $fake/hugepages"
expect "would run: modprobe vfio-pci"
expect "would run: dpdk-devbind.py --bind=vfio-pci 0000:05:00.0 0000:07:00.0"
expect "driverctl set-override 0000:05:00.0 vfio-pci"
expect_not "running:"
equal "commands run by --dry-run" "$(cat "$log")" ""
equal "nr_hugepages after --dry-run" "$(cat "$fake/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")" 0
equal "driver of 0000:05:00.0 after --dry-run" "$(driver_of 0000:05:00.0)" ixgbe
checks=$((checks + 1))
[ ! -e "$fake/hugepages" ] || fail "--dry-run created $fake/hugepages"

# Binding for real (on the fake host): by name and by short PCI address (a virtio NIC).
run 0 --bind sltest0 --bind 07:00.0
equal "commands for --bind" "$(cat "$log")" "modprobe vfio-pci
dpdk-devbind.py --bind=vfio-pci 0000:05:00.0 0000:07:00.0"
equal "driver of 0000:05:00.0" "$(driver_of 0000:05:00.0)" vfio-pci
equal "driver of 0000:07:00.0" "$(driver_of 0000:07:00.0)" vfio-pci
expect "ok: 0000:07:00.0 bound to vfio-pci"
: >"$log"
run 0 --bind sltest0
expect "0000:05:00.0 is already bound to vfio-pci"
equal "commands when already bound" "$(cat "$log")" ""

# An interface that is up is refused, then bound with --force (passed on to dpdk-devbind.py).
run 3 --bind sltest1
expect "refusing to take 0000:06:00.0 from the kernel: sltest1 is up"
equal "commands after a refusal" "$(cat "$log")" ""
run 0 --bind 0000:06:00.0 --force
expect "warning: bind 0000:06:00.0: 0000:06:00.0 (sltest1) is up; binding anyway (--force)"
equal "commands with --force" "$(cat "$log")" "modprobe vfio-pci
dpdk-devbind.py --bind=vfio-pci --force 0000:06:00.0"

# No IOMMU: binding fails the check; --noiommu enables vfio's no-IOMMU mode; already on: a warning.
make_host
rmdir "$fake/sys/kernel/iommu_groups/0"
run 1 --bind sltest0
expect "error: IOMMU: none"
expect "--noiommu"
run 0 --dry-run --pages 1 --huge-dir "$fake/hugepages"
expect "warning: IOMMU: none"
run 0 --bind sltest0 --noiommu
equal "commands with --noiommu" "$(cat "$log")" "modprobe vfio-pci
dpdk-devbind.py --bind=vfio-pci 0000:05:00.0"
expect "running: echo 1 > $fake/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
equal "noiommu knob" "$(cat "$fake/sys/module/vfio/parameters/enable_unsafe_noiommu_mode")" 1
echo Y >"$fake/sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
run 0 --dry-run --bind sltest2
expect "warning: IOMMU: none, vfio runs in unsafe no-IOMMU mode"
expect_not "enable_unsafe_noiommu_mode"

# Checks: CPU flags, cores (from --workers and from the config), memory, page sizes.
make_host
sed -i 's/ sse4_2//' "$fake/proc/cpuinfo"
run 1 --pages 8 --bind sltest0
expect "error: CPU lacks sse4.2"
expect "nothing changed: 1 failed check(s)"
equal "commands after a failed check" "$(cat "$log")" ""
make_host
run 1 --workers 4
expect "error: cores: 4 worker(s) + the main lcore need 5 CPUs, only 4 available (0-3)"
run 0 --workers 3
sed 's/^  workers: 2 /  workers: 6 /' "$root/config/examples/sluice.yaml" >"$tmp/six.yaml"
run 1 --sluice "$sluice" --config "$tmp/six.yaml"
expect "need 7 CPUs, only 4 available"
expect "ok: config: $tmp/six.yaml is valid"
printf 'Cpus_allowed_list:\t0-1,4,6-7\n' >"$fake/proc/self/status"
run 0 --sluice "$sluice" --config "$root/config/examples/sluice.yaml"
expect "need 3 CPUs, 5 available (0-1,4,6-7)"
run 1 --pages 4097
expect "error: memory: 4097 more 2M page(s) need 8194 MiB, only 8192 MiB available"
run 0 --dry-run --pages 4096
run 0 --dry-run --pages 2 --page-size 1G
expect "would run: dpdk-hugepages.py -p 1G -r 2G"
expect "default_hugepagesz=1G hugepagesz=1G hugepages=2"
rm -r "$fake/sys/kernel/mm/hugepages/hugepages-1048576kB"
run 1 --pages 2 --page-size 1G
expect "the kernel has no 1G pages"

# The kernel reserving fewer pages than asked, or the mount not appearing: exit 4.
make_host
FAKE_SHORT=1 run 4 --pages 64 --huge-dir "$fake/hugepages"
expect "the kernel reserved 63 of 64 2M pages"
make_host
FAKE_NO_MOUNT=1 run 4 --pages 64 --huge-dir "$fake/hugepages"
expect "no hugetlbfs mount for 2M pages"

# NUMA: pages per node, only on the nodes that lack them.
make_host
for n in 0 1; do
  mkdir -p "$fake/sys/devices/system/node/node$n/hugepages/hugepages-2048kB"
done
echo 256 >"$fake/sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages"
echo 0 >"$fake/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages"
printf 'nodev /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n' >>"$fake/proc/mounts"
run 0 --pages 256
equal "commands on a NUMA host" "$(cat "$log")" "dpdk-hugepages.py -p 2M -n 1 -r 512M"
equal "node1 pages" "$(cat "$fake/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages")" 256
expect "vm.nr_hugepages = 512 (all NUMA nodes together"
: >"$log"
run 0 --dry-run --pages 300 --node 0
expect "would run: dpdk-hugepages.py -p 2M -n 0 -r 600M"
expect_not " -n 1 "

# Not root: nothing changes.
make_host
FAKE_UID=1000 run 5 --pages 8
expect "needs root"
equal "commands without root" "$(cat "$log")" ""

# Shell hygiene.
checks=$((checks + 1))
if command -v shellcheck >/dev/null; then
  shellcheck "$script" "$0" || fail "shellcheck deploy/setup-host.sh tests/deploy/setup_host_test.sh"
else
  fail "shellcheck is not installed (deploy/install-deps.sh installs it)"
fi

echo "setup_host_test: $checks checks, $failures failures"
[ "$failures" -eq 0 ]
