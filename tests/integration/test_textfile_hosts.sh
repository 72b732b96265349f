#!/usr/bin/env bash
# Textfiles on a node with two traced hosts, and what happens after:
# 1. two hosts, each with its own attach writing to one directory: every
#    series carries the host's pid, exe and service, so node_exporter serves
#    both hosts' exact counts with no scrape error (before, the second file's
#    series collided with the first's and only one host was served);
# 2. --listen 127.0.0.1:0: the tracer says the port the kernel chose;
# 3. a host gone for --textfile-ttl: its file is removed, so no dead PID is
#    served forever;
# 4. a directory that goes away: each failed write is counted in
#    torvyn_trace_textfile_write_failures_total and logged once a minute.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
[ -x /usr/bin/prometheus-node-exporter ] ||
	skip "/usr/bin/prometheus-node-exporter is missing (Debian package prometheus-node-exporter)"

DIR=$T/textfile
mkdir -p "$DIR"
nport=$(pick_port 19720)
NE=http://127.0.0.1:$nport/metrics
bg /usr/bin/prometheus-node-exporter --collector.disable-defaults --collector.textfile \
	--collector.textfile.directory="$DIR" --web.listen-address="127.0.0.1:$nport" --log.level=warn
wait_for "node_exporter to serve on port $nport" 20 curl -sf "$NE"

declare -A hp tp
for n in 3000 4000; do
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements $n --wait-attach --summary "$T/$n.json"
	hp[$n]=$BGPID
	bg "$TRACE" attach --pid "${hp[$n]}" --listen 127.0.0.1:0 --textfile-dir "$DIR" --interval 0.5 \
		--textfile-ttl 3s 2>"$T/trace.$n.log"
	tp[$n]=$BGPID
done
for n in 3000 4000; do
	wait_exit "${hp[$n]}" 30 || fail "host $n exited with $?"
done

# 2. the port the kernel chose, as the tracer says it
port=$(sed -n 's|.*serving http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$T/trace.3000.log")
[ -n "$port" ] && [ "$port" != 0 ] || fail "the tracer did not say its port: $(cat "$T/trace.3000.log")"
curl -sf "http://127.0.0.1:$port/metrics" -o "$T/own.prom" || fail "nothing serves on the port the tracer said ($port)"
ok "--listen 127.0.0.1:0 bound port $port, and said so"

# 1. node_exporter serves both hosts
both() {
	curl -sf "$NE" -o "$T/ne.prom" &&
		[ "$(grep -cE '^torvyn_trace_target_up\{.*\} 0$' "$T/ne.prom")" -eq 2 ]
}
wait_for "node_exporter to serve both hosts' final textfiles" 10 both
assert_eq "node_textfile_scrape_error" 0 "$(awk '$1 == "node_textfile_scrape_error" {print $2}' "$T/ne.prom")"
for n in 3000 4000; do
	python3 tests/integration/prom_check.py check "$T/$n.json" "$T/ne.prom" --pid "${hp[$n]}" >"$T/check.$n" ||
		{ cat "$T/check.$n"; fail "host $n: node_exporter's series differ from its summary"; }
	ok "host $n: node_exporter serves its exact counts"
done

# 3. --textfile-ttl: the files go, the tracers still serve /metrics
gone() { [ -z "$(ls -A "$DIR")" ]; }
wait_for "both textfiles to be removed after --textfile-ttl 3s" 10 gone
curl -sf "http://127.0.0.1:$port/metrics" -o /dev/null || fail "the tracer stopped serving /metrics"
ok "both textfiles removed after the hosts were gone for 3 s"
for n in 3000 4000; do kill -INT "${tp[$n]}"; done

# 4. a directory that goes away
DIR2=$T/gone
mkdir -p "$DIR2"
bg "$HOST" run "$PIPELINES/three-stage.json" --duration 20 --wait-attach
h=$BGPID
p2=$(pick_port 19730)
bg "$TRACE" attach --pid "$h" --listen "127.0.0.1:$p2" --textfile-dir "$DIR2" --interval 0.2 2>"$T/trace.gone.log"
wait_for "the first textfile" 10 sh -c "ls '$DIR2'/torvyn-$h.prom"
rm -rf "$DIR2"
failures() { tests/integration/scrape.sh "127.0.0.1:$p2/metrics" >"$T/f.prom" && sed -n 's/^torvyn_trace_textfile_write_failures_total //p' "$T/f.prom"; }
five() { [ "$(failures)" -ge 5 ]; }
wait_for "5 failed writes counted" 10 five
assert_eq "failed-write lines logged (once a minute)" 1 "$(grep -c 'failed writes so far' "$T/trace.gone.log")"
grep -q "No such file or directory" "$T/trace.gone.log" || fail "the log does not say why: $(cat "$T/trace.gone.log")"
ok "$(failures) failed writes counted, one line logged"
