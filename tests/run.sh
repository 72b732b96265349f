#!/usr/bin/env bash
# Runs every test: cmocka unit tests, then the integration tests (as root),
# then each fuzz harness on its corpus and for FUZZ_SECONDS (10) more.
# Ends with one line "N passed, N failed, N skipped".
# TESTS=pattern runs only the integration tests and harnesses whose name matches.
# SUITES picks among unit, integ, fuzz (the default: all three) and san (the
# sanitized attach sessions, tests/fuzz/san_*.sh); BUILD the build (build).
# FUZZ_KEEP=1 keeps a harness's new inputs in $BUILD/fuzz/new/NAME.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
SUITES=" ${SUITES:-unit integ fuzz} "
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
export BUILD
passed=0 failed=0 skipped=0
failed_names=()
logdir=$BUILD/test-logs
mkdir -p "$logdir"

# script NAME FILE: one shell test, its status 0 pass, 77 skip, else fail
script() {
	local name=$1 t=$2 start rc secs res
	start=$(date +%s)
	bash "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) passed=$((passed + 1)); res=PASS ;;
	77) skipped=$((skipped + 1)); res="SKIP ($(grep -m1 '^SKIP' "$logdir/$name.log" | cut -c6-))" ;;
	*) failed=$((failed + 1)); res=FAIL; failed_names+=("$name")
	   sed 's/^/    | /' "$logdir/$name.log" | tail -40 ;;
	esac
	printf '%-5s %-36s %s (%ss)\n' "$3" "$name" "$res" "$secs"
}

# fuzz NAME BIN: the corpus, then FUZZ_SECONDS of fuzzing; any crash fails
fuzz() {
	local name=$1 bin=$2 short=${1#fuzz_} new rc log maxlen execs
	log=$logdir/$name.log
	new=$BUILD/fuzz/new/$short
	[ "${FUZZ_KEEP:-0}" = 1 ] || new=$(mktemp -d)
	mkdir -p "$new"
	maxlen=$(sed -n "s/^FUZZ_MAXLEN_$short := //p" tests/fuzz/fuzz.mk)
	# new inputs go to $new (first); the corpus is only read
	"$bin" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 ${maxlen:+-max_len=$maxlen} -artifact_prefix="$logdir/$name-" \
		"$new" "tests/fuzz/corpus/$short" >"$log" 2>&1
	rc=$?
	[ "${FUZZ_KEEP:-0}" = 1 ] || rm -rf "$new"
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf 'fuzz  %-36s PASS (%ss, corpus %d, %s execs/s)\n' "$name" "$FUZZ_SECONDS" \
			"$(ls "tests/fuzz/corpus/$short" | wc -l)" "${execs:-?}"
	else
		failed=$((failed + 1)) failed_names+=("$name")
		grep -E -A30 'fuzz check failed|ERROR: |runtime error' "$log" | head -40 | sed 's/^/    | /'
		printf 'fuzz  %-36s FAIL (input kept as %s)\n' "$name" "$(ls "$logdir/$name"-* 2>/dev/null | head -1)"
	fi
}

case $SUITES in *" unit "*) ;; *) unit_off=1 ;; esac
for t in $BUILD/tests/test_*; do
	[ -z "${unit_off:-}" ] || break
	[ -x "$t" ] || continue
	name=$(basename "$t")
	out=$("$t" 2>&1)
	rc=$?
	p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
	p=${p:-0} f=${f:-0}
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failed_names+=("$name")
		printf '%s\n' "$out" | grep -E 'FAIL|ERROR|error' | head -20
	fi
	printf 'unit  %-36s %3d passed %3d failed\n' "$name" "$p" "$f"
done

# scripts SUITE FILE...: each shell test whose name matches TESTS
scripts() {
	local suite=$1 t name
	shift
	for t in "$@"; do
		name=$(basename "$t" .sh)
		case "$name" in *${TESTS:-}*) ;; *) continue ;; esac
		script "$name" "$t" "$suite"
	done
}
case $SUITES in *" integ "*) scripts integ tests/integration/test_*.sh ;; esac
case $SUITES in *" san "*) scripts san tests/fuzz/san_*.sh ;; esac

case $SUITES in *" fuzz "*)
	for t in $BUILD/fuzz/fuzz_*; do
		[ -x "$t" ] || continue
		name=$(basename "$t")
		case "$name" in *${TESTS:-}*) ;; *) continue ;; esac
		fuzz "$name" "$t"
	done
esac

# the cause of each failure again, last: CI shows only the end of the output
for name in "${failed_names[@]}"; do
	grep -h -m3 -E '^FAIL|ERROR|runtime error' "$logdir/$name.log" 2>/dev/null | cut -c1-300 |
		sed "s/^/  $name: /"
done
[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $logdir/)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
