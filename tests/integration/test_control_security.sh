#!/usr/bin/env bash
# The control socket (@torvyn-trace/PID) is a root tracer's: only root, the
# tracer's own user, or members of --control-group may command it; and it is
# answered on its own thread, so a client that trickles its request holds
# neither the ring buffer nor /metrics.
# 1. uid 65534 asking for diagnostic is refused (exit 8, the message names
#    the fix); the level and the gate semaphores do not move;
# 2. with --control-group nogroup, the same user switches the level;
# 3. a client sending one byte every 1.5 s for 6 s while the host promotes
#    every element (20,000 a second): nothing is lost on the ring buffer,
#    /metrics keeps counting, and the final counts equal the host's summary.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd setpriv
need_cmd curl

NOBODY="setpriv --reuid=65534 --regid=65534 --clear-groups"
$NOBODY true 2>/dev/null || skip "setpriv cannot switch to uid 65534 here"
$NOBODY test -x "$TRACE" || skip "uid 65534 cannot run $TRACE (its directories are not searchable)"
nogroup=$(getent group 65534 | cut -d: -f1)
[ -n "$nogroup" ] || skip "no group 65534 on this machine"

level_of() { tests/integration/scrape.sh "$1" >"$T/l.prom" && sed -n 's/^torvyn_trace_level //p' "$T/l.prom"; }

# 1. refused
bg "$HOST" run "$PIPELINES/three-stage.json" --duration 60 --wait-attach
hpid=$BGPID
port=$(pick_port 19760)
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" -q
tpid=$BGPID
wait_for "the tracer to serve level 1" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$port/metrics | grep -qx 'torvyn_trace_level 1'"
rc=0
$NOBODY "$TRACE" level --pid "$hpid" diagnostic >"$T/out" 2>&1 || rc=$?
assert_eq "exit code of level as uid 65534" 8 "$rc"
grep -q "may not command" "$T/out" || fail "the refusal does not say why: $(cat "$T/out")"
grep -q -- "--control-group" "$T/out" || fail "the refusal does not name the fix: $(cat "$T/out")"
assert_eq "level after the refused request" 1 "$(level_of "http://127.0.0.1:$port/metrics")"
assert_eq "diagnostic gate after the refused request" "gate__diagnostic 0" \
	"$(tests/integration/semaphores.py "$hpid" | grep '^gate__diagnostic')"
kill "$tpid"
wait_exit "$tpid" 10 || fail "the tracer exited with $?"

# 2. allowed by --control-group
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" -q --control-group "$nogroup"
tpid=$BGPID
wait_for "the second tracer to serve level 1" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$port/metrics | grep -qx 'torvyn_trace_level 1'"
$NOBODY "$TRACE" level --pid "$hpid" diagnostic >"$T/out" 2>&1 ||
	fail "level as a member of --control-group $nogroup: $(cat "$T/out")"
assert_eq "level switched by a member of the control group" 2 "$(level_of "http://127.0.0.1:$port/metrics")"
kill "$tpid" "$hpid"
wait_exit "$tpid" 10 || fail "the second tracer exited with $?"

# 3. a slow client
bg "$HOST" run "$ROOT/tests/integration/pipelines/steady.json" --duration 8 --sample-rate 1.0 --wait-attach \
	--summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" -q --sample-rate 1
tpid=$BGPID
wait_for "the tracer to serve level 1" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$port/metrics | grep -qx 'torvyn_trace_level 1'"
python3 - "$hpid" >"$T/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect("\0torvyn-trace/" + sys.argv[1])
for b in b"status":
    try:
        s.send(bytes([b]))
    except OSError as e:
        print("cut off after", e)
        break
    time.sleep(1.5)
PY
slow=$!
PIDS+=("$slow")
elements() { tests/integration/scrape.sh "127.0.0.1:$port/metrics" >"$T/e.prom" && sed -n 's/^torvyn_flow_elements_total{flow_id="steady"} //p' "$T/e.prom"; }
sleep 1.5
e1=$(elements)
sleep 2
e2=$(elements)
[ -n "$e1" ] && [ -n "$e2" ] && [ "$e2" -gt "$e1" ] ||
	fail "/metrics stopped counting while a client trickled its request: $e1 then $e2"
ok "/metrics kept counting during the slow client: $e1 then $e2 elements"
wait_exit "$hpid" 30 || fail "the host exited with $?"
wait_for "target_up 0" 10 sh -c "tests/integration/scrape.sh 127.0.0.1:$port/metrics >'$T/final.prom' && grep -qx 'torvyn_trace_target_up 0' '$T/final.prom'"
assert_eq "ring-buffer records lost" 0 "$(sed -n 's/^torvyn_trace_events_lost_total //p' "$T/final.prom")"
python3 tests/integration/prom_check.py check "$T/summary.json" "$T/final.prom" ||
	fail "the final counts differ from the host's summary"
kill "$slow" 2>/dev/null || true
