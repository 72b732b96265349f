#!/usr/bin/env bash
# make run (tools/run-demo.sh), the first minute of a new user:
# - the banner names each fault demo.json injects (flow, component, element)
#   and says how to switch to the diagnostic level in plain words;
# - every EVERY seconds it prints the series it names first (SERIES_* in the
#   script, read from there), each of them present, and not the whole scrape;
# - SIGINT ends it with exit 0, the host and the tracer it started gone;
# - `make run` on a terminal, ended by Ctrl-C, exits 0 with no make error
#   (make would report the recipe interrupted if the Ctrl-C reached it).
# Each run listens on a free port and stops only what it started.
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
need_cmd curl
DEMO=$ROOT/tools/run-demo.sh
port=$(pick_port 19960)

# ---------------------------------------------------------------- SIGINT, no terminal
# env --default-signal: a background job of this shell would start with
# SIGINT ignored, which a script cannot trap again (and not lib.sh's bg: the
# demo is a bash script too, so bg cannot see it exec)
env --default-signal=INT LISTEN="127.0.0.1:$port" EVERY=1 "$DEMO" </dev/null >"$T/out" 2>&1 &
demo=$!
PIDS+=("$demo")
two_reports() { [ "$(grep -c "^--- " "$T/out")" -ge 2 ]; }
wait_for "two reports of the series" 20 two_reports
kill -INT "$demo"
rc=0
wait_exit "$demo" 15 || rc=$?
cat "$T/out"
assert_eq "run-demo.sh's exit status after SIGINT" 0 "$rc"
host=$(sed -n 's/^  torvyn-host pid \([0-9]*\) runs .*; torvyn-trace pid \([0-9]*\) is attached.*/\1/p' "$T/out")
trace=$(sed -n 's/^  torvyn-host pid \([0-9]*\) runs .*; torvyn-trace pid \([0-9]*\) is attached.*/\2/p' "$T/out")
[ -n "$host" ] && [ -n "$trace" ] || fail "the banner names no host and tracer pid"
! kill -0 "$host" 2>/dev/null || fail "the host (pid $host) still runs"
! kill -0 "$trace" 2>/dev/null || fail "the tracer (pid $trace) still runs"
ok "host and tracer stopped"

# the banner: one line per fault of the pipeline, with its element
while read -r flow comp type at; do
	grep -qE "^  flow $flow, $comp: .*element $at\\b" "$T/out" ||
		fail "the banner does not name the $type of $comp at element $at"
done < <(jq -r '.flows[] as $f | $f.components[] as $c | ($c.faults // [])[] |
	"\($f.id) \($c.id) \(.type) \(.at)"' "$ROOT/user/host/pipelines/demo.json")
grep -q "Switch to the diagnostic level" "$T/out" || fail "no plain wording for the diagnostic level"
! grep -q "Go diagnostic" "$T/out" || fail "the banner still says 'Go diagnostic'"
ok "the banner names the faults and the level switch"

# the series: each one named in the script is in the last report
last=$(awk '/^--- /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$T/out")
n=0
for s in $(sed -n 's/^SERIES_[A-Z]*=\([a-z_]*\).*/\1/p' "$DEMO"); do
	grep -qE "^  (p99 of )?$s[{ ]" <<<"$last" || fail "series $s missing from the last report"
	n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "the script names $n series, expected at least 5"
lines=$(($(wc -l <<<"$last") - 1))
[ "$lines" -lt 40 ] || fail "a report of $lines lines: not a short list"
ok "the $n series, in $lines lines"

# ---------------------------------------------------------------- make run, Ctrl-C
port=$(pick_port $((port + 1)))
rc=0
# (SIGINT by default here too: inherited ignored, it would stay ignored under
# make, and the demo could not trap the Ctrl-C)
env --default-signal=INT -u MAKEFLAGS -u MFLAGS -u MAKELEVEL LISTEN="127.0.0.1:$port" EVERY=1 \
	python3 - "$ROOT" >"$T/make.out" 2>&1 <<'PY' || rc=$?
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp("make", ["make", "--no-print-directory", "-C", sys.argv[1], "run"])
out, start, sent = b"", time.time(), None
while time.time() - start < 120:
    if select.select([fd], [], [], 0.2)[0]:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
    if sent is None and out.count(b"\n--- ") >= 1:
        os.write(fd, b"\x03")  # Ctrl-C, as the terminal sends it
        sent = time.time()
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(0 if sent and os.waitstatus_to_exitcode(status) == 0 else 1)
PY
tail -5 "$T/make.out"
assert_eq "make run's exit status after Ctrl-C" 0 "$rc"
! grep -q 'make: \*\*\*' "$T/make.out" || fail "make reported an error: $(grep 'make: \*\*\*' "$T/make.out")"
grep -q "Stopped torvyn-trace and torvyn-host" "$T/make.out" || fail "the demo did not stop its processes"
ok "make run ends on Ctrl-C with exit 0"
