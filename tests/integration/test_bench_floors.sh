#!/usr/bin/env bash
# make bench's Level 2 floor (build/torvyn-trace-batch-hits-only) does what
# its row says: at diagnostic it takes every component__batch hit a real
# tracer takes and reads each batch whole, and aggregates none of the step
# records (every diagnostic invocation count is 0), while Level 1 still counts
# exactly what the host's --summary says.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
FLOOR=$ROOT/build/torvyn-trace-batch-hits-only
[ -x "$FLOOR" ] || fail "$FLOOR is not built (make build/torvyn-trace-batch-hits-only)"

batch_run "$FLOOR" "$T" 19660

# every series the host counts equals its summary; its queue waits are
# timed at diagnostic, which prom_check's production-only check leaves out
python3 - "$T/summary.json" "$T/final.prom" <<'PY' || fail "Level 1 under the floor tracer differs from the summary"
import json, sys
sys.path.insert(0, "tests/integration")
import prom_check
summary = json.load(open(sys.argv[1]))
series = prom_check.parse(prom_check.unhost(open(sys.argv[2]).read()))
n, bad = prom_check.check_summary(summary, series)
bad = [e for e in bad if "queue_wait_time_seconds_count" not in e]
for b in bad:
    print("FAIL:", b, file=sys.stderr)
print(f"ok: {n} series equal --summary")
sys.exit(1 if bad else 0)
PY

inv=$(unhost <"$T/final.prom" | awk '/^torvyn_diagnostic_invocations_total\{/ { n++; s += $2 }
	END { print n + 0, s + 0 }')
# no step record aggregated: no series, or series of 0 (the hits below show
# that Level 2 was attached and batching)
assert_eq "diagnostic invocations aggregated" 0 "${inv##* }"
batch_hits "$T/final.prom"
ok "component__batch: $BATCH_HITS hits for $((3 * BATCH_N)) records, none aggregated"
