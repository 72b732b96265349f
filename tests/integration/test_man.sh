#!/usr/bin/env bash
# The manual pages (docs/man/) against the programs, so that they cannot drift:
# - groff -man -ww and man --warnings find nothing to say about any page;
# - torvyn-trace(8) has a section (.SS) for every verb `torvyn-trace --help`
#   lists, and each verb's section names every long option of that verb's
#   --help (which prints the verb's option table); every option a section
#   lists (.TP lines) is one the verb has;
# - torvyn-host(1) names every long option of torvyn-host's getopt table,
#   and lists no other;
# - torvyn-probes(7) describes every probe of usdt/torvyn.d, and no other;
# - each page's EXIT STATUS lists exactly the program's exit codes, and
#   torvyn-trace(8)'s ENVIRONMENT exactly the OTEL_* variables it reads;
# - the pages' version is the Makefile's VERSION, and both programs print it
#   with --version (torvyn-trace also with `version` and -V), exit 0; the
#   Makefile outside a git clone (a tarball) gives VERSION alone.
. "$(dirname "$0")/lib.sh"
[ -x "$TRACE" ] && [ -x "$HOST" ] || fail "build/torvyn-trace or build/torvyn-host missing: make all first"
need_cmd groff
MAN=$ROOT/docs/man

# ---------------------------------------------------------------- lint
for page in "$MAN"/*.[0-9]; do
	groff -man -ww -z "$page" >"$T/lint" 2>&1 || fail "groff failed on $page: $(cat "$T/lint")"
	[ ! -s "$T/lint" ] || fail "groff -man -ww on $(basename "$page"): $(cat "$T/lint")"
	if command -v man >/dev/null; then
		MANWIDTH=80 man --warnings -l "$page" >/dev/null 2>"$T/lint" || true
		[ ! -s "$T/lint" ] || fail "man --warnings on $(basename "$page"): $(cat "$T/lint")"
	fi
	ok "$(basename "$page") lints clean"
done

# section PAGE HEADING: the lines of one .SS (or .SH) section of PAGE, up to the next heading
section() {
	awk -v h="$2" '/^\.S[SH] /{ on = ($0 == h) ; next } on' "$1"
}
# long_opts: the long option names in roff text on stdin (\-\-name -> name), sorted
long_opts() { grep -oE '\\-\\-[a-z][a-z0-9]*(\\-[a-z0-9]+)*' | sed 's/\\-/-/g; s/^--//' | LC_ALL=C sort -u; }
# listed_opts: the options a section lists, i.e. named on the line after each .TP
listed_opts() { awk 'p { print; p = 0 } /^\.TP/ { p = 1 }' | long_opts; }
# help_opts: the long options of a --help on stdin (its option lines only)
help_opts() {
	grep -E '^  (-[a-zA-Z], |    )--[a-z]' | sed -E 's/^ *(-[a-zA-Z], )?--([a-z0-9-]+).*/\2/' |
		LC_ALL=C sort -u
}
# missing A B: the lines of A that B lacks
missing() { LC_ALL=C comm -23 <(printf '%s\n' "$1") <(printf '%s\n' "$2") | paste -sd' '; }

# ---------------------------------------------------------------- torvyn-trace(8)
PAGE=$MAN/torvyn-trace.8
"$TRACE" --help >"$T/help"
verbs=$(sed -n '/^Commands:/,/^$/p' "$T/help" | awk 'NF && !/^Commands:/ { print $1 }')
[ "$(echo "$verbs" | wc -l)" -ge 6 ] || fail "torvyn-trace --help lists too few commands: $verbs"
for v in $verbs; do
	grep -qx "\.SS $v" "$PAGE" || fail "torvyn-trace(8) has no section for the verb $v"
	[ "$v" != version ] || continue
	"$TRACE" "$v" --help >"$T/$v.help" || fail "torvyn-trace $v --help exited $?"
	code=$(help_opts <"$T/$v.help")
	[ -n "$code" ] || fail "torvyn-trace $v --help lists no options"
	man=$(section "$PAGE" ".SS $v" | long_opts)
	gone=$(missing "$code" "$man")
	[ -z "$gone" ] || fail "torvyn-trace(8), section $v, lacks: $gone"
	extra=$(missing "$(section "$PAGE" ".SS $v" | listed_opts)" "$code")
	[ -z "$extra" ] || fail "torvyn-trace(8), section $v, lists options $v does not have: $extra"
	ok "torvyn-trace(8) $v: all $(echo "$code" | wc -l) options"
done

# exit codes: exitcodes.h's enum against EXIT STATUS
codes() { sed -n 's/^[[:space:]]*[A-Z_]* = \([0-9]*\),.*/\1/p' | LC_ALL=C sort -u; }
man_codes() { section "$1" ".SH EXIT STATUS" | sed -n 's/^\.B \([0-9]*\)$/\1/p' | LC_ALL=C sort -u; }
assert_eq "torvyn-trace(8) exit codes" "$(codes <"$ROOT/user/trace/cli/exitcodes.h" | paste -sd' ')" \
	"$(man_codes "$PAGE" | paste -sd' ')"

# environment: every OTEL_* variable the exporter reads
code=$(grep -rhoE '"OTEL_[A-Z_]+"' "$ROOT/user/trace" | tr -d '"' | LC_ALL=C sort -u)
[ -n "$code" ] || fail "found no OTEL_ variable in user/trace"
man=$(section "$PAGE" ".SH ENVIRONMENT" | sed -n 's/^\.B \(OTEL_[A-Z_]*\)$/\1/p' | LC_ALL=C sort -u)
assert_eq "torvyn-trace(8) ENVIRONMENT against the variables read" "$(echo "$code" | paste -sd' ')" \
	"$(echo "$man" | paste -sd' ')"

# ---------------------------------------------------------------- torvyn-host(1)
PAGE=$MAN/torvyn-host.1
code=$(sed -n 's/^[[:space:]]*{ *"\([a-z-]*\)", *\(no\|required\)_argument.*/\1/p' \
	"$ROOT/user/host/main.c" | LC_ALL=C sort -u)
[ "$(echo "$code" | wc -l)" -ge 10 ] || fail "found too few options in user/host/main.c: $code"
code=$(printf '%s\nversion\n' "$code" | LC_ALL=C sort -u)
man=$(section "$PAGE" ".SH OPTIONS" | long_opts)
gone=$(missing "$code" "$man")
[ -z "$gone" ] || fail "torvyn-host(1) OPTIONS lacks: $gone"
extra=$(missing "$(section "$PAGE" ".SH OPTIONS" | listed_opts)" "$code")
[ -z "$extra" ] || fail "torvyn-host(1) lists options torvyn-host does not have: $extra"
gone=$(missing "$code" "$("$HOST" --help | grep -o -- '--[a-z][a-z-]*' | sed 's/^--//' | LC_ALL=C sort -u)")
[ -z "$gone" ] || fail "torvyn-host --help lacks: $gone"
ok "torvyn-host(1) and --help: all $(echo "$code" | wc -l) options"
assert_eq "torvyn-host(1) exit codes" \
	"$(sed -n '/^enum {/,/^};/p' "$ROOT/user/host/main.c" | codes | paste -sd' ')" \
	"$(man_codes "$PAGE" | paste -sd' ')"

# ---------------------------------------------------------------- torvyn-probes(7)
PAGE=$MAN/torvyn-probes.7
code=$(sed -n 's/^[[:space:]]*probe \([a-z_]*\)(.*/\1/p' "$ROOT/usdt/torvyn.d" | LC_ALL=C sort -u)
[ "$(echo "$code" | wc -l)" -ge 19 ] || fail "found too few probes in usdt/torvyn.d: $code"
man=$(section "$PAGE" ".SH PROBES" | sed -n 's/^\.BI \([a-z_]*\)(.*/\1/p' | LC_ALL=C sort -u)
assert_eq "probes of torvyn-probes(7) against usdt/torvyn.d" "$(echo "$code" | paste -sd' ')" \
	"$(echo "$man" | paste -sd' ')"
abi=$(sed -n 's/^#define TORVYN_PROBE_ABI_VERSION \([0-9]*\)$/\1/p' "$ROOT/include/torvyn_abi.h")
grep -q "^currently$" "$PAGE" && section "$PAGE" ".SH DESCRIPTION" | grep -qx "\.BR $abi ," ||
	fail "torvyn-probes(7) does not give the ABI version $abi"
ok "torvyn-probes(7) gives ABI version $abi"

# ---------------------------------------------------------------- versions
version=$(sed -n 's/^VERSION := //p' "$ROOT/Makefile")
[ -n "$version" ] || fail "no VERSION in the Makefile"
for page in "$MAN"/*.[0-9]; do
	grep -q "^\.TH .* \"torvyn-[a-z]* $version\" " "$page" ||
		fail "$(basename "$page"): .TH does not carry version $version: $(grep '^\.TH' "$page")"
done
ok "every page says version $version"
for args in "$TRACE --version" "$TRACE version" "$TRACE -V" "$HOST --version" "$HOST -V"; do
	rc=0
	$args >"$T/version" 2>&1 || rc=$?
	assert_eq "exit status of ${args#"$ROOT/"}" 0 "$rc"
	name=$(basename "${args%% *}")
	grep -qE "^$name $version( \(git [^)]*\))?, probe ABI $abi\$" "$T/version" ||
		fail "${args#"$ROOT/"} printed: $(cat "$T/version")"
done
ok "both programs print version $version and probe ABI $abi"

# outside a git clone (a release tarball) the version is VERSION alone
mkdir -p "$T/tarball/tests/unit" "$T/tarball/tests/fuzz"
cp "$ROOT/Makefile" "$T/tarball/"
cp "$ROOT/tests/unit/modules.mk" "$T/tarball/tests/unit/"
cp "$ROOT/tests/fuzz/fuzz.mk" "$T/tarball/tests/fuzz/"
assert_eq "the version built from a tarball" "[$version]" \
	"$(env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$T/tarball" \
		--eval 'print-version: ; @echo "[$(FULL_VERSION)]"' print-version 2>/dev/null)"
