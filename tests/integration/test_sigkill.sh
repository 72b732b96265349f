#!/usr/bin/env bash
# torvyn-trace killed with SIGKILL: within one second the kernel has detached
# every probe and all the host's semaphores are 0 again; the host runs on.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes

bg "$HOST" run "$PIPELINES/three-stage.json" --duration 30 --wait-attach
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --level diagnostic --listen 127.0.0.1:19621 -q
tpid=$BGPID
sem() { tests/integration/semaphores.py "$hpid"; }
wait_for "the gates to rise" 20 sh -c "tests/integration/semaphores.py $hpid | grep -q '^gate__diagnostic [1-9]'"
raised=$(sem | awk '$2 != 0' | wc -l)
echo "semaphores raised while attached: $raised"
want=$(grep -c "^[[:space:]]*probe " usdt/torvyn.d)
[ "$raised" -eq "$want" ] || fail "expected every probe raised at diagnostic, got $raised: $(sem)"

kill -KILL "$tpid"
start=$(date +%s%N)
while sem | awk '$2 != 0' | grep -q .; do
	[ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ] || fail "semaphores still raised 1 s after SIGKILL: $(sem | awk '$2 != 0')"
	sleep 0.01
done
echo "ok: every semaphore back to 0 $(( ($(date +%s%N) - start) / 1000000 )) ms after SIGKILL"
kill -0 "$hpid" || fail "the host died with the tracer"
ok "the host runs on"
