#!/usr/bin/env bash
# W3C trace context through a flow: a `lines` source reads 200 records, every
# 2nd one starting with `traceparent=00-<32 hex>-<16 hex>-01 ` (random ids,
# fixed seed), through a transform to a `file` sink that writes
# `traceparent=<value> ` before each record; sample rate 1.0 on host and
# tracer, traces exported over OTLP/HTTP. Then:
# - every output line carries a well-formed traceparent, sampled (flags 01),
#   and the records come out one for one (the transform toggles their case);
# - a record that came with a traceparent keeps its trace id, with a span id
#   of ours (not the incoming one), and the exported root span of that trace
#   has parent_span_id = the incoming span id (the root stays the trace's only
#   local root: spans.py treats a parent outside the trace as remote);
# - a record without one gets a fresh trace id, distinct from every other;
# - the span id the sink wrote is the exported root span's id, for every
#   record, and the 200 exported traces are complete and well formed.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
. "$(dirname "$0")/otlp_lib.sh"

bg "$PY" "$RECV" --http 0 --out "$T/spans" --requests-out "$T/requests" >"$T/rx.out" 2>"$T/rx.err"
rpid=$BGPID
wait_for "the OTLP receiver" 20 grep -q '^ready' "$T/rx.out"
rport=$(sed -n 's/^ready.*=\([0-9][0-9]*\).*/\1/p' "$T/rx.out")

# 200 records; even ones carry a traceparent. Payloads are letters only
# (rec + the index in base 26), so the case-toggling transform keeps them
# readable.
"$PY" - "$T/in.txt" <<'PY'
import random, sys
rng = random.Random(20240611)
def name(i):
    s = ""
    while True:
        s = chr(ord("a") + i % 26) + s
        i //= 26
        if not i:
            return "rec" + s
with open(sys.argv[1], "w") as f:
    for i in range(200):
        if i % 2 == 0:
            tid = "%032x" % rng.getrandbits(128)
            sid = "%016x" % rng.getrandbits(64)
            assert int(tid, 16) and int(sid, 16)
            f.write("traceparent=00-%s-%s-01 %s\n" % (tid, sid, name(i)))
        else:
            f.write(name(i) + "\n")
PY
cat >"$T/tp.json" <<EOF
{"flows": [{"id": "tp", "components": [
  {"id": "src", "role": "source", "kind": "lines", "path": "$T/in.txt"},
  {"id": "xform", "role": "processor", "kind": "transform"},
  {"id": "out", "role": "sink", "kind": "file", "path": "$T/out.txt"}]}]}
EOF

bg "$HOST" run "$T/tp.json" --wait-attach --sample-rate 1.0 --latency-threshold 10ms \
	--summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen 127.0.0.1:0 --exit-with-target -q \
	--sample-rate 1.0 --latency-threshold 10ms --otlp-endpoint "http://127.0.0.1:$rport" \
	2>"$T/trace.err"
tpid=$BGPID
wait_run "$hpid" "$tpid" "$T/trace.err"
kill -TERM "$rpid"
wait_exit "$rpid" 10 || fail "the receiver exited with status $?: $(cat "$T/rx.err")"
assert_eq "host elements" 200 "$(jq_get "$T/summary.json" '.flows[0].elements')"

"$PY" "$SPANS" check "$T/spans" --requests "$T/requests" --flow tp \
	--components src,xform,out --traces 200 --service torvyn-host --pid "$hpid" ||
	fail "exported traces: see above"

"$PY" - "$T/in.txt" "$T/out.txt" "$T/spans" <<'PY' || fail "trace context: see above"
import re, sys
sys.path.insert(0, "tests/integration")
from spans import *
TP = re.compile(r"^traceparent=00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2}) (.*)$")
try:
    ins = []
    for line in open(sys.argv[1]):
        line = line.rstrip("\n")
        m = TP.match(line)
        ins.append((m.group(1), m.group(2), m.group(4)) if m else (None, None, line))
    outs = open(sys.argv[2], "rb").read().decode("latin-1").split("\n")
    check(outs[-1] == "", "the sink's file does not end with a newline")
    outs = outs[:-1]
    check(len(outs) == len(ins), "%d output records, expected %d" % (len(outs), len(ins)))
    roots = {}
    for r in root_spans(load(sys.argv[3])):
        roots[r["trace_id"]] = r
    fresh = set()
    in_tids = {t for t, _, _ in ins if t}
    for i, ((itid, isid, payload), out) in enumerate(zip(ins, outs)):
        m = TP.match(out)
        check(m, "output record %d carries no traceparent: %r" % (i, out[:80]))
        otid, osid, flags, opayload = m.groups()
        check(opayload.swapcase() == payload, "output record %d is %r, expected %r transformed" %
              (i, opayload, payload))
        check(flags == "01", "record %d: flags %s, expected 01 (sampled)" % (i, flags))
        check(int(otid, 16) and int(osid, 16), "record %d: an all-zero id in %r" % (i, out))
        root = roots.get(otid)
        check(root, "record %d: no exported trace %s" % (i, otid))
        check(root["span_id"] == osid, "record %d: the sink wrote span id %s, the exported "
              "root of trace %s is %s" % (i, osid, otid, root["span_id"]))
        check(root["attributes"]["torvyn.element.seq"] == i,
              "record %d: trace %s is element %s's" % (i, otid, root["attributes"]["torvyn.element.seq"]))
        if itid:
            check(otid == itid, "record %d came with trace id %s, left with %s" % (i, itid, otid))
            check(osid != isid, "record %d left with the incoming span id %s, not one of ours" %
                  (i, isid))
            check(root["parent_span_id"] == isid, "record %d: the root span's parent is %r, "
                  "expected the incoming span id %s" % (i, root["parent_span_id"], isid))
        else:
            check(otid not in in_tids and otid not in fresh,
                  "record %d: trace id %s is not fresh" % (i, otid))
            check(root["parent_span_id"] == "", "record %d: a root without incoming context has "
                  "parent %s" % (i, root["parent_span_id"]))
            fresh.add(otid)
    ok("200 records out, each with a sampled traceparent whose span id is its exported root's")
    ok("100 incoming trace ids kept, with span ids of ours and the incoming span as the root's parent")
    ok("100 records without context got %d distinct fresh trace ids" % len(fresh))
except Fail as e:
    sys.exit("FAIL: %s" % e)
PY
ok "W3C trace context in, through, out and exported"
