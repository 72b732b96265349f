#!/usr/bin/env bash
# Runs every test: cmocka unit tests, then the integration tests (as root).
# Ends with one line "N passed, N failed, N skipped".
# TESTS=pattern runs only the integration tests whose name matches.
set -u
cd "$(dirname "$0")/.."
passed=0 failed=0 skipped=0
failed_names=()
logdir=build/test-logs
mkdir -p "$logdir"

for t in build/tests/test_*; do
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

for t in tests/integration/test_*.sh; do
	name=$(basename "$t" .sh)
	case "$name" in *${TESTS:-}*) ;; *) continue ;; esac
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
	printf 'integ %-36s %s (%ss)\n' "$name" "$res" "$secs"
done

[ ${#failed_names[@]} -gt 0 ] && echo "failed: ${failed_names[*]} (logs in $logdir/)"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
