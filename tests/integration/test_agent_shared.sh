#!/usr/bin/env bash
# torvyn-trace agent finds a runtime embedded as a shared object: the
# executable of build/integ/probe_host_embedded has no torvyn probe, the
# library it links (libprobehost.so) has them. The agent, started first,
# with its /proc rescan at 30 s so that only the exec watcher can find them:
# - finds such a host started after it within a few seconds, and its counts
#   in the agent's /metrics are exactly the host's (1000 elements, 100
#   errors);
# - finds one held stopped at its exec for 1 s (the exec event then comes
#   while only the dynamic loader is mapped, as the test shows), by the
#   re-check of just-exec'd processes, not by the rescan;
# - probes --pid lists the library's probes, with the semaphores the agent
#   raised there.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd jq
need_cmd python3
I=$ROOT/build/integ
for b in probe_host_embedded libprobehost.so; do
	[ -e "$I/$b" ] || fail "build/integ/$b is missing: make unit builds it"
done

# a copy named for this test, which the agent is told to --match: it
# touches no other process; the library sits beside it ($ORIGIN)
name=probe-host-embedded-$$
mkdir -p "$T/bin"
cp "$I/probe_host_embedded" "$T/bin/$name"
cp "$I/libprobehost.so" "$T/bin/"
readelf -n --wide "$T/bin/$name" >"$T/notes"
grep -q 'Provider: torvyn' "$T/notes" && fail "$name carries torvyn probes: the test would prove nothing"

port=$(pick_port 19700)
url=http://127.0.0.1:$port/metrics
bg "$TRACE" agent --listen "127.0.0.1:$port" --match "*/$name" --rescan 30 2>"$T/agent.err"
agent=$BGPID
wait_for "the agent to serve /metrics" 10 curl -sf "$url" -o "$T/first.prom"

scrape() { curl -sf "$url" -o "$1"; }
has_series() { scrape "$T/has.prom" && grep -q "^torvyn_trace_target_up{pid=\"$1\",.*} 1$" "$T/has.prom"; }
# series FILE METRIC PID: the value of the probe-flow series of PID
series() { sed -n "s/^$2{pid=\"$3\",.*flow_id=\"probe-flow\"} //p" "$1"; }
ms_now() { date +%s%3N; }

# exact N PID OUT: the agent's series of host PID equal what it ran
exact() {
	wait_for "host $2's last flush" 20 grep -qx done "$3"
	sleep 0.3 # the ring buffer is read every 50 ms
	scrape "$T/$2.prom"
	assert_eq "host $2: elements" "$1" "$(series "$T/$2.prom" torvyn_flow_elements_total "$2")"
	assert_eq "host $2: errors" "$(($1 / 10))" "$(series "$T/$2.prom" torvyn_flow_errors_total "$2")"
}

# 1. started after the agent
t0=$(ms_now)
bg "$T/bin/$name" 1000 5 >"$T/a.out"
a=$BGPID
wait_for "the agent to attach to the embedded runtime (pid $a)" 5 has_series "$a"
echo "exec to first series: $(($(ms_now) - t0)) ms"
exact 1000 "$a" "$T/a.out"
grep -q "torvyn probes in .*/libprobehost.so" "$T/agent.err" ||
	fail "the agent does not say where the probes are: $(cat "$T/agent.err")"

# probes --pid: the library's probes, named with their file; the agent's semaphores
"$TRACE" probes --pid "$a" -j >"$T/probes.json" || fail "probes --pid $a failed"
assert_eq "files with probes" "$T/bin/libprobehost.so" "$(jq -r '.files[].path' "$T/probes.json" | xargs)"
assert_eq "probes of the library" "abi__version gate__production metrics__flush" \
	"$(jq -r '.probes[] | select(.file | endswith("/libprobehost.so")) | .name' "$T/probes.json" | sort | xargs)"
assert_eq "gate__production's semaphore in the library, under the agent" 1 \
	"$(jq -r '.probes[] | select(.name == "gate__production") | .semaphore' "$T/probes.json")"
"$TRACE" probes --pid "$a" >"$T/probes.txt" || fail "probes --pid $a (table) failed"
grep -q "libprobehost.so" "$T/probes.txt" || fail "the table does not name the library: $(cat "$T/probes.txt")"

# 2. held at its exec: the exec event comes before the library is mapped
bg python3 tests/integration/exec_held.py "$T/b.pid" "$T/b.maps" 1 "$T/bin/$name" 2000 5 >"$T/b.out"
wait_for "the held host's pid" 5 test -s "$T/b.pid"
b=$(cat "$T/b.pid")
PIDS+=("$b")
grep -q libprobehost.so "$T/b.maps" && fail "libprobehost.so is mapped at the exec: the case proves nothing"
wait_for "the agent to attach to the held host (pid $b) by a re-check" 8 has_series "$b"
exact 2000 "$b" "$T/b.out"
ok "held at its exec for 1 s, found by a re-check (the rescan is at 30 s)"
kill "$a" "$b"
