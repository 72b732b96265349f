#!/usr/bin/env bash
# attach --follow: when the host exits, the tracer attaches to the next
# process running the same executable (the same file), within a second, and
# its series come under the new pid, counted from zero.
# - host A (3000 elements) exits; another executable starts and is left
#   alone (its gates stay down); host B, the same file as A, starts with
#   --wait-attach and is attached within a second;
# - the final scrape is B's alone, equal to B's summary; `level --pid B`
#   reaches the tracer.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl

cp "$HOST" "$T/followed"
cp "$HOST" "$T/other"
port=$(pick_port 19800)
url=http://127.0.0.1:$port/metrics

bg "$T/followed" run "$PIPELINES/three-stage.json" --elements 3000 --wait-attach --summary "$T/a.json"
a=$BGPID
bg "$TRACE" attach --pid "$a" --listen "127.0.0.1:$port" --follow -q
tpid=$BGPID
wait_exit "$a" 30 || fail "host A exited with $?"
down() { curl -sf "$url" -o "$T/d.prom" && grep -q "^torvyn_trace_target_up{pid=\"$a\".*} 0$" "$T/d.prom"; }
wait_for "host A's series marked down" 10 down

bg "$T/other" run "$PIPELINES/three-stage.json" --duration 20 --wait-attach
other=$BGPID
sleep 1.5
assert_eq "gate of another executable" "gate__production 0" \
	"$(tests/integration/semaphores.py "$other" | grep '^gate__production')"

t0=$(date +%s%3N)
bg "$T/followed" run "$PIPELINES/three-stage.json" --elements 4000 --wait-attach --summary "$T/b.json"
b=$BGPID
attached() { tests/integration/semaphores.py "$b" 2>/dev/null | grep -q '^gate__production [1-9]' || [ -s "$T/b.json" ]; }
wait_for "the tracer to follow to host B" 5 attached
echo "host B attached $(($(date +%s%3N) - t0)) ms after it started"
wait_exit "$b" 30 || fail "host B exited with $?"
final() { curl -sf "$url" -o "$T/final.prom" && grep -q "^torvyn_trace_target_up{pid=\"$b\".*} 0$" "$T/final.prom"; }
wait_for "host B's final values" 10 final
python3 tests/integration/prom_check.py check "$T/b.json" "$T/final.prom" --pid "$b" ||
	fail "the followed host's series differ from its summary"
assert_eq "series of host A left" 0 "$(grep -c "pid=\"$a\"" "$T/final.prom" || true)"
assert_eq "series of the other executable" 0 "$(grep -c "pid=\"$other\"" "$T/final.prom" || true)"
"$TRACE" level --pid "$b" >"$T/level.out" || fail "level --pid B: $(cat "$T/level.out")"
ok "level --pid $b reaches the tracer: $(cat "$T/level.out")"
kill "$other" "$tpid"
