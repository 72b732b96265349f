#!/usr/bin/env bash
# torvyn-trace agent: every host on the node from one process.
# - 3 hosts start before the agent, 2 after it (one of them in another mount
#   namespace, from a path only that namespace has); each runs a different
#   number of elements with --wait-attach, so it moves only once attached;
# - the agent finds them all (scan, then exec watcher) and the final scrape,
#   host by host (its pid label), equals each host's --summary exactly;
# - `level --pid` switches one host through the agent's control socket;
# - a SIGKILLed host shows torvyn_trace_target_up 0, then its series go
#   after --ttl; the agent's own families count what happened;
# - promtool check metrics is clean; a real Prometheus scrapes the agent.
# The hosts run a copy of torvyn-host named for this test, and the agent is
# told --match it: it touches no other process on the node.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq
need_cmd unshare
need_cmd promtool

CHECK="python3 $ROOT/tests/integration/prom_check.py"
name=torvyn-host-agenttest-$$
mkdir -p "$T/bin" "$T/out"
cp "$HOST" "$T/bin/$name"
port=$(pick_port 19700)
url=http://127.0.0.1:$port/metrics

# start_host N: a --wait-attach host of N elements; its pid in BGPID
start_host() {
	bg "$T/bin/$name" run "$PIPELINES/three-stage.json" --elements "$1" --wait-attach \
		--summary "$T/out/$1.json"
}
# scrape FILE: the agent's /metrics into FILE (never `curl | grep -q`: under
# pipefail grep's early exit fails curl, and the pipeline with it)
scrape() { curl -sf "$url" -o "$1"; }
has_series() { scrape "$T/has.prom" && grep -q "^torvyn_trace_target_up{pid=\"$1\"" "$T/has.prom"; }
# ms_now: milliseconds, for the exec-to-series figure
ms_now() { date +%s%3N; }

declare -A pid_of
for n in 3000 4000 5000; do
	start_host $n
	pid_of[$n]=$BGPID
done
bg "$TRACE" agent --listen "127.0.0.1:$port" --match "*/$name" --ttl 4s --rescan 30 -q
agent=$BGPID
for n in 3000 4000 5000; do
	wait_for "the agent to attach to host $n (found by the /proc scan)" 20 has_series "${pid_of[$n]}"
done
ok "3 hosts started before the agent are attached"

# after the agent: one here, one in another mount namespace; both found by the exec watcher
t0=$(ms_now)
start_host 6000
pid_of[6000]=$BGPID
wait_for "the agent to attach to host 6000 (exec watcher)" 10 has_series "${pid_of[6000]}"
echo "exec to first series: $(($(ms_now) - t0)) ms (host 6000)"
t0=$(ms_now)
bg unshare --mount --propagation private sh -c "
	mount -t tmpfs torvyn-ns /mnt || exit 90
	mkdir -p /mnt/opt && cp '$T/bin/$name' /mnt/opt/$name || exit 91
	exec /mnt/opt/$name run '$PIPELINES/three-stage.json' --elements 7000 --wait-attach \
		--summary '$T/out/7000.json'"
pid_of[7000]=$BGPID
# the shell can only exec /mnt/opt/$name, a path only its namespace has (it
# runs and exits within milliseconds of being attached: its series stay)
[ -e "/mnt/opt/$name" ] && skip "/mnt/opt/$name exists outside the namespace: the test would prove nothing"
wait_for "the agent to attach to the host in another mount namespace" 10 has_series "${pid_of[7000]}"
echo "exec to first series: $(($(ms_now) - t0)) ms (host 7000, other mount namespace)"

for n in 3000 4000 5000 6000 7000; do
	wait_exit "${pid_of[$n]}" 60 || fail "host $n exited with $?"
done
final_down() {
	curl -sf "$url" -o "$T/final.prom" &&
		[ "$(grep -c '^torvyn_trace_target_up{.*} 0$' "$T/final.prom")" -eq 5 ]
}
wait_for "all 5 hosts marked down" 10 final_down
# top reads the agent: every host, with its exact counts
"$TRACE" top --agent "127.0.0.1:$port" -j >"$T/top.json" || fail "top --agent -j exited with $?"
for n in 3000 4000 5000 6000 7000; do
	assert_eq "top --agent: host $n's elements" $n \
		"$(jq --argjson p "${pid_of[$n]}" '.targets[] | select(.pid == $p) | .flows[0].elements' "$T/top.json")"
done
for n in 3000 4000 5000 6000 7000; do
	p=${pid_of[$n]}
	$CHECK check "$T/out/$n.json" "$T/final.prom" --pid "$p" >"$T/check.$n" ||
		{ cat "$T/check.$n"; fail "host $n (pid $p): the agent's series differ from its summary"; }
	assert_eq "host $n (pid $p) elements" $n \
		"$(sed -n "s/^torvyn_flow_elements_total{pid=\"$p\",exe=\"[^\"]*\",service=\"$name\",flow_id=\"three-stage\"} //p" "$T/final.prom")"
done
exe7=$(sed -n "s/^torvyn_trace_target_up{pid=\"${pid_of[7000]}\",exe=\"\([^\"]*\)\".*/\1/p" "$T/final.prom")
assert_eq "exe label of the namespaced host" "$name" "$exe7"
out=$(promtool check metrics <"$T/final.prom" 2>&1) || fail "promtool check metrics: $out"
[ -z "$out" ] || fail "promtool check metrics: $out"
ok "promtool check metrics: clean"

# level through the agent, then a host killed
bg "$T/bin/$name" run "$PIPELINES/three-stage.json" --duration 60 --wait-attach
long=$BGPID
wait_for "the agent to attach to the long host" 10 has_series "$long"
"$TRACE" level --pid "$long" diagnostic >"$T/level.out" || fail "level diagnostic via the agent: $(cat "$T/level.out")"
wait_for "the diagnostic gate to rise" 10 sh -c "tests/integration/semaphores.py $long | grep -q '^gate__diagnostic [1-9]'"
"$TRACE" level --pid "$long" production >/dev/null || fail "level production via the agent"
wait_for "the diagnostic gate to fall" 10 sh -c "tests/integration/semaphores.py $long | grep -q '^gate__diagnostic 0'"
ok "level --pid switched the host through the agent"
kill -9 "$long"
wait "$long" 2>/dev/null || true
down() { scrape "$T/down.prom" && grep -q "^torvyn_trace_target_up{pid=\"$long\".*} 0$" "$T/down.prom"; }
wait_for "the killed host to show target_up 0" 10 down
gone() { scrape "$T/gone.prom" && ! grep -q "pid=\"$long\"" "$T/gone.prom"; }
wait_for "the killed host's series to go after --ttl 4s" 15 gone
curl -sf "$url" -o "$T/after.prom"
assert_eq "hosts attached in all" 6 "$(sed -n 's/^torvyn_agent_hosts_attached_total //p' "$T/after.prom")"
assert_eq "hosts expired" 6 "$(sed -n 's/^torvyn_agent_hosts_expired_total //p' "$T/after.prom")"
assert_eq "hosts kept" "0 0" "$(sed -n 's/^torvyn_agent_hosts{state="\(up\|down\)"} //p' "$T/after.prom" | xargs)"

# a real Prometheus scrapes the agent (OpenMetrics by default)
if [ -x /usr/bin/prometheus ]; then
	bg "$T/bin/$name" run "$PIPELINES/three-stage.json" --duration 30 --wait-attach
	hp=$BGPID
	wait_for "the agent to attach to a running host" 10 has_series "$hp"
	pport=$(pick_port $((port + 1)))
	printf 'global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: agent\n    static_configs:\n      - targets: ["127.0.0.1:%s"]\n' \
		"$port" >"$T/prom.yml"
	bg /usr/bin/prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/tsdb" \
		--web.listen-address="127.0.0.1:$pport" --log.level=warn
	up() {
		curl -sf "http://127.0.0.1:$pport/api/v1/targets" >"$T/targets.json" &&
			[ "$(jq -r '.data.activeTargets[0].health' "$T/targets.json")" = up ]
	}
	wait_for "Prometheus to report the agent up" 30 up
	assert_eq "Prometheus scrape error" "" "$(jq -r '.data.activeTargets[0].lastError' "$T/targets.json")"
	held() {
		curl -sf -G "http://127.0.0.1:$pport/api/v1/query" \
			--data-urlencode "query=torvyn_trace_target_up{pid=\"$hp\"}" -o "$T/q.json" &&
			[ "$(jq -r '.data.result | length' "$T/q.json")" = 1 ]
	}
	wait_for "Prometheus to hold the host's series" 20 held
	ok "Prometheus scrapes the agent: host $hp's series are in its database"
	kill "$hp"
	wait "$hp" 2>/dev/null || true
else
	echo "note: /usr/bin/prometheus is missing: the Prometheus part was not run"
fi
kill -INT "$agent"
wait_exit "$agent" 10 || fail "the agent exited with $?"

# OTLP: one exporter, one Resource per host. Two hosts, every element sampled,
# service names from their environment; each Resource holds exactly its
# host's traces (one root span per element) and metrics come per host too.
echo "--- OTLP, one Resource per host"
port2=$(pick_port $((port + 5)))
bg "$TRACE" agent --listen "127.0.0.1:$port2" --match "*/$name" -q --sample-rate 1 \
	--otlp-file "$T/otlp.jsonl" --otlp-metrics-interval 1
agent2=$BGPID
url=http://127.0.0.1:$port2/metrics
OTEL_SERVICE_NAME=alpha bg "$T/bin/$name" run "$PIPELINES/three-stage.json" --elements 50 \
	--sample-rate 1.0 --wait-attach
pa=$BGPID
OTEL_SERVICE_NAME=beta bg "$T/bin/$name" run "$PIPELINES/three-stage.json" --elements 70 \
	--sample-rate 1.0 --wait-attach
pb=$BGPID
wait_exit "$pa" 30 || fail "host alpha exited with $?"
wait_exit "$pb" 30 || fail "host beta exited with $?"
sleep 1.5 # one more metrics push with both hosts' final values
kill -INT "$agent2"
wait_exit "$agent2" 10 || fail "the second agent exited with $?"
python3 - "$T/otlp.jsonl" "$pa" "$pb" <<'PY' || fail "OTLP per host: see above"
import collections, json, sys
path, pa, pb = sys.argv[1:]
roots, metric_res = collections.Counter(), collections.Counter()
def attrs(r):
    return {a["key"]: list(a["value"].values())[0] for a in r["resource"]["attributes"]}
for line in open(path):
    d = json.loads(line)
    for rs in d.get("resourceSpans", []):
        a = attrs(rs)
        roots[(a["service.name"], str(a["process.pid"]))] += sum(
            1 for ss in rs["scopeSpans"] for s in ss["spans"] if s["name"].startswith("flow:"))
    for rm in d.get("resourceMetrics", []):
        metric_res[attrs(rm)["service.name"]] += 1
want = {("alpha", pa): 50, ("beta", pb): 70}
assert dict(roots) == want, "traces per Resource: %r, expected %r" % (dict(roots), want)
assert metric_res["alpha"] >= 1 and metric_res["beta"] >= 1, "metrics per Resource: %r" % metric_res
print("ok: traces per Resource %r; metrics under each host's Resource" % dict(roots))
PY

# --exclude, --max-hosts and the node textfile: three hosts of three names;
# one excluded, one attached, the third over the cap of 1 (counted, not
# attached); DIR/torvyn.prom holds the attached host's series.
echo "--- --exclude, --max-hosts 1, --textfile-dir"
for x in keep skip over; do cp "$HOST" "$T/bin/$name-$x"; done
mkdir -p "$T/textfile"
port3=$(pick_port $((port + 9)))
url=http://127.0.0.1:$port3/metrics
bg "$TRACE" agent --listen "127.0.0.1:$port3" --match "*/$name-*" --exclude "*-skip" \
	--max-hosts 1 --textfile-dir "$T/textfile" --interval 0.2 -q
agent3=$BGPID
bg "$T/bin/$name-keep" run "$PIPELINES/three-stage.json" --elements 2500 --wait-attach
keep=$BGPID
wait_for "the agent to attach to the kept host" 10 has_series "$keep"
bg "$T/bin/$name-skip" run "$PIPELINES/three-stage.json" --duration 30 --wait-attach
skip=$BGPID
bg "$T/bin/$name-over" run "$PIPELINES/three-stage.json" --duration 30 --wait-attach
over=$BGPID
over_counted() { scrape "$T/cap.prom" && grep -q '^torvyn_agent_hosts_over_cap_total 1$' "$T/cap.prom"; }
wait_for "the host over --max-hosts to be counted" 10 over_counted
wait_exit "$keep" 30 || fail "the kept host exited with $?"
sleep 0.5
scrape "$T/cap.prom"
assert_eq "series of the excluded host" 0 "$(grep -c "pid=\"$skip\"" "$T/cap.prom" || true)"
assert_eq "series of the host over the cap" 0 "$(grep -c "pid=\"$over\"" "$T/cap.prom" || true)"
assert_eq "the excluded host's gate (never attached)" "gate__production 0" \
	"$(tests/integration/semaphores.py "$skip" | grep '^gate__production')"
assert_eq "hosts attached" 1 "$(sed -n 's/^torvyn_agent_hosts_attached_total //p' "$T/cap.prom")"
wait_for "the textfile to show the kept host down" 10 sh -c \
	"grep -q '^torvyn_trace_target_up{pid=\"$keep\".*} 0$' '$T/textfile/torvyn.prom'"
assert_eq "the kept host's elements in DIR/torvyn.prom" 2500 \
	"$(sed -n "s/^torvyn_flow_elements_total{pid=\"$keep\".*} //p" "$T/textfile/torvyn.prom")"
assert_eq "files in the textfile directory" "torvyn.prom" "$(ls "$T/textfile")"
kill "$skip" "$over"
kill -INT "$agent3"
wait_exit "$agent3" 10 || fail "the third agent exited with $?"
