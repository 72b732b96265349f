#!/usr/bin/env bash
# Any runtime's probes are traced: a small host written against the
# repository's headers (probe_host.c) passes globals as probe arguments, which
# compile to %rip-relative locations libbpf 1.4 refuses. The tracer resolves
# them and counts its 1000 elements and 100 errors exactly when it is
#   - an executable (PIE),
#   - a shared object its main links (the runtime embedded as a library;
#     the main carries one site of its own: both files are attached),
#   - that shared object run from a path only its mount namespace has;
# a host flushing blocks of the wrong size shows
# torvyn_trace_malformed_blocks{reason="size"} 5 and one log line; a host that
# tests its production gate without a gate__production site is refused with
# exit 13, naming the probe and the fix.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
I=$ROOT/build/integ
for b in probe_host probe_host_shared probe_host_nogate libprobehost.so; do
	[ -e "$I/$b" ] || fail "build/integ/$b is missing: make unit builds it"
done

# the globals are passed as they are: the notes must show (%rip) locations
for f in probe_host libprobehost.so; do
	readelf -n --wide "$I/$f" >"$T/notes"
	grep -q 'Arguments: 8@probe_abi(%rip)$' "$T/notes" || fail "$f: abi__version is no %rip location"
	grep -q ' 8@probe_block_size(%rip) ' "$T/notes" || fail "$f: the flush size is no %rip location"
done
ok "abi__version and the flush size are %rip-relative globals in both builds"

# trace NAME CMD...: runs CMD (a host), attaches, waits for the host's last
# flush, scrapes into $T/NAME.prom and stops both; the tracer's stderr in $T/NAME.err
trace() {
	local name=$1 port hpid tpid
	shift
	port=$(pick_port 19700)
	bg "$@" >"$T/$name.out" 2>&1
	hpid=$BGPID
	wait_for "$name to start" 10 grep -qx ready "$T/$name.out"
	bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" 2>"$T/$name.err"
	tpid=$BGPID
	wait_for "$name's last flush" 20 grep -qx done "$T/$name.out"
	# the ring buffer is read every 50 ms
	sleep 0.3
	tests/integration/scrape.sh "http://127.0.0.1:$port/metrics" >"$T/$name.prom"
	kill -INT "$tpid"
	wait_exit "$tpid" 10 || fail "$name: the tracer exited with $?: $(cat "$T/$name.err")"
	kill "$hpid"
}

value() { sed -n "s/^$2 //p" "$T/$1.prom"; }

exact() {
	local name=$1
	assert_eq "$name: elements" 1000 "$(value "$name" 'torvyn_flow_elements_total{flow_id="probe-flow"}')"
	assert_eq "$name: errors" 100 "$(value "$name" 'torvyn_flow_errors_total{flow_id="probe-flow"}')"
	assert_eq "$name: blocks" 5 "$(value "$name" torvyn_trace_blocks_received_total)"
	assert_eq "$name: malformed" 0 "$(value "$name" 'torvyn_trace_malformed_blocks_total{reason="size"}')"
	# gate__production, abi__version and metrics__flush of the runtime, abi__version of main
	assert_eq "$name: sites attached" 4 "$(value "$name" torvyn_trace_probes_attached)"
}

trace exe "$I/probe_host" 1000 5
exact exe

trace shared "$I/probe_host_shared" 1000 5
exact shared
grep -q "torvyn probes in .*libprobehost.so: 3 sites" "$T/shared.err" ||
	fail "the tracer does not say it found the shared object's probes: $(cat "$T/shared.err")"

if command -v unshare >/dev/null; then
	trace ns unshare --mount --propagation private sh -c "
		mount -t tmpfs torvyn-usdt /mnt || exit 90
		mkdir -p /mnt/opt && cp '$I/probe_host_shared' '$I/libprobehost.so' /mnt/opt/ || exit 91
		exec /mnt/opt/probe_host_shared 1000 5"
	[ -e /mnt/opt/libprobehost.so ] && fail "/mnt/opt/libprobehost.so exists outside the namespace: the case proves nothing"
	exact ns
else
	echo "unshare is not installed: the mount-namespace case is left out"
fi

trace bad "$I/probe_host" 1000 5 bad-size
assert_eq "bad size: malformed" 5 "$(value bad 'torvyn_trace_malformed_blocks_total{reason="size"}')"
assert_eq "bad size: blocks" 0 "$(value bad torvyn_trace_blocks_received_total)"
assert_eq "bad size: log lines" 1 "$(grep -c 'metrics__flush: a flow block passed with size 512, expected 504' "$T/bad.err")"

bg "$I/probe_host_nogate" 1000 5 >"$T/nogate-host.out"
npid=$BGPID
wait_for "the gate-less host to start" 10 grep -qx ready "$T/nogate-host.out"
rc=0
timeout 20 "$TRACE" attach --pid "$npid" --listen "127.0.0.1:$(pick_port 19700)" >"$T/nogate.out" 2>&1 || rc=$?
assert_eq "a host without a gate__production site: exit code" 13 "$rc"
grep -q 'probe gate__production has no site.*TORVYN_GATE_PRODUCTION(level)' "$T/nogate.out" ||
	fail "the refusal names neither the probe nor the fix: $(cat "$T/nogate.out")"
ok "refused: $(cat "$T/nogate.out")"

# refuse RE CMD...: attach to CMD must exit 13 with a message matching RE
refuse() {
	local re=$1 rc=0
	shift
	bg "$@" >"$T/refused-host.out"
	case $1 in *probe_host*) wait_for "$1 to start" 10 grep -qx ready "$T/refused-host.out" ;; esac
	timeout 20 "$TRACE" attach --pid "$BGPID" --listen "127.0.0.1:$(pick_port 19700)" >"$T/refused.out" 2>&1 || rc=$?
	kill "$BGPID"
	assert_eq "$1: exit code" 13 "$rc"
	grep -Eq -- "$re" "$T/refused.out" || fail "$1: the message does not match /$re/: $(cat "$T/refused.out")"
	ok "refused: $(cat "$T/refused.out")"
}

# stripped, the globals' symbols are gone: probe, argument, reason and fix are named
cp "$I/probe_host" "$T/probe_host_stripped"
strip "$T/probe_host_stripped"
refuse "probe abi__version, argument #0 '8@probe_abi\(%rip\)'.*symbol table.*do not strip" \
	"$T/probe_host_stripped" 1000 5

# the same in the shared object: the library is named, the attach refused
mkdir "$T/stripped"
cp "$I/probe_host_shared" "$I/libprobehost.so" "$T/stripped/"
strip "$T/stripped/libprobehost.so"
refuse "libprobehost.so\): cannot trace it: probe abi__version, argument #0 '8@probe_abi\(%rip\)'" \
	"$T/stripped/probe_host_shared" 1000 5

# an ABI version known only at run time (a register) cannot be checked before attaching
if command -v cc >/dev/null; then
	printf '%s\n' '#include <sys/sdt.h>' '#include <unistd.h>' \
		'int main(int c, char **v) { (void)v; for (int i = 0; i < 600; i++) {' \
		'DTRACE_PROBE1(torvyn, abi__version, c); usleep(100000); } return 0; }' >"$T/abireg.c"
	cc -O2 -o "$T/abireg" "$T/abireg.c" || fail "abireg.c does not build"
	refuse "probe abi__version, argument #0 '-4@%[a-z0-9]+': not a literal constant.*TORVYN_PROBE_ABI_VERSION" \
		"$T/abireg"
fi
