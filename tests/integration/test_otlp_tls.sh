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
# Mutual TLS, to receivers that require a client certificate signed by a
# client CA made here (--client-ca: ssl.CERT_REQUIRED):
# - OTLP/HTTP with OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and _CLIENT_KEY:
#   every trace arrives, and the metrics with the run's element count;
# - OTLP/gRPC with the _TRACES_ and _METRICS_ pairs, which win over a generic
#   pair the receiver would refuse: the same;
# - a receiver that closes the first TLS connection unanswered: retried,
#   every trace and the metrics delivered;
# - no client certificate (HTTP, then gRPC): nothing is delivered, the tracer
#   says once per signal that the endpoint may require one, every span of
#   the run is counted dropped (torvyn_trace_spans_dropped_total) and every
#   request it made failed (torvyn_trace_otlp_failures_total);
# - a client key that is not a key: the tracer says the client certificate
#   or key cannot be used;
# - a client key that cannot be read (a directory): exit 11 naming the
#   variable, its value and the cause, before any request.
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
# client_cert: a client CA and a certificate for TLS clients that it signs
client_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=torvyn-test-client-ca" \
		-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" \
		-keyout "$T/client-ca.key" -out "$T/client-ca.pem" >/dev/null 2>&1 &&
		openssl req -newkey rsa:2048 -nodes -subj "/CN=torvyn-test-client" \
			-keyout "$T/client.key" -out "$T/client.csr" >/dev/null 2>&1 &&
		printf 'extendedKeyUsage=clientAuth\n' >"$T/client.ext" &&
		openssl x509 -req -in "$T/client.csr" -CA "$T/client-ca.pem" \
			-CAkey "$T/client-ca.key" -CAcreateserial -days 2 -extfile "$T/client.ext" \
			-out "$T/client.pem" >/dev/null 2>&1 || fail "openssl: cannot make the client certificate"
}
client_cert
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

# ---------------------------------------------------------------- mutual TLS
MTLS=(--tls "$TLS" --client-ca "$T/client-ca.pem")

# metrics_count NAME: torvyn.flow.elements in $T/NAME.metrics must be the
# run's count, and every request of $T/NAME.requests answered
metrics_count() {
	"$PY" - "$T/$1" "$N" <<'PY' || fail "$1: metrics: see above"
import json, os, sys
t, n = sys.argv[1], int(sys.argv[2])
def lines(p):
    return [json.loads(l) for l in open(p)] if os.path.exists(p) else []
reqs = lines(t + ".requests")
assert reqs and all(r["status"] in (0, 200) for r in reqs), reqs
ms = [m for m in lines(t + ".metrics") if m["metric"] == "torvyn.flow.elements"]
assert ms and ms[-1]["data_points"][0]["as_int"] == n, ms[-1:] or "no torvyn.flow.elements"
print("ok: %d requests, torvyn.flow.elements = %d" % (len(reqs), n))
PY
}

# delivered NAME TRANSPORT WHAT: every trace of the run reached the receiver
# $T/NAME.*, and the metrics with the run's element count
delivered() {
	"$PY" "$SPANS" check "$T/$1.spans" --requests "$T/$1.requests" \
		--flow three-stage --components source,processor,sink --traces "$N" \
		--service torvyn-host --encoding protobuf --compressed no --transport "$2" ||
		fail "$3: see above"
	metrics_count "$1"
}

start_receiver mtls-http --http 0 "${MTLS[@]}" --metrics-out "$T/mtls-http.metrics"
(
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$RPORT"
	export OTEL_EXPORTER_OTLP_CERTIFICATE="$T/right.pem"
	export OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$T/client.pem"
	export OTEL_EXPORTER_OTLP_CLIENT_KEY="$T/client.key"
	traced mtls-http
)
stop_receiver mtls-http
delivered mtls-http http "OTLP/HTTP over mutual TLS"
SPANS_N=$(wc -l <"$T/mtls-http.spans")
ok "OTLP/HTTP over mutual TLS: $N traces ($SPANS_N spans) and the metrics"

# an endpoint that closes a fresh TLS connection once, unanswered (as one
# going down does): that close is retried, not taken for a refusal, and
# nothing is lost
start_receiver close-once --http 0 --tls "$TLS" --close-first 1 --metrics-out "$T/close-once.metrics"
(
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$RPORT"
	export OTEL_EXPORTER_OTLP_CERTIFICATE="$T/right.pem"
	traced close-once
)
stop_receiver close-once
delivered close-once http "a connection closed once"
if grep -F "not exported" "$T/close-once.trace.err"; then
	fail "a connection closed once: the tracer gave up a request (above)"
fi
ok "a fresh TLS connection closed once, unanswered: retried, $N traces and the metrics delivered"

# the generic pair is one the receiver refuses (not signed by the client
# CA): each signal's own pair must win
start_receiver mtls-grpc --grpc 0 "${MTLS[@]}" --metrics-out "$T/mtls-grpc.metrics"
(
	export OTEL_EXPORTER_OTLP_PROTOCOL=grpc
	export OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$RPORT"
	export OTEL_EXPORTER_OTLP_CERTIFICATE="$T/right.pem"
	export OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$T/wrong.pem"
	export OTEL_EXPORTER_OTLP_CLIENT_KEY="$T/wrong.key"
	export OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE="$T/client.pem"
	export OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY="$T/client.key"
	export OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE="$T/client.pem"
	export OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY="$T/client.key"
	traced mtls-grpc
)
stop_receiver mtls-grpc
delivered mtls-grpc grpc "OTLP/gRPC over mutual TLS"
ok "OTLP/gRPC over mutual TLS, each signal's own pair: $N traces and the metrics"

# self NAME SERIES: the value of SERIES in the scrape $T/NAME.prom (0 if absent)
self() {
	local v
	v=$(sample "$T/$1.prom" "$2")
	echo "${v:-0}"
}

# refused NAME: every span given up, and as many failed requests as the
# tracer made (each one is also a line of its --otlp-file)
refused() {
	"$ROOT/tests/integration/scrape.sh" "http://127.0.0.1:$lport/metrics" >"$T/$1.prom" 2>/dev/null &&
		[ "$(self "$1" torvyn_trace_spans_dropped_total)" = "$SPANS_N" ] &&
		[ "$(self "$1" torvyn_trace_otlp_failures_total)" = "$(wc -l <"$T/$1.otlp.jsonl")" ]
}

# hint_lines NAME SIGNAL HINT: the lines of the tracer's log on SIGNAL (spans
# or metrics) that were not exported and say HINT
hint_lines() {
	grep -F "$2 were not exported" "$T/$1.trace.err" | grep -cF "$3" || true
}

# unauthenticated NAME VAR=VALUE...: a run of N elements to a receiver that
# requires a client certificate, the tracer configured by the variables
# given: nothing may arrive, every span of the run must be counted dropped and
# every request failed. The tracer keeps serving its final values after the
# host exits, until stopped here.
unauthenticated() {
	local name=$1 proto=--http hpid tpid rc=0
	shift
	case " $* " in *" OTEL_EXPORTER_OTLP_PROTOCOL=grpc "*) proto=--grpc ;; esac
	start_receiver "$name" "$proto" 0 "${MTLS[@]}"
	lport=$(pick_port 19420)
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements "$N" --wait-attach \
		--sample-rate 1.0 --latency-threshold 10ms --summary "$T/$name.summary.json"
	hpid=$BGPID
	bg env OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$RPORT" \
		OTEL_EXPORTER_OTLP_CERTIFICATE="$T/right.pem" "$@" \
		"$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$lport" \
		--sample-rate 1.0 --latency-threshold 10ms \
		--otlp-file "$T/$name.otlp.jsonl" 2>"$T/$name.trace.err"
	tpid=$BGPID
	wait_exit "$hpid" 60 || fail "$name: the host exited with status $?"
	wait_for "$name: $SPANS_N spans dropped, a failure per request" 30 refused "$name"
	kill -TERM "$tpid"
	wait_exit "$tpid" 30 || rc=$?
	[ "$rc" -eq 0 ] || fail "$name: torvyn-trace exited with status $rc: $(tail -5 "$T/$name.trace.err")"
	stop_receiver "$name"
	[ ! -s "$T/$name.requests" ] || fail "$name: a request reached the receiver: $(head -1 "$T/$name.requests")"
	assert_eq "$name: spans exported" 0 "$(self "$name" torvyn_trace_spans_exported_total)"
	ok "$name: nothing delivered, $SPANS_N spans dropped, $(self "$name" torvyn_trace_otlp_failures_total) failed requests counted"
}

# without a client certificate: the hint, once per signal however many
# requests failed
HINT="may require a client certificate"
for proto in http grpc; do
	unauthenticated "nocert-$proto" OTEL_EXPORTER_OTLP_PROTOCOL="$([ $proto = http ] && echo http/protobuf || echo grpc)"
	for signal in spans metrics; do
		n=$(hint_lines "nocert-$proto" $signal "$HINT")
		[ "$n" = 1 ] || fail "nocert-$proto: $n lines on $signal say \"$HINT\", not 1:" \
			"$(grep -F 'were not exported' "$T/nocert-$proto.trace.err")"
		ok "nocert-$proto: one line on $signal says \"$HINT\""
	done
	ok "nocert-$proto: $(grep -m1 -F "$HINT" "$T/nocert-$proto.trace.err" | cut -c1-220)"
done

# a key that is not one (a certificate): curl cannot use the pair
BADKEY="the client certificate or key cannot be used"
unauthenticated badkey OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$T/client.pem" \
	OTEL_EXPORTER_OTLP_CLIENT_KEY="$T/right.pem"
[ "$(hint_lines badkey spans "$BADKEY")" -ge 1 ] ||
	fail "badkey: the tracer did not say why: $(tail -3 "$T/badkey.trace.err")"
if grep -qF "$HINT" "$T/badkey.trace.err"; then
	fail "badkey: a certificate was given, yet the tracer says: $HINT"
fi
ok "badkey: $(grep -m1 -F "$BADKEY" "$T/badkey.trace.err" | cut -c1-220)"

# ---------------------------------------------------------------- an unreadable client key
mkdir "$T/key.dir"
bg "$HOST" run "$PIPELINES/three-stage.json" --elements "$N" --wait-attach
hpid=$BGPID
rc=0
OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:1" \
	OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$T/client.pem" \
	OTEL_EXPORTER_OTLP_CLIENT_KEY="$T/key.dir" \
	timeout -s INT 20 "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 \
	>"$T/badkey.out" 2>&1 </dev/null || rc=$?
assert_eq "an unreadable client key: exit code" 11 "$rc"
grep -qF "OTEL_EXPORTER_OTLP_CLIENT_KEY=\"$T/key.dir\": Is a directory: expected the PEM file of the client certificate's private key" \
	"$T/badkey.out" || fail "an unreadable client key: the message does not say why: $(cat "$T/badkey.out")"
kill "$hpid"
wait "$hpid" 2>/dev/null || true
ok "an unreadable client key: $(grep -m1 -F OTEL_EXPORTER_OTLP_CLIENT_KEY "$T/badkey.out")"
