#!/usr/bin/env bash
# OTLP/HTTP export of every trace of a run, in each encoding and compression:
# (http/protobuf, none), (http/protobuf, gzip), (http/json, none),
# (http/json, gzip). A --wait-attach host runs 1000 elements of
# three-stage.json, head-sampling everything (--sample-rate 1.0 on host and
# tracer); the tracer exits with the host and drains its exporter. The test
# receiver (otlp_receiver.py: our own .proto files, strict decoding) must then
# hold exactly 1000 traces, one per element seq 0..999, each a root
# flow:three-stage (CONSUMER) with exactly the three invocation spans
# component:{source,processor,sink}:invoke:{seq} under it, ids consistent,
# times nested and in flow order (spans.py check); resource service.name
# torvyn-host, process.pid the host's, telemetry.sdk.name torvyn-trace; every
# request decoded, and it came in the encoding and compression asked for.
# A fifth run with the receiver answering its first two requests 503 with
# Retry-After: 1 still delivers all 1000 traces, each retry a second or more
# after the 503. The five runs (five host processes) share no trace id and no
# span id.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
. "$(dirname "$0")/otlp_lib.sh"

# run_one PROTOCOL COMPRESSION [FAIL_FIRST]: FAIL_FIRST requests answered 503
run_one() {
	local proto=$1 comp=$2 failing=${3:-0} name hpid tpid enc gz
	name=$(echo "$proto-$comp-$failing" | tr / _)
	echo "--- $proto, compression $comp$([ "$failing" = 0 ] || echo ", the first $failing requests answered 503")"
	start_receiver "$name" --http 0 --fail-first "$failing"
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements 1000 --wait-attach \
		--sample-rate 1.0 --latency-threshold 10ms --summary "$T/$name.summary.json"
	hpid=$BGPID
	bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 --exit-with-target -q \
		--sample-rate 1.0 --latency-threshold 10ms \
		--otlp-endpoint "http://127.0.0.1:$RPORT" --otlp-protocol "$proto" \
		--otlp-compression "$comp" 2>"$T/$name.trace.err"
	tpid=$BGPID
	wait_run "$hpid" "$tpid" "$T/$name.trace.err"
	stop_receiver "$name"
	assert_eq "host elements ($proto, $comp)" 1000 "$(jq_get "$T/$name.summary.json" '.flows[0].elements')"
	assert_eq "host promoted traces, every element ($proto, $comp)" 1000 \
		"$(jq_get "$T/$name.summary.json" '.flows[0].promoted | .sampled + .latency + .error')"
	enc=protobuf
	[ "$proto" = http/json ] && enc=json
	gz=no
	[ "$comp" = gzip ] && gz=yes
	"$PY" "$SPANS" check "$T/$name.spans" --requests "$T/$name.requests" \
		--flow three-stage --components source,processor,sink --traces 1000 \
		--service torvyn-host --pid "$hpid" --encoding "$enc" --compressed "$gz" \
		--transport http || fail "$proto, $comp: see above"
	# every request went to /v1/traces or /v1/metrics with the asked-for headers
	# (with FAIL_FIRST: each 503 was retried, after the Retry-After: 1 it asked)
	"$PY" - "$T/$name.requests" "$enc" "$gz" "$failing" <<'PY' || fail "$proto, $comp: requests"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
enc, gz, failing = sys.argv[2], sys.argv[3] == "yes", int(sys.argv[4])
ctype = {"json": "application/json", "protobuf": "application/x-protobuf"}[enc]
for i, r in enumerate(reqs):
    assert r["path"] in ("/v1/traces", "/v1/metrics"), r["path"]
    assert r["content_type"].split(";")[0].strip() == ctype, r["content_type"]
    assert r["compressed"] == gz, "Content-Encoding %r" % r["content_encoding"]
    assert r["status"] == (503 if i < failing else 200), r
for i in range(1, failing + 1):
    wait = reqs[i]["time"] - reqs[i - 1]["time"]
    assert wait >= 0.9, "request %d came %.3f s after the 503 that asked for 1 s" % (i + 1, wait)
if failing:
    print("ok: the %d requests answered 503 were each retried after %s s" % (failing, ", ".join(
        "%.2f" % (reqs[i]["time"] - reqs[i - 1]["time"]) for i in range(1, failing + 1))))
traces = [r for r in reqs if r["path"] == "/v1/traces"]
n = sum(r["spans"] for r in traces)
print("ok: %d requests (%d to /v1/traces carrying %d spans), Content-Type %s%s" %
      (len(reqs), len(traces), n, ctype, ", Content-Encoding gzip" if gz else ""))
PY
}

run_one http/protobuf none
run_one http/protobuf gzip
run_one http/json none
run_one http/json gzip
run_one http/protobuf gzip 2
# ids come from each host's own random source: four host processes, four
# disjoint sets of trace ids (and span ids)
"$PY" - "$T"/*.spans <<'PY' || fail "ids repeat across host processes"
import sys
sys.path.insert(0, "tests/integration")
from spans import load
seen = {}
for path in sys.argv[1:]:
    spans = load(path)
    for kind in ("trace_id", "span_id"):
        ids = {s[kind] for s in spans}
        for other, oids in seen.get(kind, []):
            both = ids & oids
            assert not both, "%d %ss of %s also in %s, e.g. %s" % (
                len(both), kind, path, other, sorted(both)[0])
        seen.setdefault(kind, []).append((path, ids))
print("ok: %d runs, no trace or span id shared between two of them" % len(sys.argv[1:]))
PY
ok "OTLP/HTTP: 1000 complete traces in each encoding and compression"
