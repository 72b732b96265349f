#!/usr/bin/env python3
"""Checks a torvyn-trace scrape against a torvyn-host --summary (stdlib only).

Usage:
  prom_check.py [check] SUMMARY.json SCRAPE [--diagnostic] [--pid PID]
      every flow, component, stream and pool tier of the summary must have its
      series in the scrape, exactly equal to the host's own count; with
      --diagnostic the BPF-side families (torvyn_diagnostic_*) are checked too;
      with --pid (a node agent's scrape) only the series of that host count,
      its host labels (pid, exe, service) set aside.
      Prints each mismatch (expected vs got) and exits 1, else prints how many
      series it checked.
  prom_check.py monotonic A B
      every counter sample (name ending in _total, _count, _sum or _bucket) of
      exposition A is present in exposition B with a value >= its value in A.

SCRAPE, A and B are files holding a Prometheus text exposition (0.0.4 or
OpenMetrics 1.0); "-" reads standard input.

As a module: parse(text) -> {(name, frozenset({(label, value), ...})): value}.
"""
import json
import math
import re
import sys

COPY_REASONS = ("MetadataMarshal", "PayloadRead", "PayloadWrite", "HostSerialize")
COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\\n]|\\.)*)"\s*')
_INT = re.compile(r"[+-]?[0-9]+\Z")
_UNESCAPE = {"\\": "\\", '"': '"', "n": "\n"}


class ParseError(Exception):
    pass


def _unescape(s, lineno):
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            if i + 1 >= len(s) or s[i + 1] not in _UNESCAPE:
                raise ParseError(f"line {lineno}: bad escape in label value {s!r}")
            out.append(_UNESCAPE[s[i + 1]])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _value(tok, lineno):
    if _INT.match(tok):
        return int(tok)
    low = tok.lower()
    if low in ("+inf", "inf"):
        return math.inf
    if low == "-inf":
        return -math.inf
    if low == "nan":
        return math.nan
    try:
        return float(tok)
    except ValueError:
        raise ParseError(f"line {lineno}: bad sample value {tok!r}") from None


def _labels(s, lineno, line):
    """s starts with '{': returns ([(label, value), ...], index after '}')"""
    labels, pos = [], 1
    while True:
        while pos < len(s) and s[pos] in " \t":
            pos += 1
        if pos < len(s) and s[pos] == "}":
            return labels, pos + 1
        m = _LABEL.match(s, pos)
        if not m:
            raise ParseError(f"line {lineno}: bad label set: {line!r}")
        labels.append((m.group(1), _unescape(m.group(2), lineno)))
        pos = m.end()
        if pos < len(s) and s[pos] == ",":
            pos += 1
        elif pos >= len(s) or s[pos] != "}":
            raise ParseError(f"line {lineno}: bad label set: {line!r}")


def parse(text):
    """Prometheus text (0.0.4 or OpenMetrics) -> {(name, frozenset(labels)): value}.

    Comments (# HELP, # TYPE, # UNIT, # EOF) are skipped; a timestamp after the
    value is ignored. A series given twice is an error."""
    series = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = _NAME.match(line)
        if not m:
            raise ParseError(f"line {lineno}: no metric name: {line!r}")
        name, rest = m.group(0), line[m.end():]
        labels = []
        if rest.startswith("{"):
            labels, end = _labels(rest, lineno, line)
            rest = rest[end:]
        if len({k for k, _ in labels}) != len(labels):
            raise ParseError(f"line {lineno}: a label repeated: {line!r}")
        toks = rest.split(" # ", 1)[0].split()  # an OpenMetrics exemplar follows " # "
        if len(toks) not in (1, 2):
            raise ParseError(f"line {lineno}: expected a value and an optional timestamp: {line!r}")
        k = (name, frozenset(labels))
        if k in series:
            raise ParseError(f"line {lineno}: series {fmt_key(k)} given twice")
        series[k] = _value(toks[0], lineno)
    return series


def fmt_key(key):
    name, labels = key
    if not labels:
        return name
    esc = lambda v: v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    inner = ",".join(f'{k}="{esc(v)}"' for k, v in sorted(labels))
    return f"{name}{{{inner}}}"


def key(name, **labels):
    return (name, frozenset(labels.items()))


def _fmt_val(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


class Checker:
    def __init__(self, series):
        self.series = series
        self.checked = 0
        self.problems = []

    def eq(self, expected, name, **labels):
        k = key(name, **labels)
        self.checked += 1
        if k not in self.series:
            self.problems.append(f"missing  {fmt_key(k)}: expected {expected}")
            return
        got = self.series[k]
        if got != expected:
            self.problems.append(f"mismatch {fmt_key(k)}: expected {expected}, got {_fmt_val(got)}")

    def absent_or_zero(self, name, **labels):
        k = key(name, **labels)
        got = self.series.get(k, 0)
        self.checked += 1
        if got != 0:
            self.problems.append(f"mismatch {fmt_key(k)}: expected 0 or absent, got {_fmt_val(got)}")

    def sum_eq(self, expected, name, match, what):
        """the sum of the samples of NAME whose labels include MATCH equals EXPECTED"""
        want = set(match.items())
        hits = [v for (n, ls), v in self.series.items() if n == name and want <= ls]
        self.checked += 1
        total = sum(hits)
        if total != expected:
            got = _fmt_val(total) if hits else "no series"
            self.problems.append(f"mismatch sum of {fmt_key(key(name, **match))} ({what}): "
                                 f"expected {expected}, got {got}")


def check_summary(summary, series, diagnostic=False):
    """Returns (number of series checked, [problem, ...])."""
    c = Checker(series)
    for flow in summary["flows"]:
        f = flow["id"]
        c.eq(flow["elements"], "torvyn_flow_elements_total", flow_id=f)
        c.eq(flow["errors"], "torvyn_flow_errors_total", flow_id=f)
        for reason in COPY_REASONS:
            cp = flow["copies"].get(reason, {"count": 0, "bytes": 0})
            c.eq(cp["count"], "torvyn_flow_copies_total", flow_id=f, reason=reason)
            c.eq(cp["bytes"], "torvyn_flow_copied_bytes_total", flow_id=f, reason=reason)
        c.eq(flow["transfers"]["count"], "torvyn_flow_transfers_total", flow_id=f)
        for comp in flow["components"]:
            lab = {"flow_id": f, "component_id": comp["id"]}
            c.eq(comp["invocations"], "torvyn_component_invocations_total", **lab)
            c.eq(comp["errors"], "torvyn_component_errors_total", **lab)
            c.eq(comp["bytes_in"], "torvyn_component_input_bytes_total", **lab)
            c.eq(comp["bytes_out"], "torvyn_component_output_bytes_total", **lab)
            # the production gate is up before the first element: every
            # invocation is timed
            c.eq(comp["invocations"], "torvyn_component_processing_time_seconds_count", **lab)
            if not diagnostic:
                continue
            c.eq(comp["invocations"], "torvyn_diagnostic_invocations_total", **lab)
            c.eq(comp["errors"], "torvyn_diagnostic_invocation_errors_total", **lab)
            c.eq(comp["invocations"], "torvyn_diagnostic_processing_time_seconds_count", **lab)
            for reason in COPY_REASONS:
                cp = comp.get("copies", {}).get(reason)
                if cp and cp["count"]:
                    c.eq(cp["count"], "torvyn_diagnostic_copies_total", reason=reason, **lab)
                    c.eq(cp["bytes"], "torvyn_diagnostic_copied_bytes_total", reason=reason, **lab)
                else:
                    c.absent_or_zero("torvyn_diagnostic_copies_total", reason=reason, **lab)
            c.sum_eq(comp["transfers_in"], "torvyn_diagnostic_transfers_total",
                     {"flow_id": f, "to_component": comp["id"]}, "transfers_in")
        for st in flow["streams"]:
            lab = {"flow_id": f, "stream_id": st["id"]}
            c.eq(st["elements_transferred"], "torvyn_stream_elements_transferred_total", **lab)
            c.eq(st["elements_dropped"], "torvyn_stream_elements_dropped_total", **lab)
            c.eq(st["backpressure_events"], "torvyn_stream_backpressure_events_total", **lab)
            # the host times queue waits at diagnostic level only: every
            # element that left the stream, or none
            if diagnostic:
                c.eq(st["elements_transferred"], "torvyn_stream_queue_wait_time_seconds_count",
                     **lab)
            else:
                c.absent_or_zero("torvyn_stream_queue_wait_time_seconds_count", **lab)
    for tier in summary["pool"]:
        t = tier["tier"]
        c.eq(tier["allocated"], "torvyn_pool_allocated_total", tier=t)
        c.eq(tier["returned"], "torvyn_pool_returned_total", tier=t)
        c.eq(tier["fallback_count"], "torvyn_pool_fallbacks_total", tier=t)
        c.eq(tier["exhaustion_events"], "torvyn_pool_exhaustions_total", tier=t)
    return c.checked, c.problems


def check_monotonic(a, b):
    """Returns (number of counter samples compared, [problem, ...])."""
    n, problems = 0, []
    for k, va in sorted(a.items(), key=lambda kv: fmt_key(kv[0])):
        if not k[0].endswith(COUNTER_SUFFIXES):
            continue
        n += 1
        if k not in b:
            problems.append(f"missing  {fmt_key(k)}: {_fmt_val(va)} in A, absent in B")
        elif not b[k] >= va:
            problems.append(f"decrease {fmt_key(k)}: {_fmt_val(va)} in A, {_fmt_val(b[k])} in B")
    return n, problems


def _read(path):
    if path == "-":
        return sys.stdin.read()
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def _usage():
    sys.stderr.write(__doc__.split("\n\n")[1] + "\n")
    return 2


HOST_LABELS = ("pid", "exe", "service")
_HOST_PREFIX = re.compile(r'\{pid="[^"]*",exe="[^"]*",service="[^"]*"(\}|,)')


def unhost(text):
    """A scrape without the host labels every series of a tracer carries first."""
    return _HOST_PREFIX.sub(lambda m: "" if m.group(1) == "}" else "{", text)


def host_series(series, pid):
    """The series of one host of a node agent's scrape, without its host labels."""
    out = {}
    for (name, labels), v in series.items():
        if ("pid", pid) in labels:
            out[(name, frozenset(kv for kv in labels if kv[0] not in HOST_LABELS))] = v
    return out


def main(argv):
    args = list(argv)
    if args and args[0] == "monotonic":
        if len(args) != 3:
            return _usage()
        try:
            a, b = parse(_read(args[1])), parse(_read(args[2]))
        except (OSError, ParseError) as e:
            print(f"prom_check: {e}", file=sys.stderr)
            return 2
        n, problems = check_monotonic(a, b)
        for p in problems:
            print(p)
        if problems:
            print(f"prom_check: {len(problems)} of {n} counter samples went backwards or vanished")
            return 1
        if n == 0:
            print("prom_check: no counter samples in A")
            return 1
        print(f"prom_check: {n} counter samples monotonic")
        return 0

    if args and args[0] == "check":
        args = args[1:]
    diagnostic = "--diagnostic" in args
    args = [a for a in args if a != "--diagnostic"]
    pid = None
    if "--pid" in args:
        i = args.index("--pid")
        if i + 1 >= len(args):
            return _usage()
        pid = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2 or any(a.startswith("--") for a in args):
        return _usage()
    try:
        with open(args[0], encoding="utf-8") as fh:
            summary = json.load(fh)
        series = parse(_read(args[1]))
    except (OSError, ValueError, ParseError) as e:
        print(f"prom_check: {e}", file=sys.stderr)
        return 2
    if pid is None:
        # a textfile's series all carry their host's labels: one host, set aside
        pids = [dict(labels).get("pid") for (_, labels) in series]
        if pids and None not in pids and len(set(pids)) == 1:
            pid = pids[0]
    if pid is not None:
        series = host_series(series, pid)
    try:
        n, problems = check_summary(summary, series, diagnostic)
    except (KeyError, TypeError) as e:
        print(f"prom_check: {args[0]}: unexpected summary layout: {e!r}", file=sys.stderr)
        return 2
    for p in problems:
        print(p)
    if problems:
        print(f"prom_check: {len(problems)} of {n} series differ from {args[0]}")
        return 1
    print(f"prom_check: {n} series checked, all equal to {args[0]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
