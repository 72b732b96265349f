#!/usr/bin/env bash
# A host in another mount namespace, run from a path that exists only there
# (a private tmpfs): attach finds its executable through /proc/PID/root and
# every counter still equals the host's summary.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd unshare

mkdir -p "$T/ns-summary"
bg unshare --mount --propagation private sh -c "
	mount -t tmpfs torvyn-ns /mnt || exit 90
	mkdir -p /mnt/opt && cp '$HOST' /mnt/opt/torvyn-host || exit 91
	exec /mnt/opt/torvyn-host run '$PIPELINES/three-stage.json' --elements 5000 --wait-attach \
		--summary '$T/ns-summary/summary.json'"
hpid=$BGPID
# the shell execs the host: same pid, once the exec is done
wait_for "the host to start in its namespace" 20 sh -c "readlink /proc/$hpid/exe | grep -q '^/mnt/opt/torvyn-host'"
[ -e /mnt/opt/torvyn-host ] && skip "/mnt/opt/torvyn-host exists outside the namespace too: the test would prove nothing"
ok "the host runs as $(readlink /proc/$hpid/exe), a path this namespace does not have"
PORT=$(pick_port 19651)
bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:$PORT -q
wait_exit "$hpid" 60 || fail "the host exited with $?"
wait_for "target_up 0" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$PORT/metrics | grep -q '^torvyn_trace_target_up 0'"
tests/integration/scrape.sh 127.0.0.1:$PORT/metrics >"$T/final.prom"
python3 tests/integration/prom_check.py check "$T/ns-summary/summary.json" "$T/final.prom"
assert_eq "processor invocations" 5000 \
	"$(sed -n 's/^torvyn_component_invocations_total{flow_id="three-stage",component_id="processor"} //p' "$T/final.prom")"
