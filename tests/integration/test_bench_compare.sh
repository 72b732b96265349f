#!/usr/bin/env bash
# bench --compare does not cry wolf, and catches a real slowdown: one
# baseline, then five reruns of the same binary and workload compared with
# it at the default 10 % threshold (0 regressions), then two runs in which
# every element is delayed 25 % longer in the processor (a 20 % lower
# throughput: caught both times). The processor is a component built here
# that takes a fixed time per element on the monotonic clock (sleeping to
# each element's turn, catching up after a late wakeup), so the pipeline's
# throughput is set by that delay and not by how loaded the CPUs are.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd cc

cat >"$T/delay.c" <<'C'
#include <stdlib.h>
#include <time.h>
#include "torvyn_component.h"

/* ns per element, and when the element in hand is done */
struct delay { long long ns, until; };

static int delay_init(void **state, const char *config)
{
	struct delay *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	d->ns = atol(config);
	*state = d;
	return 0;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int delay_process(void *state, struct torvyn_element *elem)
{
	struct delay *d = state;
	long long now = now_ns();
	struct timespec ts;

	(void)elem;
	/* late wakeups are caught up; after an idle stretch (50 ms) it starts again */
	d->until = (d->until > now - 50000000 ? d->until : now) + d->ns;
	ts.tv_sec = d->until / 1000000000ll;
	ts.tv_nsec = d->until % 1000000000ll;
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL))
		;
	return TORVYN_COMPONENT_OK;
}

static void delay_fini(void *state) { free(state); }

static const struct torvyn_component delay = {
	.abi_version = TORVYN_COMPONENT_ABI_VERSION, .name = "delay",
	.init = delay_init, .process = delay_process, .fini = delay_fini,
};

const struct torvyn_component *torvyn_component_entry(void) { return &delay; }
C
cc -O2 -fPIC -shared -I"$ROOT/include" "$T/delay.c" -o "$T/delay.so" || fail "cannot build the delay component"

pipeline() { # FILE NS_PER_ELEMENT
	cat >"$1" <<JSON
{"flows": [{"id": "cmp", "queue": {"capacity": 32}, "components": [
  {"id": "gen", "role": "source", "kind": "generator", "payload": {"size": 64}},
  {"id": "delay", "role": "processor", "kind": "plugin", "path": "$T/delay.so", "config": "$2"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
JSON
}
pipeline "$T/same.json" 1000000
pipeline "$T/slow.json" 1250000

cd "$T"
bench() { # PIPELINE ARGS...
	local p=$1
	shift
	"$TRACE" bench --warmup 0.5 --duration 3 --window 0.2 --report "$T/last.json" \
		"$@" -- "$HOST" run "$p"
}
bench "$T/same.json" --baseline base --report-format json >/dev/null 2>"$T/base.err" ||
	fail "baseline run exited $?: $(cat "$T/base.err")"
assert_eq "windows in the baseline" 15 "$(jq_get "$T/last.json" '.windows.elements_per_sec | length')"
for i in 1 2 3 4 5; do
	rc=0
	bench "$T/same.json" --compare base >"$T/same-$i.txt" 2>&1 || rc=$?
	grep -E '^(throughput|p99 )' "$T/same-$i.txt" || true
	[ "$rc" -eq 0 ] || fail "rerun $i of the same workload: exit $rc: $(cat "$T/same-$i.txt")"
done
ok "five reruns of the same workload: no regression"
for i in 1 2; do
	rc=0
	bench "$T/slow.json" --compare base >"$T/slow-$i.txt" 2>&1 || rc=$?
	grep -E '^REGRESSION' "$T/slow-$i.txt" || true
	assert_eq "run $i delayed 25 % per element: exit code" 3 "$rc"
	grep -q '^REGRESSION: throughput (elements/s) -[12][0-9]\.[0-9]%, 95% interval' "$T/slow-$i.txt" ||
		fail "the throughput regression is not reported with its interval: $(cat "$T/slow-$i.txt")"
done
cd "$ROOT"
