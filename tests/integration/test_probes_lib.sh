#!/usr/bin/env bash
# libtorvyn-probes as a user gets it: make install DESTDIR=... PREFIX=/usr,
# examples/minimal-host.c built with pkg-config against that tree alone,
# linked statically (-l:libtorvyn-probes.a) and dynamically; both print the
# same counts; the static one, traced by the installed torvyn-trace at the
# production and the diagnostic level, is exported exactly as it counted
# itself (prom_check.py against its JSON). Its probes are the library's:
# abi__version a constant, no argument relative to %rip.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
. "$ROOT/tests/integration/probes_lib.sh"
TRACE=$D/usr/sbin/torvyn-trace

cc -Wall -Wextra -Werror "$T/minimal-host.c" $CFLAGS_PC $(pkg-config --libs-only-L torvyn-probes) \
	-l:libtorvyn-probes.a -pthread -o "$T/mh-static"
cc -Wall -Wextra -Werror "$T/minimal-host.c" $CFLAGS_PC $(pkg-config --libs torvyn-probes) \
	-Wl,-rpath,"$D/usr/lib" -o "$T/mh-shared"
readelf -d "$T/mh-shared" | grep -q 'NEEDED.*libtorvyn-probes\.so\.1' ||
	fail "the dynamic build does not need libtorvyn-probes.so.1"
readelf -d "$D/usr/lib/libtorvyn-probes.so.1" | grep -q 'SONAME.*\[libtorvyn-probes\.so\.1\]' ||
	fail "the installed shared object has no SONAME libtorvyn-probes.so.1"
ok "built statically and dynamically against the installed tree"

"$T/mh-static" 300 >"$T/static.json"
"$T/mh-shared" 300 >"$T/shared.json"
cmp "$T/static.json" "$T/shared.json" || fail "the static and the dynamic build count differently"
assert_eq "upper's copies (one per element)" 300 \
	"$(jq '.flows[0].copies.PayloadWrite.count' "$T/static.json")"

readelf -n "$T/mh-static" >"$T/notes"
grep -A2 'Name: abi__version' "$T/notes" | grep -q 'Arguments: 8@\$1' ||
	fail "abi__version's argument is not the constant 1: $(grep -A2 'Name: abi__version' "$T/notes")"
! grep -q '(%rip)' "$T/notes" || fail "a probe argument is relative to %rip"
for p in gate__production gate__diagnostic metrics__flush component__invoke trace__promote; do
	grep -q "Name: $p\$" "$T/notes" || fail "the static build has no $p probe site"
done
ok "probe sites: the gates, metrics__flush, component__invoke, trace__promote; abi__version 1"

for level in production diagnostic; do
	trace_one "$level" "$T/mh-static" || fail "$level: torvyn-trace found no probes in the static build"
done
