#!/usr/bin/env bash
# A trace with more span records than a trace holds keeps its root. A host
# written by hand (long_trace.c) promotes, for tail latency, a trace of 20
# records: 19 invocations of 1 us, then the 50 ms root. The BPF side keeps the
# first 15 records and the root in the last place, counts the 4 it drops,
# and the latency filter judges the root, not whatever record came 16th: with
# --sample-rate 0 and --latency-threshold 10ms the trace is exported, with
# its root span 50 ms long and torvyn.spans.dropped 4.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd cc

cc -O2 -Iinclude -o "$T/long_trace" tests/integration/long_trace.c || fail "long_trace.c does not build"
bg "$T/long_trace"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 -q --sample-rate 0 \
	--latency-threshold 10ms --otlp-file "$T/otlp.jsonl" 2>"$T/trace.err"
tpid=$BGPID
wait_for "an exported trace" 10 grep -q resourceSpans "$T/otlp.jsonl"
kill -INT "$tpid"
wait_exit "$tpid" 10 || fail "the tracer exited with $?: $(cat "$T/trace.err")"

python3 - "$T/otlp.jsonl" <<'PY' || fail "the exported trace: see above"
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if "resourceSpans" in d:
        spans = [s for rs in d["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
        break
# every promotion carries the same trace: each is 16 spans, in order
assert spans and len(spans) % 16 == 0, "expected traces of 16 spans, got %d spans" % len(spans)
spans = spans[:16]
roots = [s for s in spans if s["name"].startswith("flow:")]
assert len(roots) == 1, "expected one root span, got %r" % [s["name"] for s in spans]
r = roots[0]
dur = int(r["endTimeUnixNano"]) - int(r["startTimeUnixNano"])
assert dur == 50000000, "root span lasts %d ns, expected 50 ms" % dur
attrs = {a["key"]: a["value"] for a in r["attributes"]}
assert attrs.get("torvyn.spans.dropped", {}).get("intValue") in ("4", 4), \
    "torvyn.spans.dropped: %r" % attrs.get("torvyn.spans.dropped")
assert attrs["torvyn.promotion.reason"]["stringValue"] == "latency"
inv = [s for s in spans if s["name"].startswith("component:")]
assert len(inv) == 15, "expected 15 invocation spans, got %d" % len(inv)
print("ok: 16 spans, the 50 ms root kept in the last place, 4 records counted dropped")
PY
