#!/usr/bin/env bash
# OTLP/JSON to stdout and to a file, and OTLP metrics.
# 1. --otlp-stdout --otlp-file PATH (no endpoint), 100 elements of
#    three-stage.json, sample rate 1.0 on both: every stdout line is one
#    OTLP/JSON request that json.loads, the file holds the same lines in the
#    same order, every line decodes strictly (otlp_receiver.py --decode-json:
#    our .proto files, OTLP/JSON rules), and together they carry the 100
#    complete traces plus at least one metrics request.
# 2. --otlp-metrics-interval 1 to the OTLP/HTTP receiver, a 2.5 s run
#    (rate-limited generator): at least two metrics requests arrive; in each,
#    component.invocations is a monotonic cumulative Sum (temporality 2) with
#    one integer point per component (attributes flow_id, component_id) that
#    never decreases from one request to the next, and in the last one it
#    equals the host's summary for the three components;
#    component.processing_time is a cumulative histogram in seconds with the
#    25 Torvyn bounds (100 ns .. 10 s), 26 bucket counts adding up to its
#    count, which in the last request equals the host's own count.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
. "$(dirname "$0")/otlp_lib.sh"

# 1. stdout and file
echo "--- --otlp-stdout and --otlp-file"
bg "$HOST" run "$PIPELINES/three-stage.json" --elements 100 --wait-attach --sample-rate 1.0 \
	--latency-threshold 10ms --summary "$T/s1.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 --exit-with-target -q \
	--sample-rate 1.0 --latency-threshold 10ms --otlp-stdout --otlp-file "$T/otlp.jsonl" \
	>"$T/stdout.txt" 2>"$T/trace1.err"
tpid=$BGPID
wait_run "$hpid" "$tpid" "$T/trace1.err"

"$PY" - "$T/stdout.txt" "$T/otlp.jsonl" <<'PY' || fail "--otlp-stdout / --otlp-file: see above"
import json, sys
out = open(sys.argv[1], "rb").read()
fil = open(sys.argv[2], "rb").read()
assert out.endswith(b"\n"), "stdout does not end with a newline"
lines = out.decode("utf-8").split("\n")[:-1]
kinds = {"resourceSpans": 0, "resourceMetrics": 0}
for i, line in enumerate(lines, 1):
    try:
        d = json.loads(line)
    except ValueError as e:
        sys.exit("FAIL: stdout line %d is not JSON: %s: %r" % (i, e, line[:120]))
    k = [k for k in kinds if isinstance(d, dict) and k in d]
    assert len(k) == 1, "stdout line %d is not an OTLP/JSON request: %r" % (i, line[:120])
    kinds[k[0]] += 1
assert kinds["resourceSpans"] >= 1, "no trace request on stdout"
assert kinds["resourceMetrics"] >= 1, "no metrics request on stdout"
print("ok: stdout: %d lines, each one JSON request (%d traces, %d metrics)" %
      (len(lines), kinds["resourceSpans"], kinds["resourceMetrics"]))
assert fil == out, "--otlp-file differs from stdout (%d vs %d bytes)" % (len(fil), len(out))
print("ok: --otlp-file holds the same %d lines" % len(lines))
PY
"$PY" "$RECV" --decode-json "$T/stdout.txt" --out "$T/s1.spans" --metrics-out "$T/s1.metrics" ||
	fail "the OTLP/JSON lines do not decode (above)"
"$PY" "$SPANS" check "$T/s1.spans" --flow three-stage --components source,processor,sink \
	--traces 100 --service torvyn-host --pid "$hpid" --encoding json || fail "traces on stdout: see above"

# 2. OTLP metrics
echo "--- --otlp-metrics-interval 1"
cat >"$T/paced.json" <<'EOF'
{"flows": [{"id": "paced", "components": [
  {"id": "source", "role": "source", "kind": "generator", "rate": 2000, "payload": {"size": 128}},
  {"id": "processor", "role": "processor", "kind": "transform"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
EOF
bg "$PY" "$RECV" --http 0 --out "$T/s2.spans" --metrics-out "$T/s2.metrics" \
	--requests-out "$T/s2.requests" >"$T/rx.out" 2>"$T/rx.err"
rpid=$BGPID
wait_for "the OTLP receiver" 20 grep -q '^ready' "$T/rx.out"
rport=$(sed -n 's/^ready.*=\([0-9][0-9]*\).*/\1/p' "$T/rx.out")
bg "$HOST" run "$T/paced.json" --elements 5000 --wait-attach --sample-rate 0 \
	--latency-threshold 10s --summary "$T/s2.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 --exit-with-target -q \
	--sample-rate 0 --latency-threshold 10s --otlp-endpoint "http://127.0.0.1:$rport" \
	--otlp-metrics-interval 1 2>"$T/trace2.err"
tpid=$BGPID
wait_run "$hpid" "$tpid" "$T/trace2.err"
kill -TERM "$rpid"
wait_exit "$rpid" 10 || fail "the receiver exited with status $?: $(cat "$T/rx.err")"
"$PY" "$SPANS" check-requests "$T/s2.requests" || fail "see above"

"$PY" - "$T/s2.metrics" "$T/s2.json" "$hpid" <<'PY' || fail "OTLP metrics: see above"
import json, sys
sys.path.insert(0, "tests/integration")
from spans import load_metrics, check, Fail, ok
BOUNDS = [m * 10.0 ** e for e in range(-7, 1) for m in (1, 2.5, 5)] + [10.0]
try:
    metrics = load_metrics(sys.argv[1])
    summary = json.load(open(sys.argv[2]))
    pid = int(sys.argv[3])
    comps = {c["id"]: c for c in summary["flows"][0]["components"]}
    flow = summary["flows"][0]["id"]
    reqs = sorted({m["request"] for m in metrics})
    check(len(reqs) >= 2, "%d metrics requests in a 2.5 s run at --otlp-metrics-interval 1, "
          "expected at least 2" % len(reqs))
    prev = {}
    for n in reqs:
        ms = [m for m in metrics if m["request"] == n]
        for m in ms:
            check(m["resource"].get("service.name") == "torvyn-host" and
                  m["resource"].get("process.pid") == pid,
                  "request %d: resource %r" % (n, m["resource"]))
        inv = [m for m in ms if m["metric"] == "torvyn.component.invocations"]
        check(len(inv) == 1, "request %d: %d component.invocations metrics" % (n, len(inv)))
        inv = inv[0]
        check(inv["type"] == "sum" and inv["is_monotonic"] is True and
              inv["aggregation_temporality"] == 2,
              "request %d: component.invocations is %s, monotonic %s, temporality %s; expected a "
              "monotonic cumulative (2) sum" % (n, inv["type"], inv["is_monotonic"],
                                               inv["aggregation_temporality"]))
        pts = {}
        for p in inv["data_points"]:
            check("as_int" in p, "request %d: component.invocations point %r is not as_int" % (n, p))
            check(0 < p["start"] <= p["time"], "request %d: start %d, time %d" %
                  (n, p["start"], p["time"]))
            if p["attributes"].get("flow_id") == flow:
                pts[p["attributes"].get("component_id")] = p
        check(sorted(pts) == sorted(comps), "request %d: component.invocations for %s, expected %s"
              % (n, sorted(pts), sorted(comps)))
        for c, p in pts.items():
            if c in prev:
                check(p["as_int"] >= prev[c]["as_int"], "request %d: %s invocations went down, "
                      "%d -> %d" % (n, c, prev[c]["as_int"], p["as_int"]))
                check(p["start"] == prev[c]["start"], "request %d: %s start time moved" % (n, c))
        prev = pts
        hist = [m for m in ms if m["metric"] == "torvyn.component.processing_time"]
        check(len(hist) == 1, "request %d: %d component.processing_time metrics" % (n, len(hist)))
        hist = hist[0]
        check(hist["type"] == "histogram" and hist["aggregation_temporality"] == 2 and
              hist["unit"] == "s", "request %d: component.processing_time is %s, temporality %s, "
              "unit %r; expected a cumulative (2) histogram in s" %
              (n, hist["type"], hist["aggregation_temporality"], hist["unit"]))
        hpts = {}
        for p in hist["data_points"]:
            b = p["explicit_bounds"]
            check(len(b) == 25 and all(abs(x - y) <= 1e-9 * y for x, y in zip(b, BOUNDS)),
                  "request %d: explicit_bounds %r, expected the 25 Torvyn bounds %r" % (n, b, BOUNDS))
            check(len(p["bucket_counts"]) == 26 and sum(p["bucket_counts"]) == p["count"],
                  "request %d: %d bucket counts adding up to %d, count %d" %
                  (n, len(p["bucket_counts"]), sum(p["bucket_counts"]), p["count"]))
            if p["attributes"].get("flow_id") == flow:
                hpts[p["attributes"].get("component_id")] = p
        check(sorted(hpts) == sorted(comps), "request %d: component.processing_time for %s" %
              (n, sorted(hpts)))
    last = reqs[-1]
    for c in comps:
        check(prev[c]["as_int"] == comps[c]["invocations"],
              "last request: %s invocations %d, the host's summary says %d" %
              (c, prev[c]["as_int"], comps[c]["invocations"]))
        check(hpts[c]["count"] == comps[c]["processing_time"]["count"],
              "last request: %s processing_time count %d, the host's summary says %d" %
              (c, hpts[c]["count"], comps[c]["processing_time"]["count"]))
    ok("%d metrics requests; component.invocations monotonic cumulative, ending at the summary's "
       "%s" % (len(reqs), ", ".join("%s %d" % (c, prev[c]["as_int"]) for c in sorted(comps))))
    ok("component.processing_time: cumulative histograms, 25 bounds, counts = the summary's")
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY
ok "OTLP/JSON on stdout and in a file; OTLP metrics"
