#!/usr/bin/env bash
# Every bad input to torvyn-trace gets its documented exit code (README.md,
# "Exit codes") and a message naming the cause, and leaves the target
# unharmed: the process still runs and, when no session holds it, no probe
# semaphore is left raised.
#   4 no such PID            5 no torvyn probes (sleep, torvyn-host-noprobes)
#   6 probe ABI 99 (abi99.c) 7 --listen in use / a second session on a PID
#   2 --listen nonsense, `level ... bogus`, an unknown verb
#   11 --textfile-dir /nonexistent   9 `level` with no session
#   8 (or 4) attach as nobody
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd curl
need_cmd setpriv
need_cmd cc

# private copies of the hosts: semaphores.py finds a host's mappings by its
# executable's path, which a concurrent `make` would replace mid-test
mkdir -p "$T/bin"
cp "$HOST" "$ROOT/build/torvyn-host-noprobes" "$T/bin/"
HOST=$T/bin/torvyn-host
NOPROBES=$T/bin/torvyn-host-noprobes

# expect CODE REGEX DESC CMD...: CMD exits with CODE and prints a message
# matching REGEX (grep -Ei). A command that wrongly attaches is stopped after
# 10 s rather than served forever.
expect() {
	local code=$1 re=$2 desc=$3 rc=0
	shift 3
	timeout -s INT 10 "$@" >"$T/out" 2>&1 </dev/null || rc=$?
	echo "$desc: exit $rc: $(cat "$T/out")"
	[ "$rc" -ne 124 ] || fail "$desc: still running after 10 s (it should have been refused)"
	assert_eq "$desc: exit code" "$code" "$rc"
	grep -Eqi -- "$re" "$T/out" || fail "$desc: the message does not match /$re/: $(cat "$T/out")"
}

alive() { kill -0 "$1" 2>/dev/null || fail "$2 (pid $1) is gone after: $3"; }
# no semaphore of the host left raised: nothing stays attached
unharmed() {
	alive "$hpid" torvyn-host "$1"
	local up
	up=$(tests/integration/semaphores.py "$hpid" | awk '$2 != 0')
	assert_eq "semaphores raised after: $1" "" "$up"
}

# a slow host that waits for a tracer (a few CPU cycles once released)
cat >"$T/slow.json" <<'EOF'
{"flows": [{"id": "slow", "components": [
  {"id": "source", "role": "source", "kind": "generator", "rate": 200},
  {"id": "processor", "role": "processor", "kind": "transform"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
EOF
bg "$HOST" run "$T/slow.json" --wait-attach
hpid=$BGPID
wait_for "torvyn-host to map its executable" 5 tests/integration/semaphores.py "$hpid"
port=$(pick_port 19800)

# 4: no such process
expect 4 'no such process' "attach --pid 999999999" \
	"$TRACE" attach --pid 999999999 --listen "127.0.0.1:$port"

# 5: a process without torvyn probes
bg sleep 30
spid=$BGPID
expect 5 'no torvyn probes' "attach to sleep" "$TRACE" attach --pid "$spid" --listen "127.0.0.1:$port"
alive "$spid" sleep "attach to sleep"

bg "$NOPROBES" run "$PIPELINES/three-stage.json" --wait-attach
nppid=$BGPID
wait_for "torvyn-host-noprobes to start" 5 test -r "/proc/$nppid/exe"
expect 5 'no torvyn probes' "attach to torvyn-host-noprobes" \
	"$TRACE" attach --pid "$nppid" --listen "127.0.0.1:$port"
alive "$nppid" torvyn-host-noprobes "attach to torvyn-host-noprobes"

# 6: another probe ABI version; the message names both
cc -O2 -o "$T/abi99" tests/integration/abi99.c
bg "$T/abi99"
apid=$BGPID
wait_for "abi99 to start" 5 test -r "/proc/$apid/exe"
expect 6 'ABI' "attach to an ABI 99 process" "$TRACE" attach --pid "$apid" --listen "127.0.0.1:$port"
grep -Eq '(^|[^0-9])99([^0-9]|$)' "$T/out" || fail "the ABI message does not name version 99"
grep -Eq '(^|[^0-9.])1([^0-9.]|$)' "$T/out" || fail "the ABI message does not name version 1"
ok "the ABI message names 99 and 1"
alive "$apid" abi99 "attach to an ABI 99 process"

# 7: the --listen address is in use
bg python3 -m http.server --directory "$T" --bind 127.0.0.1 "$port"
wait_for "python3 -m http.server on port $port" 10 curl -sf -o /dev/null "http://127.0.0.1:$port/"
expect 7 'in use' "attach --listen on a port in use" \
	"$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port"
unharmed "attach --listen on a port in use"
port=$(pick_port $((port + 1)))

# 2: bad command lines
expect 2 'listen.*nonsense|nonsense.*listen' "attach --listen nonsense" \
	"$TRACE" attach --pid "$hpid" --listen nonsense
unharmed "attach --listen nonsense"
expect 2 'frobnicate' "unknown verb" "$TRACE" frobnicate --pid "$hpid"
unharmed "unknown verb"

# 11: bad exporter settings
expect 11 '/nonexistent' "attach --textfile-dir /nonexistent" \
	"$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" --textfile-dir /nonexistent
unharmed "attach --textfile-dir /nonexistent"

# 9: level with no session on that PID
expect 9 'no attach session' "level production with no session" \
	"$TRACE" level --pid "$hpid" production
unharmed "level production with no session"

# 8: not root (4 when nobody cannot even see the process)
expect_nobody() {
	local rc=0
	timeout -s INT 10 setpriv --reuid=65534 --regid=65534 --clear-groups \
		"$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" >"$T/out" 2>&1 </dev/null || rc=$?
	echo "attach as nobody: exit $rc: $(cat "$T/out")"
	case $rc in
	8) grep -Eqi 'permission|root' "$T/out" || fail "attach as nobody: the message names neither permission nor root" ;;
	4) grep -Eqi 'permission|root|no such process' "$T/out" || fail "attach as nobody: unexpected message" ;;
	*) fail "attach as nobody: expected exit 8 (or 4), got $rc" ;;
	esac
	ok "attach as nobody: exit $rc"
}
expect_nobody
unharmed "attach as nobody"

# 7: a second session on a PID that has one; the first one keeps going
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port"
tpid=$BGPID
serving_level1() {
	local m
	m=$(tests/integration/scrape.sh "http://127.0.0.1:$port/metrics") && grep -qx 'torvyn_trace_level 1' <<<"$m"
}
wait_for "the first session to serve at level 1" 15 serving_level1
port2=$(pick_port $((port + 1)))
expect 7 'already has an attach session' "a second attach on pid $hpid" \
	"$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port2"
alive "$tpid" "the first torvyn-trace session" "a second attach"
alive "$hpid" torvyn-host "a second attach"
serving_level1 || fail "the first session no longer serves level 1 after a second attach: $(curl -sS "http://127.0.0.1:$port/metrics" 2>&1 | grep -E '^torvyn_trace_(level|target_up|probes_attached|level_switches_total) |curl')"
ok "the first session still serves level 1"

# 2: level with an unknown level name, on a PID with a session: nothing changes
expect 2 'bogus' "level --pid $hpid bogus" "$TRACE" level --pid "$hpid" bogus
serving_level1 || fail "the session's level changed after 'level bogus': $(curl -sS "http://127.0.0.1:$port/metrics" 2>&1 | grep -E '^torvyn_trace_(level|target_up|probes_attached|level_switches_total) |curl')"
ok "the session is still at level 1"
# the released host makes progress: its sink count grows between two flushes
sink_invocations() {
	local m
	m=$(tests/integration/scrape.sh "http://127.0.0.1:$port/metrics") &&
		awk '$1 ~ /^torvyn_component_invocations_total\{.*component_id="sink"/ {print $2}' <<<"$m"
}
first=$(sink_invocations || true)
first=${first:-0}
sink_grew() { local v; v=$(sink_invocations) && [ "${v:-0}" -gt "$first" ]; }
wait_for "the host's sink invocations to grow past $first" 15 sink_grew
ok "the host still processes elements"

kill -INT "$tpid"
rc=0
wait_exit "$tpid" 5 || rc=$?
assert_eq "the first session's exit status after SIGINT" 0 "$rc"
no_semaphore_up() { [ -z "$(tests/integration/semaphores.py "$hpid" | awk '$2 != 0')" ]; }
wait_for "the kernel to lower every semaphore after the session ended" 5 no_semaphore_up
unharmed "the session ended"
