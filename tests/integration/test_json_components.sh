#!/usr/bin/env bash
# The kinds that do real work, with exact outputs. Flows of json-generator
# records (seed 7) into file sinks: the plain records carry the fields the
# generator's rule gives for each sequence number; json-enrich adds exactly
# its table's entry (a region missing from the table passes unchanged);
# json-filter passes exactly the records whose field matches (N in, M out,
# M counted from the rule); deflate's records inflate back to the plain ones,
# byte for byte. The summary's copies count the bytes each kind wrote or
# read. Lines that are not JSON objects are invalid input, counted.
. "$(dirname "$0")/lib.sh"
need_cmd jq

N=500
GEN='{"id": "gen", "kind": "json-generator", "seed": 7, "note_bytes": 40}'
TABLE='{"eu": {"tz": "CET", "vat": 20}, "us": {"tz": "EST", "vat": 0},
	"ap": {"tz": "JST", "dc": "nrt1"}, "sa": {"region": "latam", "tz": "BRT"}}'
ENRICH="{\"id\": \"enrich\", \"kind\": \"json-enrich\", \"lookup\": {\"field\": \"region\", \"table\": $TABLE}}"
sink() { echo "{\"id\": \"out\", \"kind\": \"file\", \"path\": \"$T/$1.out\"}"; }
flow() { # ID COMPONENT...: a chain
	local id=$1 IFS=,
	shift
	echo "{\"id\": \"$id\", \"components\": [$*]}"
}

cat >"$T/work.json" <<JSON
{"flows": [
 $(flow plain "$GEN" "$(sink plain)"),
 $(flow enriched "$GEN" "$ENRICH" "$(sink enriched)"),
 $(flow eu "$GEN" '{"id": "eu", "kind": "json-filter", "field": "region", "equals": "eu"}' "$(sink eu)"),
 $(flow large "$GEN" '{"id": "large", "kind": "json-filter", "field": "amount", "min": 80000}' "$(sink large)"),
 $(flow seven "$GEN" '{"id": "seven", "kind": "json-filter", "field": "seq", "equals": 7}' "$(sink seven)"),
 $(flow zipped "$GEN" '{"id": "zip", "kind": "deflate", "level": 9}' "$(sink zipped)")
]}
JSON
"$HOST" run "$T/work.json" --elements $N --summary "$T/work.sum" || fail "torvyn-host exited $?"
ok "torvyn-host ran $N elements through each of 6 flows"

# lines that are not JSON objects: invalid input to json-enrich and json-filter
printf '%s\n' '{"region":"eu","x":1}' 'not json' '{"region":"zz","x":2}' '["eu"]' '{"region":7}' \
	>"$T/mixed.txt"
LINES="{\"id\": \"read\", \"kind\": \"lines\", \"path\": \"$T/mixed.txt\"}"
cat >"$T/mixed.json" <<JSON
{"flows": [
 $(flow menrich "$LINES" "$ENRICH" "$(sink menrich)"),
 $(flow mfilter "$LINES" '{"id": "eu", "kind": "json-filter", "field": "region", "equals": "eu"}' "$(sink mfilter)")
]}
JSON
"$HOST" run "$T/mixed.json" --summary "$T/mixed.sum" || fail "torvyn-host exited $?"

python3 - "$T" "$N" "$TABLE" <<'PY' || fail "records differ from the rule (above)"
import json, re, sys, zlib

t, n, table = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
REGIONS = ["eu", "us", "ap", "sa", "af"]
CURRENCIES = ["EUR", "USD", "JPY"]
TAGS = ["new", "repeat", "mobile", "web", "promo", "gift", "bulk"]
TP = re.compile(rb"traceparent=00-[0-9a-f]{32}-[0-9a-f]{16}-0[01] ")
compact = lambda d: json.dumps(d, separators=(",", ":"))
checks = 0

def check(what, want, got):
    global checks
    if want != got:
        sys.exit(f"FAIL: {what}: expected {want!r}, got {got!r}")
    checks += 1

def records(name):
    out = []
    for line in open(f"{t}/{name}.out", "rb").read().split(b"\n")[:-1]:
        m = TP.match(line)
        check(f"{name}: record starts with a traceparent", True, m is not None)
        out.append(line[m.end():].decode())
    return out

def summary(name, flow, comp):
    s = json.load(open(f"{t}/{name}.sum"))
    f = next(f for f in s["flows"] if f["id"] == flow)
    return next(c for c in f["components"] if c["id"] == comp)

plain = records("plain")
check("plain records", n, len(plain))
for i, text in enumerate(plain):
    head = (f'{{"seq":{i},"user":"u{i % 97}","region":"{REGIONS[i % 5]}",'
            f'"amount":{i * 7919 % 100000},"currency":"{CURRENCIES[i % 3]}",'
            f'"tags":["{TAGS[i % 7]}","{TAGS[i // 7 % 7]}"],"ts":{1700000000000 + 13 * i},"note":"')
    check(f"plain record {i}: the generator's fields", head, text[:len(head)])
    note = json.loads(text)["note"]
    check(f"plain record {i}: note of 40 bytes of words", True,
          len(note) == 40 and re.fullmatch(r"[a-z]+( [a-z]+)* ?[a-z]*", note) is not None)
print(f"ok: {n} plain records carry the generator's fields, e.g. {plain[1]}")

# json-enrich: the table's entry added, in order, replacing a field of the same name
enriched = records("enriched")
check("enriched records", n, len(enriched))
for i, text in enumerate(enriched):
    rec = json.loads(plain[i])
    rec.update(table.get(rec["region"], {}))
    check(f"enriched record {i}", compact(rec), text)
c = summary("work", "enriched", "enrich")
grown = [e for e, p in zip(enriched, plain) if e != p]
check("enrich: records written (every region but af)", n - n // 5, len(grown))
check("enrich: PayloadWrite copies", {"count": len(grown), "bytes": sum(map(len, grown))},
      c["copies"]["PayloadWrite"])
print(f"ok: json-enrich wrote {len(grown)} records exactly, e.g. {enriched[3]}")

# json-filter: exactly the matching records, in order
for name, comp, keep in [("eu", "eu", lambda i: i % 5 == 0),
                         ("large", "large", lambda i: i * 7919 % 100000 >= 80000),
                         ("seven", "seven", lambda i: i == 7)]:
    want = [p for i, p in enumerate(plain) if keep(i)]
    check(f"{name}: records passed", want, records(name))
    c = summary("work", name, comp)
    check(f"{name}: invocations", n, c["invocations"])
    check(f"{name}: PayloadRead copies", {"count": n, "bytes": sum(map(len, plain))},
          c["copies"]["PayloadRead"])
    print(f"ok: json-filter {name}: {n} in, exactly {len(want)} out")

# deflate: each record inflates back to the plain one
data = open(f"{t}/zipped.out", "rb").read()
zipped, packed = [], 0
while data:
    m = TP.match(data)
    check("zipped: record starts with a traceparent", True, m is not None)
    d = zlib.decompressobj()
    zipped.append(d.decompress(data[m.end():]).decode())
    packed += len(data) - m.end() - len(d.unused_data)
    check("zipped: a record ends its zlib stream and a newline", (True, b"\n"),
          (d.eof, d.unused_data[:1]))
    data = d.unused_data[1:]
check("zipped records inflated", plain, zipped)
c = summary("work", "zipped", "zip")
check("deflate: PayloadWrite copies", {"count": n, "bytes": packed}, c["copies"]["PayloadWrite"])
print(f"ok: {n} deflated records inflate to the plain ones ({packed} bytes from "
      f"{sum(map(len, plain))})")

# not a JSON object: invalid input, counted; a value not in the table passes as it is
check("mixed: json-enrich output", ['{"region":"eu","x":1,"tz":"CET","vat":20}',
                                    '{"region":"zz","x":2}', '{"region":7}'], records("menrich"))
check("mixed: json-filter output", ['{"region":"eu","x":1}'], records("mfilter"))
for flow, comp in [("menrich", "enrich"), ("mfilter", "eu")]:
    check(f"mixed: {comp} errors", {"invalid-input": 2}, summary("mixed", flow, comp)["errors_by_kind"])
print(f"ok: invalid input counted by json-enrich and json-filter; {checks} checks in all")
PY
