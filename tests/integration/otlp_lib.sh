# Shared by the OTLP tests, sourced after lib.sh: the test receiver
# (otlp_receiver.py, strict decoding with python3-protobuf and grpcio), the
# span checker (spans.py) and waiting for a traced run.
need_cmd protoc
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import google.protobuf, grpc' 2>/dev/null ||
	skip "python3-protobuf and python3-grpcio are not installed (make deps installs them)"
RECV=$ROOT/tests/integration/otlp_receiver.py
SPANS=$ROOT/tests/integration/spans.py

# start_receiver NAME ARGS...: the receiver writing $T/NAME.{spans,requests};
# sets RPID and RPORT once it is listening.
start_receiver() {
	local name=$1
	shift
	bg "$PY" "$RECV" --out "$T/$name.spans" --requests-out "$T/$name.requests" "$@" \
		>"$T/$name.rx.out" 2>"$T/$name.rx.err"
	RPID=$BGPID
	wait_for "the OTLP receiver ($name)" 20 grep -q '^ready' "$T/$name.rx.out"
	RPORT=$(sed -n 's/^ready.*=\([0-9][0-9]*\).*/\1/p' "$T/$name.rx.out")
}
stop_receiver() {
	kill -TERM "$RPID"
	wait_exit "$RPID" 10 || fail "the receiver exited with status $?: $(cat "$T/$1.rx.err")"
}

# wait_run HPID TPID ERRFILE: waits for the host to finish (failing at once if
# the tracer dies first: a --wait-attach host would wait for it forever), then
# for the tracer, which exits with its target.
wait_run() {
	local hpid=$1 tpid=$2 err=$3 i rc=0
	for ((i = 0; i < 600; i++)); do
		kill -0 "$hpid" 2>/dev/null || break
		if ! kill -0 "$tpid" 2>/dev/null && kill -0 "$hpid" 2>/dev/null; then
			wait "$tpid" || rc=$?
			fail "torvyn-trace exited with status $rc before the host finished: $(tail -5 "$err")"
		fi
		sleep 0.05
	done
	wait_exit "$hpid" 1 || fail "the host exited with status $?"
	wait_exit "$tpid" 15 || rc=$?
	[ "$rc" -eq 0 ] || fail "torvyn-trace exited with status $rc: $(tail -5 "$err")"
}
