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

n=20011 # 312 full batches per component thread and a partial one at exit
bg "$HOST" run "$PIPELINES/three-stage.json" --elements $n --wait-attach \
	--flush-interval 60000 --summary "$T/summary.json"
hpid=$BGPID
port=$(pick_port 19660)
bg "$FLOOR" attach --pid "$hpid" --level diagnostic --listen "127.0.0.1:$port" -q
wait_exit "$hpid" 60 || fail "torvyn-host exited $?"
wait_for "the final scrape" 20 scraped_final "http://127.0.0.1:$port/metrics" "$T/final.prom"

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
h=$(probe_hits "$T/final.prom" component__batch)
[ "$h" -ge $((3 * (n / 64 + 1))) ] && [ "$h" -le $((3 * (n / 64 + 1) + 12)) ] ||
	fail "component__batch hits: $h for $((3 * n)) records"
ok "component__batch: $h hits for $((3 * n)) records, none aggregated"
