#!/usr/bin/env bash
# A real Prometheus (the Debian package) scrapes torvyn-trace every second.
# Prometheus asks for OpenMetrics by default, so this is also the proof that
# the OpenMetrics rendering is accepted. The target must be reported up with no
# scrape error, torvyn_component_invocations_total must reach the host's 20000
# invocations on each of the 3 components of three-stage, and the stateset
# torvyn_flow_state must show the flow Completed.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq
[ -x /usr/bin/prometheus ] || skip "/usr/bin/prometheus is missing (Debian package prometheus; make deps installs it)"

N=20000

tport=$(pick_port 19600)
pport=$(pick_port $((tport + 1)))
PROM=http://127.0.0.1:$pport

cat >"$T/prom.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: torvyn
    static_configs:
      - targets: ['127.0.0.1:$tport']
EOF

bg /usr/bin/prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$pport" --log.level=warn
ppid=$BGPID
wait_for "Prometheus to be ready on port $pport" 30 curl -sf "$PROM/-/ready"

bg "$HOST" run "$PIPELINES/three-stage.json" --elements $N --wait-attach --summary "$T/summary.json"
hpid=$BGPID
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$tport"
tpid=$BGPID

rc=0
wait_exit "$hpid" 60 || rc=$?
assert_eq "torvyn-host exit status" 0 "$rc"
for c in 0 1 2; do
	assert_eq "host summary invocations of component $c" $N \
		"$(jq_get "$T/summary.json" ".flows[0].components[$c].invocations")"
done

target_up() {
	curl -sf "$PROM/api/v1/targets" >"$T/targets.json" &&
		[ "$(jq -r '[.data.activeTargets[] | select(.labels.job == "torvyn")] | .[0].health' "$T/targets.json")" = up ]
}
wait_for "Prometheus to report the tracer target up" 30 target_up
jq '.data.activeTargets[] | select(.labels.job == "torvyn") | {scrapeUrl, health, lastError, lastScrapeDuration}' "$T/targets.json"
assert_eq "last scrape error of the target" "" \
	"$(jq -r '.data.activeTargets[] | select(.labels.job == "torvyn") | .lastError' "$T/targets.json")"

# query QUERY: the API's answer in $T/query.json
query() { curl -sf -G "$PROM/api/v1/query" --data-urlencode "query=$1" -o "$T/query.json"; }
invocations_reached() {
	query torvyn_component_invocations_total &&
		[ "$(jq '.data.result | length' "$T/query.json")" -eq 3 ] &&
		[ "$(jq -r '[.data.result[].value[1]] | unique | join(",")' "$T/query.json")" = "$N" ]
}
wait_for "Prometheus to hold 3 series of torvyn_component_invocations_total at $N" 30 invocations_reached
jq -c '.data.result[] | {c: .metric.component_id, v: .value[1]}' "$T/query.json"
assert_eq "components with a series" "processor,sink,source" \
	"$(jq -r '[.data.result[].metric.component_id] | sort | join(",")' "$T/query.json")"
ok "every series of torvyn_component_invocations_total is $N"

# the OpenMetrics stateset: the label is named after the family
completed() {
	query 'torvyn_flow_state{flow_id="three-stage",torvyn_flow_state="Completed"}' &&
		[ "$(jq -r '.data.result[0].value[1]' "$T/query.json")" = 1 ]
}
wait_for "torvyn_flow_state to show three-stage Completed" 10 completed
ok "torvyn_flow_state{torvyn_flow_state=\"Completed\"} = 1"

query 'up{job="torvyn"}'
assert_eq "up{job=\"torvyn\"}" 1 "$(jq -r '.data.result[0].value[1]' "$T/query.json")"

kill -INT "$tpid"
rc=0
wait_exit "$tpid" 5 || rc=$?
assert_eq "torvyn-trace exit status after SIGINT" 0 "$rc"
kill -0 "$ppid" || fail "Prometheus died during the test"
