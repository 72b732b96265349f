#!/usr/bin/env bash
# The node agent at scale: N hosts (default 50, each a three-stage pipeline
# rate-limited to RATE elements/s) traced by one agent. Reports the agent's
# RSS, the time a scrape of the whole node takes (median and max of SCRAPES),
# the body's size, and the time from a new host's exec to its first series.
# A measurement, not a test: run as root, after `make`.
#   tools/agent-scale.sh [N]          (N=50 RATE=200 SCRAPES=20)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-50}
RATE=${RATE:-200}
SCRAPES=${SCRAPES:-20}
PORT=${PORT:-19790}
T=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT

name=torvyn-host-scale-$$
cp build/torvyn-host "$T/$name"
cat >"$T/p.json" <<JSON
{"flows": [{"id": "scale", "components": [
  {"id": "source", "role": "source", "kind": "generator", "rate": $RATE, "payload": {"size": 128}},
  {"id": "processor", "role": "processor", "kind": "transform", "mode": "in-place"},
  {"id": "sink", "role": "sink", "kind": "null"}]}]}
JSON
url=http://127.0.0.1:$PORT/metrics
ms() { date +%s%3N; }
series_of() { curl -sf "$url" -o "$T/s.prom" && grep -q "^torvyn_trace_target_up{pid=\"$1\"" "$T/s.prom"; }

build/torvyn-trace agent --listen "127.0.0.1:$PORT" --match "*/$name" -q &
agent=$!
PIDS+=("$agent")
sleep 0.5
for ((i = 0; i < N; i++)); do
	"$T/$name" run "$T/p.json" --duration 600 >/dev/null 2>&1 &
	PIDS+=("$!")
done
for ((i = 0; i < 200; i++)); do
	curl -sf "$url" -o "$T/all.prom" || true
	up=$(grep -c '^torvyn_trace_target_up{.*} 1$' "$T/all.prom" || true)
	[ "$up" -ge "$N" ] && break
	sleep 0.1
done
echo "hosts up on the agent: $up of $N"
sleep 2 # a flush interval: every host's blocks are in
times=()
for ((i = 0; i < SCRAPES; i++)); do
	times+=("$(curl -sf -o "$T/all.prom" -w '%{time_total}' "$url")")
done
sorted=$(printf '%s\n' "${times[@]}" | sort -n)
echo "scrape of $N hosts: median $(sed -n "$((SCRAPES / 2 + 1))p" <<<"$sorted") s, max $(tail -1 <<<"$sorted") s, body $(wc -c <"$T/all.prom") bytes, $(grep -vc '^#' "$T/all.prom") samples"
echo "agent RSS with $N hosts: $(awk '/VmRSS/ {print $2, $3}' /proc/$agent/status)"
t0=$(ms)
"$T/$name" run "$T/p.json" --duration 600 >/dev/null 2>&1 &
new=$!
PIDS+=("$new")
until series_of "$new"; do sleep 0.01; done
echo "exec to first series (host $((N + 1))): $(($(ms) - t0)) ms"
