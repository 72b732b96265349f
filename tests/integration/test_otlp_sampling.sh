#!/usr/bin/env bash
# What gets exported, and which settings win.
# 1. Error promotion: sample rate 0 on host and tracer, the processor returns
#    an error at element 17 (latency threshold 10s, so that only the error
#    promotes): exactly one trace reaches the receiver, element 17's: its root
#    (status ERROR, torvyn.promotion.reason error) holds the source's span and
#    the processor's span with status code 2 (ERROR) and torvyn.error.kind
#    internal, and no sink span (the element stopped at the processor). The
#    host's summary agrees: one error promotion, nothing head-sampled.
#    With the host head-sampling everything and the tracer at 0, the tracer
#    narrows that down to the same single error trace.
# 2. Tail-latency promotion: sample rate 0, the SOURCE takes 150 ms longer on
#    element 42, --latency-threshold 75ms on both: exactly one trace,
#    element 42's, complete (source, processor, sink), reason latency, its
#    source span at least 150 ms long, no span in error.
# 3. OTEL_EXPORTER_OTLP_ENDPOINT / _PROTOCOL=http/json / _COMPRESSION=gzip and
#    OTEL_SERVICE_NAME=svc-from-env instead of flags (sample rate 1.0): the
#    receiver gets every trace as gzip'd OTLP/JSON with service.name
#    svc-from-env.
# 4. The same variables plus --service-name from-flag --otlp-protocol
#    http/protobuf --otlp-compression none: the flags win.
# 5. A flow longer than a span-ring slot holds (16 records): 16 components at
#    production, every element sampled, 200 elements. Each element has 16
#    invocation records and its root: every one of the 200 traces arrives
#    with its root and the first 15 components' spans (the root took the last
#    step's place), and the host counts exactly 200 dropped span records. At
#    sample rate 0 nothing is exported and nothing counts as dropped.
# 6. A stalled element keeps its span records while the elements after it
#    come and go: the processor takes 1 s longer on element 5 while the
#    source (5000 elements/s) produces the rest of its 500 into a drop-newest
#    queue of 16. Element 5 and the 16 queued behind it wait longer than the
#    50 ms threshold: exactly 17 traces, each complete, each source span the
#    element's own (the 478 elements dropped meanwhile, several times the 85
#    element structs and slots the flow has, took no record of theirs).
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
. "$(dirname "$0")/otlp_lib.sh"

# run_case NAME PIPELINE ELEMENTS RATE THRESHOLD [ENV=VALUE...] -- [TRACER ARGS...]:
# a --wait-attach host and a tracer at the same sample rate (RATE, or
# HOST_RATE:TRACER_RATE) and latency threshold; the tracer exits with the
# host. Sets HPID.
run_case() {
	local name=$1 pipeline=$2 n=$3 rate=${4%:*} trate=${4#*:} thr=$5 tpid
	shift 5
	local envs=()
	while [ "$1" != -- ]; do
		envs+=("$1")
		shift
	done
	shift
	echo "--- $name"
	start_receiver "$name" --http 0
	bg "$HOST" run "$pipeline" --elements "$n" --wait-attach --sample-rate "$rate" \
		--latency-threshold "$thr" --summary "$T/$name.summary.json"
	HPID=$BGPID
	bg env "${envs[@]/@PORT@/$RPORT}" "$TRACE" attach --pid "$HPID" --listen 127.0.0.1:0 \
		--exit-with-target -q --sample-rate "$trate" --latency-threshold "$thr" "${@/@PORT@/$RPORT}" \
		2>"$T/$name.trace.err"
	tpid=$BGPID
	wait_run "$HPID" "$tpid" "$T/$name.trace.err"
	stop_receiver "$name"
	"$PY" "$SPANS" check-requests "$T/$name.requests" || fail "$name: see above"
}

promoted() { jq_get "$T/$1.summary.json" ".flows[0].promoted.$2"; }

cat >"$T/error.json" <<'EOF'
{"flows": [{"id": "faulty", "components": [
  {"id": "source", "role": "source", "kind": "generator", "payload": {"size": 128}},
  {"id": "processor", "role": "processor", "kind": "transform",
   "faults": [{"at": 17, "type": "error", "error": "internal"}]},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
EOF
cat >"$T/slow.json" <<'EOF'
{"flows": [{"id": "slow", "components": [
  {"id": "source", "role": "source", "kind": "generator", "payload": {"size": 128},
   "faults": [{"at": 42, "type": "delay", "ms": 150}]},
  {"id": "processor", "role": "processor", "kind": "transform"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
EOF

# 1. error promotion
run_case error "$T/error.json" 200 0 10s -- --otlp-endpoint "http://127.0.0.1:@PORT@"
assert_eq "host: elements in error" 1 "$(jq_get "$T/error.summary.json" '.flows[0].errors')"
assert_eq "host: error promotions" 1 "$(promoted error error)"
assert_eq "host: head-sampled traces" 0 "$(promoted error sampled)"
assert_eq "host: latency promotions" 0 "$(promoted error latency)"
"$PY" - "$T/error.spans" "$HPID" <<'PY' || fail "error promotion: see above"
import sys
sys.path.insert(0, "tests/integration")
from spans import *
try:
    spans, traces = load_traces(sys.argv[1], 1, " (element 17's)")
    tspans = list(traces.values())[0]
    root = check_trace(tspans, "faulty", ["source", "processor"], error_at="processor")
    a = root["attributes"]
    check(a["torvyn.element.seq"] == 17, "the trace is seq %s's, expected 17" % a["torvyn.element.seq"])
    check(a.get("torvyn.promotion.reason") == "error",
          "torvyn.promotion.reason = %r, expected 'error'" % a.get("torvyn.promotion.reason"))
    proc = [s for s in tspans if s["name"] == "component:processor:invoke:17"][0]
    check(proc["attributes"].get("torvyn.error.kind") == "internal",
          "processor span torvyn.error.kind = %r, expected 'internal'" %
          proc["attributes"].get("torvyn.error.kind"))
    check_resource(spans, "torvyn-host", int(sys.argv[2]))
    ok("one trace, element 17's: root flow:faulty (ERROR, reason error), "
       "component:source:invoke:17, component:processor:invoke:17 (ERROR, internal), no sink span")
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY

# 1b. the tracer's sample rate narrows the host's
run_case narrow "$T/error.json" 200 1.0:0 10s -- --otlp-endpoint "http://127.0.0.1:@PORT@"
assert_eq "host: head-sampled traces" 199 "$(promoted narrow sampled)"
assert_eq "host: error promotions" 1 "$(promoted narrow error)"
"$PY" - "$T/narrow.spans" <<'PY' || fail "tracer sample rate 0: see above"
import sys
sys.path.insert(0, "tests/integration")
from spans import *
try:
    spans = load(sys.argv[1])
    traces = by_trace(spans)
    check(len(traces) == 1, "%d traces exported at tracer sample rate 0, expected only "
          "element 17's error trace: %s" % (len(traces), sorted(short(r) for r in root_spans(spans))[:5]))
    root = check_trace(list(traces.values())[0], "faulty", ["source", "processor"], error_at="processor")
    check(root["attributes"]["torvyn.element.seq"] == 17, "the trace is seq %s's" %
          root["attributes"]["torvyn.element.seq"])
    ok("host sampled 199 and promoted 1 error; the tracer at 0 exported only the error trace")
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY

# 2. tail-latency promotion
run_case latency "$T/slow.json" 50 0 75ms -- --otlp-endpoint "http://127.0.0.1:@PORT@"
assert_eq "host: latency promotions" 1 "$(promoted latency latency)"
assert_eq "host: head-sampled traces" 0 "$(promoted latency sampled)"
assert_eq "host: error promotions" 0 "$(promoted latency error)"
"$PY" - "$T/latency.spans" <<'PY' || fail "latency promotion: see above"
import sys
sys.path.insert(0, "tests/integration")
from spans import *
try:
    spans, traces = load_traces(sys.argv[1], 1, " (element 42's)")
    tspans = list(traces.values())[0]
    root = check_trace(tspans, "slow", ["source", "processor", "sink"])
    a = root["attributes"]
    check(a["torvyn.element.seq"] == 42, "the trace is seq %s's, expected 42" % a["torvyn.element.seq"])
    check(a.get("torvyn.promotion.reason") == "latency",
          "torvyn.promotion.reason = %r, expected 'latency'" % a.get("torvyn.promotion.reason"))
    src = [s for s in tspans if s["name"] == "component:source:invoke:42"][0]
    check(src["end"] - src["start"] >= 150_000_000,
          "the source span lasts %.3f ms, the fault adds 150 ms" % ((src["end"] - src["start"]) / 1e6))
    ok("one trace, element 42's, complete, reason latency; source span %.1f ms, root %.1f ms" %
       ((src["end"] - src["start"]) / 1e6, (root["end"] - root["start"]) / 1e6))
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY

# 3. the OTEL_* variables
run_case env "$PIPELINES/three-stage.json" 100 1.0 10ms \
	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:@PORT@ OTEL_EXPORTER_OTLP_PROTOCOL=http/json \
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip OTEL_SERVICE_NAME=svc-from-env --
"$PY" "$SPANS" check "$T/env.spans" --flow three-stage --components source,processor,sink \
	--traces 100 --service svc-from-env --pid "$HPID" --encoding json --compressed yes ||
	fail "OTEL_* variables: see above"

# 4. flags over variables
run_case flags "$PIPELINES/three-stage.json" 100 1.0 10ms \
	OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:@PORT@ OTEL_EXPORTER_OTLP_PROTOCOL=http/json \
	OTEL_EXPORTER_OTLP_COMPRESSION=gzip OTEL_SERVICE_NAME=svc-from-env -- \
	--service-name from-flag --otlp-protocol http/protobuf --otlp-compression none
"$PY" "$SPANS" check "$T/flags.spans" --flow three-stage --components source,processor,sink \
	--traces 100 --service from-flag --pid "$HPID" --encoding protobuf --compressed no ||
	fail "flags over OTEL_* variables: see above"
# 5. a trace longer than its slot
"$PY" - "$T/long.json" <<'PY'
import json, sys
comps = [{"id": "source", "role": "source", "kind": "generator", "payload": {"size": 64}}]
comps += [{"id": "p%02d" % i, "role": "processor", "kind": "transform"} for i in range(14)]
comps += [{"id": "sink", "role": "sink", "kind": "null"}]
json.dump({"flows": [{"id": "long", "components": comps}]}, open(sys.argv[1], "w"))
PY
run_case long "$T/long.json" 200 1.0 10s -- --otlp-endpoint "http://127.0.0.1:@PORT@"
assert_eq "host: head-sampled traces (16 components)" 200 "$(promoted long sampled)"
assert_eq "host: span records lost to full slots" 200 \
	"$(jq_get "$T/long.summary.json" '.flows[0].spans_dropped')"
"$PY" - "$T/long.spans" <<'PY' || fail "a trace longer than its slot: see above"
import sys
sys.path.insert(0, "tests/integration")
from spans import *
try:
    spans, traces = load_traces(sys.argv[1], 200)
    first15 = ["source"] + ["p%02d" % i for i in range(14)]
    for tspans in traces.values():
        check_trace(tspans, "long", first15)
        check(not [s for s in tspans if s["name"].startswith("component:sink:")],
              "a sink span survived the full slot: %s" % short(tspans[0]))
    ok("200 traces, each its root and the first 15 of 16 components' spans")
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY
run_case long0 "$T/long.json" 200 0 10s -- --otlp-endpoint "http://127.0.0.1:@PORT@"
assert_eq "host: nothing exported at rate 0, nothing dropped" "0 0" \
	"$(jq_get "$T/long0.summary.json" '"\(.flows[0].promoted.sampled) \(.flows[0].spans_dropped)"')"
# 6. a stalled element's records are its own
cat >"$T/stalled.json" <<'EOF'
{"flows": [{"id": "stalled", "components": [
  {"id": "source", "role": "source", "kind": "generator", "rate": 5000, "payload": {"size": 128}},
  {"id": "processor", "role": "processor", "kind": "transform",
   "faults": [{"at": 5, "type": "delay", "ms": 1000}]},
  {"id": "sink", "role": "sink", "kind": "null"}],
 "streams": [{"from": "source", "to": "processor", "capacity": 16, "policy": "drop-newest"},
             {"from": "processor", "to": "sink"}]}]}
EOF
run_case stalled "$T/stalled.json" 500 0 50ms -- --otlp-endpoint "http://127.0.0.1:@PORT@"
assert_eq "host: elements dropped by the queue during the stall" 478 \
	"$(jq_get "$T/stalled.summary.json" '.flows[0].streams[0].elements_dropped')"
assert_eq "host: latency promotions" 17 "$(promoted stalled latency)"
"$PY" - "$T/stalled.spans" <<'PY' || fail "a stalled element's records: see above"
import sys
sys.path.insert(0, "tests/integration")
from spans import *
try:
    spans, traces = load_traces(sys.argv[1], 17)
    seqs = []
    for tspans in traces.values():
        root = check_trace(tspans, "stalled", ["source", "processor", "sink"])
        seq = root["attributes"]["torvyn.element.seq"]
        src = [s for s in tspans if s["name"] == "component:source:invoke:%d" % seq][0]
        check(src["start"] == root["start"], "seq %d: its source span starts at %d, the element "
              "at %d: another element's record" % (seq, src["start"], root["start"]))
        seqs.append(seq)
    # which 16 wait behind element 5 depends on when the processor's thread
    # first ran (a late start drops some early ones instead); 5 always does
    check(5 in seqs and len(set(seqs)) == 17, "traces of seqs %s, expected 5 and 16 others" %
          sorted(seqs))
    ok("17 traces (seqs %s), each complete with its own source span" % sorted(seqs))
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY
ok "sampling, promotion and configuration precedence"
