#!/usr/bin/env bash
# Installs exactly the Debian 12 packages Sluice needs to build, test and run.
# Idempotent and quiet: does nothing (not even `apt-get update`) when all are present.
# Usage: sudo deploy/install-deps.sh
set -euo pipefail

packages=(
  # build
  build-essential meson ninja-build pkg-config
  # libraries (DESIGN.md: chosen dependencies)
  libdpdk-dev libyaml-cpp-dev prometheus-cpp-dev libcivetweb-dev libabsl-dev libxxhash-dev
  libcurl4-openssl-dev
  # sd_notify for the systemd unit (Type=notify; optional in meson.build, found when this
  # is installed)
  libsystemd-dev
  # runtime tools: dpdk-devbind.py, dpdk-hugepages.py (dpdk); dpdk-dumpcap and
  # dpdk-telemetry.py (dpdk-dev; docs/observability.md)
  dpdk dpdk-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # end-to-end tests and the demo: namespaces, real clients and servers
  iproute2 iputils-ping ethtool curl python3 procps tcpdump
  # systemd-analyze verify on the unit (tests/deploy/install_test.sh)
  systemd
  # Prometheus: promtool (check metrics/rules, test rules) and the server the end-to-end
  # test scrapes Sluice with; python3-yaml for tests/prometheus/check_queries.py
  prometheus python3-yaml
  # BGP (docs/bgp.md): ExaBGP announces the VIPs from a Sluice host; BIRD 2 is the router
  # in tests/e2e/bgp_test.sh (both packages ship a service: kept from starting, below)
  exabgp bird2
  # code style (.clang-format, .clang-tidy)
  clang-format clang-tidy
  # deploy/setup-host.sh is kept shellcheck-clean (tests/deploy/setup_host_test.sh)
  shellcheck
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root to install them" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Debian's packages start their daemons on install (prometheus would listen on :9090 as a
# system service). Tests start their own, on loopback in a namespace: forbid service starts
# during the install with a policy-rc.d (honoured by invoke-rc.d and deb-systemd-invoke),
# unless the host already has one; ours is removed afterwards, whatever happens.
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# deploy/install-deps.sh: no service starts during the install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
if [ "$own_policy" = 1 ]; then
  rm -f "$policy"
  trap - EXIT
fi
# Belt and braces: the BGP daemons must not run either (exabgp.service would read an empty
# /etc/exabgp/exabgp.conf; bird.service would run BIRD with Debian's config).
for unit in exabgp bird; do
  if pgrep -x "$unit" >/dev/null 2>&1 || pgrep -f "^/usr/bin/python3 /usr/sbin/$unit" >/dev/null 2>&1; then
    echo "install-deps: stopping the $unit service the package started"
    if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
      systemctl stop "$unit.service" || true
    elif [ -x "/etc/init.d/$unit" ]; then
      "/etc/init.d/$unit" stop >/dev/null || true
    fi
  fi
done
# Belt and braces: a prometheus daemon the install started anyway (it runs as the
# package's user "prometheus"; the tests' own run as root) is stopped.
if pgrep -u prometheus -x prometheus >/dev/null 2>&1; then
  echo "install-deps: stopping the prometheus service the package started"
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl stop prometheus.service || true
  elif [ -x /etc/init.d/prometheus ]; then
    /etc/init.d/prometheus stop >/dev/null || true
  fi
  for _ in $(seq 50); do pgrep -u prometheus -x prometheus >/dev/null || break; sleep 0.1; done
  if pgrep -u prometheus -x prometheus >/dev/null; then
    echo "install-deps: a prometheus daemon is still running: $(pgrep -a -u prometheus -x prometheus)" >&2
    exit 1
  fi
fi
