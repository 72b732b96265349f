#!/usr/bin/env bash
# make run: a reference host running a sample pipeline, torvyn-trace attached
# to it, live metrics on http://127.0.0.1:9464/metrics. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PIPE=${PIPE:-user/host/pipelines/demo.json}
LISTEN=${LISTEN:-127.0.0.1:9464}
LEVEL=${LEVEL:-production}

if [ "$(id -u)" -ne 0 ]; then
	echo "make run attaches BPF programs: run it as root (sudo make run)" >&2
	exit 1
fi
build/torvyn-host run "$PIPE" --wait-attach &
host=$!
trap 'kill $trace $host 2>/dev/null; wait 2>/dev/null' EXIT INT TERM
build/torvyn-trace attach --pid "$host" --level "$LEVEL" --listen "$LISTEN" &
trace=$!
sleep 1
kill -0 "$trace" 2>/dev/null || { echo "torvyn-trace did not start (see above)" >&2; exit 1; }
cat <<MSG

  torvyn-host pid $host runs $PIPE; torvyn-trace pid $trace is attached ($LEVEL).
  Metrics:       curl -s http://$LISTEN/metrics | grep '^torvyn_'
  Go diagnostic: build/torvyn-trace level --pid $host diagnostic
  Back off:      build/torvyn-trace level --pid $host off
  Ctrl-C stops both.

MSG
wait "$trace"
