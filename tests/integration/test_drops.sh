#!/usr/bin/env bash
# Queue policies that drop: every element is still accounted for exactly once
# (elements == N), the drops are counted on the stream, the error policy
# counts each refused element as an error, and /metrics says the same.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes

N=2000
port=$(pick_port 19641)
bg "$HOST" run tests/integration/pipelines/drops.json --elements $N --wait-attach --summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:$port -q
wait_exit "$hpid" 60 || fail "torvyn-host exited with $?"
wait_for "target_up 0" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$port/metrics | grep -q '^torvyn_trace_target_up 0'"
tests/integration/scrape.sh 127.0.0.1:$port/metrics >"$T/final.prom"

for f in 0 1; do
	assert_eq "flow $f elements (each exactly once)" $N "$(jq_get "$T/summary.json" ".flows[$f].elements")"
done
dropped=$(jq_get "$T/summary.json" '.flows[0].streams[0].elements_dropped')
[ "$dropped" -gt 0 ] || fail "drop-oldest dropped nothing: the stall did not fill the queue"
ok "drop-oldest dropped $dropped elements"
ended=$(jq_get "$T/summary.json" '[.flows[0].components[].elements_ended] | add')
assert_eq "lossy: elements ended, drops included" $N "$ended"
refused=$(jq_get "$T/summary.json" '.flows[1].streams[0].elements_dropped')
[ "$refused" -gt 0 ] || fail "the error policy refused nothing"
assert_eq "strict: refused elements are errors" "$refused" "$(jq_get "$T/summary.json" '.flows[1].errors')"
assert_eq "strict: sink invocations" $((N - refused)) "$(jq_get "$T/summary.json" '.flows[1].components[1].invocations')"
python3 tests/integration/prom_check.py check "$T/summary.json" "$T/final.prom"
