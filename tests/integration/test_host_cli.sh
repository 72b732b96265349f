#!/usr/bin/env bash
# torvyn-host on its own: a component loaded from a shared object through the
# C ABI, a lines source and a file sink, exact counts in the summary; every
# kind of bad input gets its exit code and a message naming file, line, field.
. "$(dirname "$0")/lib.sh"

# a plugin processor (build/plugins/uppercase.so) between a lines source and a file sink
printf 'alpha\nbeta\ngamma delta\n' >"$T/in.txt"
for i in $(seq 1 97); do echo "record $i" >>"$T/in.txt"; done
cat >"$T/plugin.json" <<JSON
{"flows": [{"id": "upper", "components": [
  {"id": "read", "role": "source", "kind": "lines", "path": "$T/in.txt"},
  {"id": "shout", "role": "processor", "kind": "plugin", "path": "$ROOT/build/plugins/uppercase.so"},
  {"id": "write", "role": "sink", "kind": "file", "path": "$T/out.txt"}]}]}
JSON
"$HOST" run "$T/plugin.json" --summary "$T/summary.json" || fail "the plugin pipeline exited $?"
assert_eq "records written" 100 "$(wc -l <"$T/out.txt")"
assert_eq "first record, upper-cased by the plugin" "ALPHA" "$(head -1 "$T/out.txt" | sed 's/^traceparent=[^ ]* //')"
assert_eq "third record" "GAMMA DELTA" "$(sed -n 3p "$T/out.txt" | sed 's/^traceparent=[^ ]* //')"
grep -qv '^traceparent=00-[0-9a-f]\{32\}-[0-9a-f]\{16\}-0[01] ' "$T/out.txt" &&
	fail "a record without its traceparent: $(grep -v '^traceparent=' "$T/out.txt" | head -1)"
ok "every written record carries a W3C traceparent"
S="$T/summary.json"
assert_eq "source invocations (one per line; end of file is not one)" 100 "$(jq_get "$S" '.flows[0].components[0].invocations')"
assert_eq "plugin invocations" 100 "$(jq_get "$S" '.flows[0].components[1].invocations')"
assert_eq "MetadataMarshal copies (the plugin's view)" 100 "$(jq_get "$S" '.flows[0].copies.MetadataMarshal.count')"
assert_eq "HostSerialize bytes (the file sink)" "$(sed 's/^traceparent=[^ ]* //' "$T/out.txt" | tr -d '\n' | wc -c)" \
	"$(jq_get "$S" '.flows[0].copies.HostSerialize.bytes')"
assert_eq "flow state" Completed "$(jq_get "$S" '.flows[0].state')"

# bad input: exit code and message
expect() { # CODE PATTERN ARGS...
	local code=$1 pat=$2 rc=0
	shift 2
	"$HOST" "$@" >"$T/out" 2>"$T/err" || rc=$?
	assert_eq "exit code of torvyn-host $*" "$code" "$rc"
	grep -q -- "$pat" "$T/err" || fail "message of torvyn-host $*: want /$pat/, got: $(cat "$T/err")"
}
cat >"$T/bad.json" <<'JSON'
{"flows": [{"id": "f", "components": [
  {"id": "a", "role": "source", "kind": "generator"},
  {"id": "b", "role": "sink", "kind": "nul"}]}]}
JSON
expect 3 "bad.json:3: flows\[0\].components\[1\].kind" run "$T/bad.json"
printf '{"flows": [\n  {"id": "f",,}\n]}\n' >"$T/syntax.json"
expect 3 "syntax.json:2:" run "$T/syntax.json"
expect 4 "cannot read" run "$T/missing.json"
expect 2 "expected a whole number" run "$PIPELINES/three-stage.json" --elements -3
expect 2 "unknown command" frobnicate
sed "s|$ROOT/build/plugins/uppercase.so|$T/nope.so|" "$T/plugin.json" >"$T/noplugin.json"
expect 5 "cannot load" run "$T/noplugin.json"
expect 2 "expected milliseconds in \[10, 60000\]" run "$PIPELINES/three-stage.json" --ab-period 5
expect 2 "cannot write progress log $T/no/such/dir/p.log" run "$PIPELINES/three-stage.json" \
	--elements 10 --progress-log "$T/no/such/dir/p.log"

# --ab-period with --progress-log (what make bench compares levels with): the
# hot path flips between the forced level and Level 0 every 20 ms, the log
# says which half each 5 ms tick was in, and no element is lost or counted
# twice across the flips.
"$HOST" run "$PIPELINES/three-stage.json" --elements 300000 --force-level 1 --ab-period 20 \
	--progress-log "$T/progress.log" --summary "$T/ab.json" || fail "the --ab-period run exited $?"
assert_eq "elements through the flow with the hot path flipping" 300000 "$(jq_get "$T/ab.json" '.flows[0].elements')"
assert_eq "sink invocations with the hot path flipping" 300000 "$(jq_get "$T/ab.json" '.flows[0].components[2].invocations')"
awk 'NF != 4 || $3 != $4 { print "bad line " NR ": " $0; exit 1 }
     NR > 1 && ($1 <= t || $2 < n) { print "line " NR " goes backwards: " $0; exit 1 }
     { t = $1; n = $2; if ($4 != h) flips++; h = $4; half[$4]++ }
     END { if (!half[0] || !half[1] || flips < 4) { print "halves not alternating: " flips " flips"; exit 1 }
           if (n > 300000) { print "ended " n " of 300000"; exit 1 } }' "$T/progress.log" ||
	fail "the progress log: see above"
ok "progress log: $(wc -l <"$T/progress.log") ticks, time and counts monotonic, Level 1 and Level 0 halves alternating"
