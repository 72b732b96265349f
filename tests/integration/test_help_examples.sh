#!/usr/bin/env bash
# Every example of every --help runs as written: the lines under "Examples:"
# of `torvyn-trace --help`, of each verb's --help and of `torvyn-host --help`
# (a line ending in \ continues on the next), each run by bash with pipefail.
# Only what names this machine's things is replaced: a PID (1234, 4242,
# $(pgrep -n torvyn-host)) by a host this test starts, port 9464 by a free
# port, the node_exporter directory by a temporary one, /usr/bin/torvyn-host
# by a copy of build/torvyn-host; torvyn-host and torvyn-trace are found on
# PATH, user/host/pipelines/ from the working directory. An agent example is
# given --match for that copy (and --listen when it has none): it touches no
# other host of the node.
# An example passes when it exits 0 (3 for bench --compare: a regression), or,
# for one that runs until stopped (attach, agent, top's live view, a host that
# waits for a tracer), when it still runs after 2 s; a usage error (exit 2)
# or any other status fails. The live view gets a terminal from script(1).
. "$(dirname "$0")/lib.sh"
need_root
need_uprobes
need_cmd jq
need_cmd script
need_cmd curl

mkdir -p "$T/bin" "$T/work" "$T/textfile"
cp "$HOST" "$T/bin/torvyn-host"
ln -s "$TRACE" "$T/bin/torvyn-trace"
ln -s "$ROOT/user" "$T/work/user"
export PATH="$T/bin:$PATH"
cd "$T/work"
port=$(pick_port 19850)

# examples CMD...: the examples of CMD --help, one a line, continuations joined
examples() {
	"$@" --help | awk '/^Examples:$/ { on = 1; next } on && !NF { exit }
		on { sub(/^ +/, ""); line = line $0; if (line ~ /\\$/) { sub(/ *\\$/, " ", line); next }
		     print line; line = "" }'
}

# localize LINE: the example with this machine's PID, port, directories
localize() {
	local e=$1
	e=${e//'$(pgrep -n torvyn-host)'/$pid}
	e=$(sed -E "s/\\b(1234|4242)\\b/$pid/g; s/:9464\\b/:$port/g" <<<"$e")
	e=${e//\/var\/lib\/prometheus\/node-exporter/$T/textfile}
	e=${e//\/usr\/bin\/torvyn-host/$T/bin/torvyn-host}
	if [[ $e == "torvyn-trace agent"* ]]; then
		e+=" --match '$T/bin/*'"
		[[ $e == *--listen* ]] || e+=" --listen 127.0.0.1:$port"
	fi
	printf '%s' "$e"
}

# long_running LINE: it runs until stopped
long_running() {
	case $1 in
	"torvyn-trace attach"* | "torvyn-trace agent"*) return 0 ;;
	"torvyn-trace top"*) [[ $1 != *--once* && $1 != *" -j"* ]] ;;
	"torvyn-host run"*) [[ $1 == *--wait-attach* ]] ;;
	*) return 1 ;;
	esac
}

n_run=0
# run LINE: runs one example, fails the test unless it passes
run() {
	local e rc=0 secs=120 cmd t0 took last
	e=$(localize "$1")
	n_run=$((n_run + 1))
	# the same command from two helps runs once
	grep -qxF -- "$e" "$T/done" 2>/dev/null && return 0
	echo "$e" >>"$T/done"
	long_running "$e" && secs=2
	cmd="timeout -s INT -k 30 $secs bash -o pipefail -c $(printf '%q' "$e")"
	t0=$(date +%s)
	if [[ $e == "torvyn-trace top"* && $secs == 2 ]]; then
		# On the terminal, timeout must stay in the foreground process group:
		# by default it makes a group of its own, and unless script's shell
		# ($SHELL, /bin/sh when unset) execs it, that group is a background
		# one, where the live view's first tcsetattr stops it (SIGTTOU).
		TERM=xterm script -qec "${cmd/timeout/timeout --foreground}" /dev/null \
			>"$T/out" 2>&1 </dev/null || rc=$?
	else
		bash -c "$cmd" >"$T/out" 2>&1 </dev/null || rc=$?
	fi
	took="$(($(date +%s) - t0)) s"
	# the output's last lines, on one line, for a failure message
	last=$(tail -5 "$T/out" | tr '\n' ' ')
	case $rc in
	0) ;;
	124) [ "$secs" = 2 ] || fail "'$1' did not end within ${secs}s" ;;
	3) [[ $e == *--compare* ]] || fail "'$1' exited 3 after $took: $last" ;;
	2) fail "'$1' is a usage error (exit 2): $last" ;;
	*) fail "'$1' exited $rc after $took: $last" ;;
	esac
	[ "$rc" = 124 ] || [ "$secs" != 2 ] || fail "'$1' ended (exit $rc) before it was stopped: $last"
	ok "exit $rc after $took: $e"
}

# Every help's examples, by the phase that can run them.
{
	examples torvyn-trace
	for v in attach level probes bench agent top; do examples torvyn-trace "$v"; done
	examples torvyn-host
} >"$T/all"
for v in attach level probes bench agent top; do
	grep -Eq "^torvyn-trace $v( |\$)" "$T/all" || fail "no example of torvyn-trace $v"
done
grep -q "^torvyn-host " "$T/all" || fail "no example in torvyn-host --help"
grep -v '^torvyn-\(trace\|host\) ' "$T/all" && fail "an example line that runs neither program (above)"
phase() { grep -E "$1" "$T/all" | LC_ALL=C sort -u; }

# the host the examples trace: a paced pipeline, so that it leaves CPU to the rest
bg torvyn-host run user/host/pipelines/demo.json
pid=$BGPID

# 1: the host's own examples, then every attach example (one session at a time)
while IFS= read -r e; do run "$e"; done < <(phase '^torvyn-host ')
while IFS= read -r e; do run "$e"; done < <(phase '^torvyn-trace attach( |$)')

# 2: with a session serving the host: top and probes, then level (which may leave it off)
bg torvyn-trace attach --pid "$pid" --listen "127.0.0.1:$port" -q
session=$BGPID
wait_for "the session's /metrics" 10 curl -sf "http://127.0.0.1:$port/metrics" -o "$T/m"
while IFS= read -r e; do run "$e"; done < <(phase '^torvyn-trace (top|probes)( |$)')
while IFS= read -r e; do run "$e"; done < <(phase '^torvyn-trace level( |$)')
kill -INT "$session"
wait_exit "$session" 10 || fail "the session exited $?"

# 3: agents (the host copy only), then bench (--pid, or its own host from PATH)
while IFS= read -r e; do run "$e"; done < <(phase '^torvyn-trace agent( |$)')
while IFS= read -r e; do run "$e"; done < <(grep '^torvyn-trace bench ' "$T/all")
[ -f .torvyn/bench/main.json ] || fail "the --baseline example saved no .torvyn/bench/main.json"

assert_eq "examples run" "$(LC_ALL=C sort -u "$T/all" | wc -l)" "$n_run"
