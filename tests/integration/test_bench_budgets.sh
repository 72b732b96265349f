#!/usr/bin/env bash
# make bench's budget rows (tools/bench_overhead.py budget_rows) from fixed
# figures: every budget has its row with the right verdict, the null
# comparisons and the floor sit beside them without one, a missing enrich
# workload makes its rows say so, and a callgrind failure is a row with an
# error (make bench then exits 1) rather than a crash.
. "$(dirname "$0")/lib.sh"

cp "$PIPELINES/three-stage.json" "$T/enrich.json"
PYTHONDONTWRITEBYTECODE=1 python3 - "$ROOT/tools" "$T/enrich.json" "$T/nothing.json" <<'PY' || fail "budget rows"
import importlib, os, sys
sys.path.insert(0, sys.argv[1])

def rows_for(enrich, callgrind):
    os.environ["BENCH_ENRICH"] = enrich
    import bench_overhead as b
    b = importlib.reload(b)
    ir = lambda med, q1, q3, ns: {"throughput_change_pct": {"q1": q1, "median": med, "q3": q3},
                                  "overhead_ns_per_element": {"q1": ns - 5, "median": ns, "q3": ns + 5}}
    result = {"in_run": {
        "enrich_level1": ir(-0.5, -1.2, 0.1, 40), "enrich_level2": ir(-6.0, -7.0, -5.0, 500),
        "enrich_level0_vs_level0": ir(0.2, -0.8, 1.0, -2),
        "level1": ir(-5, -6, -4, 49.5), "level2": ir(-30, -31, -29, 301),
        "level1_clocks_only": ir(-4, -5, -3, 40), "level2_batch_hits_only": ir(-20, -21, -19, 250),
        "level0_vs_level0": {"error": "host exited 1"}},
        "callgrind_level0": callgrind}
    return {r["name"] + "@" + r["workload"]: r for r in b.budget_rows(result)}

cg = {"ratio": 1.013, "own_code_ratio": 1.0101,
      "instructions_per_element": {"probes_compiled_out": 1000.0, "level0_runs": [1012.0, 1013.0, 1015.0]}}
r = rows_for(sys.argv[2], cg)
want = {"level1_throughput@enrich.json": (0.5, True), "level2_throughput@enrich.json": (6.0, False),
        "null_comparison@enrich.json": (-0.2, None), "level0_instructions@three-stage.json": (1.013, False),
        "level1_ns@three-stage.json": (49.5, True), "level2_ns@three-stage.json": (301, False),
        "level1_clocks_only_floor@three-stage.json": (40, None),
        "level2_batch_hits_floor@three-stage.json": (250, None),
        "null_comparison@three-stage.json": (None, None)}
assert set(r) == set(want), sorted(r)
for k, (measured, met) in want.items():
    assert r[k]["measured"] == measured and r[k]["met"] is met, (k, r[k])
    for f in ("name", "measured", "unit", "quartiles", "budget", "met"):
        assert f in r[k], (k, f)
assert r["level1_throughput@enrich.json"]["quartiles"] == [-0.1, 1.2], r["level1_throughput@enrich.json"]
assert r["level0_instructions@three-stage.json"]["quartiles"] == [1.012, 1.015]
assert r["null_comparison@enrich.json"]["role"] == "method error"
assert r["level1_clocks_only_floor@three-stage.json"]["budget"] is None
assert r["level2_batch_hits_floor@three-stage.json"]["role"] == "floor"
assert "host exited 1" in r["null_comparison@three-stage.json"]["error"]

r = rows_for(sys.argv[3], {"error": "level0-cost.sh exited 2: valgrind is not installed"})
for k in ("level1_throughput@nothing.json", "level2_throughput@nothing.json"):
    assert r[k]["measured"] is None and r[k]["met"] is None and "is missing" in r[k]["note"], r[k]
    assert "error" not in r[k], r[k]
assert "valgrind" in r["level0_instructions@three-stage.json"]["error"]
print("ok: budget rows, verdicts, floor and null comparisons, missing workload, callgrind failure")
PY

# level0-cost.sh reports a ratio over its budget and exits 0 (make bench
# makes the row); it exits non-zero only when it cannot measure
if command -v valgrind >/dev/null && [ -x "$ROOT/build/torvyn-host-noprobes" ]; then
	N1=300 N2=900 REPS=1 LEVEL0_MAX=0.5 "$ROOT/tools/level0-cost.sh" >"$T/l0.json" 2>"$T/l0.err" ||
		fail "level0-cost.sh exited $? over its budget: $(cat "$T/l0.err")"
	assert_eq "level0-cost met, budget 0.5" false "$(jq_get "$T/l0.json" .met)"
	rc=0
	PIPE="$T/nothing.json" N1=300 N2=900 REPS=1 "$ROOT/tools/level0-cost.sh" >/dev/null 2>"$T/l0.err" || rc=$?
	[ "$rc" -ne 0 ] || fail "level0-cost.sh exited 0 without measuring"
	ok "level0-cost.sh: exit 0 over budget, $rc when it cannot measure ($(cat "$T/l0.err"))"
else
	echo "valgrind or build/torvyn-host-noprobes missing: level0-cost.sh not run"
fi
