#!/usr/bin/env bash
# Many sessions in one process: one tracer process (build/integ/multi_session,
# the tracer's modules without its command line) attaches to three hosts at
# once from one event loop, and each session's final counts equal its own
# host's --summary exactly, with nothing of one host in another's session.
# The hosts run different pipelines and element counts, so a mix-up shows.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq

MULTI=$ROOT/build/integ/multi_session
[ -x "$MULTI" ] || fail "$MULTI is not built (make unit)"

for level in production diagnostic; do
	echo "--- $level"
	d=$T/$level
	mkdir -p "$d"
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements 3000 --wait-attach --summary "$d/a.json"
	a=$BGPID
	bg "$HOST" run "$ROOT/tests/integration/pipelines/faults.json" --elements 700 --wait-attach \
		--summary "$d/b.json"
	b=$BGPID
	bg "$HOST" run "$PIPELINES/multi-flow.json" --elements 1100 --wait-attach --summary "$d/c.json"
	c=$BGPID
	bg "$MULTI" "$level" "$a" "$b" "$c" >"$d/out.jsonl" 2>"$d/err"
	wait_exit "$BGPID" 60 || fail "$level: multi_session failed: $(cat "$d/err")"
	[ "$(wc -l <"$d/out.jsonl")" -eq 3 ] || fail "$level: expected 3 sessions, got: $(cat "$d/out.jsonl" "$d/err")"
	for h in a b c; do
		pid=${!h}
		line=$(jq -c --argjson p "$pid" 'select(.pid == $p)' "$d/out.jsonl")
		[ -n "$line" ] || fail "$level: no session for pid $pid"
		assert_eq "$level pid $pid target_up" 0 "$(jq -r .target_up <<<"$line")"
		# flow by flow, component by component: the session against its host's summary
		want=$(jq -c '[.flows[] | {id, elements, errors,
			components: [.components[] | {id, invocations, errors}]}] | sort_by(.id)' "$d/$h.json")
		got=$(jq -c '[.flows[] | {id, elements, errors,
			components: [.components[] | {id, invocations, errors}]}] | sort_by(.id)' <<<"$line")
		[ "$want" = "$got" ] || fail "$level pid $pid: session counts differ from its summary:
  summary: $want
  session: $got"
		ok "$level pid $pid ($(jq -r '[.flows[].id] | join(",")' <<<"$line")): counts equal its summary"
		# every invocation timed: each processing-time histogram counts its invocations
		bad=$(jq -r '.flows[].components[] | select(.processing_count != .invocations) | .id' <<<"$line")
		[ -z "$bad" ] || fail "$level pid $pid: processing_time count != invocations for $bad"
		if [ "$level" = diagnostic ]; then
			bad=$(jq -r '.flows[].components[] | select(.diag_invocations != .invocations) | .id' <<<"$line")
			[ -z "$bad" ] || fail "diagnostic pid $pid: BPF-aggregated invocations differ for $bad"
		fi
	done
	# the element counts differ per host: a session serving another's blocks would show
	assert_eq "$level elements, three-stage host" 3000 \
		"$(jq --argjson p "$a" 'select(.pid == $p) | .flows[0].elements' "$d/out.jsonl")"
done
