#!/usr/bin/env bash
# Diagnostic-level traces: every sampled element's trace gains its resource
# spans. three-stage with a copying processor, 1000 elements, sampled at 1.0:
# each trace has its root, three invocation spans, exactly two
# resource:transfer spans (source->processor under the processor's
# invocation, processor->sink under the sink's) and one resource:copy span
# under the processor's invocation, all nested in time (spans.py check
# --diagnostic).
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
. "$(dirname "$0")/otlp_lib.sh"

cat >"$T/copy.json" <<'JSON'
{"flows": [{"id": "three-stage", "components": [
  {"id": "source", "role": "source", "kind": "generator", "payload": {"size": 128}},
  {"id": "processor", "role": "processor", "kind": "transform", "mode": "copy"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
JSON
bg "$PY" tests/integration/otlp_receiver.py --out "$T/spans" --http 0 >"$T/rx.out" 2>"$T/rx.err"
rpid=$BGPID
wait_for "the OTLP receiver" 20 grep -q '^ready' "$T/rx.out"
rport=$(sed -n 's/^ready.*=\([0-9][0-9]*\).*/\1/p' "$T/rx.out")
bg "$HOST" run "$T/copy.json" --elements 1000 --wait-attach --sample-rate 1.0 --summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --level diagnostic --listen 127.0.0.1:0 --exit-with-target -q \
	--sample-rate 1.0 --otlp-endpoint "http://127.0.0.1:$rport"
tpid=$BGPID
wait_exit "$hpid" 60 || fail "the host exited with $?"
wait_exit "$tpid" 20 || fail "torvyn-trace exited with $?"
kill -TERM "$rpid"
wait_exit "$rpid" 10 || true
"$PY" tests/integration/spans.py check "$T/spans" --flow three-stage \
	--components source,processor,sink --traces 1000 --diagnostic || fail "trace structure"
"$PY" - "$T/spans" <<'PY' || fail "resource spans"
import collections, sys
sys.path.insert(0, "tests/integration")
from spans import load, by_trace
traces = by_trace(load(sys.argv[1]))
assert len(traces) == 1000, len(traces)
for tid, spans in traces.items():
    byid = {s["span_id"]: s for s in spans}
    kinds = collections.Counter(s["name"].split(":")[0] + ":" + s["name"].split(":")[1]
                                if s["name"].startswith("resource") else s["name"].split(":")[0]
                                for s in spans)
    assert kinds["resource:transfer"] == 2, (tid, kinds)
    assert kinds["resource:copy"] == 1, (tid, kinds)
    for s in spans:
        if s["name"].startswith("resource:"):
            parent = byid[s["parent_span_id"]]["name"]
            want = {"resource:copy": "component:processor:"}.get(s["name"].rsplit(":", 1)[0])
            if want:
                assert parent.startswith(want), (s["name"], parent)
            else:
                to = s["attributes"]["torvyn.transfer.to"]
                assert parent.startswith("component:%s:invoke:" % to), (s["name"], parent, to)
                # it ends where the receiving invocation starts
                assert s["end"] == byid[s["parent_span_id"]]["start"] >= s["start"], s
print("ok: 1000 traces, each with 2 transfer spans under the receiving invocation and 1 copy span")
PY
