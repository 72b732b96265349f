#!/usr/bin/env bash
# torvyn-trace probes: the probes of build/torvyn-host as readelf -n sees
# them, the exit codes for a binary without probes, a missing process and a
# bad command line, and the semaphores of a running host: all 0 while nobody
# traces it, exactly 1 on the one probe bpftrace attaches to; with --pid, the
# probes of a runtime embedded as a shared object, listed under that file.
. "$(dirname "$0")/lib.sh"
TRACE=${TORVYN_TRACE:-$TRACE} # another build of torvyn-trace, to test it before it is linked

[ -x "$TRACE" ] || skip "$TRACE is not built (make build/torvyn-trace)"
[ -x "$HOST" ] || fail "$HOST is not built (make all)"
need_cmd jq
need_cmd readelf

# ---------------------------------------------------------------- --binary
want_names=$(sed -n 's/^[[:space:]]*probe \([a-z_]*\)(.*/\1/p' usdt/torvyn.d)
abi=$(sed -n 's/^#define TORVYN_PROBE_ABI_VERSION \([0-9]*\).*/\1/p' include/torvyn_abi.h)

# "name<TAB>args" per torvyn note, in note order
readelf -n --wide "$HOST" | awk '
	/^Displaying notes/ { t = 0 }
	/Provider: / { t = ($0 ~ /Provider: torvyn$/); next }
	t && /Name: / { sub(/.*Name: /, ""); n = $0 }
	t && /Arguments: / { sub(/.*Arguments: /, ""); print n "\t" $0 }' >"$T/notes"
[ -s "$T/notes" ] || fail "readelf -n shows no torvyn notes in $HOST"

"$TRACE" probes --binary "$HOST" -j >"$T/probes.json" || fail "probes --binary $HOST failed"
assert_eq "probes, in torvyn.d order" "$(echo $want_names)" \
	"$(jq -r '.probes[].name' "$T/probes.json" | xargs)"
assert_eq "probe ids" "$(seq 0 $(($(echo "$want_names" | wc -l) - 1)) | xargs)" \
	"$(jq -r '.probes[].id' "$T/probes.json" | xargs)"
assert_eq "abi_version" "$abi" "$(jq_get "$T/probes.json" .abi_version)"
assert_eq "pid with --binary" null "$(jq_get "$T/probes.json" .pid)"
assert_eq "binary" "$HOST" "$(jq_get "$T/probes.json" .binary)"
assert_eq "sites per probe" "$(cut -f1 "$T/notes" | sort | uniq -c | awk '{print $2 "=" $1}' | xargs)" \
	"$(jq -r '.probes[] | "\(.name)=\(.sites)"' "$T/probes.json" | sort | xargs)"
# same_lines WHAT EXPECTED ACTUAL: like assert_eq, for many lines
same_lines() {
	[ "$2" = "$3" ] || fail "$1 differ: readelf -n says
$2
torvyn-trace says
$3"
	ok "$1: $(echo "$3" | wc -l) lines as readelf -n"
}
# args: the first site's string; args_variants: every distinct one
same_lines "args (first site)" "$(awk -F'\t' '!seen[$1]++' "$T/notes" | sort)" \
	"$(jq -r '.probes[] | "\(.name)\t\(.args)"' "$T/probes.json" | sort)"
same_lines "args_variants" "$(sort -u "$T/notes")" \
	"$(jq -r '.probes[] | .name as $n | .args_variants[] | "\($n)\t\(.)"' "$T/probes.json" | sort -u)"
assert_eq "arg_count of component__invoke" 9 \
	"$(jq -r '.probes[] | select(.name == "component__invoke") | .arg_count' "$T/probes.json")"

"$TRACE" probes --binary "$HOST" >"$T/probes.txt" || fail "probes --binary (table) failed"
grep -q "^probe ABI version: $abi\$" "$T/probes.txt" || fail "table: no ABI version line"
assert_eq "table rows" "$(echo $want_names)" \
	"$(awk 'f && /^[a-z]/ {print $1} /^PROBE/ {f = 1}' "$T/probes.txt" | xargs)"

# ---------------------------------------------------------------- exit codes
# run CMD...: sets rc and err (stderr)
run() {
	rc=0
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	err=$(cat "$T/err")
}

[ -x build/torvyn-host-noprobes ] || fail "build/torvyn-host-noprobes is not built (make all)"
run "$TRACE" probes --binary build/torvyn-host-noprobes
assert_eq "exit code, binary without probes" 5 "$rc"
case $err in
*"build/torvyn-host-noprobes has no torvyn probes: is it a torvyn host built with probes?"*) ok "no-probes message" ;;
*) fail "no-probes message: $err" ;;
esac

run "$TRACE" probes --pid 999999999
assert_eq "exit code, no such process" 4 "$rc"
case $err in *"pid 999999999: no such process"*) ok "no-process message" ;; *) fail "no-process message: $err" ;; esac

run "$TRACE" probes
assert_eq "exit code, neither --pid nor --binary" 2 "$rc"
run "$TRACE" probes --pid 1 --binary "$HOST"
assert_eq "exit code, both --pid and --binary" 2 "$rc"
run "$TRACE" probes --pid 12x
assert_eq "exit code, --pid 12x" 2 "$rc"
run "$TRACE" probes --binary "$T/missing"
assert_eq "exit code, missing binary" 2 "$rc"
run "$TRACE" probes --help
assert_eq "exit code, --help" 0 "$rc"
grep -q "^Examples:$" "$T/out" || fail "--help has no Examples:"

# ---------------------------------------------------------------- --pid
# It idles in --wait-attach until a tracer raises the production gate.
bg "$HOST" run "$PIPELINES/three-stage.json" --wait-attach
host_pid=$BGPID
wait_for "the host to be mapped" 10 "$TRACE" probes --pid "$host_pid" -j
"$TRACE" probes --pid "$host_pid" -j >"$T/pid.json" || fail "probes --pid $host_pid failed"
assert_eq "pid" "$host_pid" "$(jq_get "$T/pid.json" .pid)"
assert_eq "binary of the pid" "$(readlink -f "$HOST")" "$(jq_get "$T/pid.json" .binary)"
assert_eq "probes of the pid" "$(echo $want_names)" "$(jq -r '.probes[].name' "$T/pid.json" | xargs)"
assert_eq "semaphores while nobody traces" \
	"$(echo "$want_names" | sed 's/$/=0/' | xargs)" \
	"$(jq -r '.probes[] | "\(.name)=\(.semaphore)"' "$T/pid.json" | xargs)"
# to a file first: grep -q quits at the header, and under pipefail the table's
# second write (it is over 4 KiB) would then fail with SIGPIPE
"$TRACE" probes --pid "$host_pid" >"$T/table.txt" || fail "probes --pid $host_pid (table) failed"
grep -q '^PROBE .* SEMAPHORE ' "$T/table.txt" || fail "table: no SEMAPHORE column"

# a main with one site of its own and the runtime in libprobehost.so: both
# files are listed, each probe under its file, the library's semaphores read
# where the library maps them
shared=$ROOT/build/integ/probe_host_shared
[ -x "$shared" ] || fail "build/integ/probe_host_shared is not built (make unit)"
bg "$shared" 1000 5 >"$T/shared.out"
shared_pid=$BGPID
wait_for "probe_host_shared to start" 10 grep -qx ready "$T/shared.out"
"$TRACE" probes --pid "$shared_pid" -j >"$T/shared.json" || fail "probes --pid of probe_host_shared failed"
assert_eq "files with probes" "$shared $ROOT/build/integ/libprobehost.so" \
	"$(jq -r '.files[].path' "$T/shared.json" | xargs)"
assert_eq "probes by file" "probe_host_shared:abi__version libprobehost.so:abi__version libprobehost.so:gate__production libprobehost.so:metrics__flush" \
	"$(jq -r '.probes[] | "\(.file | sub(".*/"; "")):\(.name)"' "$T/shared.json" | xargs)"
assert_eq "the library's semaphores while nobody traces" "0 0 0" \
	"$(jq -r '.probes[] | select(.file | endswith("/libprobehost.so")) | .semaphore' "$T/shared.json" | xargs)"
"$TRACE" probes --pid "$shared_pid" >"$T/shared.txt" || fail "probes --pid of probe_host_shared (table) failed"
grep -qx "pid $shared_pid: $ROOT/build/integ/libprobehost.so (a shared object it maps)" "$T/shared.txt" ||
	fail "the table does not name the library: $(cat "$T/shared.txt")"
kill "$shared_pid"

if [ "$(id -u)" -ne 0 ]; then
	echo "semaphores under a tracer and the permission error not checked: need root"
	exit 0
fi

# a user who may not look at the host: exit 8 with what to do
if setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$TRACE" 2>/dev/null; then
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$TRACE" probes --pid "$host_pid"
	assert_eq "exit code, pid of another user" 8 "$rc"
	case $err in *"run as root"*) ok "permission message" ;; *) fail "permission message: $err" ;; esac
else
	echo "permission error not checked: nobody cannot run $TRACE"
fi

if command -v bpftrace >/dev/null && [ -d /sys/bus/event_source/devices/uprobe ]; then
	# one tracer on pool__exhausted (one site): its semaphore is 1, every other 0
	sem_is() { # NAME VALUE
		[ "$("$TRACE" probes --pid "$host_pid" -j |
			jq -r ".probes[] | select(.name == \"$1\") | .semaphore")" = "$2" ]
	}
	bg bpftrace -p "$host_pid" -e "usdt:$HOST:torvyn:pool__exhausted { @ = count(); }"
	bt_pid=$BGPID
	wait_for "bpftrace to raise the pool__exhausted semaphore" 120 sem_is pool__exhausted 1
	"$TRACE" probes --pid "$host_pid" -j >"$T/bt.json"
	assert_eq "semaphores under bpftrace" \
		"$(echo "$want_names" | sed 's/^pool__exhausted$/&=1/; /=1$/!s/$/=0/' | xargs)" \
		"$(jq -r '.probes[] | "\(.name)=\(.semaphore)"' "$T/bt.json" | xargs)"
	# TERM, not INT: a job started with & by a non-interactive shell ignores
	# INT until bpftrace installs its handler
	kill -TERM "$bt_pid"
	wait_exit "$bt_pid" 30 || true
	wait_for "the semaphore to drop when bpftrace exits" 10 sem_is pool__exhausted 0
	ok "pool__exhausted semaphore back to 0"
else
	echo "semaphores under a tracer not checked: needs bpftrace and uprobes"
fi
