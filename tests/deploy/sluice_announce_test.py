#!/usr/bin/env python3
"""Unit tests of deploy/bgp/sluice-announce.py's decisions (run by meson as
sluice_announce_test; python3 tests/deploy/sluice_announce_test.py by hand)."""
import importlib.util
import os
import stat
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "..", "..", "deploy", "bgp", "sluice-announce.py")
_spec = importlib.util.spec_from_file_location("sluice_announce", SCRIPT)
sa = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sa)

UP_AND_DOWN = ('{"vips":[{"vip":"10.0.100.1","prefix":"10.0.100.1/32","up":true,"services":1,'
               '"serving_services":1},{"vip":"10.0.100.2","prefix":"10.0.100.2/32","up":false,'
               '"services":1,"serving_services":0},{"vip":"fd00::1","prefix":"fd00::1/128",'
               '"up":true,"services":1,"serving_services":1}]}\n')


class WantedPrefixesTest(unittest.TestCase):
    def test_up_vips_only(self):
        wanted, why = sa.wanted_prefixes(0, UP_AND_DOWN)
        self.assertEqual(wanted, {"10.0.100.1/32", "fd00::1/128"})
        self.assertEqual(why, "sluice answered")

    def test_no_daemon_withdraws_everything(self):
        wanted, why = sa.wanted_prefixes(3, "")
        self.assertEqual(wanted, set())
        self.assertIn("cannot be reached", why)
        # sluicectl's own reason (its stderr) is kept: "not running" and "permission
        # denied" are both exit 3.
        why = sa.wanted_prefixes(3, "sluicectl: permission denied on /run/sluice/sluice.sock: "
                                    "run as root\n")[1]
        self.assertIn("permission denied", why)

    def test_any_other_failure_withdraws_everything(self):
        for code in (1, 2, -1, -2):
            self.assertEqual(sa.wanted_prefixes(code, UP_AND_DOWN)[0], set(), code)
        self.assertIn("timeout", sa.wanted_prefixes(-1, "")[1])

    def test_malformed_answers_withdraw_everything(self):
        for text in ("", "VIP up", "{}", '{"vips":[{"prefix":"1.2.3.4/32"}]}',
                     '{"vips":[{"prefix":"1.2.3.4/32","up":"yes"}]}', '{"vips":3}'):
            wanted, why = sa.wanted_prefixes(0, text)
            self.assertEqual(wanted, set(), text)
            self.assertIn("unexpected answer", why, text)

    def test_no_services(self):
        self.assertEqual(sa.wanted_prefixes(0, '{"vips":[]}\n')[0], set())


class AnnouncerTest(unittest.TestCase):
    def test_commands_only_on_change(self):
        a = sa.Announcer("self")
        self.assertEqual(a.commands({"10.0.100.2/32", "fd00::1/128", "10.0.100.1/32"}), [
            "announce route 10.0.100.1/32 next-hop self",
            "announce route 10.0.100.2/32 next-hop self",
            "announce route fd00::1/128 next-hop self",
        ])
        self.assertEqual(a.commands({"10.0.100.1/32", "10.0.100.2/32", "fd00::1/128"}), [])
        self.assertEqual(a.commands({"10.0.100.1/32", "10.0.100.3/32"}), [
            "withdraw route 10.0.100.2/32 next-hop self",
            "withdraw route fd00::1/128 next-hop self",
            "announce route 10.0.100.3/32 next-hop self",
        ])
        self.assertEqual(a.commands(set()), [
            "withdraw route 10.0.100.1/32 next-hop self",
            "withdraw route 10.0.100.3/32 next-hop self",
        ])
        self.assertEqual(a.commands(set()), [])

    def test_a_restarted_script_withdraws_what_is_down(self):
        # ExaBGP respawns a script that died and keeps the routes it had announced.
        a = sa.Announcer("self")
        a.assume_announced(sa.known_prefixes(0, UP_AND_DOWN) - {"10.0.100.1/32", "fd00::1/128"})
        self.assertEqual(a.commands({"10.0.100.1/32", "fd00::1/128"}), [
            "withdraw route 10.0.100.2/32 next-hop self",
            "announce route 10.0.100.1/32 next-hop self",
            "announce route fd00::1/128 next-hop self",
        ])
        self.assertEqual(sa.known_prefixes(3, ""), set())
        self.assertEqual(sa.known_prefixes(0, "nonsense"), set())

    def test_next_hop_address(self):
        a = sa.Announcer("10.99.0.2")
        self.assertEqual(a.commands({"10.0.100.1/32"}),
                         ["announce route 10.0.100.1/32 next-hop 10.99.0.2"])


class ProcessTest(unittest.TestCase):
    """The script as ExaBGP runs it, with a fake sluicectl whose answer a file sets."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.answer = os.path.join(self.dir.name, "answer")
        self.ctl = os.path.join(self.dir.name, "sluicectl")
        with open(self.ctl, "w") as f:
            f.write('#!/bin/sh\n[ -s "%s" ] || exit 3\ncat "%s"\n' % (self.answer, self.answer))
        os.chmod(self.ctl, stat.S_IRWXU)

    def tearDown(self):
        self.dir.cleanup()

    def test_once(self):
        with open(self.answer, "w") as f:
            f.write(UP_AND_DOWN)
        out = subprocess.run([sys.executable, SCRIPT, "--sluicectl", self.ctl, "--once"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=10,
                             check=True).stdout.decode()
        self.assertEqual(out, "announce route 10.0.100.1/32 next-hop self\n"
                              "announce route fd00::1/128 next-hop self\n")

    def test_a_restart_before_sluice_answers_still_withdraws_what_is_down(self):
        # The first asks fail (no daemon yet); the first clean answer still withdraws the
        # VIPs that are down, which a previous run of the script may have announced.
        p = subprocess.Popen([sys.executable, SCRIPT, "--sluicectl", self.ctl, "--poll", "0.1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        try:
            time.sleep(0.5)  # a few failed asks
            with open(self.answer, "w") as f:
                f.write(UP_AND_DOWN)
            self.assertEqual(p.stdout.readline(), b"withdraw route 10.0.100.2/32 next-hop self\n")
            self.assertEqual(p.stdout.readline(), b"announce route 10.0.100.1/32 next-hop self\n")
        finally:
            p.kill()
            p.wait()

    def test_loop_follows_sluice_and_withdraws_when_stdin_closes(self):
        with open(self.answer, "w") as f:
            f.write(UP_AND_DOWN)
        p = subprocess.Popen([sys.executable, SCRIPT, "--sluicectl", self.ctl, "--poll", "0.1"],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        try:
            # First a withdraw of what is down, in case a previous run announced it.
            self.assertEqual(p.stdout.readline(), b"withdraw route 10.0.100.2/32 next-hop self\n")
            self.assertEqual(p.stdout.readline(), b"announce route 10.0.100.1/32 next-hop self\n")
            self.assertEqual(p.stdout.readline(), b"announce route fd00::1/128 next-hop self\n")
            p.stdin.write(b"done\n")  # ExaBGP's acknowledgement: read and ignored
            p.stdin.flush()
            os.unlink(self.answer)  # the fake sluicectl now exits 3: no daemon
            self.assertEqual(p.stdout.readline(), b"withdraw route 10.0.100.1/32 next-hop self\n")
            self.assertEqual(p.stdout.readline(), b"withdraw route fd00::1/128 next-hop self\n")
            with open(self.answer, "w") as f:
                f.write(UP_AND_DOWN)
            self.assertEqual(p.stdout.readline(), b"announce route 10.0.100.1/32 next-hop self\n")
            self.assertEqual(p.stdout.readline(), b"announce route fd00::1/128 next-hop self\n")
            p.stdin.close()  # ExaBGP went away
            self.assertEqual(p.stdout.read(), b"withdraw route 10.0.100.1/32 next-hop self\n"
                                              b"withdraw route fd00::1/128 next-hop self\n")
            self.assertEqual(p.wait(timeout=10), 0)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


if __name__ == "__main__":
    unittest.main()
