#!/usr/bin/env bash
# Level 0 cost: instructions per element (valgrind callgrind, repeatable) of
# the reference workload, probes built in but nothing attached, against the
# build with every probe compiled out. Per-element figures are the difference
# of two runs (N1 and N2 elements), so startup and teardown cancel out.
# Prints one JSON object; exits 1 if the ratio exceeds LEVEL0_MAX (1.01).
set -euo pipefail
cd "$(dirname "$0")/.."
N1=${N1:-20000}
N2=${N2:-60000}
PIPE=${PIPE:-user/host/pipelines/three-stage.json}
MAX=${LEVEL0_MAX:-1.01}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

instr() { # BIN N -> total instructions (all threads)
	valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.%p" "$1" run "$PIPE" --elements "$2" \
		>/dev/null 2>"$tmp/vg.log"
	local total=0 f
	for f in "$tmp"/cg.*; do
		total=$((total + $(sed -n 's/^summary: \([0-9]*\)/\1/p' "$f")))
	done
	rm -f "$tmp"/cg.*
	echo "$total"
}

declare -A per
for b in torvyn-host-noprobes torvyn-host; do
	i1=$(instr "build/$b" "$N1")
	i2=$(instr "build/$b" "$N2")
	per[$b]=$(python3 -c "print(($i2 - $i1) / ($N2 - $N1))")
done
python3 - "$MAX" "${per[torvyn-host-noprobes]}" "${per[torvyn-host]}" <<'PY'
import json, sys
mx, base, probes = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
ratio = probes / base
print(json.dumps({"workload": "three-stage.json", "instructions_per_element": {
    "probes_compiled_out": round(base, 1), "level0_probes_built_in": round(probes, 1)},
    "ratio": round(ratio, 4), "budget": mx}))
sys.exit(0 if ratio <= mx else 1)
PY
