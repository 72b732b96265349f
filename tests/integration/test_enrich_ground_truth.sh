#!/usr/bin/env bash
# torvyn-trace attached to the reference workload user/host/pipelines/enrich.json
# exports exactly the host's ground truth, at production and at diagnostic
# level: a --wait-attach host runs N elements, the tracer's final scrape
# (torvyn_trace_target_up 0) equals --summary series by series
# (prom_check.py), and each component's invocations are those the
# generator's rule gives: every element reaches the filter, and exactly the
# records with amount >= 80000 reach json-enrich, deflate and the sink.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq

N=20000
PIPELINE=$PIPELINES/enrich.json
# records of seq 0..N-1 whose amount (seq * 7919 % 100000) is at least 80000
LARGE=$(python3 -c "print(sum(i * 7919 % 100000 >= 80000 for i in range($N)))")

idx=0
for level in production diagnostic; do
	d=$T/$level
	mkdir -p "$d"
	bg "$HOST" run "$PIPELINE" --elements $N --wait-attach --summary "$d/summary.json"
	hpid=$BGPID
	port=$(pick_port $((19700 + idx * 10)))
	url=http://127.0.0.1:$port/metrics
	bg "$TRACE" attach --pid "$hpid" --level "$level" --listen "127.0.0.1:$port"
	tpid=$BGPID
	rc=0
	wait_exit "$hpid" 60 || rc=$?
	assert_eq "$level: torvyn-host exit status" 0 "$rc"
	wait_for "$level: torvyn_trace_target_up 0" 10 scraped_final "$url" "$d/final.prom"

	diag=()
	[ "$level" = diagnostic ] && diag=(--diagnostic)
	python3 "$ROOT/tests/integration/prom_check.py" "$d/summary.json" "$d/final.prom" "${diag[@]}" ||
		fail "$level: the scrape differs from the host's summary"

	for spec in orders:$N large:$N enrich:$LARGE compress:$LARGE sink:$LARGE; do
		c=${spec%%:*} want=${spec#*:}
		assert_eq "$level: summary invocations of $c" "$want" \
			"$(jq_get "$d/summary.json" ".flows[0].components[] | select(.id == \"$c\") | .invocations")"
		assert_eq "$level: scrape invocations of $c" "$want" \
			"$(sample "$d/final.prom" "torvyn_component_invocations_total{flow_id=\"enrich\",component_id=\"$c\"}")"
	done
	assert_eq "$level: scrape flow errors" 0 \
		"$(sample "$d/final.prom" 'torvyn_flow_errors_total{flow_id="enrich"}')"

	kill -INT "$tpid"
	rc=0
	wait_exit "$tpid" 5 || rc=$?
	assert_eq "$level: torvyn-trace exit status after SIGINT" 0 "$rc"
	idx=$((idx + 1))
done
