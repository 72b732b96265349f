#!/usr/bin/env python3
"""Helpers for the OTLP integration tests: read what otlp_receiver.py wrote
(one JSON object a line) and check the Torvyn trace model.

As a module (sys.path gets tests/integration):
    spans = load(path); traces = by_trace(spans); root = check_trace(...)
As a command, the checks every full run shares:
    spans.py check SPANS --flow ID --components a,b,c --traces N
        [--service NAME] [--pid PID] [--encoding protobuf|json]
        [--compressed yes|no] [--transport http|grpc] [--requests FILE]
    spans.py check-requests REQUESTS   (every request decoded)
Exits 1 with "FAIL: ..." on stderr at the first broken expectation.

The model: a trace is one element's path through a flow. Its root span
`flow:{flow}` (kind CONSUMER, attributes torvyn.flow.id and
torvyn.element.seq) has one child `component:{id}:invoke:{seq}` per component
that saw the element, in flow order and one after the other in time; at
diagnostic level `resource:transfer:*` / `resource:copy:*` spans hang under
invocation spans and `backpressure:*` under the root. Every child lies
within its parent.
"""

import json
import re
import sys

# The tracer converts CLOCK_MONOTONIC to Unix time with one offset, so order
# is exact; allow a few microseconds all the same.
TOL_NS = 5000

SPAN_KIND_INTERNAL = 1
SPAN_KIND_CONSUMER = 5
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2

INVOKE_RE = re.compile(r"^component:(.+):invoke:(\d+)$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")


class Fail(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def ok(msg):
    print("ok: " + msg, flush=True)


def _lines(path):
    out = []
    try:
        with open(path) as f:
            for i, line in enumerate(f, 1):
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError as e:
                        raise Fail("%s:%d: not JSON: %s" % (path, i, e))
    except FileNotFoundError:
        pass
    return out


def load(path):
    """The span lines of a receiver output file."""
    return [d for d in _lines(path) if "span_id" in d]


def load_metrics(path):
    """The metric lines of a receiver output file."""
    return [d for d in _lines(path) if "metric" in d]


def load_requests(path):
    return _lines(path)


def by_trace(spans):
    t = {}
    for s in spans:
        t.setdefault(s["trace_id"], []).append(s)
    return t


def short(s):
    return "%s (span %s, parent %s)" % (s["name"], s["span_id"], s["parent_span_id"] or "-")


def roots_of(tspans):
    """Spans whose parent is not in the trace: the roots (a root may carry a
    remote parent, from an incoming traceparent)."""
    ids = {s["span_id"] for s in tspans}
    return [s for s in tspans if s["parent_span_id"] not in ids]


def root_spans(spans):
    """Every root span of every trace."""
    out = []
    for tspans in by_trace(spans).values():
        out += roots_of(tspans)
    return out


def check_ids(spans):
    """Well-formed, non-zero ids; no span id twice (a span exported twice,
    or two spans sharing an id)."""
    seen = {}
    for s in spans:
        check(HEX32.match(s["trace_id"]) and s["trace_id"] != "0" * 32,
              "bad trace id %r on %s" % (s["trace_id"], s["name"]))
        check(HEX16.match(s["span_id"]) and s["span_id"] != "0" * 16,
              "bad span id %r on %s" % (s["span_id"], s["name"]))
        check(s["parent_span_id"] == "" or
              (HEX16.match(s["parent_span_id"]) and s["parent_span_id"] != "0" * 16),
              "bad parent span id %r on %s (a root has none: empty)" %
              (s["parent_span_id"], s["name"]))
        key = (s["trace_id"], s["span_id"])
        check(key not in seen, "span %s exported twice: %s and %s" %
              (s["span_id"], short(seen.get(key, s)), short(s)))
        seen[key] = s


def load_traces(path, n, which=""):
    """The spans of PATH, their ids checked, grouped by trace: (spans,
    {trace id: [span, ...]}), there being exactly N traces (WHICH says which
    ones, for the message)."""
    spans = load(path)
    check_ids(spans)
    traces = by_trace(spans)
    check(len(traces) == n, "%d traces exported, expected %d%s: %s" %
          (len(traces), n, which, sorted(short(r) for r in root_spans(spans))[:10]))
    return spans, traces


def within(child, parent, tol=TOL_NS):
    return parent["start"] - tol <= child["start"] and child["end"] <= parent["end"] + tol


def check_trace(tspans, flow, components, diagnostic=False, error_at=None, tol=TOL_NS):
    """Checks one trace; returns its root.

    components: the ids of the components the element went through, in flow
    order: exactly one invocation span each, and no other. error_at: the id of
    the component whose invocation returned an error (status ERROR on it and
    on the root, UNSET elsewhere); None: no span has status ERROR."""
    tid = tspans[0]["trace_id"]
    where = "trace %s" % tid
    check(all(s["trace_id"] == tid for s in tspans), where + ": mixed trace ids")
    roots = roots_of(tspans)
    check(len(roots) == 1, "%s: %d roots, expected exactly 1: %s" %
          (where, len(roots), ", ".join(short(s) for s in roots)))
    root = roots[0]
    byid = {s["span_id"]: s for s in tspans}

    check(root["name"] == "flow:" + flow, "%s: root is %s, expected flow:%s" %
          (where, short(root), flow))
    check(root["kind"] == SPAN_KIND_CONSUMER, "%s: root kind %s, expected %d (CONSUMER)" %
          (where, root["kind"], SPAN_KIND_CONSUMER))
    check(root["attributes"].get("torvyn.flow.id") == flow,
          "%s: root torvyn.flow.id = %r, expected %r" %
          (where, root["attributes"].get("torvyn.flow.id"), flow))
    seq = root["attributes"].get("torvyn.element.seq")
    check(isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0,
          "%s: root torvyn.element.seq = %r, expected an integer" % (where, seq))
    where = "%s (%s seq %d)" % (where, flow, seq)

    for s in tspans:
        check(0 < s["start"] <= s["end"], "%s: %s: start %d > end %d (or zero)" %
              (where, short(s), s["start"], s["end"]))
        if s is not root:
            p = byid[s["parent_span_id"]]
            check(within(s, p, tol), "%s: %s [%d, %d] is not within its parent %s [%d, %d]" %
                  (where, short(s), s["start"], s["end"], short(p), p["start"], p["end"]))

    invokes = [s for s in tspans if INVOKE_RE.match(s["name"])]
    got = sorted(INVOKE_RE.match(s["name"]).group(1) for s in invokes)
    check(got == sorted(components), "%s: invocation spans for %s, expected one each for %s" %
          (where, got, sorted(components)))
    inv = {}
    for s in invokes:
        comp, n = INVOKE_RE.match(s["name"]).groups()
        inv[comp] = s
        check(int(n) == seq, "%s: %s names seq %s, the root's is %d" % (where, s["name"], n, seq))
        check(s["parent_span_id"] == root["span_id"], "%s: %s's parent is %s, not the root %s" %
              (where, s["name"], s["parent_span_id"], root["span_id"]))
        check(s["kind"] == SPAN_KIND_INTERNAL, "%s: %s kind %s, expected %d (INTERNAL)" %
              (where, s["name"], s["kind"], SPAN_KIND_INTERNAL))
        a = s["attributes"]
        check(a.get("torvyn.component.id") == comp, "%s: %s torvyn.component.id = %r" %
              (where, s["name"], a.get("torvyn.component.id")))
        check(a.get("torvyn.element.seq") == seq, "%s: %s torvyn.element.seq = %r" %
              (where, s["name"], a.get("torvyn.element.seq")))
        check(a.get("torvyn.flow.id") == flow, "%s: %s torvyn.flow.id = %r" %
              (where, s["name"], a.get("torvyn.flow.id")))
    for a, b in zip(components, components[1:]):
        check(inv[a]["end"] <= inv[b]["start"] + tol,
              "%s: %s ends at %d, after %s starts at %d" %
              (where, inv[a]["name"], inv[a]["end"], inv[b]["name"], inv[b]["start"]))

    others = [s for s in tspans if s is not root and s not in invokes]
    if not diagnostic:
        check(not others, "%s: unexpected spans at production level: %s" %
              (where, ", ".join(short(s) for s in others)))
    for s in others:
        if s["name"].startswith("backpressure:"):
            check(s["parent_span_id"] == root["span_id"], "%s: %s is not a child of the root" %
                  (where, short(s)))
        elif s["name"].startswith("resource:transfer:") or s["name"].startswith("resource:copy:"):
            check(byid[s["parent_span_id"]] in invokes,
                  "%s: %s is not a child of an invocation span" % (where, short(s)))
        else:
            raise Fail("%s: unknown span %s" % (where, short(s)))

    for s in tspans:
        if error_at is not None and (s is root or s is inv.get(error_at)):
            check(s["status_code"] == STATUS_ERROR,
                  "%s: %s status %s, expected %d (ERROR)" %
                  (where, short(s), s["status_code"], STATUS_ERROR))
        else:
            check(s["status_code"] == STATUS_UNSET,
                  "%s: %s status %s (%r), expected %d (UNSET)" %
                  (where, short(s), s["status_code"], s["status_message"], STATUS_UNSET))
    return root


def check_resource(spans, service=None, pid=None, sdk="torvyn-trace"):
    for s in spans:
        r = s["resource"]
        if service is not None:
            check(r.get("service.name") == service, "%s: resource service.name = %r, expected %r" %
                  (short(s), r.get("service.name"), service))
        if pid is not None:
            check(r.get("process.pid") == pid, "%s: resource process.pid = %r, expected %d" %
                  (short(s), r.get("process.pid"), pid))
        if sdk is not None:
            check(r.get("telemetry.sdk.name") == sdk,
                  "%s: resource telemetry.sdk.name = %r, expected %r" %
                  (short(s), r.get("telemetry.sdk.name"), sdk))


def check_transport(spans, encoding=None, compressed=None, transport=None):
    for s in spans:
        if encoding is not None:
            check(s["encoding"] == encoding, "%s came %s, expected %s" %
                  (short(s), s["encoding"], encoding))
        if compressed is not None:
            check(s["compressed"] == compressed, "%s came %s, expected %s" %
                  (short(s), "gzip-compressed" if s["compressed"] else "uncompressed",
                   "gzip-compressed" if compressed else "uncompressed"))
        if transport is not None:
            check(s["transport"] == transport, "%s came over %s, expected %s" %
                  (short(s), s["transport"], transport))


def check_requests(path, expect_errors=False):
    """Every request the receiver saw decoded (nothing answered 4xx)."""
    reqs = load_requests(path)
    bad = [r for r in reqs if r.get("error")]
    if not expect_errors:
        check(not bad, "the receiver could not decode %d request(s); first: %s %s: %s" %
              (len(bad), bad[0]["transport"], bad[0]["path"], bad[0]["error"]) if bad else "")
    return reqs


def check_run(spans, flow, components, n_traces, diagnostic=False):
    """n_traces complete traces of one flow, one per element seq 0..n-1."""
    check_ids(spans)
    traces = by_trace(spans)
    roots = [check_trace(t, flow, components, diagnostic) for t in traces.values()]
    check(len(traces) == n_traces, "%d traces, expected %d" % (len(traces), n_traces))
    seqs = sorted(r["attributes"]["torvyn.element.seq"] for r in roots)
    check(seqs == list(range(n_traces)), "root seqs are not 0..%d: %d distinct, missing %s" %
          (n_traces - 1, len(set(seqs)), sorted(set(range(n_traces)) - set(seqs))[:10]))
    return roots


def main(argv):
    import argparse
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("spans")
    c.add_argument("--flow", required=True)
    c.add_argument("--components", required=True)
    c.add_argument("--traces", type=int, required=True)
    c.add_argument("--diagnostic", action="store_true")
    c.add_argument("--service")
    c.add_argument("--pid", type=int)
    c.add_argument("--encoding", choices=("protobuf", "json"))
    c.add_argument("--compressed", choices=("yes", "no"))
    c.add_argument("--transport", choices=("http", "grpc"))
    c.add_argument("--requests")
    r = sub.add_parser("check-requests")
    r.add_argument("requests")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "check-requests":
            reqs = check_requests(a.requests)
            ok("%d requests, every one decoded" % len(reqs))
            return 0
        spans = load(a.spans)
        comps = a.components.split(",")
        check(spans, "no span reached the receiver")
        if a.requests:
            reqs = check_requests(a.requests)
            ok("%d requests, every one decoded" % len(reqs))
        check_run(spans, a.flow, comps, a.traces, a.diagnostic)
        ok("%d traces of %d spans: one root flow:%s each, one invocation span per component "
           "(%s) under it, seqs 0..%d, nested and ordered in time" %
           (a.traces, len(spans), a.flow, ", ".join(comps), a.traces - 1))
        check_resource(spans, a.service, a.pid)
        ok("resource: service.name %s, process.pid %s, telemetry.sdk.name torvyn-trace" %
           (a.service or "(any)", a.pid if a.pid is not None else "(any)"))
        comp = None if a.compressed is None else a.compressed == "yes"
        check_transport(spans, a.encoding, comp, a.transport)
        ok("received as %s, %s, over %s" % (a.encoding or "(any)",
                                             {None: "(either)", True: "gzip",
                                              False: "uncompressed"}[comp],
                                             a.transport or "(any)"))
    except Fail as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
