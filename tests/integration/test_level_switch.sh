#!/usr/bin/env bash
# Live switching production -> diagnostic -> production -> off -> production
# while a flow runs: fast, no host pause, nothing lost or counted twice.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
python3 tests/integration/level_switch.py "$T"
