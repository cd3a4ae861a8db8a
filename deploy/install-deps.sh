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
  # runtime tools: dpdk-devbind.py, dpdk-hugepages.py (dpdk); dpdk-dumpcap and
  # dpdk-telemetry.py (dpdk-dev; docs/observability.md)
  dpdk dpdk-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # end-to-end tests and the demo: namespaces, real clients and servers
  iproute2 iputils-ping ethtool curl python3 procps tcpdump
  # code style (.clang-format, .clang-tidy)
  clang-format clang-tidy
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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
