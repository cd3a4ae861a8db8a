#!/usr/bin/env bash
# sluicectl without a daemon: usage errors exit 2, an unreachable daemon exits 3 with a
# clear message (not running, stale socket, permission denied with the socket's group
# named when it has one), --help exits 0. Usage: sluicectl_test.sh PATH/TO/sluicectl
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

# Not accessible (EACCES) vs not running: a root-owned listening socket that reads each
# request and closes without an answer, reached as user nobody (65534, group nogroup). Root only (setpriv).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  chmod 0755 "$tmp"
  sock=$tmp/root.sock
  timeout 20 python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
while True:
    c = s.accept()[0]
    while c.recv(4096):
        pass
    c.close()
' "$sock" &
  server=$!
  for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
  as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
  chmod 0600 "$sock"
  as_nobody "$sluicectl" --socket "$sock" list >"$tmp/out" 2>"$tmp/err"
  got=$?
  [ "$got" = 3 ] || fail "EACCES (0600): exit $got, want 3"
  grep -qxF "sluicectl: permission denied on $sock: run as root" "$tmp/err" ||
    fail "EACCES (0600): $(cat "$tmp/err")"
  # control.group: root:GROUP 0660; nobody is not in group daemon ...
  chgrp daemon "$sock" && chmod 0660 "$sock"
  as_nobody "$sluicectl" --socket "$sock" list >"$tmp/out" 2>"$tmp/err"
  grep -qxF "sluicectl: permission denied on $sock: run as root or as a member of group daemon" \
    "$tmp/err" || fail "EACCES (0660 daemon): $(cat "$tmp/err")"
  # ... but is in nogroup: gets through (this server answers nothing).
  chgrp nogroup "$sock"
  as_nobody "$sluicectl" --socket "$sock" list >"$tmp/out" 2>"$tmp/err"
  grep -qxF "sluicectl: sluice closed the control connection without an answer" "$tmp/err" ||
    fail "member of the socket's group: $(cat "$tmp/err")"
  # A socket nobody listens on: not running (stale), not "permission denied".
  kill "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  run 3 --socket "$sock" list
  grep -qxF "sluicectl: sluice is not running (stale control socket at $sock)" "$tmp/err" ||
    fail "stale socket: $(cat "$tmp/err")"
else
  echo "(not root: permission checks skipped)"
fi

if [ "$failures" -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "sluicectl_test: ok"
