#!/usr/bin/env bash
# make run: a reference host running a sample pipeline, torvyn-trace attached
# to it, live metrics on http://127.0.0.1:9464/metrics. Says what the
# pipeline's injected faults will show, then prints the few series worth
# reading first every EVERY seconds. Ctrl-C (or SECONDS_TO_RUN=N, or
# `--seconds N`) stops both and exits 0.
#
# Environment: PIPE (user/host/pipelines/demo.json), LISTEN (127.0.0.1:9464),
# LEVEL (production), EVERY (10), SECONDS_TO_RUN (0: until Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
PIPE=${PIPE:-user/host/pipelines/demo.json}
LISTEN=${LISTEN:-127.0.0.1:9464}
LEVEL=${LEVEL:-production}
EVERY=${EVERY:-10}
SECONDS_TO_RUN=${SECONDS_TO_RUN:-0}
[ "${1:-}" != --seconds ] || SECONDS_TO_RUN=${2:?--seconds needs a number}

# The series shown first, named here only (every family: docs/metrics.md).
SERIES_LEVEL=torvyn_trace_level
SERIES_ELEMENTS=torvyn_flow_elements_total
SERIES_ERRORS=torvyn_flow_errors_total
SERIES_LATENCY=torvyn_flow_latency_seconds # a histogram: its p99 is shown
SERIES_PROMOTED=torvyn_flow_traces_promoted_total
SERIES_BACKPRESSURE=torvyn_stream_backpressure_events_total

if [ "$(id -u)" -ne 0 ]; then
	echo "make run attaches BPF programs: run it as root (sudo make run)" >&2
	exit 1
fi

# Under make, Ctrl-C would reach make too, which then reports the recipe as
# interrupted and fails. On a terminal the demo therefore runs in its own
# process group, given the terminal's foreground until it ends: Ctrl-C reaches
# only the demo, which stops what it started and exits 0.
if [ -t 0 ] && [ -z "${TORVYN_DEMO_FG:-}" ] && command -v python3 >/dev/null; then
	export TORVYN_DEMO_FG=1
	exec python3 -c '
import os, signal, sys
signal.signal(signal.SIGTTOU, signal.SIG_IGN)
old = os.tcgetpgrp(0)
os.setpgid(0, 0)
os.tcsetpgrp(0, os.getpgrp())
pid = os.fork()
if pid == 0:
    signal.signal(signal.SIGTTOU, signal.SIG_DFL)
    os.execv(sys.argv[1], sys.argv[1:])
signal.signal(signal.SIGINT, signal.SIG_IGN)
_, status = os.waitpid(pid, 0)
os.tcsetpgrp(0, old)
sys.exit(os.waitstatus_to_exitcode(status) % 256)
' "$0" "$@"
fi

host='' trace=''
stop() {
	trap - INT TERM EXIT
	[ -z "$trace" ] || kill -INT "$trace" 2>/dev/null || true
	[ -z "$host" ] || kill -INT "$host" 2>/dev/null || true
	[ -z "$trace" ] || wait "$trace" 2>/dev/null || true
	[ -z "$host" ] || wait "$host" 2>/dev/null || true
	echo "Stopped torvyn-trace and torvyn-host."
	exit "${1:-0}"
}
trap 'stop 0' INT TERM
trap 'stop 1' EXIT

# faults: what the pipeline injects, one line each, with when it should show
faults() {
	jq -r '.flows[] as $f | ([$f.components[] | select(.role == "source") | .rate // empty]
		| first) as $rate | $f.components[] as $c | ($c.faults // [])[] |
		(if $rate then " (about \((.at / $rate * 10 | floor) / 10) s in)" else "" end) as $when |
		"  flow \($f.id), \($c.id): " +
		(if .type == "error" then "returns an error (\(.error // "internal")) on element \(.at)\($when)"
		 elif .type == "delay" then "takes \(.ms) ms longer on element \(.at)\($when): a slow trace"
		 else "stops taking input for \(.ms) ms before element \(.at)\($when): backpressure upstream"
		 end)' "$PIPE"
}

# show FILE: the chosen series of a scrape, without the host's labels, and
# the p99 of the latency histogram per flow (interpolated in its bucket)
show() {
	sed -E 's/\{pid="[^"]*",exe="[^"]*",service="[^"]*"\}//; s/\{pid="[^"]*",exe="[^"]*",service="[^"]*",/{/' "$1" |
		awk -v lv="$SERIES_LEVEL" -v el="$SERIES_ELEMENTS" -v er="$SERIES_ERRORS" \
			-v lat="$SERIES_LATENCY" -v pr="$SERIES_PROMOTED" -v bp="$SERIES_BACKPRESSURE" '
		function name(l) { sub(/[{ ].*/, "", l); return l }
		{ n = name($0) }
		n == lv { print "  " $0 "   (0 off, 1 production, 2 diagnostic)" }
		n == el || n == er || n == pr || n == bp { out[n] = out[n] "  " $0 "\n" }
		n == lat "_bucket" {
			flow = $0; sub(/.*flow_id="/, "", flow); sub(/".*/, "", flow)
			le = $0; sub(/.*le="/, "", le); sub(/".*/, "", le)
			if (!(flow in nb)) order[++nf] = flow
			i = ++nb[flow]; bound[flow, i] = le; cum[flow, i] = $NF
		}
		END {
			printf "%s%s", out[el], out[er]
			for (f = 1; f <= nf; f++) {
				fl = order[f]; total = cum[fl, nb[fl]]; p = "-"
				for (i = 1; total > 0 && i <= nb[fl]; i++) {
					if (cum[fl, i] < 0.99 * total) continue
					if (bound[fl, i] == "+Inf") { p = "> " bound[fl, i - 1]; break }
					lo = i > 1 ? bound[fl, i - 1] : 0; below = i > 1 ? cum[fl, i - 1] : 0
					p = sprintf("%.3g", lo + (bound[fl, i] - lo) * \
						(0.99 * total - below) / (cum[fl, i] - below))
					break
				}
				printf "  p99 of %s{flow_id=\"%s\"} %s s\n", lat, fl, p
			}
			printf "%s%s", out[pr], out[bp]
		}'
}

build/torvyn-host run "$PIPE" --wait-attach &
host=$!
build/torvyn-trace attach --pid "$host" --level "$LEVEL" --listen "$LISTEN" &
trace=$!
sleep 1
kill -0 "$trace" 2>/dev/null || { echo "torvyn-trace did not start (see above)" >&2; exit 1; }
URL=http://$LISTEN/metrics
cat <<MSG

  torvyn-host pid $host runs $PIPE; torvyn-trace pid $trace is attached ($LEVEL).
  The pipeline injects faults, so that there is something to see:
$(faults)

  Every $EVERY s below: the level, elements and errors per flow, the p99 of the
  end-to-end latency, traces promoted (sampled, error, slow) and backpressure.
  All series:      curl -s $URL
  Live view:       build/torvyn-trace top --pid $host
  Switch to the diagnostic level (per-step events, more cost):
                   build/torvyn-trace level --pid $host diagnostic
  Detach (the host goes back to Level 0, nothing attached):
                   build/torvyn-trace level --pid $host off
  Ctrl-C stops both.

MSG
scrape=$(mktemp /tmp/torvyn-demo.XXXXXX)
trap 'rm -f "$scrape"; stop 0' INT TERM
trap 'rm -f "$scrape"; stop 1' EXIT
start=$SECONDS
while kill -0 "$trace" 2>/dev/null; do
	sleep "$EVERY" &
	wait $! || true
	if curl -sf "$URL" -o "$scrape"; then
		echo "--- $(date +%T), $((SECONDS - start)) s"
		show "$scrape"
	fi
	if [ "$SECONDS_TO_RUN" -gt 0 ] && [ $((SECONDS - start)) -ge "$SECONDS_TO_RUN" ]; then
		rm -f "$scrape"
		stop 0
	fi
done
rm -f "$scrape"
echo "torvyn-trace exited" >&2
stop 1
