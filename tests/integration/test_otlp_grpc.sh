#!/usr/bin/env bash
# OTLP/gRPC export of every trace of a run, without and with gzip message
# compression: the 1000-element three-stage.json run of test_otlp_http.sh
# (--sample-rate 1.0 on host and tracer, --exit-with-target) exported with
# --otlp-protocol grpc --otlp-endpoint http://127.0.0.1:PORT to the test
# receiver's grpcio server (TraceService/Export, MetricsService/Export). The
# receiver must decode exactly 1000 traces with the same structure (one root
# flow:three-stage, the three invocation spans under it, nested and ordered in
# time, seqs 0..999), the same resource (service.name torvyn-host,
# process.pid the host's, telemetry.sdk.name torvyn-trace), every call
# answered OK, and each message compressed exactly when gzip was asked for.
# A third run, with the receiver answering its first two calls UNAVAILABLE,
# still delivers all 1000 traces, each retry after a backoff.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
. "$(dirname "$0")/otlp_lib.sh"

# run_one grpc COMPRESSION [FAIL_FIRST]: FAIL_FIRST calls answered UNAVAILABLE
run_one() {
	local proto=$1 comp=$2 failing=${3:-0} name hpid tpid enc gz
	name=$(echo "$proto-$comp-$failing" | tr / _)
	echo "--- $proto, compression $comp$([ "$failing" = 0 ] || echo ", the first $failing calls answered UNAVAILABLE")"
	start_receiver "$name" --grpc 0 --fail-first "$failing"
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements 1000 --wait-attach \
		--sample-rate 1.0 --latency-threshold 10ms --summary "$T/$name.summary.json"
	hpid=$BGPID
	bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 --exit-with-target -q \
		--sample-rate 1.0 --latency-threshold 10ms \
		--otlp-endpoint "http://127.0.0.1:$RPORT" --otlp-protocol grpc \
		--otlp-compression "$comp" 2>"$T/$name.trace.err"
	tpid=$BGPID
	wait_run "$hpid" "$tpid" "$T/$name.trace.err"
	stop_receiver "$name"
	assert_eq "host elements ($proto, $comp)" 1000 "$(jq_get "$T/$name.summary.json" '.flows[0].elements')"
	assert_eq "host promoted traces, every element ($proto, $comp)" 1000 \
		"$(jq_get "$T/$name.summary.json" '.flows[0].promoted | .sampled + .latency + .error')"
	enc=protobuf
	gz=no
	[ "$comp" = gzip ] && gz=yes
	"$PY" "$SPANS" check "$T/$name.spans" --requests "$T/$name.requests" \
		--flow three-stage --components source,processor,sink --traces 1000 \
		--service torvyn-host --pid "$hpid" --encoding "$enc" --compressed "$gz" \
		--transport grpc || fail "$proto, $comp: see above"
	# every call was an Export of one of the two services, answered OK (with
	# FAIL_FIRST: each UNAVAILABLE was retried, after a backoff of ~1 s or more)
	"$PY" - "$T/$name.requests" "$gz" "$failing" <<'PY' || fail "$proto, $comp: requests"
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
gz, failing = sys.argv[2] == "yes", int(sys.argv[3])
paths = ("/opentelemetry.proto.collector.trace.v1.TraceService/Export",
         "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export")
for i, r in enumerate(reqs):
    assert r["path"] in paths, r["path"]
    assert r["status"] == (14 if i < failing else 0), r
    assert r["compressed"] == gz, "message compressed flag %r" % r["compressed"]
for i in range(1, failing + 1):
    wait = reqs[i]["time"] - reqs[i - 1]["time"]
    assert wait >= 0.5, "call %d came %.3f s after an UNAVAILABLE" % (i + 1, wait)
if failing:
    print("ok: the %d calls answered UNAVAILABLE were each retried after %s s" % (failing, ", ".join(
        "%.2f" % (reqs[i]["time"] - reqs[i - 1]["time"]) for i in range(1, failing + 1))))
traces = [r for r in reqs if r["path"] == paths[0]]
print("ok: %d calls (%d TraceService/Export carrying %d spans), all OK, %s" %
      (len(reqs), len(traces), sum(r["spans"] for r in traces),
       "gzip-compressed" if gz else "uncompressed"))
PY
}

run_one grpc none
run_one grpc gzip
run_one grpc none 2
ok "OTLP/gRPC: 1000 complete traces, with and without gzip"
