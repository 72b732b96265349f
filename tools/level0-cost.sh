#!/usr/bin/env bash
# Level 0 cost: instructions per element (valgrind callgrind) of the
# reference workload, probes built in but nothing attached, against the build
# with every probe compiled out. Per-element figures are the difference of two
# runs (N1 and N2 elements), so startup and teardown cancel out. The total
# moves by about +-1 % between runs of the same binary: valgrind runs the
# threads one at a time and how often they block on each other's queues (and
# so the instructions spent in pthread code) varies; the median of REPS runs
# is reported, and the instructions of the host's own code (its sources in
# this repository, no libc), which do not depend on that, separately. The same is
# measured for the host doing Level 1's work (--force-level 1: clocks,
# histograms, ids, span ring; no tracer, so no probe hits), the repeatable
# figure of what Level 1 adds per element (also in the host's own code alone,
# which does not move with how often the threads block).
# Prints one JSON object, with "met" saying whether the median ratio is within
# LEVEL0_MAX (1.01). It reports and exits 0 either way: make bench turns the
# figure into its budget row. It exits non-zero only when it cannot measure
# (valgrind missing, a host that fails, no figures).
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-20000}
N2=${N2:-60000}
REPS=${REPS:-3}
PIPE=${PIPE:-user/host/pipelines/three-stage.json}
MAX=${LEVEL0_MAX:-1.01}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
command -v valgrind >/dev/null || { echo "level0-cost: valgrind is not installed" >&2; exit 2; }

instr() { # BIN N [ARGS] -> "total own" instructions (all threads)
	valgrind --tool=callgrind --fair-sched=yes --callgrind-out-file="$tmp/cg.out" "$1" run "$PIPE" \
		--elements "$2" "${@:3}" >/dev/null 2>"$tmp/vg.log"
	local total own
	total=$(sed -n 's/^summary: \([0-9]*\)/\1/p' "$tmp/cg.out")
	# the host's own code: rows whose source is in this repository (code inlined
	# from a header shows without the binary's tag, so the tag cannot tell)
	own=$(callgrind_annotate --auto=no --threshold=100 "$tmp/cg.out" 2>/dev/null |
		awk '/%\) +(user|usdt|include)\// { gsub(",", "", $1); s += $1 } END { print s + 0 }')
	rm -f "$tmp/cg.out"
	echo "$total $own"
}

declare -A tot own
declare -A conf=([base]="torvyn-host-noprobes" [level0]="torvyn-host"
	[level1]="torvyn-host --force-level 1")
for c in base level0 level1; do
	tl="" ol=""
	read -r b args <<<"${conf[$c]}"
	for ((r = 0; r < REPS; r++)); do
		t1="" t2=""
		# shellcheck disable=SC2086
		read -r t1 o1 < <(instr "build/$b" "$N1" $args) || true
		# shellcheck disable=SC2086
		read -r t2 o2 < <(instr "build/$b" "$N2" $args) || true
		if [ -z "${t1:-}" ] || [ -z "${t2:-}" ]; then
			echo "level0-cost: build/$b did not run under callgrind: $(grep -v "^==" "$tmp/vg.log" 2>/dev/null | head -2)" >&2
			exit 2
		fi
		tl+="$(( (t2 - t1) )) " ol+="$(( (o2 - o1) )) "
	done
	tot[$c]=$tl own[$c]=$ol
done
python3 - "$MAX" "$((N2 - N1))" "${tot[base]}" "${tot[level0]}" "${own[base]}" "${own[level0]}" \
	"${tot[level1]}" "${own[level1]}" "$PIPE" <<'PY'
import json, os, statistics, sys
mx, n = float(sys.argv[1]), int(sys.argv[2])
per = lambda s: [int(x) / n for x in s.split()]
bt, pt, bo, po, lt, lo = (per(a) for a in sys.argv[3:9])
ratio = statistics.median(pt) / statistics.median(bt)
print(json.dumps({"workload": os.path.basename(sys.argv[9]), "runs_each": len(bt),
    "instructions_per_element": {
        "probes_compiled_out": round(statistics.median(bt), 1),
        "level0_probes_built_in": round(statistics.median(pt), 1),
        "compiled_out_runs": [round(x, 1) for x in bt],
        "level0_runs": [round(x, 1) for x in pt]},
    "own_code_instructions_per_element": {
        "probes_compiled_out": round(statistics.median(bo), 1),
        "level0_probes_built_in": round(statistics.median(po), 1)},
    "ratio": round(ratio, 4),
    "own_code_ratio": round(statistics.median(po) / statistics.median(bo), 4),
    "level1_work_instructions_per_element": {
        "median": round(statistics.median(lt), 1), "runs": [round(x, 1) for x in lt],
        "over_level0": round(statistics.median(lt) - statistics.median(pt), 1),
        # the host's own code only: steadier than the total (no pthread code)
        "own_code_over_level0": round(statistics.median(lo) - statistics.median(po), 1)},
    "budget": mx, "met": ratio <= mx}))
PY
