#!/usr/bin/env bash
# OTLP over TLS, configured by the OpenTelemetry exporter variables alone, to
# the test receiver serving only TLS with a self-signed certificate made here:
# - OTLP/HTTP: OTEL_EXPORTER_OTLP_ENDPOINT=https://... for traces,
#   OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=https://.../v1/metrics (used as is) on
#   a second receiver, OTEL_EXPORTER_OTLP_CERTIFICATE the certificate: every
#   trace of a 200-element run reaches the first receiver, the metrics reach
#   only the second, with the run's element count;
# - OTLP/gRPC over TLS (https endpoint, HTTP/2 by ALPN): every trace arrives;
# - OTEL_EXPORTER_OTLP_METRICS_ENDPOINT alone exports metrics only, with the
#   run's count, and sends no span anywhere;
# - the wrong certificate (another self-signed one): nothing is delivered,
#   the tracer says the endpoint's certificate is not trusted, and its
#   torvyn_trace_otlp_failures_total counts the failed requests.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
need_cmd curl
need_cmd openssl
. "$(dirname "$0")/otlp_lib.sh"

# cert NAME: a self-signed certificate for 127.0.0.1 and localhost
cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=torvyn-test-$1" \
		-addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
		-keyout "$T/$1.key" -out "$T/$1.pem" >/dev/null 2>&1 || fail "openssl: cannot make $1"
}
cert right
cert wrong
TLS=$T/right.pem:$T/right.key
N=200

# traced NAME: runs the host (N elements, every one sampled) under the tracer,
# which takes its OTLP settings from the environment.
traced() {
	local name=$1 hpid tpid
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements "$N" --wait-attach \
		--sample-rate 1.0 --latency-threshold 10ms --summary "$T/$name.summary.json"
	hpid=$BGPID
	bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 --exit-with-target -q \
		--sample-rate 1.0 --latency-threshold 10ms 2>"$T/$name.trace.err"
	tpid=$BGPID
	wait_run "$hpid" "$tpid" "$T/$name.trace.err"
	HPID=$hpid
}

# ---------------------------------------------------------------- HTTP
start_receiver http-traces --http 0 --tls "$TLS" --metrics-out "$T/http-traces.metrics"
P1=$RPORT R1=$RPID
start_receiver http-metrics --http 0 --tls "$TLS" --metrics-out "$T/http-metrics.metrics"
P2=$RPORT R2=$RPID
(
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$P1"
	export OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="https://localhost:$P2/v1/metrics"
	export OTEL_EXPORTER_OTLP_CERTIFICATE="$T/right.pem"
	export OTEL_EXPORTER_OTLP_TIMEOUT=5000
	traced http
)
RPID=$R1 stop_receiver http-traces
RPID=$R2 stop_receiver http-metrics
"$PY" "$SPANS" check "$T/http-traces.spans" --requests "$T/http-traces.requests" \
	--flow three-stage --components source,processor,sink --traces "$N" \
	--service torvyn-host --encoding protobuf --compressed no --transport http ||
	fail "OTLP/HTTP over TLS: see above"
"$PY" - "$T" "$N" <<'PY' || fail "OTLP/HTTP over TLS: metrics"
import json, os, sys
t, n = sys.argv[1], int(sys.argv[2])
def lines(p):
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
assert not lines(t + "/http-traces.metrics"), "metrics went to the traces receiver"
for r in lines(t + "/http-traces.requests"):
    assert r["path"] == "/v1/traces" and r["status"] == 200, r
reqs = lines(t + "/http-metrics.requests")
assert reqs and all(r["path"] == "/v1/metrics" and r["status"] == 200 for r in reqs), reqs
assert not lines(t + "/http-metrics.spans"), "spans went to the metrics receiver"
ms = [m for m in lines(t + "/http-metrics.metrics") if m["metric"] == "torvyn.flow.elements"]
assert ms, "no torvyn.flow.elements"
last = ms[-1]["data_points"][0]["as_int"]
assert last == n, "torvyn.flow.elements %s, the run had %d" % (last, n)
assert ms[-1]["unit"] == "{element}", ms[-1]["unit"]
print("ok: traces to the endpoint, %d metrics requests to the metrics endpoint as is, "
      "torvyn.flow.elements = %d" % (len(reqs), last))
PY
ok "OTLP/HTTP over TLS: $N traces, metrics to OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"

# ---------------------------------------------------------------- gRPC
start_receiver grpc --grpc 0 --tls "$TLS"
(
	export OTEL_EXPORTER_OTLP_PROTOCOL=grpc
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$RPORT"
	export OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE="$T/right.pem"
	export OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE="$T/right.pem"
	traced grpc
)
stop_receiver grpc
"$PY" "$SPANS" check "$T/grpc.spans" --requests "$T/grpc.requests" \
	--flow three-stage --components source,processor,sink --traces "$N" \
	--service torvyn-host --encoding protobuf --compressed no --transport grpc ||
	fail "OTLP/gRPC over TLS: see above"
ok "OTLP/gRPC over TLS: $N traces"

cat >"$T/slow.json" <<'EOF'
{"flows": [{"id": "slow", "components": [
  {"id": "source", "role": "source", "kind": "generator", "rate": 1000,
   "payload": {"size": 64}},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
EOF

# ---------------------------------------------------------------- a metrics endpoint alone
# metrics only: every push reaches the metrics endpoint, with the run's
# count; no span goes anywhere (there is no traces endpoint to send them to)
start_receiver metrics-only --http 0 --tls "$TLS" --metrics-out "$T/metrics-only.metrics"
(
	export OTEL_EXPORTER_OTLP_METRICS_ENDPOINT="https://127.0.0.1:$RPORT/v1/metrics"
	export OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE="$T/right.pem"
	traced metrics-only
)
stop_receiver metrics-only
"$PY" - "$T" "$N" <<'PY' || fail "a metrics endpoint alone: see above"
import json, os, sys
t, n = sys.argv[1], int(sys.argv[2])
def lines(p):
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
reqs = lines(t + "/metrics-only.requests")
assert reqs and all(r["path"] == "/v1/metrics" and r["status"] == 200 for r in reqs), reqs
assert not lines(t + "/metrics-only.spans"), "spans were sent to the metrics endpoint"
ms = [m for m in lines(t + "/metrics-only.metrics") if m["metric"] == "torvyn.flow.elements"]
assert ms and ms[-1]["data_points"][0]["as_int"] == n, ms[-1:] or "no torvyn.flow.elements"
print("ok: a metrics endpoint alone: %d metrics requests, torvyn.flow.elements = %d, no spans"
      % (len(reqs), n))
PY

# ---------------------------------------------------------------- the wrong certificate
start_receiver wrong --http 0 --tls "$TLS"
lport=$(pick_port 19400)
bg "$HOST" run "$T/slow.json" --elements 4000 --wait-attach --sample-rate 1.0 \
	--summary "$T/wrong.summary.json"
hpid=$BGPID
OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$RPORT" \
	OTEL_EXPORTER_OTLP_CERTIFICATE="$T/wrong.pem" \
	bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$lport" --exit-with-target \
	--sample-rate 1.0 2>"$T/wrong.trace.err"
tpid=$BGPID
failures() {
	"$ROOT/tests/integration/scrape.sh" "http://127.0.0.1:$lport/metrics" >"$T/wrong.prom" 2>/dev/null &&
		awk '$1 == "torvyn_trace_otlp_failures_total" { v = $2 } END { exit !(v > 0) }' \
			"$T/wrong.prom"
}
wait_for "torvyn_trace_otlp_failures_total above 0" 20 failures
wait_exit "$hpid" 30 || fail "the host exited with status $?"
wait_exit "$tpid" 30 || true
stop_receiver wrong
grep -q "certificate is not trusted" "$T/wrong.trace.err" ||
	fail "the tracer did not say why: $(tail -3 "$T/wrong.trace.err")"
[ ! -s "$T/wrong.requests" ] || fail "a request reached the receiver: $(head -1 "$T/wrong.requests")"
ok "the wrong certificate: $(grep -m1 'not trusted' "$T/wrong.trace.err" | cut -c1-160)"
ok "nothing delivered, $(awk '$1 == "torvyn_trace_otlp_failures_total" { print $2 }' "$T/wrong.prom") failed requests counted"
