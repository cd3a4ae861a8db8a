#!/usr/bin/env bash
# The demo: builds Sluice, validates the example config, and (once the dataplane lands)
# will create a small network of namespaces with real backends and a client, run
# Sluice on a virtual port and show traffic being balanced.
#
#   sudo deploy/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."

deploy/install-deps.sh
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
ninja -C build >/dev/null

echo "== sluice $(build/lb/sluice --version | cut -d' ' -f2-)"
echo "== validating config/examples/sluice.yaml"
build/lb/sluice --config config/examples/sluice.yaml --check
echo
echo "== rejecting a broken copy of it (every error, with file:line:column)"
broken=$(mktemp --suffix=.yaml)
trap 'rm -f "$broken"' EXIT
sed -e 's/port: 80$/port: 0/' -e 's/forwarding: dr /forwarding: drr/' \
    -e 's/weight: 50/wieght: 50/' config/examples/sluice.yaml >"$broken"
build/lb/sluice --config "$broken" --check 2>&1 || true
echo
cat <<'MSG'
== not there yet: the DPDK dataplane
The traffic part of this demo (client and backend namespaces, Sluice forwarding on a
virtual port, requests spread across backends) arrives with the dataplane issue.
See README.md, "Status".
MSG
