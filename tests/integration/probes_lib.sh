# Shared by test_probes_lib*.sh: sourced after lib.sh, never run.
# make install into a temporary tree, and examples/minimal-host.c built
# against that tree only: pkg-config sees no other .pc file
# (PKG_CONFIG_LIBDIR) and prefixes every path with the tree
# (PKG_CONFIG_SYSROOT_DIR); the source is copied out of the repository, so
# no include can reach into it.
need_cmd pkg-config
need_cmd cc
need_cmd curl
CHECK="python3 $ROOT/tests/integration/prom_check.py"
D=$T/root
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$ROOT" install \
	DESTDIR="$D" PREFIX=/usr >"$T/install.out" || { cat "$T/install.out"; fail "make install"; }
unset PKG_CONFIG_PATH
export PKG_CONFIG_LIBDIR=$D/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
cp "$ROOT/examples/minimal-host.c" "$T/minimal-host.c"
CFLAGS_PC=$(pkg-config --cflags torvyn-probes | xargs)
assert_eq "pkg-config --cflags torvyn-probes" "-I$D/usr/include" "$CFLAGS_PC"
assert_eq "pkg-config --libs torvyn-probes" "-L$D/usr/lib -ltorvyn-probes" \
	"$(pkg-config --libs torvyn-probes | xargs)"

# trace_one LEVEL PROGRAM ARGS...: runs PROGRAM ARGS 2000 --wait-attach under a
# tracer at LEVEL; its JSON counts must equal the final scrape series by series.
# Returns 5 (the tracer found no probes) without failing, for the caller to word.
trace_one() {
	local level=$1 d=$T/$1.$RANDOM port hpid tpid rc=0
	shift
	mkdir -p "$d"
	bg "$@" 2000 --wait-attach >"$d/summary.json"
	hpid=$BGPID
	port=$(pick_port 19850)
	bg "$TRACE" attach --pid "$hpid" --level "$level" --listen "127.0.0.1:$port" 2>"$d/trace.err"
	tpid=$BGPID
	# the example waits for the production gate: one that never rises hangs it
	local i=0
	while kill -0 "$hpid" 2>/dev/null && kill -0 "$tpid" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -lt 1200 ] || fail "$level: the example still runs after 60 s (did the gate rise?)"
		sleep 0.05
	done
	if ! kill -0 "$tpid" 2>/dev/null; then
		wait "$tpid" || rc=$?
		cat "$d/trace.err" >&2
		[ "$rc" -eq 5 ] && return 5
		fail "$level: torvyn-trace exited $rc while the example runs"
	fi
	wait_exit "$hpid" 60 || fail "$level: the example exited $?"
	wait_for "$level: torvyn_trace_target_up 0" 10 \
		scraped_final "http://127.0.0.1:$port/metrics" "$d/final.prom"
	local diag=()
	[ "$level" = diagnostic ] && diag=(--diagnostic)
	$CHECK "$d/summary.json" "$d/final.prom" "${diag[@]}" ||
		fail "$level: the scrape differs from the example's own counts"
	# known truths: 2000 elements a flow, every 7th failed in "checked"
	assert_eq "$level: elements of flow checked" 2000 "$(unhost <"$d/final.prom" |
		awk '$1 == "torvyn_flow_elements_total{flow_id=\"checked\"}" { print $2 }')"
	assert_eq "$level: errors of flow checked" 286 "$(unhost <"$d/final.prom" |
		awk '$1 == "torvyn_flow_errors_total{flow_id=\"checked\"}" { print $2 }')"
	kill -INT "$tpid"
	wait_exit "$tpid" 10 || fail "$level: torvyn-trace exited $? on SIGINT"
}
