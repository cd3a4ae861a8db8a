#!/usr/bin/env bash
# `meson install` into a DESTDIR (without rebuilding): the programs, the example config,
# /etc/default/sluice and the systemd unit land where deploy/meson.build says, the unit's
# paths are the install's, the installed config passes `sluice --check`, a reinstall
# keeps an operator's config, and `systemd-analyze verify` accepts the unit (a copy whose
# paths point into the DESTDIR, so verify can check the binary it names). No root needed.
# Usage: install_test.sh BUILD_DIR BINDIR SYSCONFDIR UNITDIR SOURCE_ROOT
set -u
build=$1 bindir=$2 sysconfdir=$3 unitdir=$4 root=$5
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest
failures=0
checks=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { checks=$((checks + 1)); }
# expect DESCRIPTION COMMAND...: the command must succeed.
expect() {
  local what=$1
  shift
  if "$@"; then ok; else fail "$what"; fi
}

install_into() {
  # --no-rebuild: meson test already built everything; a rebuild from inside a test
  # would fight the running ninja for the build directory.
  if ! meson install -C "$build" --destdir "$1" --no-rebuild >"$tmp/install.log" 2>&1; then
    fail "meson install --destdir $1 failed:"
    sed 's/^/  | /' "$tmp/install.log"
    exit 1
  fi
}

install_into "$dest"
sluice=$dest$bindir/sluice
config=$dest$sysconfdir/sluice/sluice.yaml
unit=$dest$unitdir/sluice.service

# The programs.
expect "no executable $sluice" test -x "$sluice"
expect "no executable $dest$bindir/sluicectl" test -x "$dest$bindir/sluicectl"
expect "installed sluice --version fails" "$sluice" --version
expect "installed sluicectl --help fails" "$dest$bindir/sluicectl" --help

# The config: the documented example, valid for the installed sluice.
expect "no $config" cmp -s "$config" "$root/config/examples/sluice.yaml"
expect "no $config.example" cmp -s "$config.example" "$root/config/examples/sluice.yaml"
out=$("$sluice" --config "$config" --check 2>&1)
expect "installed sluice --check on the installed config: $out" \
  test "$out" = "$config: valid: 3 services, 6 backends"
expect "no $dest$sysconfdir/default/sluice" \
  cmp -s "$dest$sysconfdir/default/sluice" "$root/deploy/systemd/sluice.default"

# The unit: every placeholder filled, every path it names installed.
expect "no unit at $unit" test -f "$unit"
expect "placeholders left in the unit: $(grep -n '@[A-Z]*@' "$unit")" \
  test -z "$(grep '@[A-Z]*@' "$unit")"
want="ExecStart=$bindir/sluice --config $sysconfdir/sluice/sluice.yaml -- \$SLUICE_EAL_ARGS"
expect "ExecStart is '$(grep '^ExecStart=' "$unit")', want '$want'" \
  test "$(grep '^ExecStart=' "$unit")" = "$want"
for key in ExecStart ExecStartPre ExecReload; do
  while read -r path; do
    expect "$key names $path, which the install did not put in place" test -x "$dest$path"
  done < <(sed -n "s/^$key=\\([^ ]*\\).*/\\1/p" "$unit" | grep "^$bindir/")
done
expect "no ExecReload sending SIGHUP" grep -q "^ExecReload=/bin/kill -HUP \$MAINPID$" "$unit"
env_file=$(sed -n 's/^EnvironmentFile=-//p' "$unit")
expect "EnvironmentFile '$env_file' is not the installed $sysconfdir/default/sluice" \
  test "$env_file" = "$sysconfdir/default/sluice"
for line in Type=notify Restart=on-failure RuntimeDirectory=sluice LimitMEMLOCK=infinity; do
  expect "no '$line' in the unit" grep -qx "$line" "$unit"
done
# The config's control socket is in the unit's RuntimeDirectory.
expect "the example config's control socket is not /run/sluice/sluice.sock" \
  grep -q '^  socket: /run/sluice/sluice.sock$' "$config"
for setting in PrivateDevices DevicePolicy DeviceAllow ProtectClock ProtectKernelTunables \
  MemoryDenyWriteExecute; do
  if grep -q "^$setting=" "$unit"; then fail "$setting= in the unit: it breaks DPDK"; else ok; fi
done

# systemd-analyze verify on a copy whose paths point into the DESTDIR (it checks that
# the executables exist). It reports unknown keys on stderr with status 0: any output
# is a failure.
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$tmp/verify"
  sed -e "s#$bindir/#$dest$bindir/#g" -e "s#$sysconfdir/#$dest$sysconfdir/#g" "$unit" \
    >"$tmp/verify/sluice.service"
  if out=$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no \
    "$tmp/verify/sluice.service" 2>&1) && [ -z "$out" ]; then
    ok
  else
    fail "systemd-analyze verify: $out"
  fi
  # The check can fail: a unit naming a missing binary is refused.
  sed "s#^ExecStart=$dest$bindir/sluice#ExecStart=$dest$bindir/no-such-sluice#" \
    "$tmp/verify/sluice.service" >"$tmp/verify/broken.service"
  if SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "$tmp/verify/broken.service" \
    >/dev/null 2>&1; then
    fail "systemd-analyze verify accepts a unit whose ExecStart binary is missing"
  else
    ok
  fi
else
  echo "systemd-analyze not found: unit not verified"
fi

# A reinstall keeps the operator's config and defaults; the .example is refreshed.
echo "# changed by the operator" >>"$config"
echo 'SLUICE_EAL_ARGS="--log-level lib.eal:debug"' >"$dest$sysconfdir/default/sluice"
echo "# stale" >>"$config.example"
install_into "$dest"
expect "a reinstall replaced the operator's config" grep -q '^# changed by the operator$' "$config"
expect "a reinstall replaced /etc/default/sluice" grep -q 'lib.eal:debug' "$dest$sysconfdir/default/sluice"
expect "a reinstall did not refresh sluice.yaml.example" \
  cmp -s "$config.example" "$root/config/examples/sluice.yaml"

echo "install_test: $checks checks passed, $failures failed (prefix files under $dest)"
[ "$failures" -eq 0 ]
