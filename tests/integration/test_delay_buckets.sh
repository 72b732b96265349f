#!/usr/bin/env bash
# Ground truth for the processing-time histograms of Level 1 (docs/metrics.md,
# "Processing time"): an invocation starts where its component's previous
# step ended, unless the thread waited in between. A delay fault of known
# length must land in its own bucket of the traced histogram, and nowhere
# else: not in the neighbours that waited for it (the source blocked by a
# full queue, the sink by an empty one), whose next invocations start after
# their waits. Each histogram still counts every invocation, and its sum
# holds the delays in seconds.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq

N=2000
PIPE=$ROOT/tests/integration/pipelines/delays.json

bg "$HOST" run "$PIPE" --elements "$N" --wait-attach --summary "$T/summary.json"
hpid=$BGPID
port=$(pick_port 19700)
url=http://127.0.0.1:$port/metrics
bg "$TRACE" attach --pid "$hpid" --level production --listen "127.0.0.1:$port"
tpid=$BGPID
rc=0
wait_exit "$hpid" 60 || rc=$?
assert_eq "torvyn-host exit status" 0 "$rc"
wait_for "torvyn_trace_target_up 0" 10 scraped_final "$url" "$T/final.prom"
kill -INT "$tpid"

m=$T/final.prom
# above C LE: invocations of component C that took more than LE seconds
above() {
	local h="torvyn_component_processing_time_seconds_bucket{flow_id=\"delays\",component_id=\"$1\""
	echo $(($(sample "$m" "$h,le=\"+Inf\"}") - $(sample "$m" "$h,le=\"$2\"}")))
}
# within C LO HI: invocations of component C in the bucket (LO, HI] seconds
within() {
	local h="torvyn_component_processing_time_seconds_bucket{flow_id=\"delays\",component_id=\"$1\""
	echo $(($(sample "$m" "$h,le=\"$3\"}") - $(sample "$m" "$h,le=\"$2\"}")))
}

for c in source processor sink; do
	assert_eq "$c: _count equals its invocations" "$N" \
		"$(sample "$m" "torvyn_component_processing_time_seconds_count{flow_id=\"delays\",component_id=\"$c\"}")"
done
# Each delay in its bucket. A nap is at least as long as asked and, on a
# loaded machine, the scheduler can wake it late: one bucket above is the
# slack allowed (the next bounds are 2x to 2.5x further), never one below.
buckets() { unhost <"$m" | grep "processing_time_seconds_bucket{flow_id=\"delays\",component_id=\"$1\"" | tr '\n' ' '; }
in_bucket() { # NAME C LO HI NEXT: one invocation in (LO, HI], or in (HI, NEXT] if woken late
	local n1 n2
	n1=$(within "$2" "$3" "$4") n2=$(within "$2" "$4" "$5")
	[ "$n1" -eq 1 ] && { ok "$1 in its bucket"; return; }
	[ "$n1" -eq 0 ] && [ "$n2" -eq 1 ] && { ok "$1 one bucket up (woken late under load)"; return; }
	fail "$1: expected 1 invocation in ($3 s, $4 s] (or ($4 s, $5 s]), got $n1 and $n2: $(buckets "$2")"
}
in_bucket "source: the 40 ms delay" source 0.025 0.05 0.1
in_bucket "processor: the 30 ms delay" processor 0.025 0.05 0.1
in_bucket "processor: the 120 ms delay" processor 0.1 0.25 0.5
in_bucket "sink: the 60 ms delay" sink 0.05 0.1 0.25
# and nothing else that long: the waits around them are not invocations
assert_eq "source: invocations over 25 ms (its waits on the full queue excluded)" 1 \
	"$(above source 0.025)"
assert_eq "processor: invocations over 25 ms (its waits on either side excluded)" 2 \
	"$(above processor 0.025)"
assert_eq "sink: invocations over 25 ms (its waits on the empty queue excluded)" 1 \
	"$(above sink 0.025)"
# the sums hold the delays, in seconds (ticks converted at the flush)
sum=$(sample "$m" 'torvyn_component_processing_time_seconds_sum{flow_id="delays",component_id="processor"}')
awk -v s="$sum" 'BEGIN { exit !(s >= 0.150 && s < 0.150 + 0.1) }' ||
	fail "processor: processing time sum $sum s, want 0.150 s and the rest of 2000 short steps"
ok "processor: processing time sum $sum s"
# the host's own summary agrees
assert_eq "summary: processor processing-time count" "$N" \
	"$(jq_get "$T/summary.json" '.flows[0].components[] | select(.id == "processor") | .processing_time.count')"
