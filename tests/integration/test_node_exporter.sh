#!/usr/bin/env bash
# torvyn-trace --textfile-dir feeds node_exporter's textfile collector: after
# the host ran three-stage (20000 elements) and the tracer wrote its final
# textfile (torvyn_trace_target_up 0), node_exporter serves the 3 series of
# torvyn_component_invocations_total at 20000 with node_textfile_scrape_error
# 0, the values equal the host's summary (prom_check.py), and the only *.prom
# file in the directory is torvyn-PID.prom: the temporary file is never
# visible under a name the collector reads.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq
[ -x /usr/bin/prometheus-node-exporter ] ||
	skip "/usr/bin/prometheus-node-exporter is missing (Debian package prometheus-node-exporter)"

N=20000
DIR=$T/textfile
mkdir -p "$DIR"

tport=$(pick_port 19700)
nport=$(pick_port $((tport + 1)))
NE=http://127.0.0.1:$nport/metrics

bg /usr/bin/prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$DIR" --web.listen-address="127.0.0.1:$nport" --log.level=warn
nepid=$BGPID
wait_for "node_exporter to serve on port $nport" 20 curl -sf "$NE"

bg "$HOST" run "$PIPELINES/three-stage.json" --elements $N --wait-attach --summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$tport" --textfile-dir "$DIR" --interval 1
tpid=$BGPID
PROMFILE=$DIR/torvyn-$hpid.prom

rc=0
wait_exit "$hpid" 60 || rc=$?
assert_eq "torvyn-host exit status" 0 "$rc"

# the final textfile is the one written after the host exited; every series
# carries the host's labels, so two hosts' files never clash in node_exporter
UP0="torvyn_trace_target_up{pid=\"$hpid\",exe=\"torvyn-host\",service=\"torvyn-host\"} 0"
wait_for "the final textfile (torvyn_trace_target_up 0) in $PROMFILE" 10 \
	grep -qxF "$UP0" "$PROMFILE"
final_scraped() {
	# node_exporter sorts the labels: match the host's pid, not their order
	curl -sf "$NE" -o "$T/ne.prom" &&
		grep -qE "^torvyn_trace_target_up\{.*pid=\"$hpid\".*\} 0$" "$T/ne.prom"
}
wait_for "node_exporter to serve the final textfile" 10 final_scraped

grep -E '^(torvyn_component_invocations_total|node_textfile_)' "$T/ne.prom"
assert_eq "node_textfile_scrape_error" 0 "$(awk '$1 == "node_textfile_scrape_error" {print $2}' "$T/ne.prom")"
inv=$(grep '^torvyn_component_invocations_total{' "$T/ne.prom" || true)
assert_eq "series of torvyn_component_invocations_total" 3 "$(echo "$inv" | grep -c . || true)"
assert_eq "their values" "$N" "$(echo "$inv" | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
for c in source processor sink; do
	echo "$inv" | grep -q "component_id=\"$c\"" || fail "no series for component $c"
done
ok "torvyn_component_invocations_total is $N for source, processor and sink"

# through node_exporter, still exactly the host's ground truth
python3 tests/integration/prom_check.py "$T/summary.json" "$T/ne.prom" --pid "$hpid" ||
	fail "node_exporter's exposition differs from the host's summary"

# the collector saw one file, and the only *.prom is the final one
assert_eq "files node_exporter read" "$PROMFILE" \
	"$(sed -n 's/^node_textfile_mtime_seconds{file="\([^"]*\)"}.*/\1/p' "$T/ne.prom" | tr '\n' ' ' | sed 's/ $//')"
assert_eq "*.prom files in the textfile directory" "$(basename "$PROMFILE")" \
	"$(cd "$DIR" && ls -1 -- *.prom | tr '\n' ' ' | sed 's/ $//')"
ls -la "$DIR"

kill -INT "$tpid"
rc=0
wait_exit "$tpid" 5 || rc=$?
assert_eq "torvyn-trace exit status after SIGINT" 0 "$rc"
# a clean stop removes the file: node_exporter would serve a dead PID forever
assert_eq "files left in the textfile directory after the tracer stopped" "" "$(ls -A "$DIR")"
kill -0 "$nepid" || fail "node_exporter died during the test"
