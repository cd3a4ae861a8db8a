#!/usr/bin/env bash
# sluicectl without a daemon: usage errors exit 2, an unreachable daemon exits 3 with a
# clear message, --help exits 0. Usage: sluicectl_test.sh PATH/TO/sluicectl
set -u
sluicectl=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# run EXPECTED_STATUS ARGS...: runs sluicectl, keeps stdout/stderr in $tmp/out, $tmp/err
run() {
  local want=$1; shift
  timeout 10 "$sluicectl" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "sluicectl $* exited $got, want $want; stderr: $(cat "$tmp/err")"
}

run 0 --help
grep -q '^Usage: sluicectl \[--socket PATH\] \[--json\] COMMAND \[ARGS...\]$' "$tmp/out" ||
  fail "--help: no usage on stdout: $(cat "$tmp/out")"

for args in "" "frobnicate" "list extra" "drain web" "undrain a b c" "--bogus list" "--socket"; do
  # shellcheck disable=SC2086 # split on purpose
  run 2 $args
  grep -q '^Usage: sluicectl' "$tmp/err" || fail "sluicectl $args: no usage on stderr"
  [ -s "$tmp/out" ] && fail "sluicectl $args: wrote to stdout"
done
run 2 undrain a b c
grep -qF "sluicectl: 'undrain' takes 2 argument(s), got 3" "$tmp/err" ||
  fail "no argument count message: $(cat "$tmp/err")"

# Not running: --socket, then $SLUICE_SOCKET.
run 3 --socket "$tmp/none.sock" list
grep -qxF "sluicectl: sluice is not running (no control socket at $tmp/none.sock)" "$tmp/err" ||
  fail "no 'not running' message: $(cat "$tmp/err")"
SLUICE_SOCKET="$tmp/env.sock" run 3 status
grep -qF "(no control socket at $tmp/env.sock)" "$tmp/err" ||
  fail "SLUICE_SOCKET ignored: $(cat "$tmp/err")"
SLUICE_SOCKET="$tmp/env.sock" run 3 --socket "$tmp/opt.sock" status
grep -qF "(no control socket at $tmp/opt.sock)" "$tmp/err" ||
  fail "--socket does not override SLUICE_SOCKET: $(cat "$tmp/err")"

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "sluicectl_test: ok"
