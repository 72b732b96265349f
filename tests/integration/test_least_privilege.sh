#!/usr/bin/env bash
# Least privilege. Attaching needs CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and
# CAP_DAC_READ_SEARCH, not full root:
# 1. a tracer whose bounding set holds only those four attaches, switches
#    levels and counts exactly the host's summary;
# 2. without CAP_PERFMON it refuses with exit 8 and says what it needs;
# 3. a tracer started as full root keeps only those four once attached, in
#    every thread, and still switches levels.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd setpriv
need_cmd curl
setpriv --list-caps | grep -qx perfmon || skip "setpriv does not know CAP_PERFMON (util-linux too old)"

FOUR="+bpf,+perfmon,+sys_ptrace,+dac_read_search"
want=$(printf '%016x' $(((1 << 39) | (1 << 38) | (1 << 19) | (1 << 2))))
port=$(pick_port 19780)

# 1. the four capabilities only (as uid 0 the bounding set is what it gets)
bg "$HOST" run "$PIPELINES/three-stage.json" --elements 5000 --wait-attach --summary "$T/summary.json"
hpid=$BGPID
bg setpriv --bounding-set=-all,$FOUR "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" -q
tpid=$BGPID
wait_exit "$hpid" 30 || fail "the host exited with $?"
final() { tests/integration/scrape.sh "127.0.0.1:$port/metrics" >"$T/final.prom" && grep -qx 'torvyn_trace_target_up 0' "$T/final.prom"; }
wait_for "the final scrape" 10 final
python3 tests/integration/prom_check.py check "$T/summary.json" "$T/final.prom" ||
	fail "with four capabilities: the counts differ from the summary"
ok "attached with CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH only: exact counts"
kill "$tpid"

# 2. one fewer
bg "$HOST" run "$PIPELINES/three-stage.json" --duration 30 --wait-attach
hpid=$BGPID
rc=0
setpriv --bounding-set=-all,+bpf,+sys_ptrace,+dac_read_search "$TRACE" attach --pid "$hpid" \
	--listen "127.0.0.1:$port" >"$T/out" 2>&1 || rc=$?
assert_eq "exit code without CAP_PERFMON" 8 "$rc"
grep -q "CAP_PERFMON" "$T/out" || fail "the message does not name what is missing: $(cat "$T/out")"

# 3. full root drops the rest once attached
bg "$TRACE" attach --pid "$hpid" --listen "127.0.0.1:$port" -q
tpid=$BGPID
wait_for "the tracer to attach" 20 sh -c "tests/integration/scrape.sh 127.0.0.1:$port/metrics >'$T/l.prom' && grep -qx 'torvyn_trace_level 1' '$T/l.prom'"
for t in /proc/$tpid/task/*; do
	got=$(sed -n 's/^CapEff:\t//p' "$t/status")
	assert_eq "effective capabilities of thread $(basename "$t")" "$want" "$got"
done
"$TRACE" level --pid "$hpid" diagnostic >/dev/null || fail "level diagnostic after the drop"
wait_for "the diagnostic gate" 10 sh -c "tests/integration/semaphores.py $hpid | grep -q '^gate__diagnostic [1-9]'"
ok "after dropping, the tracer still switches levels"
