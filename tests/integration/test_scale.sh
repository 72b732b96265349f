#!/usr/bin/env bash
# 100 flows x 5 components (500 threads): every series present and exact at
# diagnostic level; prints the tracer's resident memory and scrape times.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes

N=300
PORT=$(pick_port 19631)
bg "$HOST" run tests/integration/pipelines/hundred-flows.json --elements $N --wait-attach --summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --level diagnostic --listen 127.0.0.1:$PORT -q
tpid=$BGPID
wait_exit "$hpid" 120 || fail "torvyn-host exited with $?"
wait_for "target_up 0" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$PORT/metrics | grep -q '^torvyn_trace_target_up 0'"
tests/integration/scrape.sh 127.0.0.1:$PORT/metrics >"$T/final.prom"
python3 tests/integration/prom_check.py check "$T/summary.json" "$T/final.prom" --diagnostic
inv=$(grep -c '^torvyn_component_invocations_total{' "$T/final.prom")
assert_eq "component invocation series" 500 "$inv"
sum=$(awk '/^torvyn_component_invocations_total\{.*component_id="parse"/ {s += $2} END {print s}' "$T/final.prom")
assert_eq "parse invocations over 100 flows" $((100 * N)) "$sum"
stored=$(awk '/^torvyn_component_invocations_total\{.*component_id="store"/ {s += $2} END {print s}' "$T/final.prom")
assert_eq "store invocations (every 2nd element)" $((100 * N / 2)) "$stored"
promtool check metrics <"$T/final.prom" >"$T/promtool.out" 2>&1 || { cat "$T/promtool.out"; fail "promtool"; }

# figures for the record: scrape time and the tracer's memory
times=$(for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' 127.0.0.1:$PORT/metrics; done | sort -n)
rss=$(awk '/^VmRSS/ {print $2}' /proc/$tpid/status)
echo "scrape seconds (5 runs, sorted): $(echo $times)"
echo "scrape bytes: $(wc -c <"$T/final.prom")"
echo "torvyn-trace VmRSS: ${rss} kB"

# gzip when the scraper asks for it (Prometheus does): the same exposition
curl -sf -H 'Accept-Encoding: gzip' -D "$T/gz.headers" -o "$T/final.prom.gz" 127.0.0.1:$PORT/metrics
grep -qi '^content-encoding: gzip' "$T/gz.headers" || fail "no Content-Encoding: gzip: $(cat "$T/gz.headers")"
curl -sf 127.0.0.1:$PORT/metrics >"$T/plain.prom" # both raw: compared byte for byte
gunzip -c "$T/final.prom.gz" | grep -v '^torvyn_trace_scrapes_total' >"$T/unzipped.prom"
grep -v '^torvyn_trace_scrapes_total' "$T/plain.prom" | cmp -s - "$T/unzipped.prom" ||
	fail "the gzip'd exposition differs from the plain one"
echo "ok: gzip'd scrape $(wc -c <"$T/final.prom.gz") bytes for $(wc -c <"$T/plain.prom") of text, same content"
curl -sf -H 'Accept-Encoding: gzip;q=0, identity' -D "$T/nogz.headers" -o /dev/null 127.0.0.1:$PORT/metrics
grep -qi '^content-encoding: gzip' "$T/nogz.headers" && fail "gzip sent although q=0 refused it"
ok "gzip;q=0 is honoured"
