#!/usr/bin/env bash
# The OTLP receiver is down for the first seconds of a traced run.
# The pipeline's generator is rate-limited (20000 elements/s, 100000 elements:
# a 5 s run) and everything is head-sampled (--sample-rate 1.0 on host and
# tracer: four spans an element, far more than one exporter can send), so the
# run measures whether the host keeps pace while its tracer's exporter is
# stuck, then busy:
# - the same pipeline runs untraced first, for the baseline run time;
# - traced, exporting to a port where nothing listens: while it is down the
#   tracer's /metrics shows torvyn_trace_otlp_retries_total or
#   torvyn_trace_spans_dropped_total above 0;
# - the receiver comes up ~1.5 s into the run: spans reach it within 5 s
#   (export resumed; every request it got decoded);
# - the host's run_seconds (its summary) traced is within 2 % of untraced: the
#   generator is rate-limited, so both take ~5 s unless the host falls behind.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
need_cmd curl
. "$(dirname "$0")/otlp_lib.sh"

# metric FILE NAME: the value of an unlabelled sample, 0 when absent
metric() { awk -v n="$2" '$1 == n { v = $2 } END { print v + 0 }' "$1"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

cat >"$T/steady.json" <<'EOF'
{"flows": [{"id": "steady", "components": [
  {"id": "source", "role": "source", "kind": "generator", "rate": 20000,
   "payload": {"size": 128}},
  {"id": "processor", "role": "processor", "kind": "transform"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
EOF

# the baseline: untraced
"$HOST" run "$T/steady.json" --elements 100000 --sample-rate 1.0 --latency-threshold 10ms \
	--summary "$T/untraced.json" || fail "the untraced host exited with status $?"
untraced=$(jq_get "$T/untraced.json" .run_seconds)
echo "untraced run: $untraced s"

rport=$(pick_port 19760)
lport=$(pick_port $((rport + 1)))
bg "$HOST" run "$T/steady.json" --elements 100000 --wait-attach --sample-rate 1.0 \
	--latency-threshold 10ms --summary "$T/traced.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$lport" --exit-with-target -q \
	--sample-rate 1.0 --latency-threshold 10ms --otlp-endpoint "http://127.0.0.1:$rport" \
	2>"$T/trace.err"
tpid=$BGPID
attached() {
	kill -0 "$tpid" 2>/dev/null || fail "torvyn-trace exited: $(tail -5 "$T/trace.err")"
	curl -sf -o /dev/null "http://127.0.0.1:$lport/metrics"
}
wait_for "the tracer's /metrics" 20 attached
t0=$(now_ms)
echo "attached; nothing listens on $rport"

# while the receiver is down
sleep 1.2
tests/integration/scrape.sh "http://127.0.0.1:$lport/metrics" >"$T/down.prom" || fail "scraping the tracer failed"
retries=$(metric "$T/down.prom" torvyn_trace_otlp_retries_total)
dropped=$(metric "$T/down.prom" torvyn_trace_spans_dropped_total)
exported=$(metric "$T/down.prom" torvyn_trace_spans_exported_total)
echo "receiver down for $(($(now_ms) - t0)) ms: retries $retries, spans dropped $dropped, exported $exported"
[ "$retries" -gt 0 ] || [ "$dropped" -gt 0 ] ||
	fail "no retry and no dropped span while the receiver was down"
assert_eq "spans exported while the receiver was down" 0 "$exported"
kill -0 "$hpid" 2>/dev/null || fail "the host ended before the receiver came up"

# the receiver comes up ~1.5 s into the run
while [ $(($(now_ms) - t0)) -lt 1500 ]; do sleep 0.05; done
bg "$PY" "$RECV" --http "$rport" --requests-out "$T/requests" >"$T/rx.out" 2>"$T/rx.err"
rpid=$BGPID
wait_for "the OTLP receiver" 20 grep -q '^ready' "$T/rx.out"
up=$(now_ms)
echo "receiver up $((up - t0)) ms into the run"
spans_in() { [ -f "$T/requests" ] && jq -e -s 'map(.spans) | add > 0' "$T/requests" >/dev/null; }
wait_for "spans to reach the receiver" 5 spans_in
first=$(now_ms)
running=no
kill -0 "$hpid" 2>/dev/null && running=yes
ok "export resumed: spans arrived $((first - up)) ms after the receiver came up (host still running: $running)"

wait_run "$hpid" "$tpid" "$T/trace.err"
kill -TERM "$rpid"
wait_exit "$rpid" 10 || fail "the receiver exited with status $?: $(cat "$T/rx.err")"
"$PY" "$SPANS" check-requests "$T/requests" || fail "see above"
echo "receiver: $(tail -1 "$T/rx.err")"
assert_eq "host elements" 100000 "$(jq_get "$T/traced.json" '.flows[0].elements')"

traced=$(jq_get "$T/traced.json" .run_seconds)
"$PY" - "$untraced" "$traced" <<'PY' || fail "the traced host fell behind"
import sys
u, t = float(sys.argv[1]), float(sys.argv[2])
print("run time: untraced %.3f s, traced %.3f s (%+.2f %%)" % (u, t, (t / u - 1) * 100))
assert t <= u * 1.02, "traced run took %.3f s, more than 2 %% over the untraced %.3f s" % (t, u)
PY
ok "the host kept pace through the outage"
