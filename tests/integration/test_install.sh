#!/usr/bin/env bash
# make install / uninstall into temporary trees (DESTDIR):
# - PREFIX=/usr (Debian's layout): exactly usr/sbin/torvyn-trace (0755, the
#   build's binary), usr/bin/torvyn-host (0755) and
#   lib/systemd/system/torvyn-trace-agent.service (0644, ExecStart on
#   /usr/sbin), the man pages usr/share/man/man8/torvyn-trace.8.gz,
#   man1/torvyn-host.1.gz and man7/torvyn-probes.7.gz (0644, gzip'd, each
#   the page of docs/man/ and readable by man); nothing enabled (no symbolic link, nothing under etc/); the
#   installed binaries run; make uninstall leaves directories only, and a
#   second uninstall is harmless;
# - the default PREFIX (/usr/local): the same under usr/local, the unit's
#   ExecStart on /usr/local/sbin;
# - systemd-analyze verify accepts the installed unit (in a tree that also
#   holds this machine's units, for the targets a service depends on), with
#   no warning, and rates its exposure (systemd-analyze security) 4.0 or less.
. "$(dirname "$0")/lib.sh"
[ -x "$TRACE" ] && [ -x "$HOST" ] || fail "build/torvyn-trace or build/torvyn-host missing: make all first"
UNIT=torvyn-trace-agent.service
# man_files PREFIX: the installed pages, as files prints them
man_files() {
	echo "$1/share/man/man1/torvyn-host.1.gz 644"
	echo "$1/share/man/man7/torvyn-probes.7.gz 644"
	echo "$1/share/man/man8/torvyn-trace.8.gz 644"
}

# make_ TARGET VAR=VALUE...: this repository's make, untouched by the make that
# may be running the tests.
make_() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory -C "$ROOT" "$@"; }

# files DIR: every non-directory under DIR as "PATH MODE", sorted
files() { (cd "$1" && find . ! -type d -printf '%P %m\n' | LC_ALL=C sort); }
# expect LINE...: the lines, sorted as files sorts them
expect() { printf '%s\n' "$@" | LC_ALL=C sort; }

# ---------------------------------------------------------------- PREFIX=/usr
D=$T/root
make_ install DESTDIR="$D" PREFIX=/usr
assert_eq "files installed with PREFIX=/usr" \
	"$(expect "lib/systemd/system/$UNIT 644" "usr/bin/torvyn-host 755" "usr/sbin/torvyn-trace 755" \
		"$(man_files usr)")" \
	"$(files "$D")"
cmp "$TRACE" "$D/usr/sbin/torvyn-trace" || fail "usr/sbin/torvyn-trace differs from build/torvyn-trace"
cmp "$HOST" "$D/usr/bin/torvyn-host" || fail "usr/bin/torvyn-host differs from build/torvyn-host"
assert_eq "symbolic links (an enabled unit would be one)" "" "$(find "$D" -type l)"
[ ! -e "$D/etc" ] || fail "install created etc/: it must not enable or configure anything"
assert_eq "ExecStart of the installed unit" \
	'ExecStart=/usr/sbin/torvyn-trace agent --listen ${TORVYN_AGENT_LISTEN} $TORVYN_AGENT_OPTS' \
	"$(grep '^ExecStart=' "$D/lib/systemd/system/$UNIT")"

"$D/usr/sbin/torvyn-trace" --help >"$T/help.out" || fail "installed torvyn-trace --help exited $?"
grep -q '^Usage: torvyn-trace <command>' "$T/help.out" || fail "installed torvyn-trace --help: $(head -1 "$T/help.out")"
ok "installed torvyn-trace --help runs"
"$D/usr/bin/torvyn-host" validate "$PIPELINES/three-stage.json" >/dev/null ||
	fail "installed torvyn-host validate three-stage.json exited $?"
ok "installed torvyn-host validates three-stage.json"

for page in torvyn-trace.8 torvyn-host.1 torvyn-probes.7; do
	gz=$D/usr/share/man/man${page##*.}/$page.gz
	gzip -dc "$gz" | cmp - "$ROOT/docs/man/$page" || fail "$gz is not docs/man/$page"
	MANWIDTH=80 man -l "$gz" >"$T/page.txt" 2>&1 || fail "man -l $gz exited $?"
	grep -q "^NAME" "$T/page.txt" || fail "man -l $gz: $(head -3 "$T/page.txt")"
done
MANPATH=$D/usr/share/man man -w torvyn-trace >"$T/where" || fail "man -w torvyn-trace finds no page"
assert_eq "man -w torvyn-trace" "$D/usr/share/man/man8/torvyn-trace.8.gz" "$(cat "$T/where")"
ok "installed man pages are docs/man's, gzip'd, and man reads them"
"$D/usr/sbin/torvyn-trace" --version >"$T/version" || fail "installed torvyn-trace --version exited $?"
"$D/usr/bin/torvyn-host" --version >>"$T/version" || fail "installed torvyn-host --version exited $?"
assert_eq "installed programs' versions" 2 "$(grep -c '^torvyn-[a-z]* [0-9]' "$T/version")"

make_ uninstall DESTDIR="$D" PREFIX=/usr
assert_eq "files left by make uninstall" "" "$(files "$D")"
make_ uninstall DESTDIR="$D" PREFIX=/usr
ok "a second make uninstall succeeds"

# ---------------------------------------------------------------- default PREFIX
D=$T/local
make_ install DESTDIR="$D"
assert_eq "files installed with the default PREFIX" \
	"$(expect "usr/local/bin/torvyn-host 755" "usr/local/lib/systemd/system/$UNIT 644" \
		"usr/local/sbin/torvyn-trace 755" "$(man_files usr/local)")" \
	"$(files "$D")"
assert_eq "ExecStart of the unit under /usr/local" \
	'ExecStart=/usr/local/sbin/torvyn-trace agent --listen ${TORVYN_AGENT_LISTEN} $TORVYN_AGENT_OPTS' \
	"$(grep '^ExecStart=' "$D/usr/local/lib/systemd/system/$UNIT")"
make_ uninstall DESTDIR="$D"
assert_eq "files left by make uninstall (default PREFIX)" "" "$(files "$D")"

# ---------------------------------------------------------------- systemd-analyze
command -v systemd-analyze >/dev/null ||
	skip "systemd-analyze is missing (Debian package systemd): the unit was not verified"
[ -d /lib/systemd/system ] || skip "no /lib/systemd/system on this machine: the unit was not verified"
D=$T/verify
mkdir -p "$D/lib/systemd/system"
cp -a /lib/systemd/system/. "$D/lib/systemd/system/"
make_ install DESTDIR="$D" PREFIX=/usr
rc=0
systemd-analyze verify --root="$D" "$UNIT" >"$T/verify.out" 2>&1 || rc=$?
cat "$T/verify.out"
assert_eq "systemd-analyze verify exit status" 0 "$rc"
assert_eq "systemd-analyze verify messages" "" "$(cat "$T/verify.out")"
if systemd-analyze security --offline=true --root="$D" "$UNIT" >"$T/security.out" 2>&1; then
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security.out")
	[ -n "$score" ] || fail "systemd-analyze security printed no exposure level: $(tail -1 "$T/security.out")"
	awk -v s="$score" 'BEGIN { exit !(s <= 4.0) }' || fail "exposure level $score > 4.0: $(tail -1 "$T/security.out")"
	ok "systemd-analyze security: exposure $score"
else
	echo "note: this systemd-analyze has no offline security check: $(tail -1 "$T/security.out")"
fi
