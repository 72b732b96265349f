#!/usr/bin/env bash
# torvyn-trace bench --pid on a host that has been running for a while, with
# --warmup 0: the window starts from what the host had done at attach, not
# from its start. The source is rate-limited, so the true throughput is known
# (R elements/s, on the host's own clock); the report must be within 5 % of
# it, where counting from the process start gave (2 s + window) x R over the
# window, twice the truth and more.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes

R=20000
S=100
cat >"$T/rate.json" <<JSON
{"flows": [{"id": "paced", "components": [
  {"id": "gen", "role": "source", "kind": "generator", "rate": $R, "payload": {"size": $S}},
  {"id": "xform", "role": "processor", "kind": "transform"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
JSON
bg "$HOST" run "$T/rate.json" --duration 60 --progress-log "$T/progress.log"
host=$BGPID
# two seconds of elements before the tracer arrives
wait_for "the host's first elements" 5 test -s "$T/progress.log"
sleep 2

"$TRACE" bench --pid "$host" --warmup 0 --duration 2 --window 0.25 --report-format json \
	--report "$T/r.json" 2>"$T/bench.err" || fail "bench exited $?: $(cat "$T/bench.err")"
python3 - "$T/r.json" "$R" "$S" <<'PY' || fail "bench --pid --warmup 0 is not the host's rate"
import json, sys
r = json.load(open(sys.argv[1]))
rate, size = float(sys.argv[2]), float(sys.argv[3])
eps = r["throughput"]["elements_per_sec"]
assert abs(eps - rate) <= 0.05 * rate, ("elements/s", eps, rate)
assert abs(r["elements"] - rate * r["duration_s"]) <= 0.05 * rate * r["duration_s"], r["elements"]
# bytes come from the host's blocks, which lag by up to a flush interval: never above the truth
assert r["throughput"]["bytes_per_sec"] <= 1.05 * rate * size, r["throughput"]["bytes_per_sec"]
w = r["windows"]
assert w["seconds"] == 0.25 and len(w["elements_per_sec"]) >= 6, w
# a window the loaded machine starved is followed by one that catches up: their mean
assert abs(sum(w["elements_per_sec"]) / len(w["elements_per_sec"]) - rate) <= 0.1 * rate, w
print("ok: %.0f elements/s (true %d), %d windows of %.2f s" % (eps, rate, len(w["elements_per_sec"]), w["seconds"]))
PY
kill -0 "$host" || fail "the host did not survive the bench"
