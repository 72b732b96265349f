#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""An independent decoder for what the OTLP encoders (user/trace/render/) write.

Compiles user/trace/proto/**/*.proto with protoc --python_out into a
temporary directory and decodes, with Google's protobuf runtime:

  <dir>/otlp-sample.pb            ExportTraceServiceRequest (protobuf)
  <dir>/otlp-sample.json          the same request, OTLP/JSON
  <dir>/otlp-metrics-sample.pb    ExportMetricsServiceRequest (protobuf)
  <dir>/otlp-metrics-sample.json  the same request, OTLP/JSON

The JSON goes through json_format.Parse with ignore_unknown_fields=False,
after the one OTLP/JSON deviation from proto3 JSON is undone (ids are hex,
not base64). Each JSON request must equal its protobuf twin field for field,
and the protobuf must hold no field the .proto files do not declare.

usage: otlp_decode.py REPO_DIR SAMPLE_DIR [--spans N] [--metric NAME=INT ...]
       otlp_decode.py REPO_DIR SAMPLE_DIR [--traces STEM [--resource-spans SERVICE=N ...]]
                      [--metrics STEM [--resource-metric SERVICE:NAME=INT ...]]

--traces and --metrics name other samples (STEM.pb and STEM.json) and check
only those given. A request holds one resource unless --resource-spans
(--resource-metric) lists them: then it holds exactly one ResourceSpans
(ResourceMetrics) per service.name given, in the order first given, each
with N spans whose names all start with "SERVICE:" (and metric NAME's first
point equal to INT).
Exits 0 when every check passes; prints what failed otherwise.
"""
import argparse
import base64
import glob
import json
import os
import subprocess
import sys
import tempfile


def compile_protos(repo, out):
    root = os.path.join(repo, "user/trace/proto")
    protos = sorted(glob.glob(os.path.join(root, "**/*.proto"), recursive=True))
    if not protos:
        sys.exit("no .proto files under %s" % root)
    subprocess.run(["protoc", "-I" + root, "--python_out=" + out] + protos, check=True)
    # Regular packages, so that an installed opentelemetry package cannot
    # shadow the generated modules.
    for d, _, _ in os.walk(os.path.join(out, "opentelemetry")):
        open(os.path.join(d, "__init__.py"), "a").close()
    sys.path.insert(0, out)


def hex_ids_to_base64(node):
    """OTLP/JSON writes trace and span ids as hex; proto3 JSON wants base64."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("traceId", "spanId", "parentSpanId") and isinstance(v, str):
                if v != v.lower() or len(v) not in (16, 32):
                    raise ValueError("%s is not lowercase hex of 8 or 16 bytes: %r" % (k, v))
                node[k] = base64.b64encode(bytes.fromhex(v)).decode()
            else:
                hex_ids_to_base64(v)
    elif isinstance(node, list):
        for v in node:
            hex_ids_to_base64(v)


def load_pair(cls, pb_path, json_path):
    from google.protobuf import json_format

    raw = open(pb_path, "rb").read()
    from_pb = cls()
    from_pb.ParseFromString(raw)
    known = cls()
    known.CopyFrom(from_pb)
    known.DiscardUnknownFields()
    if known.ByteSize() != from_pb.ByteSize() or from_pb.ByteSize() != len(raw):
        raise AssertionError("%s: fields our .proto files do not declare" % pb_path)

    doc = json.load(open(json_path))
    hex_ids_to_base64(doc)
    from_json = json_format.Parse(json.dumps(doc), cls(), ignore_unknown_fields=False)
    if from_json != from_pb:
        raise AssertionError(
            "%s and %s differ:\n--- protobuf\n%s\n--- json\n%s"
            % (pb_path, json_path, from_pb, from_json)
        )
    return from_pb


def service_of(resource):
    """Its service.name, after checking the attributes every resource has."""
    keys = [kv.key for kv in resource.attributes]
    assert len(keys) == len(set(keys)), "duplicate resource attributes: %s" % keys
    for k in ("service.name", "telemetry.sdk.name", "telemetry.sdk.language",
              "telemetry.sdk.version"):
        assert k in keys, "resource lacks " + k
    return [kv.value.string_value for kv in resource.attributes if kv.key == "service.name"][0]


def check_resources(services, want, what):
    """want: [(service, expected)] in order, or None for one resource."""
    if want is None:
        assert len(services) == 1, "one " + what
    else:
        assert services == [w[0] for w in want], "%s of %s, want %s" % (
            what, services, [w[0] for w in want])


def check_spans(spans, service):
    ids = {s.span_id for s in spans}
    for s in spans:
        assert len(s.trace_id) == 16 and len(s.span_id) == 8, s.name
        assert not s.parent_span_id or len(s.parent_span_id) == 8, s.name
        assert not s.parent_span_id or s.parent_span_id in ids, s.name + ": unknown parent"
        assert s.end_time_unix_nano >= s.start_time_unix_nano > 0, s.name
        assert s.name, "a span without a name"
        assert service is None or s.name.startswith(service + ":"), (
            "span %s under %s" % (s.name, service))


def check_traces(req, want_spans, want_res):
    services = [service_of(rs.resource) for rs in req.resource_spans]
    check_resources(services, want_res, "ResourceSpans")
    total = 0
    for i, rs in enumerate(req.resource_spans):
        assert len(rs.scope_spans) == 1 and rs.scope_spans[0].scope.name == "torvyn-trace"
        spans = rs.scope_spans[0].spans
        total += len(spans)
        if want_res is not None:
            svc, n = want_res[i]
            assert len(spans) == n, "%s: %d spans, want %d" % (svc, len(spans), n)
        check_spans(spans, services[i] if want_res is not None else None)
    if want_spans is not None:
        assert total == want_spans, "%d spans, want %d" % (total, want_spans)


def check_metrics(req, want, want_res):
    services = [service_of(rm.resource) for rm in req.resource_metrics]
    check_resources(services, want_res, "ResourceMetrics")
    for i, rm in enumerate(req.resource_metrics):
        check_scope_metrics(rm.scope_metrics, want_res[i][1] if want_res is not None else want)


def check_scope_metrics(sm, want):
    from opentelemetry.proto.metrics.v1 import metrics_pb2 as m

    assert len(sm) == 1 and sm[0].scope.name == "torvyn-trace"
    names = [x.name for x in sm[0].metrics]
    assert len(names) == len(set(names)), "duplicate metric names"
    values = {}
    for x in sm[0].metrics:
        kind = x.WhichOneof("data")
        assert kind in ("sum", "gauge", "histogram"), x.name
        if kind == "sum":
            assert x.sum.is_monotonic, x.name
            assert x.sum.aggregation_temporality == m.AGGREGATION_TEMPORALITY_CUMULATIVE
            for p in x.sum.data_points:
                assert 0 < p.start_time_unix_nano <= p.time_unix_nano, x.name
        if kind == "histogram":
            assert x.histogram.aggregation_temporality == m.AGGREGATION_TEMPORALITY_CUMULATIVE
            assert x.unit == "s", x.name
            for p in x.histogram.data_points:
                assert len(p.explicit_bounds) == 25, x.name
                assert p.explicit_bounds[0] == 1e-07 and p.explicit_bounds[-1] == 10.0
                assert len(p.bucket_counts) == 26, x.name
                assert sum(p.bucket_counts) == p.count, x.name
        if kind in ("sum", "gauge"):
            pts = getattr(x, kind).data_points
            assert pts, x.name + ": no points"
            for p in pts:
                assert p.WhichOneof("value") in ("as_int", "as_double"), x.name
                assert p.time_unix_nano > 0, x.name
            values[x.name] = pts[0]
    for name, v in want.items():
        assert name in values, "no metric " + name
        got = values[name]
        assert got.WhichOneof("value") == "as_int", name + " is not as_int"
        assert got.as_int == v, "%s = %d, want %d" % (name, got.as_int, v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("repo")
    ap.add_argument("dir")
    ap.add_argument("--spans", type=int)
    ap.add_argument("--metric", action="append", default=[])
    ap.add_argument("--traces")
    ap.add_argument("--resource-spans", action="append", default=[])
    ap.add_argument("--metrics")
    ap.add_argument("--resource-metric", action="append", default=[])
    a = ap.parse_args()
    want = {}
    for kv in a.metric:
        k, v = kv.split("=", 1)
        want[k] = int(v)
    res_spans = None
    for kv in a.resource_spans:
        k, v = kv.split("=", 1)
        res_spans = (res_spans or []) + [(k, int(v))]
    by_service = {}  # in the order first given
    for kv in a.resource_metric:
        svc, kv = kv.split(":", 1)
        k, v = kv.split("=", 1)
        by_service.setdefault(svc, {})[k] = int(v)
    res_metrics = list(by_service.items()) if by_service else None
    if not a.traces and not a.metrics:
        a.traces, a.metrics = "otlp-sample", "otlp-metrics-sample"

    with tempfile.TemporaryDirectory() as tmp:
        compile_protos(a.repo, tmp)
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as ts
        from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2 as ms

        d = a.dir
        if a.traces:
            req = load_pair(ts.ExportTraceServiceRequest, os.path.join(d, a.traces + ".pb"),
                            os.path.join(d, a.traces + ".json"))
            check_traces(req, a.spans, res_spans)
        if a.metrics:
            req = load_pair(ms.ExportMetricsServiceRequest, os.path.join(d, a.metrics + ".pb"),
                            os.path.join(d, a.metrics + ".json"))
            check_metrics(req, want, res_metrics)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (AssertionError, ValueError) as e:
        sys.exit("otlp_decode: %s" % e)
    except Exception as e:  # json_format.ParseError, DecodeError, protoc failing
        sys.exit("otlp_decode: %s: %s" % (type(e).__name__, e))
