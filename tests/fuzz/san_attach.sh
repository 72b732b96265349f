#!/usr/bin/env bash
# The sanitized programs (make SANITIZE=1, build-san/) in a short attach
# session per pipeline: three-stage and multi-flow at production, demo at
# production then switched live to diagnostic. While the host runs, /metrics
# is scraped as Prometheus text, OpenMetrics and gzip, and spans go out as
# OTLP/JSON to a file; then the host exits, the tracer follows it
# (--exit-with-target). Both must exit 0 and no sanitizer may report
# anything (ASan, LeakSanitizer and UBSan write to log_path, one file per
# process). The BPF programs are not sanitized, only userspace.
# BUILD=DIR picks the build (build-san).
BUILD=${BUILD:-build-san}
. "$(dirname "$0")/../integration/lib.sh"
need_root
need_uprobes
need_cmd curl

HOST=$ROOT/$BUILD/torvyn-host
TRACE=$ROOT/$BUILD/torvyn-trace
[ -x "$HOST" ] && [ -x "$TRACE" ] || fail "no $BUILD/torvyn-host or torvyn-trace: make SANITIZE=1 all"
nm "$TRACE" >"$T/nm" && grep -q __asan_init "$T/nm" || fail "$TRACE is not built with AddressSanitizer"

export ASAN_OPTIONS="log_path=$T/san:detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="log_path=$T/san:print_stacktrace=1:halt_on_error=1"

# reports: prints the sanitizers' reports so far; false when there is none
reports() {
	local f any=1
	for f in "$T"/san.*; do
		[ -e "$f" ] || continue
		echo "---- sanitizer report $(basename "$f")" >&2
		head -60 "$f" >&2
		any=0
	done
	return $any
}

# every failure shows the reports that may have caused it (a dead tracer, say)
fail() {
	reports || true
	echo "FAIL: $*" >&2
	exit 1
}

no_report() {
	! reports || { echo "FAIL: a sanitizer reported" >&2; exit 1; }
}

# scrape URL OUT [CURL ARGS...]: one GET into OUT, which must not be empty
scrape() {
	local url=$1 out=$2
	shift 2
	curl -sf --max-time 5 "$@" "$url" -o "$out" || fail "GET $url $*"
	[ -s "$out" ] || fail "GET $url $*: empty body"
}

# session NAME PIPELINE SECONDS LEVEL [LEVEL...]: the host runs SECONDS, the
# tracer attaches at the first LEVEL and is switched to each further one
# after a second or so.
session() {
	local name=$1 pipeline=$2 secs=$3 first=$4 d=$T/$1 hpid tpid port url lvl rc i
	shift 4
	mkdir -p "$d"
	echo "--- $name: $(basename "$pipeline"), $secs s at $first${*:+ then $*}"
	bg "$HOST" run "$pipeline" --duration "$secs" --wait-attach --flush-interval 200 \
		--summary "$d/summary.json"
	hpid=$BGPID
	port=$(pick_port 19900)
	url=http://127.0.0.1:$port/metrics
	bg "$TRACE" attach --pid "$hpid" --level "$first" --listen "127.0.0.1:$port" \
		--exit-with-target --otlp-file "$d/otlp.jsonl" -q
	tpid=$BGPID
	for ((i = 0; ; i++)); do
		curl -sf --max-time 2 -o /dev/null "$url" && break
		kill -0 "$tpid" 2>/dev/null || fail "$name: torvyn-trace exited before serving"
		[ "$i" -lt 400 ] || fail "$name: no /metrics after 20 s"
		sleep 0.05
	done
	for lvl in "" "$@"; do
		if [ -n "$lvl" ]; then
			"$TRACE" level --pid "$hpid" "$lvl" >"$d/level.out" 2>&1 ||
				{ cat "$d/level.out"; fail "$name: level $lvl"; }
		fi
		sleep 1
		scrape "$url" "$d/text$lvl.prom"
		scrape "$url" "$d/om$lvl.prom" -H 'Accept: application/openmetrics-text; version=1.0.0'
		scrape "$url" "$d/gz$lvl.gz" -H 'Accept-Encoding: gzip'
		gzip -t "$d/gz$lvl.gz" || fail "$name: the gzip scrape does not decompress"
		no_report
	done
	rc=0
	wait_exit "$hpid" $((secs + 30)) || rc=$?
	assert_eq "$name: torvyn-host exit status" 0 "$rc"
	rc=0
	wait_exit "$tpid" 30 || rc=$?
	assert_eq "$name: torvyn-trace exit status" 0 "$rc"
	grep -q '"flows"' "$d/summary.json" || fail "$name: no host summary"
	grep -q 'torvyn_component_invocations_total{' "$d/text$lvl.prom" ||
		fail "$name: no component samples in the last scrape"
	[ "$lvl" != diagnostic ] || grep -q 'torvyn_diagnostic_invocations_total{' "$d/text$lvl.prom" ||
		fail "$name: no diagnostic samples after the switch"
	[ -s "$d/otlp.jsonl" ] || fail "$name: no OTLP/JSON written"
	no_report
	ok "$name: host and tracer exit 0, no sanitizer report"
}

session three-stage "$PIPELINES/three-stage.json" 3 production
session multi-flow "$PIPELINES/multi-flow.json" 3 production
session demo "$PIPELINES/demo.json" 5 production diagnostic
