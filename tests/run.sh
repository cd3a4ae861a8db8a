#!/usr/bin/env bash
# The one test command (README, DESIGN.md): installs what is missing, builds, runs every
# test suite, prints a summary and exits non-zero on any failure. CI runs it as root
# through .ci/run.
#
#   sudo tests/run.sh
#
# Suites, in order:
#   build      release build in build/ (the default: buildtype=release, werror)
#   unit       meson test: unit tests and the benchmark smoke run
#   sanitize   debug build in build-sanitize/ with -Db_sanitize=address,undefined, unit
#              tests under it (skip with SLUICE_SKIP_SANITIZE=1 for a quick local loop)
#   e2e        end-to-end suites, tests/e2e/*_test.sh, against build/ (root: network
#              namespaces, veth, real HTTP clients and servers; skip with SLUICE_SKIP_E2E=1)
# Golden-packet tests (tests/dataplane/) are part of the unit suite: they need no root.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

jobs=$(nproc)
declare -a suite_names=() suite_results=()
total_passed=0
total_failed=0

log() { printf '\n=== %s\n' "$*"; }
record() { suite_names+=("$1"); suite_results+=("$2"); }

# configure DIR [MESON-OPTIONS...]: set up a build dir, or refresh an existing one.
configure() {
  local dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >"$dir.setup.log" 2>&1
  else
    rm -rf "$dir"
    meson setup "$dir" "$@" >"$dir.setup.log" 2>&1
  fi || { cat "$dir.setup.log"; return 1; }
}

# meson_tests NAME DIR [ARGS...]: runs meson test, adds its counts to the totals.
meson_tests() {
  local name=$1 dir=$2; shift 2
  local out
  out=$(mktemp)
  meson test -C "$dir" --print-errorlogs --num-processes "$jobs" "$@" 2>&1 | tee "$out"
  local status=${PIPESTATUS[0]}
  local ok fail
  ok=$(awk '/^Ok:/ {print $2}' "$out")
  fail=$(awk '/^(Fail|Timeout|Unexpected Pass):/ {s += $NF} END {print s + 0}' "$out")
  rm -f "$out"
  total_passed=$((total_passed + ${ok:-0}))
  total_failed=$((total_failed + ${fail:-0}))
  if [ "$status" -eq 0 ]; then record "$name" "passed (${ok:-0} tests)"; else
    record "$name" "FAILED (${fail:-?} of $((${ok:-0} + ${fail:-0})) tests)"
    [ "${fail:-0}" -gt 0 ] || total_failed=$((total_failed + 1))
  fi
}

log "dependencies"
if ! deploy/install-deps.sh; then
  echo "tests/run.sh: cannot install dependencies (run as root)" >&2
  exit 1
fi

log "build (release) in build/"
if configure build && ninja -C build -j "$jobs"; then
  record build passed
  log "unit tests"
  meson_tests unit build --suite unit --suite bench
else
  record build FAILED
  total_failed=$((total_failed + 1))
fi

if [ "${SLUICE_SKIP_SANITIZE:-0}" = 1 ]; then
  record sanitize "skipped (SLUICE_SKIP_SANITIZE=1)"
else
  log "build with -Db_sanitize=address,undefined in build-sanitize/"
  if configure build-sanitize -Dbuildtype=debug -Db_sanitize=address,undefined -Db_lundef=false &&
     ninja -C build-sanitize -j "$jobs"; then
    log "unit tests under ASan and UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
      meson_tests sanitize build-sanitize --suite unit
  else
    record sanitize "FAILED (build)"
    total_failed=$((total_failed + 1))
  fi
fi

if [ "${SLUICE_SKIP_E2E:-0}" = 1 ]; then
  record e2e "skipped (SLUICE_SKIP_E2E=1)"
elif [ "$(id -u)" -ne 0 ]; then
  record e2e "skipped (needs root)"
  total_failed=$((total_failed + 1))
elif [ ! -x build/lb/sluice ]; then
  record e2e "FAILED (no build)"
  total_failed=$((total_failed + 1))
else
  e2e_passed=0
  e2e_failed=0
  for t in tests/e2e/*_test.sh; do
    log "end-to-end: $t"
    if timeout 300 bash "$t" "$root/build/lb/sluice"; then
      e2e_passed=$((e2e_passed + 1))
    else
      echo "FAILED: $t"
      e2e_failed=$((e2e_failed + 1))
    fi
  done
  total_passed=$((total_passed + e2e_passed))
  total_failed=$((total_failed + e2e_failed))
  if [ "$e2e_failed" -eq 0 ]; then record e2e "passed ($e2e_passed tests)"; else
    record e2e "FAILED ($e2e_failed of $((e2e_passed + e2e_failed)) tests)"
  fi
fi

log "summary"
for i in "${!suite_names[@]}"; do
  printf '  %-10s %s\n' "${suite_names[$i]}" "${suite_results[$i]}"
done
echo "Summary: ${total_passed} passed, ${total_failed} failed"
[ "$total_failed" -eq 0 ]
