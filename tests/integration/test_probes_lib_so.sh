#!/usr/bin/env bash
# A host embedded as a shared object: examples/minimal-host.c built with
# -shared against the installed libtorvyn-probes.so, loaded by a small main
# with dlopen, traced at both levels by the installed torvyn-trace with the
# example's own counts exactly. The probes then sit in a shared object the
# process maps, not in its executable: this skips while the tracer only
# reads the executable's.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
. "$ROOT/tests/integration/probes_lib.sh"
TRACE=$D/usr/sbin/torvyn-trace

cat >"$T/main.c" <<'C'
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	void *h = argc > 1 ? dlopen(argv[1], RTLD_NOW) : NULL;
	int (*run)(int, char **) = h ? (int (*)(int, char **))dlsym(h, "minimal_host_main") : NULL;

	if (!run) {
		fprintf(stderr, "main: %s\n", dlerror());
		return 1;
	}
	return run(argc - 1, argv + 1);
}
C
cc -Wall -Werror -fPIC -shared -Dmain=minimal_host_main "$T/minimal-host.c" $CFLAGS_PC \
	$(pkg-config --libs torvyn-probes) -Wl,-rpath,"$D/usr/lib" -o "$T/libminimal.so"
cc -Wall -Werror "$T/main.c" -ldl -o "$T/main"
"$T/main" "$T/libminimal.so" 300 >"$T/so.json"
assert_eq "elements of flow upper, run from the shared object" 300 \
	"$(jq '.flows[0].elements' "$T/so.json")"

for level in production diagnostic; do
	rc=0
	trace_one "$level" "$T/main" "$T/libminimal.so" || rc=$?
	[ "$rc" -eq 5 ] && skip "torvyn-trace finds no probes in shared objects yet (providers" \
		"in /proc/PID/maps: issue 14, part 1, the tracer's side)"
	[ "$rc" -eq 0 ] || fail "$level: exit $rc"
done
