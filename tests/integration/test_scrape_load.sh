#!/usr/bin/env bash
# /metrics under many scrapers, over the biggest body the tests make (100
# flows x 5 components at diagnostic, about 12 MB), from a host that finished:
# - 20 concurrent scrapes get one byte-identical body (one snapshot), exact
#   against the host's summary; the same for 20 gzip'd scrapes;
# - with --max-connections 32, a 33rd connection waits to be accepted (it is
#   neither refused nor served) until a slot frees, then is served;
# - 30 slow readers (1 byte/s) are cut by the server within the send timeout
#   and the idle timeout (3 s) after it, and the tracer's RSS stays and
#   comes back within 32 MB of where it was (the shared body, 12 MB, and its
#   gzip'd copy may be replaced meanwhile by a newer render, both alive for a
#   moment; 30 private copies of the body would be 360 MB).
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl

N=100
LIMIT=32
LOAD="python3 tools/scrape_load.py"
port=$(pick_port 19740)
addr=127.0.0.1:$port
bg "$HOST" run tests/integration/pipelines/hundred-flows.json --elements $N --wait-attach \
	--summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --level diagnostic --listen "$addr" -q \
	--max-connections $LIMIT --send-timeout 2
tpid=$BGPID
wait_exit "$hpid" 60 || fail "torvyn-host exited with $?"
final() { curl -sf "$addr/metrics" -o "$T/m.prom" && grep -q '^torvyn_trace_target_up{.*} 0$' "$T/m.prom"; }
wait_for "target_up 0" 20 final
rss() { awk '/^VmRSS/ {print $2}' "/proc/$tpid/status"; }

# ---- concurrent scrapes share one snapshot
sleep 0.2 # past the cache's 100 ms: the burst renders once, afresh
mkdir "$T/plain" "$T/gz"
$LOAD burst "$addr" 20 --out "$T/plain" >"$T/plain.json"
$LOAD burst "$addr" 20 --gzip --out "$T/gz" >"$T/gz.json"
cat "$T/plain.json" "$T/gz.json"
for m in plain gz; do
	assert_eq "$m scrapes served" 20 "$(jq .scrapes "$T/$m.json")"
	assert_eq "distinct $m bodies of 20 concurrent scrapes" 1 "$(jq '.bodies | length' "$T/$m.json")"
done
body=$(ls "$T/plain")
python3 tests/integration/prom_check.py check "$T/summary.json" "$T/plain/$body" --diagnostic --pid "$hpid"
gunzip -c <"$T/gz/$(ls "$T/gz")" >"$T/gz.prom"
python3 tests/integration/prom_check.py check "$T/summary.json" "$T/gz.prom" --diagnostic --pid "$hpid"
sum=$(awk '/^torvyn_component_invocations_total\{.*component_id="parse"/ {s += $2} END {print s}' "$T/plain/$body")
assert_eq "parse invocations over 100 flows in the shared body" $((100 * N)) "$sum"

# ---- the connection limit: one past it waits, then is served
$LOAD hold "$addr" $LIMIT --until "$T/release" >"$T/hold.out" &
holder=$!
PIDS+=("$holder")
wait_for "$LIMIT connections held" 10 grep -q "holding $LIMIT" "$T/hold.out"
rc=0
curl -s --max-time 1 -o /dev/null "$addr/metrics" || rc=$?
assert_eq "curl exit status with $LIMIT connections held (28: timed out waiting)" 28 "$rc"
curl -s --max-time 20 -o "$T/queued.prom" -w '%{http_code}' "$addr/metrics" >"$T/queued.code" &
queued=$!
sleep 0.5
touch "$T/release"
rc=0
wait "$queued" || rc=$?
assert_eq "curl exit status of the queued scrape once the holders left" 0 "$rc"
assert_eq "its HTTP status" 200 "$(cat "$T/queued.code")"
grep -q '^torvyn_trace_target_up{.*} 0$' "$T/queued.prom" || fail "the queued scrape got no exposition"
wait "$holder" || true
kill -0 "$tpid" || fail "torvyn-trace died at its connection limit"

# ---- slow readers are cut and their memory comes back
sleep 0.5
before=$(rss)
$LOAD slow "$addr" 30 --hold 20 >"$T/slow.json" &
slow=$!
PIDS+=("$slow")
sleep 1.5
during=$(rss)
wait "$slow"
cat "$T/slow.json"
sleep 0.5
after=$(rss)
echo "tracer VmRSS: before $before kB, with 30 slow readers $during kB, after $after kB"
assert_eq "slow readers cut by the server" 30 "$(jq .closed_by_server "$T/slow.json")"
jq -e '.max_closed_after <= 8' "$T/slow.json" >/dev/null ||
	fail "the last slow reader was cut after $(jq .max_closed_after "$T/slow.json") s, beyond 2 s + 3 s idle (+3 s slack)"
[ "$during" -lt $((before + 32 * 1024)) ] || fail "RSS with slow readers $during kB, over $before + 32 MB"
[ "$after" -lt $((before + 32 * 1024)) ] || fail "RSS after slow readers $after kB, over $before + 32 MB"
ok "RSS within 32 MB of $before kB during and after 30 slow readers"
curl -sf -o /dev/null "$addr/metrics" || fail "no scrape after the slow readers"
ok "served after the slow readers"
