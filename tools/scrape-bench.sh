#!/usr/bin/env bash
# /metrics under many scrapers: a host runs the largest pipeline the tests use
# (100 flows x 5 components, tests/integration/pipelines/hundred-flows.json)
# to its end at diagnostic level, so the body no longer changes; then
# CLIENTS concurrent scrapers (default 200) each scrape ROUNDS times, plain
# and then gzip'd. Reports p50, p99 and max per scrape, the tracer's peak and
# resting RSS, and the RSS after SLOW slow readers (1 byte/s) are gone.
# A measurement, not a test: run as root, after `make`.
#   tools/scrape-bench.sh        (CLIENTS=200 ROUNDS=3 SLOW=300 SLOW_HOLD=90 PORT=19720)
# TRACE=path/to/torvyn-trace measures another build (before and after a change).
set -euo pipefail
cd "$(dirname "$0")/.."
CLIENTS=${CLIENTS:-200}
ROUNDS=${ROUNDS:-3}
SLOW=${SLOW:-300}
SLOW_HOLD=${SLOW_HOLD:-90}
PORT=${PORT:-19720}
TRACE=${TRACE:-build/torvyn-trace}
T=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

build/torvyn-host run tests/integration/pipelines/hundred-flows.json --elements 300 \
	--wait-attach >/dev/null &
host=$!
PIDS+=("$host")
sleep 0.2
"$TRACE" attach --pid "$host" --level diagnostic --listen "127.0.0.1:$PORT" -q &
tracer=$!
PIDS+=("$tracer")
wait "$host" || true
for ((i = 0; i < 200; i++)); do
	curl -sf "127.0.0.1:$PORT/metrics" -o "$T/m.prom" &&
		grep -q '^torvyn_trace_target_up 0' "$T/m.prom" && break
	sleep 0.1
done
echo "body: $(wc -c <"$T/m.prom") bytes; tracer RSS at rest: $(rss "$tracer") kB"
for mode in plain gzip; do
	flag=$([ $mode = gzip ] && echo --gzip || true)
	python3 tools/scrape_load.py burst "127.0.0.1:$PORT" "$CLIENTS" --rounds "$ROUNDS" \
		--pid "$tracer" $flag >"$T/r.json"
	jq -r --arg m "$mode" --arg c "$CLIENTS" '"\($c) scrapers, \($m): \(.scrapes) scrapes, \(.failures) failed; p50 \(.p50*1000|floor) ms, p99 \(.p99*1000|floor) ms, max \(.max*1000|floor) ms; RSS peak \(.rss_peak_kb) kB, after \(.rss_now_kb) kB"' "$T/r.json"
done
sleep 1
echo "tracer RSS before $SLOW slow readers: $(rss "$tracer") kB"
python3 tools/scrape_load.py slow "127.0.0.1:$PORT" "$SLOW" --hold "$SLOW_HOLD" >"$T/s.json" &
slow=$!
sleep 5
echo "tracer RSS with $SLOW slow readers: $(rss "$tracer") kB"
wait "$slow" || true
jq -r '"slow readers: \(.closed_by_server) of \(.connections) cut by the server, the last after \(.max_closed_after) s (gave up at '"$SLOW_HOLD"' s)"' "$T/s.json"
sleep 1
echo "tracer RSS after the slow readers: $(rss "$tracer") kB"
t0=$(date +%s%N)
curl -sf -o /dev/null "127.0.0.1:$PORT/metrics" && echo "one scrape afterwards: $((($(date +%s%N) - t0) / 1000000)) ms"
