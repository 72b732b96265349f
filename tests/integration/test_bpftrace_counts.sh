#!/usr/bin/env bash
# bpftrace, attached by PID to the invocation probe, counts exactly the
# invocations the host's summary reports: 10000 per component of three-stage.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd bpftrace

N=10000
bg "$HOST" run "$PIPELINES/three-stage.json" --elements $N --wait-attach --summary "$T/summary.json"
hpid=$BGPID

# the invocation probe first; once its semaphore is up, a second bpftrace
# takes the production gate, which releases the --wait-attach host
cat >"$T/count.bt" <<BT
usdt:$HOST:torvyn:component__invoke { @inv[arg1] = count(); if (arg5 != 0) { @err[arg1] = count(); } }
BT
bpftrace -p "$hpid" "$T/count.bt" >"$T/bt.out" 2>&1 &
btpid=$!
PIDS+=("$btpid")
sem() { tests/integration/semaphores.py "$hpid" | awk -v p="$1" '$1 == p {print $2}'; }
if ! (wait_for "bpftrace to attach component__invoke (its first start on a machine can be slow)" 120 \
	sh -c "tests/integration/semaphores.py $hpid | grep -q '^component__invoke [1-9]'"); then
	echo "bpftrace said:"
	cat "$T/bt.out"
	fail "bpftrace never attached component__invoke"
fi
bpftrace -p "$hpid" -e "usdt:$HOST:torvyn:gate__production { @gate = count(); }" >"$T/gate.out" 2>&1 &
PIDS+=("$!")

wait_exit "$hpid" 60 || fail "torvyn-host exited with $?"
kill -INT "$btpid"
wait "$btpid" || true
cat "$T/bt.out"

for c in 0 1 2; do
	got=$(sed -n "s/^@inv\[$c\]: \([0-9]*\)/\1/p" "$T/bt.out")
	truth=$(jq_get "$T/summary.json" ".flows[0].components[$c].invocations")
	assert_eq "host summary invocations of component $c" $N "$truth"
	assert_eq "bpftrace count of component $c" "$truth" "$got"
done
grep -q '^@err' "$T/bt.out" && fail "bpftrace saw errors in a run without faults"
ok "no errors reported"
