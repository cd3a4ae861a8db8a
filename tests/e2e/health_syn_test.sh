#!/usr/bin/env bash
# health_test.sh with half-open tcp checks (health_check.tcp_mode: syn): raw sockets in
# the LB namespace, SYN-ACK = up, RST from a stopped server = down.
# Usage: health_syn_test.sh [PATH/TO/sluice]
SLUICE_E2E_HEALTH=syn exec bash "$(dirname "$0")/health_test.sh" "$@"
