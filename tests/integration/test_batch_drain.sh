#!/usr/bin/env bash
# Level 2's step records travel in batches (component__batch, 64 a hit), and
# none is lost:
# 1. a --wait-attach host runs at diagnostic and exits with partial batches
#    (an element count no multiple of 64, no flush interval in the run): every
#    diagnostic count equals the host's invocations, the BPF's processing-time
#    buckets equal the host's, and the batch hits are the fraction of the
#    records the batching promises;
# 2. under load, 51 switches through `torvyn-trace level` (diagnostic <->
#    production <-> off, ending at diagnostic), then the host stops: every
#    production count equals --summary, and each component's diagnostic
#    counts equal the records its threads handed to component__batch
#    (batch_records), the drains before each detach and the exit included.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq

CHECK="python3 $ROOT/tests/integration/prom_check.py"

# batch_check SUMMARY SCRAPE [buckets]: every production series equals the
# summary (the histograms' counts aside: they count only while a level is
# attached), and each component's diagnostic invocations and processing-time
# count equal its batch_records; with buckets, each bucket of the BPF's
# processing-time histogram equals the host's own (same records, two
# bucketings); prints the records in all
batch_check() {
	python3 - "$@" <<'EOF'
import json, sys
sys.path.insert(0, "tests/integration")
import prom_check
summary = json.load(open(sys.argv[1]))
series = prom_check.parse(prom_check.unhost(open(sys.argv[2]).read()))
_, bad = prom_check.check_summary(summary, series)
bad = [e for e in bad if "processing_time_seconds_count" not in e
       and "queue_wait_time_seconds_count" not in e]
field, total = "batch_records", 0
for flow in summary["flows"]:
    for comp in flow["components"]:
        lab = {"flow_id": flow["id"], "component_id": comp["id"]}
        want = comp[field]
        total += want
        for name in ("torvyn_diagnostic_invocations_total",
                     "torvyn_diagnostic_processing_time_seconds_count"):
            got = series.get(prom_check.key(name, **lab))
            if got != want:
                bad.append(f"{name}{lab}: expected {want} ({field}), got {got}")
if sys.argv[3:] == ["buckets"]:
    host, bpf = {}, {}
    for (name, labels), v in series.items():
        lab = dict(labels)
        k = (lab.get("component_id"), lab.get("le"))
        if name == "torvyn_component_processing_time_seconds_bucket":
            host[k] = v
        elif name == "torvyn_diagnostic_processing_time_seconds_bucket":
            bpf[k] = v
    diff = sorted(k for k in host.keys() | bpf.keys() if host.get(k) != bpf.get(k))
    if not host or diff:
        bad.append("processing-time buckets (component, le): host vs BPF: " +
                   "; ".join(f"{k}: {host.get(k)} vs {bpf.get(k)}" for k in diff[:5]))
for b in bad:
    print("FAIL:", b, file=sys.stderr)
print(total)
sys.exit(1 if bad else 0)
EOF
}

echo "--- 1. exit with partial batches"
d=$T/exit
mkdir -p "$d"
batch_run "$TRACE" "$d" 19640
$CHECK "$d/summary.json" "$d/final.prom" --diagnostic >"$d/check.out" ||
	{ cat "$d/check.out"; fail "exit case: the scrape differs from the summary"; }
total=$(batch_check "$d/summary.json" "$d/final.prom" buckets) ||
	fail "exit case: diagnostic counts differ from batch_records"
assert_eq "records batched" $((3 * BATCH_N)) "$total"
batch_hits "$d/final.prom"
ok "component__batch: $BATCH_HITS hits for $((3 * BATCH_N)) records"

echo "--- 2. 51 level switches under load"
d=$T/switch
mkdir -p "$d"
bg "$HOST" run "$PIPELINES/three-stage.json" --duration 120 --summary "$d/summary.json"
hpid=$BGPID
port=$(pick_port 19650)
bg "$TRACE" attach --pid "$hpid" --level production --listen "127.0.0.1:$port" 2>"$d/trace.err"
wait_for "the tracer's control socket" 20 "$TRACE" level --pid "$hpid" production
for ((i = 1; i <= 51; i++)); do
	if ((i % 2)); then
		lvl=diagnostic
	elif ((i % 4 == 2)); then
		lvl=production
	else
		lvl=off
	fi
	"$TRACE" level --pid "$hpid" "$lvl" >"$d/level.out" 2>&1 ||
		{ cat "$d/level.out"; fail "switch $i to $lvl failed"; }
	sleep 0.0$((RANDOM % 10))
done
ok "51 switches"
kill -INT "$hpid"
wait_exit "$hpid" 30 || fail "torvyn-host exited $?"
wait_for "the final scrape" 10 scraped_final "http://127.0.0.1:$port/metrics" "$d/final.prom"
total=$(batch_check "$d/summary.json" "$d/final.prom") ||
	fail "switch case: the scrape differs from the summary"
inv=$(jq '[.flows[].components[].invocations] | add' "$d/summary.json")
[ "$total" -gt 0 ] && [ "$total" -lt "$inv" ] ||
	fail "switch case: $total records batched of $inv invocations"
ok "$total of $inv invocations batched at diagnostic, every one counted"
if grep -q "not counted" "$d/trace.err"; then
	cat "$d/trace.err"
	fail "a drain went unanswered"
fi
d_hits=$(probe_hits "$d/final.prom" batch__drained)
[ "${d_hits:-0}" -ge 25 ] || fail "batch__drained answered ${d_hits:-0} of 25 drains"
ok "every drain answered ($d_hits acknowledgements)"
