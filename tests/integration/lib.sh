# Shared by the integration tests: sourced, never run.
# Every process a test starts is registered and killed by PID on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$PWD
HOST=$ROOT/build/torvyn-host
TRACE=$ROOT/build/torvyn-trace
PIPELINES=$ROOT/user/host/pipelines
T=$(mktemp -d /tmp/torvyn-test.XXXXXX)
PIDS=()

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}
trap cleanup EXIT

skip() { echo "SKIP $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { echo "ok: $*"; }

# assert_eq WHAT EXPECTED ACTUAL
assert_eq() {
	[ "$2" = "$3" ] || fail "$1: expected $2, got $3"
	echo "ok: $1 = $3"
}

need_root() { [ "$(id -u)" -eq 0 ] || skip "needs root (BPF and uprobes)"; }
need_uprobes() {
	[ -e /sys/kernel/btf/vmlinux ] || skip "the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	[ -d /sys/bus/event_source/devices/uprobe ] || skip "the kernel has no uprobe PMU (CONFIG_UPROBE_EVENTS)"
}
need_cmd() { command -v "$1" >/dev/null || skip "$1 is not installed (make deps installs it)"; }

# bg CMD...: starts CMD in the background, registers its PID in BGPID, and
# returns once the child has exec'd CMD: until then /proc/PID/exe is this
# shell, and a tracer attaching to that PID would find no probes there.
bg() {
	"$@" &
	BGPID=$!
	PIDS+=("$BGPID")
	local self i
	self=$(readlink /proc/$$/exe)
	for ((i = 0; i < 200; i++)); do
		[ "$(readlink "/proc/$BGPID/exe" 2>/dev/null)" = "$self" ] || return 0
		sleep 0.01
	done
	fail "pid $BGPID did not exec $1 within 2s"
}

# wait_for DESC SECONDS CMD...: polls CMD every 50 ms. CMD runs anew each
# try, but a $(...) among its words was expanded once, when wait_for was
# called: to poll a value, give a function that reads it.
wait_for() {
	local desc=$1 secs=$2 i
	shift 2
	for ((i = 0; i < secs * 20; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	fail "timed out after ${secs}s waiting for $desc"
}

# explain_stuck PID: where a process that should have ended is, on stderr:
# its state and signal masks, and each thread's kernel wait channel and stack
explain_stuck() {
	local t
	{
		echo "pid $1 has not ended: $(grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):' "/proc/$1/status" 2>/dev/null | xargs)"
		for t in /proc/"$1"/task/*; do
			echo "  thread ${t##*/}: $(grep '^State:' "$t/status" 2>/dev/null | xargs), waits in $(cat "$t/wchan" 2>/dev/null)"
			sed 's/^/    /' "$t/stack" 2>/dev/null | head -20
		done
	} >&2
}

# wait_exit PID SECONDS: waits for a background process, returns its status.
wait_exit() {
	local pid=$1 secs=$2 i
	for ((i = 0; i < secs * 20; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		explain_stuck "$pid"
		fail "pid $pid ($(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)) still running after ${secs}s"
	fi
	local rc=0
	wait "$pid" || rc=$?
	return $rc
}

# unhost: a scrape on stdin without the host labels (pid, exe, service) that
# every series of a tracer carries first, for greps written for one host
unhost() {
	sed -E 's/\{pid="[^"]*",exe="[^"]*",service="[^"]*"\}//; s/\{pid="[^"]*",exe="[^"]*",service="[^"]*",/{/'
}

# sample FILE SERIES: the value of SERIES in a scrape, written exactly as
# rendered without the host labels
sample() { unhost <"$1" | awk -v s="$2" '$1 == s { print $2 }'; }

# scraped_final URL OUT: scrapes URL into OUT; true once the tracer serving
# it saw its target exit (its final values), for wait_for
scraped_final() {
	curl -sf "$1" -o "$2" &&
		[ "$(unhost <"$2" | grep -cx 'torvyn_trace_target_up 0')" -ge 1 ]
}

# probe_hits SCRAPE PROBE: torvyn_trace_probe_hits_total of PROBE in a scrape file
probe_hits() { unhost <"$1" | awk -v p="probe=\"$2\"" 'index($1, p) { print $2 }'; }

# Level 2 over a run that ends with its batches part full: three-stage.json
# for BATCH_N elements (312 full batches of 64 per component thread, 43
# records left at exit) and no periodic flush.
BATCH_N=20011

# batch_run TRACER DIR PORT_BASE: that run, TRACER attached at diagnostic;
# waits for the host's end and the final scrape: DIR/summary.json, DIR/final.prom
batch_run() {
	local hpid port
	bg "$HOST" run "$PIPELINES/three-stage.json" --elements "$BATCH_N" --wait-attach \
		--flush-interval 60000 --summary "$2/summary.json"
	hpid=$BGPID
	port=$(pick_port "$3")
	bg "$1" attach --pid "$hpid" --level diagnostic --listen "127.0.0.1:$port" -q
	wait_exit "$hpid" 60 || fail "torvyn-host exited $?"
	wait_for "the final scrape" 20 scraped_final "http://127.0.0.1:$port/metrics" "$2/final.prom"
}

# batch_hits SCRAPE: component__batch's hits in a batch_run's scrape, in
# BATCH_HITS: a hit per full batch and one per thread for its partial batch
# (a request served early adds a few); fails otherwise
batch_hits() {
	local full=$((3 * (BATCH_N / 64 + 1)))
	BATCH_HITS=$(probe_hits "$1" component__batch)
	[ "$BATCH_HITS" -ge "$full" ] && [ "$BATCH_HITS" -le $((full + 12)) ] ||
		fail "component__batch hits: $BATCH_HITS for $((3 * BATCH_N)) records"
}

# jq_get FILE FILTER
jq_get() { jq -r "$2" "$1"; }

# pick_port BASE: the first port from BASE up that nothing listens on
pick_port() {
	python3 - "$1" <<'PY'
import socket, sys
for port in range(int(sys.argv[1]), int(sys.argv[1]) + 200):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    sys.exit("no free port")
PY
}
