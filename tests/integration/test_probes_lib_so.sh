#!/usr/bin/env bash
# A host embedded as a shared object: examples/minimal-host.c built with
# -shared against the installed libtorvyn-probes.so, loaded by a small main
# with dlopen. bpftrace on the installed libtorvyn-probes.so raises the
# example's gate (it waits for it) and sees its flushes; then the installed
# torvyn-trace traces it at both levels with the example's own counts
# exactly: the probes sit in a shared object the process maps, not in its
# executable.
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

# an independent consumer first: bpftrace on the shared library raises the
# gate (the example waits for it), and sees every block flushed
if command -v bpftrace >/dev/null; then
	so=$D/usr/lib/libtorvyn-probes.so.1
	bg "$T/main" "$T/libminimal.so" 300 --wait-attach >"$T/bt.json"
	hpid=$BGPID
	bpftrace -p "$hpid" -e "usdt:$so:torvyn:gate__production { @gate = count(); }
		usdt:$so:torvyn:metrics__flush { @[arg2] = count(); }" >"$T/bt.out" 2>&1 &
	bt=$!
	PIDS+=("$bt")
	# it ran to its end: it saw the gate bpftrace raised (whether bpftrace then
	# caught the gate's own hit races the kernel's breakpoint write: not counted)
	wait_exit "$hpid" 30 || fail "the example exited $? under bpftrace"
	ok "the example waiting in libtorvyn-probes.so saw bpftrace's gate"
	wait_exit "$bt" 10 || true
	comp=$(sed -n 's/^@\[2\]: //p' "$T/bt.out")
	sys=$(sed -n 's/^@\[5\]: //p' "$T/bt.out")
	[ -n "$sys" ] && [ "$sys" -ge 1 ] || fail "no system block flushed: $(cat "$T/bt.out")"
	assert_eq "component blocks per flush (2 flows of 3)" 6 $((comp / sys))
else
	echo "bpftrace is missing: the gate under an independent consumer was not checked"
fi

for level in production diagnostic; do
	trace_one "$level" "$T/main" "$T/libminimal.so" ||
		fail "$level: torvyn-trace found no probes in the shared objects the process maps"
done
