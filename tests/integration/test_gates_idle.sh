#!/usr/bin/env bash
# With no tracer attached every gate semaphore of a running host is 0; while
# bpftrace holds the production gate it is 1, and 0 again once it detaches.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd bpftrace

bg "$HOST" run "$PIPELINES/three-stage.json" --wait-attach
hpid=$BGPID
wait_for "the host to map its executable" 5 test -r "/proc/$hpid/maps"
sleep 0.2

sems=$(tests/integration/semaphores.py "$hpid")
echo "$sems"
want=$(grep -c "^[[:space:]]*probe " usdt/torvyn.d)
assert_eq "probes read" "$want" "$(echo "$sems" | wc -l)"
assert_eq "semaphores raised with no tracer" "" "$(echo "$sems" | awk '$2 != 0')"

bpftrace -p "$hpid" -e "usdt:$HOST:torvyn:gate__diagnostic { }" >"$T/bt.out" 2>&1 &
btpid=$!
PIDS+=("$btpid")
gate() { tests/integration/semaphores.py "$hpid" | awk -v p="$1" '$1 == p {print $2}'; }
# (each poll reads the semaphores anew: sh -c, not a $(...) expanded once)
wait_for "bpftrace to raise gate__diagnostic" 120 \
	sh -c "tests/integration/semaphores.py $hpid | grep -q '^gate__diagnostic [1-9]'"
assert_eq "production gate while only diagnostic is held" 0 "$(gate gate__production)"
kill -INT "$btpid"
wait "$btpid" || true
wait_for "the kernel to lower gate__diagnostic" 5 \
	sh -c "tests/integration/semaphores.py $hpid | grep -q '^gate__diagnostic 0\$'"
assert_eq "semaphores raised after detach" "" "$(tests/integration/semaphores.py "$hpid" | awk '$2 != 0')"
