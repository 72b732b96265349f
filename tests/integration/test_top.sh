#!/usr/bin/env bash
# torvyn-trace top. --once and -j on finished hosts (the session keeps serving
# their final values) show exactly each host's --summary: elements and errors
# per flow, invocations and errors per component; --agent reads the same from
# an HTTP /metrics. On a real pseudo-terminal (tmux): d and p switch a running
# host's level (its gate semaphores, read from /proc/PID/mem, rise and fall),
# q quits with status 0, and a finished host's frame shows its exact count.
# Errors: no session (9), no agent (12), bad command lines and no terminal (2).
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
need_cmd tmux

TMUX_SOCK=$T/tmux.sock
tm() { tmux -S "$TMUX_SOCK" "$@"; }
# on a failure, what each live view showed last; then the tmux server is
# stopped (it is ours: its own socket) before lib.sh's cleanup
on_exit() {
	local rc=$? s
	if [ "$rc" != 0 ]; then
		for s in $(tm list-sessions -F '#S' 2>/dev/null); do
			echo "--- the screen of tmux session '$s':"
			tm capture-pane -p -t "$s" | grep -v '^ *$'
		done
		if [ -n "${live:-}" ] && kill -0 "$live" 2>/dev/null; then
			echo "--- pid $live: level $("$TRACE" level --pid "$live" 2>&1), semaphores:"
			python3 "$ROOT/tests/integration/semaphores.py" "$live" | xargs
		fi
	fi
	tm kill-server 2>/dev/null || true
	cleanup
}
trap on_exit EXIT

N=20000

# run_code WANT DESC CMD...: CMD exits WANT, its stderr saved in $T/err
run_code() {
	local want=$1 desc=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" </dev/null || rc=$?
	assert_eq "$desc: exit code" "$want" "$rc"
}

# ---------------------------------------------------------------- errors
free_port=$(pick_port 19800)
run_code 2 "no source" "$TRACE" top --once
run_code 2 "both sources" "$TRACE" top --pid 1 --agent "127.0.0.1:$free_port" --once
run_code 2 "bad interval" "$TRACE" top --pid 1 --once --interval 0
run_code 2 "bad agent address" "$TRACE" top --agent nowhere --once
# PID 1 has no session: the message names the fix
run_code 9 "no session for pid 1" "$TRACE" top --pid 1 --once
grep -q "torvyn-trace attach --pid 1" "$T/err" || fail "no-session message: $(cat "$T/err")"
run_code 12 "no agent on a free port" "$TRACE" top --agent "127.0.0.1:$free_port" --once -j
grep -q "no agent answers at 127.0.0.1:$free_port" "$T/err" || fail "agent message: $(cat "$T/err")"

# ---------------------------------------------------------------- finished hosts
# finished PIPELINE NAME: a --wait-attach host of N elements per source run to
# its end under an attach session; sets HPID_<NAME>, PORT_<NAME>
finished() {
	local pipeline=$1 name=$2 hpid port
	bg "$HOST" run "$pipeline" --elements "$N" --wait-attach --summary "$T/$name.summary.json"
	hpid=$BGPID
	port=$(pick_port $((19810 + ${#name})))
	bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" -q
	wait_exit "$hpid" 60 || fail "$name host exited $?"
	# the session saw the host exit: what it serves now is final
	wait_for "$name session to see pid $hpid exit" 10 target_down "$hpid"
	printf -v "HPID_$name" %s "$hpid"
	printf -v "PORT_$name" %s "$port"
}

target_down() {
	[ "$("$TRACE" top --pid "$1" --once -j --interval 0.1 | jq -r '.targets[0].target_up')" = false ]
}

# The expected rows, "flow - elements errors" and "flow component invocations errors".
from_summary() {
	jq -r '.flows[] | "\(.id) - \(.elements) \(.errors)",
		(.id as $f | .components[] | "\($f) \(.id) \(.invocations) \(.errors)")' "$1" | sort
}
from_json() {
	jq -r '.targets[0].flows[] | "\(.flow_id) - \(.elements) \(.errors)",
		(.flow_id as $f | .components[] | "\($f) \(.component_id) \(.invocations) \(.errors)")' "$1" | sort
}
# The text frame: flow rows are indented 2, component and stream rows 4
# (a stream's second column is its bar); TOTAL is column 2, ERRORS the last.
from_text() {
	awk '/^  [^ ]/ { flow = $1; print flow, "-", $2, $NF; next }
	     /^    [^ ]/ && $2 !~ /^\[/ { print flow, $1, $2, $NF }' "$1" | sort
}

for run in "three-stage $PIPELINES/three-stage.json" "faults $ROOT/tests/integration/pipelines/faults.json"; do
	set -- $run
	name=${1//-/_}
	echo "--- $1: $N elements per source, finished"
	finished "$2" "$name"
	hpid_var=HPID_$name
	hpid=${!hpid_var}
	from_summary "$T/$name.summary.json" >"$T/$name.want"
	[ "$(wc -l <"$T/$name.want")" -ge 4 ] || fail "$name: summary has too few rows"

	"$TRACE" top --pid "$hpid" --once --interval 0.2 >"$T/$name.txt" ||
		fail "$name: top --once exited $?"
	cat "$T/$name.txt"
	from_text "$T/$name.txt" >"$T/$name.text.rows"
	diff -u "$T/$name.want" "$T/$name.text.rows" || fail "$name: the text frame differs from the summary"
	ok "$name: text frame = summary ($(wc -l <"$T/$name.want") rows)"

	"$TRACE" top --pid "$hpid" --once -j --interval 0.2 >"$T/$name.json" ||
		fail "$name: top -j exited $?"
	from_json "$T/$name.json" >"$T/$name.json.rows"
	diff -u "$T/$name.want" "$T/$name.json.rows" || fail "$name: the JSON frame differs from the summary"
	ok "$name: JSON frame = summary"
	assert_eq "$name: JSON pid" "$hpid" "$(jq -r '.targets[0].pid' "$T/$name.json")"
	assert_eq "$name: JSON level of a finished host" off "$(jq -r '.targets[0].level' "$T/$name.json")"
	assert_eq "$name: JSON events lost" 0 "$(jq -r '.targets[0].tracer.events_lost' "$T/$name.json")"
	# two scrapes of a finished host: every rate is 0, none unknown
	assert_eq "$name: JSON element rates" 0 \
		"$(jq '[.targets[0].flows[].elements_per_second] | add' "$T/$name.json")"
done
assert_eq "faults: processor errors in the JSON frame" 3 \
	"$(jq '.targets[0].flows[] | select(.flow_id == "three-stage") | .components[] | select(.component_id == "processor") | .errors' "$T/faults.json")"

# the same frame from HTTP /metrics (what an agent serves): the PID from torvyn_trace_info
"$TRACE" top --agent "127.0.0.1:$PORT_three_stage" --once -j --interval 0.2 >"$T/agent.json" ||
	fail "top --agent exited $?"
from_json "$T/agent.json" >"$T/agent.rows"
diff -u "$T/three_stage.want" "$T/agent.rows" || fail "--agent frame differs from the summary"
assert_eq "--agent: the target's pid" "$HPID_three_stage" "$(jq -r '.targets[0].pid' "$T/agent.json")"

# the live view wants a terminal
run_code 2 "live view without a terminal" "$TRACE" top --pid "$HPID_three_stage"
grep -q "needs a terminal" "$T/err" || fail "no-terminal message: $(cat "$T/err")"

# ---------------------------------------------------------------- a pseudo-terminal
gate() { python3 "$ROOT/tests/integration/semaphores.py" "$1" | awk -v g="gate__$2" '$1 == g { print $2 }'; }
# gate_is PID GATE OP N: the gate compared now (wait_for calls it again each try)
gate_is() { test "$(gate "$1" "$2")" "$3" "$4"; }
pane() { tm capture-pane -p -t "$1"; }
pane_has() { pane "$1" | grep -q -- "$2"; }

bg "$HOST" run "$PIPELINES/three-stage.json" --duration 120
live=$BGPID
bg "$TRACE" attach --pid "$live" --listen "127.0.0.1:$(pick_port 19840)" -q
wait_for "a session for pid $live" 10 "$TRACE" level --pid "$live"
wait_for "pid $live at production" 10 gate_is "$live" production -gt 0
assert_eq "diagnostic gate before any key" 0 "$(gate "$live" diagnostic)"

tm new-session -d -s live -x 160 -y 40 \
	"'$TRACE' top --pid $live --interval 0.5; echo \$? >'$T/live.rc'; sleep 600"
wait_for "the live frame" 10 pane_has live "level production"
pane live

tm send-keys -t live d
wait_for "gate__diagnostic to rise after d" 10 gate_is "$live" diagnostic -gt 0
wait_for "the frame to show diagnostic" 10 pane_has live "level diagnostic"
ok "d: gate__diagnostic $(gate "$live" diagnostic)"
pane_has live "pid $live: diagnostic (switched in" || fail "no switch message: $(pane live)"

tm send-keys -t live p
wait_for "gate__diagnostic to fall after p" 10 gate_is "$live" diagnostic -eq 0
wait_for "the frame to show production" 10 pane_has live "level production"
[ "$(gate "$live" production)" -gt 0 ] || fail "p left the production gate at 0"
ok "p: gate__diagnostic 0, gate__production $(gate "$live" production)"

# s cycles the sort column; the arrow keys and a resize leave it running
tm send-keys -t live s
wait_for "sort by rate" 5 pane_has live "sort rate"
tm send-keys -t live Down Up
tm resize-window -t live -x 90 -y 12
wait_for "a redraw at 90 columns" 5 pane_has live "torvyn-trace top: pid $live"

tm send-keys -t live q
wait_for "top to quit on q" 10 test -s "$T/live.rc"
assert_eq "top's exit status after q" 0 "$(cat "$T/live.rc")"
kill -0 "$live" || fail "the host died"

# --once on the running host: rates spanning two of its flushes, every quantile known
"$TRACE" top --pid "$live" --once -j >"$T/live.json" || fail "top --once on a running host exited $?"
jq -e '.targets[0] | .rates_seconds > 0.5 and .rates_carried == false and
	(.flows[0].elements_per_second > 0) and
	([.flows[0].components[] | .invocations_per_second > 0 and .p50_seconds > 0 and
	  .p99_seconds >= .p50_seconds] | all)' "$T/live.json" >/dev/null ||
	fail "running host: rates or quantiles missing: $(cat "$T/live.json")"
ok "running host: $(jq -r '.targets[0].flows[0].elements_per_second | floor' "$T/live.json") elements/s over $(jq -r '.targets[0].rates_seconds' "$T/live.json") s"

# a finished host's frame, read off the screen
tm new-session -d -s done -x 160 -y 40 \
	"'$TRACE' top --pid $HPID_three_stage --interval 0.5; echo \$? >'$T/done.rc'; sleep 600"
wait_for "the finished host's frame" 10 pane_has done "target down"
pane done | tee "$T/done.pane"
assert_eq "elements of the finished host on screen" "$N" \
	"$(awk '$1 == "three-stage" { print $2 }' "$T/done.pane")"
for c in source processor sink; do
	assert_eq "invocations of $c on screen" "$N" "$(awk -v c="$c" '$1 == c { print $2 }' "$T/done.pane")"
done
tm send-keys -t done q
wait_for "top to quit on q" 10 test -s "$T/done.rc"
assert_eq "exit status" 0 "$(cat "$T/done.rc")"
