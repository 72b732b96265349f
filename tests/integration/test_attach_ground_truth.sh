#!/usr/bin/env bash
# torvyn-trace attached by PID exports exactly the host's own ground truth.
# For each level (production, diagnostic) and each pipeline (three-stage,
# faults, multi-flow): a --wait-attach host runs N elements per source; the
# tracer's final scrape (torvyn_trace_target_up 0) must equal the host's
# --summary, series by series (prom_check.py), and the known truths of each
# pipeline hold. Scrapes taken while the host runs only ever grow; every saved
# scrape passes `promtool check metrics` silently; the OpenMetrics rendering
# carries the same samples and ends with "# EOF"; SIGINT stops the tracer with
# status 0 within 5 s.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq
need_cmd promtool

CHECK="python3 $ROOT/tests/integration/prom_check.py"
OM_ACCEPT='Accept: application/openmetrics-text; version=1.0.0'

# a mismatch with the summary is reported, and the other runs still go on
FAILED=()
soft_fail() {
	echo "FAIL: $*" >&2
	FAILED+=("$*")
}

promtool_clean() {
	local out rc=0
	out=$(promtool check metrics <"$1" 2>&1) || rc=$?
	[ "$rc" -eq 0 ] && [ -z "$out" ] ||
		fail "promtool check metrics $(basename "$1"): exit $rc, output: $out"
}

# content_type URL [CURL ARGS...]: the Content-Type a GET of URL answers with
content_type() {
	local u=$1
	shift
	curl -sf "$@" -D - -o /dev/null "$u" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: *//p'
}

# run_one IDX LEVEL PIPELINE ELEMENTS
run_one() {
	local idx=$1 level=$2 pipeline=$3 n=$4
	local d=$T/run$idx name port url hpid tpid i prev= cur rc mono=0
	name=$(basename "$pipeline" .json)
	mkdir -p "$d"
	echo "--- $level $name ($n elements per source)"

	bg "$HOST" run "$pipeline" --elements "$n" --wait-attach --summary "$d/summary.json"
	hpid=$BGPID
	port=$(pick_port $((19500 + idx * 10)))
	url=http://127.0.0.1:$port/metrics
	bg "$TRACE" attach --pid "$hpid" --level "$level" --listen "127.0.0.1:$port"
	tpid=$BGPID

	# live scrapes while the host runs: counters never go backwards. Before
	# the host's first metric flush the diagnostic series are labelled with
	# indices ("0", "1": docs/metrics.md) and get renamed once the names
	# arrive, so such a scrape is not a baseline.
	i=0
	while kill -0 "$hpid" 2>/dev/null; do
		cur=$d/live.$i.prom
		if curl -sf "$url" -o "$cur"; then
			if [ -n "$prev" ]; then
				$CHECK monotonic "$prev" "$cur" >"$d/mono.out" ||
					{ cat "$d/mono.out"; fail "$level $name: a counter decreased between live scrapes"; }
				mono=$((mono + 1))
			fi
			if ! grep -qE '(flow_id|component_id|stream_id|from_component|to_component)="[0-9]+"' "$cur"; then
				# keep the first and the latest live scrape
				[ -z "$prev" ] || [ "$prev" = "$d/live.0.prom" ] || rm -f "$prev"
				prev=$cur
			elif [ "$i" -gt 0 ]; then
				rm -f "$cur"
			fi
			i=$((i + 1))
		fi
		kill -0 "$tpid" 2>/dev/null || fail "$level $name: torvyn-trace exited while the host runs"
		sleep 0.05
	done
	rc=0
	wait_exit "$hpid" 60 || rc=$?
	assert_eq "$level $name: torvyn-host exit status" 0 "$rc"
	echo "live scrapes: $i, $mono compared with an earlier one"

	wait_for "$level $name: torvyn_trace_target_up 0" 10 scraped_final "$url" "$d/final.prom"
	if [ -n "$prev" ]; then
		$CHECK monotonic "$prev" "$d/final.prom" ||
			fail "$level $name: a counter of the final scrape is below a live one"
	fi

	# the host's ground truth, series by series
	local diag=()
	[ "$level" = diagnostic ] && diag=(--diagnostic)
	$CHECK "$d/summary.json" "$d/final.prom" "${diag[@]}" ||
		soft_fail "$level $name: the scrape differs from the host's summary"

	# Prometheus text 0.0.4 by default
	local ctype
	ctype=$(content_type "$url")
	case $ctype in
	"text/plain; version=0.0.4"*) ok "$level $name: default Content-Type: $ctype" ;;
	*) fail "$level $name: default Content-Type: '$ctype'" ;;
	esac

	# the same samples in OpenMetrics, which ends with # EOF
	ctype=$(content_type "$url" -H "$OM_ACCEPT")
	case $ctype in
	application/openmetrics-text*) ok "$level $name: OpenMetrics Content-Type: $ctype" ;;
	*) fail "$level $name: Content-Type for an OpenMetrics Accept: '$ctype'" ;;
	esac
	curl -sf -H "$OM_ACCEPT" "$url" -o "$d/final.om" || fail "$level $name: OpenMetrics scrape failed"
	assert_eq "$level $name: last line of the OpenMetrics body" "# EOF" "$(tail -n 1 "$d/final.om")"
	[ "$(tail -c 1 "$d/final.om" | od -An -c | tr -d ' ')" = '\n' ] ||
		fail "$level $name: the OpenMetrics body does not end with a newline after # EOF"
	$CHECK "$d/summary.json" "$d/final.om" "${diag[@]}" >/dev/null ||
		soft_fail "$level $name: the OpenMetrics scrape differs from the host's summary"

	# every saved scrape is valid Prometheus text: promtool prints nothing
	local f
	for f in "$d"/live.*.prom "$d/final.prom"; do
		[ -e "$f" ] || continue
		promtool_clean "$f"
	done
	ok "$level $name: promtool check metrics is silent on $(ls "$d"/*.prom | wc -l) scrape(s)"

	# known truths of each pipeline, in the summary and in the scrape
	local s=$d/summary.json m=$d/final.prom c
	case $name in
	three-stage)
		for c in source processor sink; do
			assert_eq "$level summary invocations of $c" 20000 \
				"$(jq_get "$s" ".flows[0].components[] | select(.id == \"$c\") | .invocations")"
			assert_eq "$level scrape invocations of $c" 20000 \
				"$(sample "$m" "torvyn_component_invocations_total{flow_id=\"three-stage\",component_id=\"$c\"}")"
		done
		assert_eq "$level scrape flow errors" 0 \
			"$(sample "$m" 'torvyn_flow_errors_total{flow_id="three-stage"}')"
		;;
	faults)
		assert_eq "$level summary processor errors by kind" '{"internal":2,"invalid-input":1}' \
			"$(jq -c '.flows[] | select(.id == "three-stage") | .components[] | select(.id == "processor") | .errors_by_kind' "$s")"
		assert_eq "$level scrape processor errors" 3 \
			"$(sample "$m" 'torvyn_component_errors_total{flow_id="three-stage",component_id="processor"}')"
		assert_eq "$level scrape flow three-stage errors" 3 \
			"$(sample "$m" 'torvyn_flow_errors_total{flow_id="three-stage"}')"
		assert_eq "$level scrape filter errors" 1 \
			"$(sample "$m" 'torvyn_component_errors_total{flow_id="filtered",component_id="match"}')"
		assert_eq "$level scrape flow filtered errors" 1 \
			"$(sample "$m" 'torvyn_flow_errors_total{flow_id="filtered"}')"
		assert_eq "$level scrape sink invocations (3 elements ended by errors)" 19997 \
			"$(sample "$m" 'torvyn_component_invocations_total{flow_id="three-stage",component_id="sink"}')"
		assert_eq "$level scrape flow three-stage elements" 20000 \
			"$(sample "$m" 'torvyn_flow_elements_total{flow_id="three-stage"}')"
		assert_eq "$level scrape flow filtered elements" 20000 \
			"$(sample "$m" 'torvyn_flow_elements_total{flow_id="filtered"}')"
		if [ "$level" = diagnostic ]; then
			assert_eq "$level BPF-counted processor errors" 3 \
				"$(sample "$m" 'torvyn_diagnostic_invocation_errors_total{flow_id="three-stage",component_id="processor"}')"
			assert_eq "$level BPF-counted filter errors" 1 \
				"$(sample "$m" 'torvyn_diagnostic_invocation_errors_total{flow_id="filtered",component_id="match"}')"
		fi
		;;
	multi-flow)
		# every element ends exactly once (sink, filter, error or a queue's
		# drop policy), so each flow counts exactly what its source emitted
		for c in ingest fanout sampled; do
			assert_eq "$level scrape flow $c elements" 2000 \
				"$(sample "$m" "torvyn_flow_elements_total{flow_id=\"$c\"}")"
		done
		for c in left right; do
			assert_eq "$level scrape fanout $c invocations (round robin)" 1000 \
				"$(sample "$m" "torvyn_component_invocations_total{flow_id=\"fanout\",component_id=\"$c\"}")"
		done
		# "sampled" queues are drop-oldest (capacity 32): on a loaded machine
		# they may drop, else the collector gets every 10th of 2000
		local drops got
		drops=$(jq '[.flows[] | select(.id == "sampled") | .streams[].elements_dropped] | add' "$s")
		got=$(sample "$m" 'torvyn_component_invocations_total{flow_id="sampled",component_id="collector"}')
		if [ "$drops" -eq 0 ]; then
			assert_eq "$level scrape sampled collector invocations (every 10th of 2000)" 200 "$got"
		else
			[ "$got" -le 200 ] || fail "$level sampled collector invocations: $got > 200"
			ok "$level sampled collector invocations: $got ($drops elements dropped by drop-oldest)"
		fi
		;;
	esac

	# SIGINT stops the tracer cleanly
	kill -INT "$tpid"
	rc=0
	wait_exit "$tpid" 5 || rc=$?
	assert_eq "$level $name: torvyn-trace exit status after SIGINT" 0 "$rc"
}

idx=0
for level in production diagnostic; do
	for spec in "$PIPELINES/three-stage.json 20000" \
		"$ROOT/tests/integration/pipelines/faults.json 20000" \
		"$PIPELINES/multi-flow.json 2000"; do
		set -- $spec
		run_one $idx "$level" "$1" "$2"
		idx=$((idx + 1))
	done
done

[ ${#FAILED[@]} -eq 0 ] || fail "${#FAILED[@]} check(s) failed: $(printf '\n  %s' "${FAILED[@]}")"
