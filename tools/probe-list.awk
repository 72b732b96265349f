#!/usr/bin/awk -f
# Turns usdt/torvyn.d, the probe contract, into a header (run by the Makefile):
#   mode=list (default): build/torvyn_probe_list.h, the X-macro
#     TORVYN_PROBE_LIST(X) with X(ID, name, nargs, family) per probe, in order;
#   mode=off: build/torvyn_probes_off.h, the stubs of a build without probes
#     (TORVYN_<ID>_ENABLED() is 0 and TORVYN_<ID>(...) compiles to nothing).
# A probe line: `probe NAME(TYPE, ...); // bpf: FAMILY`. A probe without its
# family comment is an error, so the list cannot silently lose one.
function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, FNR, msg > "/dev/stderr"
	bad = 1
	exit 1
}
/^[ \t]*probe[ \t]/ {
	line = $0
	if (!match(line, /probe[ \t]+[a-z0-9_]+[ \t]*\(/))
		fail("cannot read the probe's name")
	name = substr(line, RSTART, RLENGTH)
	sub(/^probe[ \t]+/, "", name)
	sub(/[ \t]*\($/, "", name)
	args = line
	sub(/^[^(]*\(/, "", args)
	sub(/\).*$/, "", args)
	nargs = (args ~ /^[ \t]*$/) ? 0 : split(args, parts, ",")
	if (!match(line, /\/\/[ \t]*bpf:[ \t]*[a-z]+/))
		fail("probe " name ": no `// bpf: FAMILY` comment")
	fam = substr(line, RSTART, RLENGTH)
	sub(/^.*:[ \t]*/, "", fam)
	n++
	names[n] = name
	ids[n] = toupper(name)
	gsub(/__/, "_", ids[n])
	nargv[n] = nargs
	fams[n] = fam
}
END {
	if (bad)
		exit 1
	if (!n) {
		print "no probes found in " FILENAME > "/dev/stderr"
		exit 1
	}
	guard = mode == "off" ? "TORVYN_PROBES_OFF_H" : "TORVYN_PROBE_LIST_H"
	print "/* Generated from usdt/torvyn.d by tools/probe-list.awk: edit torvyn.d. */"
	print "#ifndef " guard
	print "#define " guard
	if (mode == "off") {
		for (i = 1; i <= n; i++) {
			printf "#define TORVYN_%s_ENABLED() 0\n", ids[i]
			printf "#define TORVYN_%s(...) TVN__NOPROBE(__VA_ARGS__)\n", ids[i]
		}
	} else {
		print "/* X(ID, name, nargs, family): TVN_P_<ID>, TORVYN_<ID>(), bpf/<family>.bpf.c */"
		print "#define TORVYN_PROBE_LIST(X) \\"
		for (i = 1; i <= n; i++)
			printf "\tX(%s, %s, %d, %s)%s\n", ids[i], names[i], nargv[i], fams[i], i < n ? " \\" : ""
	}
	print "#endif"
}
