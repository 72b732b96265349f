#!/usr/bin/env bash
# torvyn-trace killed with SIGKILL: within one second the kernel has detached
# every probe and all the host's semaphores are 0 again; the host runs on.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
PORT=$(pick_port 19621)

bg "$HOST" run "$PIPELINES/three-stage.json" --duration 30 --wait-attach
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --level diagnostic --listen 127.0.0.1:$PORT -q
tpid=$BGPID
sem() { tests/integration/semaphores.py "$hpid"; }
wait_for "the gates to rise" 20 sh -c "tests/integration/semaphores.py $hpid | grep -q '^gate__production [1-9]'"
raised=$(sem | awk '$2 != 0' | wc -l)
echo "semaphores raised while attached: $raised"
# what production and diagnostic attach (README.md, torvyn-trace): the rest of
# the contract is for bpftrace and perf
want="abi__version backpressure__activate backpressure__deactivate component__invoke flow__end flow__start gate__diagnostic gate__production metrics__flush pool__exhausted pool__fallback trace__promote"
assert_eq "probes raised at diagnostic" "$want" "$(sem | awk '$2 != 0 {print $1}' | sort | xargs)"

kill -KILL "$tpid"
start=$(date +%s%N)
while sem | awk '$2 != 0' | grep -q .; do
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ] || fail "semaphores still raised 1 s after SIGKILL: $(sem | awk '$2 != 0')"
	sleep 0.01
done
echo "ok: every semaphore back to 0 $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGKILL"
kill -0 "$hpid" || fail "the host died with the tracer"
ok "the host runs on"
