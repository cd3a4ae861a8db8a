#!/usr/bin/env python3
"""Health-gated VIP announcement: an ExaBGP process-API script (docs/bgp.md).

ExaBGP runs this script (`process` in deploy/bgp/exabgp.conf) and reads BGP commands
from its stdout. Every POLL seconds the script asks the local Sluice which VIPs to
advertise (`sluicectl --json announce`: a VIP is up while a service on it has a serving
backend) and, on a change only, prints

    announce route VIP/32 next-hop NEXT_HOP
    withdraw route VIP/32 next-hop NEXT_HOP

Whenever Sluice cannot say (sluicectl exits 3: no daemon, socket gone or refusing; any
other failure, a timeout, an answer that is not the expected JSON) everything announced
is withdrawn: traffic then goes to the other Sluice hosts of the ECMP group. On SIGTERM
or SIGINT, and when ExaBGP goes away (stdin closes), it withdraws everything and exits.

Usage (as ExaBGP's process, or by hand to see what it would say):
  sluice-announce.py [--sluicectl PATH] [--socket PATH] [--next-hop self|ADDRESS]
                     [--poll SECONDS] [--timeout SECONDS] [--once]
"""
import argparse
import json
import os
import select
import signal
import subprocess
import sys
import time

# sluicectl's exit status when it cannot reach the daemon (lb/sluicectl_main.cc).
EXIT_NO_DAEMON = 3


def wanted_prefixes(returncode, stdout):
    """The prefixes to advertise, given sluicectl's exit status and output, and why.

    Returns (set of prefixes, reason). Anything but a clean answer means "none": an LB
    that cannot vouch for its VIPs must not attract their traffic."""
    if returncode == EXIT_NO_DAEMON:
        # Exit 3 also covers a socket sluicectl may not open (permission denied): its
        # own message, passed in `stdout` for a failed run, says which.
        detail = stdout.strip().splitlines()[-1] if stdout.strip() else "sluicectl exit 3"
        return set(), "sluice cannot be reached (%s)" % detail
    if returncode == -1:
        return set(), "no answer from sluice within the timeout"
    if returncode != 0:
        return set(), "sluicectl failed (exit %s)" % returncode
    try:
        answer = json.loads(stdout)
        prefixes = set()
        for vip in answer["vips"]:
            if vip["up"] is True:
                prefixes.add(str(vip["prefix"]))
            elif vip["up"] is not False:
                raise TypeError("'up' is not a boolean")
        return prefixes, "sluice answered"
    except (ValueError, KeyError, TypeError) as e:
        return set(), "unexpected answer from sluicectl (%s): %r" % (e, stdout[:200])


def known_prefixes(returncode, stdout):
    """Every prefix in a clean answer, up or down (empty otherwise)."""
    if returncode != 0:
        return set()
    try:
        return {str(vip["prefix"]) for vip in json.loads(stdout)["vips"]}
    except (ValueError, KeyError, TypeError):
        return set()


class Announcer:
    """What has been announced, and the commands that move it to a new wanted set."""

    def __init__(self, next_hop="self"):
        self.next_hop = next_hop
        self.announced = set()

    def assume_announced(self, prefixes):
        """At start-up: these may have been announced by a previous run of this script
        (ExaBGP keeps its routes when it respawns the process); withdraw them if down."""
        self.announced |= set(prefixes)

    def commands(self, wanted):
        out = []
        for prefix in sorted(self.announced - wanted, key=_sort_key):
            out.append("withdraw route %s next-hop %s" % (prefix, self.next_hop))
        for prefix in sorted(wanted - self.announced, key=_sort_key):
            out.append("announce route %s next-hop %s" % (prefix, self.next_hop))
        self.announced = set(wanted)
        return out


def _sort_key(prefix):
    return (":" in prefix, prefix)


def ask_sluice(sluicectl, socket, timeout):
    """(exit status, output) of `sluicectl --json announce`: stdout when it answered,
    stderr (its reason) when it failed; a timeout is status -1."""
    argv = [sluicectl] + (["--socket", socket] if socket else []) + ["--json", "announce"]
    try:
        done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              stdin=subprocess.DEVNULL, timeout=timeout, check=False)
        out = done.stdout if done.returncode == 0 else done.stderr
        return done.returncode, out.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return -1, ""
    except OSError as e:  # sluicectl missing or not executable
        return -2, str(e)


def log(message):
    sys.stderr.write("sluice-announce: %s\n" % message)
    sys.stderr.flush()


def emit(lines):
    for line in lines:
        sys.stdout.write(line + "\n")
        log(line)
    sys.stdout.flush()


class Stop(Exception):
    pass


def _raise_stop(signum, _frame):
    raise Stop("signal %d" % signum)


def parse_args(argv):
    p = argparse.ArgumentParser(description="ExaBGP process: announce Sluice's VIPs")
    p.add_argument("--sluicectl", default="sluicectl")
    p.add_argument("--socket", default="", help="control socket (default: sluicectl's)")
    p.add_argument("--next-hop", default="self",
                   help="'self' (the BGP session's local address) or Sluice's data address")
    p.add_argument("--poll", type=float, default=1.0, help="seconds between asks")
    p.add_argument("--timeout", type=float, default=2.0, help="sluicectl time limit, s")
    p.add_argument("--once", action="store_true", help="ask once, print, exit")
    return p.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    announcer = Announcer(args.next_hop)
    if args.once:
        wanted, _ = wanted_prefixes(*ask_sluice(args.sluicectl, args.socket, args.timeout))
        emit(announcer.commands(wanted))
        return 0
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    reason = None
    first = True
    try:
        while True:
            started = time.monotonic()
            answer = ask_sluice(args.sluicectl, args.socket, args.timeout)
            wanted, why = wanted_prefixes(*answer)
            # Until the first clean answer, what a previous run announced is unknown: keep
            # asking, so that its routes for VIPs now down get withdrawn.
            if first and answer[0] == 0:
                announcer.assume_announced(known_prefixes(*answer) - wanted)
                first = False
            if why != reason:
                log(why)
                reason = why
            emit(announcer.commands(wanted))
            # Sleep until the next poll, reading ExaBGP's acknowledgements ("done") so
            # that its pipe never fills; end of input means ExaBGP is gone.
            while True:
                left = args.poll - (time.monotonic() - started)
                if left <= 0:
                    break
                ready, _, _ = select.select([sys.stdin], [], [], left)
                if ready and not os.read(sys.stdin.fileno(), 4096):
                    raise Stop("ExaBGP closed stdin")
    except Stop as e:
        log("%s: withdrawing everything" % e)
        try:
            emit(announcer.commands(set()))
        except (BrokenPipeError, OSError):
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
