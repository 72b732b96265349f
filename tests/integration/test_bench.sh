#!/usr/bin/env bash
# torvyn-trace bench against a pipeline whose truth the test knows: N
# elements of S bytes, delays injected in the processor, small queues.
# The report's totals equal the host's summary, bytes/s is consistent with
# the sizes, the delayed component is the slowest, backpressure events equal
# the summary's; --compare exits 0 against the same run and 3 against a run
# made slower on purpose.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes

N=10000
S=200
pipeline() { # FILE DELAYS_JSON
	cat >"$1" <<JSON
{"flows": [{"id": "bench", "queue": {"capacity": 16},
  "components": [
    {"id": "source", "role": "source", "kind": "generator", "rate": 20000, "payload": {"size": $S}},
    {"id": "processor", "role": "processor", "kind": "transform", "faults": $2},
    {"id": "sink", "role": "sink", "kind": "null"}]}]}
JSON
}
delays=$(python3 -c 'import json; print(json.dumps([{"at": k * 1000, "type": "delay", "ms": 5} for k in range(1, 9)]))')
pipeline "$T/bench.json" "$delays"
pipeline "$T/slower.json" '[{"at": 5000, "type": "delay", "ms": 1500}]'

cd "$T"
"$TRACE" bench --warmup 0 --duration 60 --report-format json --report "$T/report.json" \
	--baseline base --compare base \
	-- "$HOST" run "$T/bench.json" --elements $N --wait-attach --summary "$T/summary.json" \
	>"$T/compare-same.txt" 2>"$T/bench.err" || fail "bench exited $?: $(cat "$T/bench.err")"
cat "$T/compare-same.txt"
ok "--compare against the same run exits 0"
[ -f .torvyn/bench/base.json ] || fail "--baseline did not save .torvyn/bench/base.json"
cd "$ROOT"

R="$T/report.json" S_="$T/summary.json"
assert_eq "schema_version" 1 "$(jq_get "$R" .schema_version)"
assert_eq "elements in the report (summary)" "$(jq_get "$S_" '.flows[0].elements')" "$(jq_get "$R" .elements)"
assert_eq "elements" $N "$(jq_get "$R" .elements)"
assert_eq "bytes = N x payload size" $((N * S)) "$(jq_get "$R" .bytes)"
python3 - "$R" <<'PY' || fail "bytes/s is not bytes / duration"
import json, sys
r = json.load(open(sys.argv[1]))
want = r["bytes"] / r["duration_s"]
got = r["throughput"]["bytes_per_sec"]
assert abs(got - want) <= 1e-6 * want, (got, want)
assert abs(r["throughput"]["elements_per_sec"] - r["elements"] / r["duration_s"]) <= 1e-6 * r["elements"]
print("ok: bytes/s = %.0f = bytes / duration, elements/s = %.0f" % (got, r["throughput"]["elements_per_sec"]))
PY
for c in 0 1 2; do
	assert_eq "invocations of component $c" $N "$(jq_get "$R" ".per_component[$c].invocations")"
done
assert_eq "end-to-end latency samples" $N "$(jq_get "$R" .latency.samples)"
assert_eq "slowest component" "bench/processor" "$(jq_get "$R" .slowest)"
bp_truth=$(jq_get "$S_" '[.flows[0].streams[].backpressure_events] | add')
bp_report=$(jq_get "$R" '[.queues[].backpressure_events] | add')
[ "$bp_truth" -gt 0 ] || fail "the delays caused no backpressure: the test proves nothing"
assert_eq "backpressure events (summary)" "$bp_truth" "$bp_report"
assert_eq "scheduling.backpressure_events" "$bp_truth" "$(jq_get "$R" .scheduling.backpressure_events)"
assert_eq "pool allocations" "$(jq_get "$S_" '[.pool[].allocated] | add')" "$(jq_get "$R" .resources.buffer_allocs)"
python3 - "$R" <<'PY' || fail "latency percentiles out of order or the processor's delays missing"
import json, sys
r = json.load(open(sys.argv[1]))
l = r["latency"]
assert 0 < l["p50_us"] <= l["p90_us"] <= l["p95_us"] <= l["p99_us"] <= l["p999_us"] <= l["max_us"], l
proc = [c for c in r["per_component"] if c["component"] == "processor"][0]
assert proc["max_us"] >= 5000, proc          # a 5 ms delay is in the window
assert proc["mean_us"] >= 8 * 5000 / 10000, proc
print("ok: percentiles ordered; processor max %.0f us, mean %.1f us" % (proc["max_us"], proc["mean_us"]))
PY

# a deliberately slower run: a 1.5 s stall in the processor
cd "$T"
rc=0
"$TRACE" bench --warmup 0 --duration 60 --report-format json --report "$T/slower.json.out" \
	--compare base \
	-- "$HOST" run "$T/slower.json" --elements $N --wait-attach >"$T/compare-slow.txt" 2>&1 || rc=$?
cd "$ROOT"
cat "$T/compare-slow.txt"
assert_eq "--compare against a slower run: exit code" 3 "$rc"

# on a terminal, a progress line (elapsed time, live throughput) goes to
# stderr; nothing of it reaches the JSON report
if command -v script >/dev/null; then
	# (stdin from /dev/null: with no stdin at all, script runs no terminal)
	script -qec "'$TRACE' bench --warmup 0.5 --duration 1.5 --report-format json \
		--report '$T/tty.json' -- '$HOST' run '$T/bench.json'" "$T/tty.log" >/dev/null </dev/null
	grep -q 'elements/s' "$T/tty.log" || fail "no progress line on a terminal: $(cat "$T/tty.log")"
	grep -q 'measuring' "$T/tty.log" || fail "the progress line does not say it is measuring"
	python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$T/tty.json" ||
		fail "the JSON report is not clean JSON"
	grep -q 'elements/s  ' "$T/tty.json" && fail "progress text in the JSON report"
	ok "progress line on a terminal, clean JSON report"
else
	echo "script (util-linux) is missing: the terminal progress line is not checked"
fi
