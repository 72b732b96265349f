#!/usr/bin/env bash
# The Grafana dashboard and the Prometheus rules of contrib/, against the
# metric vocabulary of docs/metrics.md:
# - promtool check rules accepts contrib/prometheus/torvyn-rules.yml and
#   promtool test rules passes its unit tests (every alert firing and not);
# - contrib/grafana/torvyn.json parses, has the panels the issue asks for,
#   and every PromQL expression in it (panels and variables, Grafana's
#   variables replaced by values) passes promtool's parser: they are checked
#   as the recording rules of a generated rules file;
# - the dashboard and the rules name only metrics docs/metrics.md lists (a
#   histogram's _bucket, _sum and _count count as its family).
. "$(dirname "$0")/lib.sh"
need_cmd promtool
P=$ROOT/contrib/prometheus
G=$ROOT/contrib/grafana/torvyn.json

# ---------------------------------------------------------------- rules
promtool check rules "$P/torvyn-rules.yml" >"$T/check.out" 2>&1 ||
	{ cat "$T/check.out"; fail "promtool check rules contrib/prometheus/torvyn-rules.yml"; }
ok "promtool check rules: $(grep -o '[0-9]* rules found' "$T/check.out")"
(cd "$P" && promtool test rules torvyn-rules.test.yml) >"$T/test.out" 2>&1 ||
	{ cat "$T/test.out"; fail "promtool test rules contrib/prometheus/torvyn-rules.test.yml"; }
ok "promtool test rules: every test passes"

# Every alert has a test that expects it firing and one that expects none.
python3 - "$P/torvyn-rules.yml" "$P/torvyn-rules.test.yml" <<'PY' || fail "alerts without tests"
import re, sys
rules, tests = (open(p).read() for p in sys.argv[1:3])
alerts = re.findall(r"^\s*- alert: (\w+)", rules, re.M)
bad = []
for a in alerts:
    blocks = re.findall(r"alertname: %s\n\s*exp_alerts:(.*?)(?=\n\s*- eval_time|\n\s*- interval|\Z)"
                        % a, tests, re.S)
    firing = any("exp_labels" in b for b in blocks)
    quiet = any(b.strip().startswith("[]") for b in blocks)
    if not (firing and quiet):
        bad.append("%s (firing tested: %s, not firing tested: %s)" % (a, firing, quiet))
print("\n".join(bad) or "ok: %d alerts, each tested firing and not firing" % len(alerts))
sys.exit(1 if bad else 0)
PY

# ---------------------------------------------------------------- dashboard
python3 - "$G" "$T/dashboard-rules.yml" "$T/names.txt" <<'PY' || fail "contrib/grafana/torvyn.json"
import json, re, sys

dash = json.load(open(sys.argv[1]))
exprs = []

def walk(panels):
    for p in panels:
        walk(p.get("panels", []))
        for t in p.get("targets") or []:
            if t.get("expr"):
                exprs.append((p["title"], t["expr"]))

walk(dash["panels"])
for v in dash.get("templating", {}).get("list", []):
    q = v.get("query")
    q = q.get("query") if isinstance(q, dict) else q
    m = re.match(r"label_values\((.*),\s*\w+\)$", q or "")
    if m:
        exprs.append(("variable " + v["name"], m.group(1)))
titles = {p["title"] for p in dash["panels"]}
want = {"Throughput", "Error ratio", "End-to-end latency p50 / p99", "Time share", "Queue depth",
        "Backpressure", "Free buffers", "Fallbacks and exhaustions", "Target up and level",
        "Tracer losses"}
missing = want - titles
if missing:
    sys.exit("panels missing: %s" % sorted(missing))
subst = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}
with open(sys.argv[2], "w") as out, open(sys.argv[3], "w") as names:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, (title, e) in enumerate(exprs):
        for k, v in subst.items():
            e = e.replace(k, v)
        e = re.sub(r"\$\{?\w+\}?", ".*", e)
        out.write("      - record: dashboard:expr_%d\n        expr: %s\n" % (i, json.dumps(e)))
        for n in re.findall(r"\btorvyn_[a-z0-9_]+", e):
            names.write("%s\t%s\n" % (n, title))
print("ok: %d panels, %d expressions" % (len(dash["panels"]), len(exprs)))
PY
promtool check rules "$T/dashboard-rules.yml" >"$T/dash.out" 2>&1 ||
	{ cat "$T/dash.out"; fail "a dashboard expression does not parse"; }
ok "promtool parses every dashboard expression: $(grep -o '[0-9]* rules found' "$T/dash.out")"

# ---------------------------------------------------------------- names
grep -o '\btorvyn_[a-z0-9_]*' "$P/torvyn-rules.yml" "$P/torvyn-rules.test.yml" |
	awk -F: '{print $2 "\t" $1}' >>"$T/names.txt"
python3 - "$ROOT/docs/metrics.md" "$T/names.txt" <<'PY' || fail "names not in docs/metrics.md"
import re, sys
doc = sys.argv[1]
listed = set(re.findall(r"`(torvyn_[a-z0-9_]+)`", open(doc).read()))
bad, seen = [], set()
for line in open(sys.argv[2]):
    name, where = line.rstrip("\n").split("\t")
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    if name not in listed and base not in listed:
        bad.append("%s (%s)" % (name, where))
    seen.add(name)
if bad:
    print("not in docs/metrics.md:\n  " + "\n  ".join(sorted(set(bad))))
    sys.exit(1)
print("ok: %d metric names, every one listed in docs/metrics.md" % len(seen))
PY
