#!/usr/bin/env bash
# `sluice --config FILE --check`: exit statuses, output format, and that it touches no
# NIC or hugepage. Usage: sluice_check_test.sh PATH/TO/sluice SOURCE_ROOT
set -u
sluice=$1
root=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run EXPECTED_STATUS ARGS...: runs sluice, keeps stdout/stderr in $tmp/out, $tmp/err
run() {
  local want=$1; shift
  "$sluice" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "sluice $* exited $got, want $want; stderr: $(cat "$tmp/err")"
}

# Valid: exit 0 and a one-line summary.
run 0 --config "$root/config/examples/sluice.yaml" --check
[ "$(cat "$tmp/out")" = "$root/config/examples/sluice.yaml: valid: 3 services, 6 backends" ] ||
  fail "unexpected summary: $(cat "$tmp/out")"

# Invalid: exit 1, every error as FILE:LINE:COLUMN: error: PATH: MESSAGE, then a count.
cat >"$tmp/bad.yaml" <<'YAML'
dataplane:
  ports:
    - { name: p0, device: net_null0, address: 10.0.0.2/24 }
services:
  - name: web
    vip: 10.0.100.1
    port: 0
    forwarding: dr
    backends:
      - { address: 10.0.0.11, wieght: 5 }
YAML
run 1 --config "$tmp/bad.yaml" --check
grep -qxF "$tmp/bad.yaml:7:11: error: services[0].port: expected an integer in [1, 65535], got '0'" "$tmp/err" ||
  fail "port error missing: $(cat "$tmp/err")"
grep -qxF "$tmp/bad.yaml:10:31: error: services[0].backends[0].wieght: unknown key 'wieght'; did you mean 'weight'?" "$tmp/err" ||
  fail "unknown-key error missing: $(cat "$tmp/err")"
grep -qxF "$tmp/bad.yaml: invalid config: 2 errors" "$tmp/err" || fail "error count missing"
[ -s "$tmp/out" ] && fail "nothing belongs on stdout for an invalid config"

run 1 --config "$tmp/missing.yaml" --check
grep -q "missing.yaml:1:1: error: <document>: cannot open: No such file or directory" "$tmp/err" ||
  fail "missing file: $(cat "$tmp/err")"

# Usage errors: exit 2 with the usage text.
run 2
grep -q "^usage: sluice --config FILE" "$tmp/err" || fail "usage text missing"
run 2 --config "$tmp/bad.yaml" --chek
grep -q "unexpected argument '--chek'" "$tmp/err" || fail "bad flag not named"
run 2 --config

run 0 --help
run 0 --version
grep -qE '^sluice [0-9.]+ \(DPDK [0-9]+\.[0-9]+' "$tmp/out" || fail "version: $(cat "$tmp/out")"

# --check touches no NIC and no hugepage: no DPDK runtime files appear, and (when
# strace is installed) no hugepage, VFIO or PCI file is opened.
# Other unit tests run in parallel and start the EAL under their own file prefixes
# (sluice-golden-PID, sluice-flow-test-PID, ...): those entries are not ours to judge.
runtime_files() {
  ls -A /dev/hugepages /var/run/dpdk /run/user/"$(id -u)"/dpdk 2>/dev/null |
    grep -vE '^sluice-[a-z0-9_-]+-[0-9]+$' | sort
}
before=$(runtime_files)
run 0 --config "$root/config/examples/sluice.yaml" --check
after=$(runtime_files)
[ "$before" = "$after" ] || fail "--check left DPDK runtime files behind"
if command -v strace >/dev/null; then
  strace -f -qq -e trace=open,openat -o "$tmp/trace" \
    "$sluice" --config "$root/config/examples/sluice.yaml" --check >/dev/null 2>&1
  if grep -E 'hugepage|/dev/vfio|/dev/uio|/sys/bus/pci|/var/run/dpdk' "$tmp/trace"; then
    fail "--check opened NIC or hugepage files"
  fi
fi

[ "$failures" -eq 0 ] && echo "sluice --check: all checks passed"
exit $((failures > 0))
