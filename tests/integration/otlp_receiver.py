#!/usr/bin/env python3
"""A test OTLP receiver: OTLP/HTTP (protobuf and JSON) and OTLP/gRPC.

    otlp_receiver.py [--http PORT] [--grpc PORT] [--out FILE] [--metrics-out FILE]
                     [--requests-out FILE] [--fail-first N] [--proto-dir DIR]
                     [--tls CERT:KEY [--client-ca FILE]]
    otlp_receiver.py --decode-json FILE --out FILE [--metrics-out FILE]

PORT 0 picks a free port; the "ready" line names the ports.

At start it compiles the .proto files of user/trace/proto (our copy of the
OTLP definitions) with protoc into a temporary directory and decodes every
request with the generated classes, strictly:

- OTLP/HTTP: POST /v1/traces and /v1/metrics; Content-Type
  application/x-protobuf or application/json; Content-Encoding gzip accepted.
  JSON is checked against the OTLP/JSON rules (lowerCamelCase keys, enums as
  integers, trace and span ids as hex) and parsed with json_format.Parse, which
  rejects unknown fields. A request that does not decode gets 400 and is
  logged with its error.
- OTLP/gRPC: TraceService/Export and MetricsService/Export (grpcio's own
  server, gzip message compression accepted). A small pass-through proxy in
  front of it reads the HTTP/2 DATA frames to learn whether each message was
  compressed (grpcio hides that from the handler).

Output, one JSON object per line, written and flushed before the answer goes:
--out gets one line per span:
    {trace_id, span_id, parent_span_id ("" for none), name, kind, start, end,
     status_code, status_message, flags, trace_state, attributes{}, resource{},
     scope{name, version}, encoding "protobuf"|"json", compressed, transport
     "http"|"grpc", request N}
and, unless --metrics-out names another file, one line per metric:
    {metric: name, description, unit, type "sum"|"gauge"|"histogram",
     aggregation_temporality, is_monotonic, data_points[{attributes, start,
     time, as_int|as_double | count, sum, bucket_counts, explicit_bounds}],
     resource{}, scope{}, encoding, compressed, transport, request N}
Without --out no span or metric line is written (the decoding and the
checks still happen): for runs with more spans than Python can print.
--requests-out gets one line per request: {request, time (Unix seconds, when
    it was answered), transport, path, status, encoding, compressed,
    content_type, content_encoding, spans, metrics, headers{}, error}.
--decode-json reads OTLP/JSON requests, one a line (torvyn-trace's
    --otlp-stdout and --otlp-file), checks and decodes each like an OTLP/HTTP
    JSON body (a line with resourceSpans is a trace request, with
    resourceMetrics a metrics request) and writes the same lines to --out and
    --metrics-out (transport "file"); exits 1 naming the first line that does
    not decode.

--tls CERT:KEY serves both transports over TLS only, with that certificate
chain and key (PEM): OTLP/HTTP over HTTP/1.1, OTLP/gRPC over HTTP/2 negotiated
by ALPN (the front proxy ends TLS). A client that does not trust the
certificate gets no answer at all: the handshake fails, no request is logged.
--client-ca FILE makes that mutual TLS: a client must present a certificate
that the CA certificates of FILE (PEM) verify (ssl.CERT_REQUIRED). One without
is refused in the handshake (TLS 1.3: "certificate required"), no request
logged.

--fail-first N answers the first N requests 503 with Retry-After: 1 (gRPC:
UNAVAILABLE). --close-first N (OTLP/HTTP) resets the first N connections it
accepts without reading or answering anything: over TLS, right after the
handshake, as an endpoint going down does. Prints "ready" on stdout once listening; SIGTERM or SIGINT stops
it cleanly (exit 0) with a one-line summary on stderr.
"""

import argparse
import base64
import binascii
import collections
import gzip
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time

try:
    import grpc  # noqa: F401
    from google.protobuf import json_format
except ImportError:
    # python3 may be another interpreter than Debian's, which has
    # python3-protobuf and python3-grpcio: use Debian's.
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.access("/usr/bin/python3", os.X_OK) and not os.environ.get("OTLP_RECEIVER_REEXEC"):
        os.environ["OTLP_RECEIVER_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    sys.exit("otlp_receiver: needs python3-protobuf and python3-grpcio (make deps installs them)")

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_PROTO_DIR = os.path.normpath(os.path.join(HERE, "..", "..", "user", "trace", "proto"))

TRACE_METHOD = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"
METRICS_METHOD = "/opentelemetry.proto.collector.metrics.v1.MetricsService/Export"

pb = {}  # module name -> generated module


def compile_protos(proto_dir, out_dir):
    files = []
    for d, _, names in os.walk(proto_dir):
        files += [os.path.join(d, n) for n in names if n.endswith(".proto")]
    if not files:
        sys.exit("otlp_receiver: no .proto files under %s" % proto_dir)
    r = subprocess.run(["protoc", "--python_out=" + out_dir, "-I", proto_dir] + sorted(files),
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("otlp_receiver: protoc failed: %s" % r.stderr.strip())
    sys.path.insert(0, out_dir)
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
    from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
    pb["trace_service"] = trace_service_pb2
    pb["metrics_service"] = metrics_service_pb2


class DecodeError(Exception):
    pass


# ---------------------------------------------------------------- OTLP/JSON

ID_LENGTHS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
ENUM_KEYS = ("kind", "code", "aggregationTemporality")


def json_fix(obj, where="$"):
    """Checks the OTLP/JSON rules Parse does not, and turns hex ids into the
    base64 the proto3 JSON mapping expects for bytes."""
    if isinstance(obj, list):
        return [json_fix(v, "%s[%d]" % (where, i)) for i, v in enumerate(obj)]
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k, v in obj.items():
        at = where + "." + k
        if "_" in k:
            raise DecodeError("%s: OTLP/JSON field names are lowerCamelCase" % at)
        if k in ID_LENGTHS:
            if not isinstance(v, str):
                raise DecodeError("%s: expected a hex string" % at)
            if v == "":
                out[k] = ""
                continue
            try:
                raw = binascii.unhexlify(v)
            except (binascii.Error, ValueError):
                raise DecodeError("%s: %r is not hex (OTLP/JSON ids are hex, not base64)" % (at, v))
            if len(raw) != ID_LENGTHS[k]:
                raise DecodeError("%s: %d bytes, expected %d" % (at, len(raw), ID_LENGTHS[k]))
            out[k] = base64.b64encode(raw).decode()
            continue
        if k in ENUM_KEYS and not isinstance(v, int):
            raise DecodeError("%s: OTLP/JSON enums are integers, got %r" % (at, v))
        out[k] = json_fix(v, at)
    return out


def decode(body, traces, is_json):
    mod = pb["trace_service"] if traces else pb["metrics_service"]
    msg = mod.ExportTraceServiceRequest() if traces else mod.ExportMetricsServiceRequest()
    if is_json:
        try:
            doc = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise DecodeError("invalid JSON: %s" % e)
        if not isinstance(doc, dict):
            raise DecodeError("the request is not a JSON object")
        try:
            json_format.Parse(json.dumps(json_fix(doc)), msg, ignore_unknown_fields=False)
        except json_format.ParseError as e:
            raise DecodeError("OTLP/JSON: %s" % e)
    else:
        try:
            msg.ParseFromString(body)
        except Exception as e:  # google.protobuf.message.DecodeError and friends
            raise DecodeError("protobuf: %s" % e)
    return msg


# ---------------------------------------------------------------- to JSON lines

def any_value(v):
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [any_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return kv_dict(v.kvlist_value.values)
    if which == "bytes_value":
        return v.bytes_value.hex()
    return getattr(v, which)


def kv_dict(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def scope_dict(s):
    return {"name": s.name, "version": s.version, "attributes": kv_dict(s.attributes)}


def span_lines(req, extra):
    out = []
    for rs in req.resource_spans:
        res = kv_dict(rs.resource.attributes)
        for ss in rs.scope_spans:
            scope = scope_dict(ss.scope)
            for sp in ss.spans:
                d = {
                    "trace_id": sp.trace_id.hex(),
                    "span_id": sp.span_id.hex(),
                    "parent_span_id": sp.parent_span_id.hex(),
                    "name": sp.name,
                    "kind": sp.kind,
                    "start": sp.start_time_unix_nano,
                    "end": sp.end_time_unix_nano,
                    "status_code": sp.status.code,
                    "status_message": sp.status.message,
                    "flags": sp.flags,
                    "trace_state": sp.trace_state,
                    "attributes": kv_dict(sp.attributes),
                    "events": len(sp.events),
                    "links": len(sp.links),
                    "resource": res,
                    "scope": scope,
                }
                d.update(extra)
                out.append(d)
    return out


def number_point(p):
    d = {"attributes": kv_dict(p.attributes), "start": p.start_time_unix_nano,
         "time": p.time_unix_nano, "flags": p.flags}
    which = p.WhichOneof("value")
    if which:
        d[which] = getattr(p, which)
    return d


def histogram_point(p):
    return {"attributes": kv_dict(p.attributes), "start": p.start_time_unix_nano,
            "time": p.time_unix_nano, "count": p.count, "sum": p.sum,
            "bucket_counts": list(p.bucket_counts), "explicit_bounds": list(p.explicit_bounds),
            "flags": p.flags}


def metric_lines(req, extra):
    out = []
    for rm in req.resource_metrics:
        res = kv_dict(rm.resource.attributes)
        for sm in rm.scope_metrics:
            scope = scope_dict(sm.scope)
            for m in sm.metrics:
                kind = m.WhichOneof("data")
                d = {"metric": m.name, "description": m.description, "unit": m.unit,
                     "type": kind, "aggregation_temporality": None, "is_monotonic": None,
                     "data_points": []}
                if kind == "sum":
                    d["aggregation_temporality"] = m.sum.aggregation_temporality
                    d["is_monotonic"] = m.sum.is_monotonic
                    d["data_points"] = [number_point(p) for p in m.sum.data_points]
                elif kind == "gauge":
                    d["data_points"] = [number_point(p) for p in m.gauge.data_points]
                elif kind == "histogram":
                    d["aggregation_temporality"] = m.histogram.aggregation_temporality
                    d["data_points"] = [histogram_point(p) for p in m.histogram.data_points]
                d["resource"] = res
                d["scope"] = scope
                d.update(extra)
                out.append(d)
    return out


# ---------------------------------------------------------------- the receiver

class Receiver:
    def __init__(self, out, metrics_out, requests_out, fail_first):
        self.lock = threading.Lock()
        self.out = open(out, "a") if out else None
        self.metrics_out = open(metrics_out, "a") if metrics_out else self.out
        self.requests_out = open(requests_out, "a") if requests_out else None
        self.fail_left = fail_first
        self.n = 0
        self.spans = 0
        self.metrics = 0
        self.errors = 0
        self.failed = 0

    def begin(self):
        """Numbers a request; True when it is to be failed (--fail-first)."""
        with self.lock:
            self.n += 1
            if self.fail_left > 0:
                self.fail_left -= 1
                self.failed += 1
                return self.n, True
            return self.n, False

    def log_request(self, entry):
        entry["time"] = time.time()
        with self.lock:
            if entry.get("error"):
                self.errors += 1
                print("otlp_receiver: request %d %s: %s" % (entry["request"], entry["path"],
                                                           entry["error"]),
                      file=sys.stderr, flush=True)
            if self.requests_out:
                self.requests_out.write(json.dumps(entry) + "\n")
                self.requests_out.flush()

    def handle(self, n, traces, body, is_json, compressed, transport):
        """Decodes one request and writes its lines. Returns the answer's
        body (protobuf or JSON, as the request) and the counts."""
        msg = decode(body, traces, is_json)
        extra = {"encoding": "json" if is_json else "protobuf", "compressed": compressed,
                 "transport": transport, "request": n}
        if traces:
            lines = span_lines(msg, extra)
            resp = pb["trace_service"].ExportTraceServiceResponse()
        else:
            lines = metric_lines(msg, extra)
            resp = pb["metrics_service"].ExportMetricsServiceResponse()
        with self.lock:
            f = self.out if traces else self.metrics_out
            if f:
                for line in lines:
                    f.write(json.dumps(line) + "\n")
                f.flush()
            if traces:
                self.spans += len(lines)
            else:
                self.metrics += len(lines)
        answer = b"{}" if is_json else resp.SerializeToString()
        return answer, len(lines)

    def close(self):
        with self.lock:
            for f in {self.out, self.metrics_out, self.requests_out}:
                if f:
                    f.close()


RX = None


# ---------------------------------------------------------------- OTLP/HTTP

class HttpHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "otlp-test-receiver"

    def log_message(self, fmt, *args):  # quiet
        pass

    def reply(self, code, body=b"", ctype="text/plain", extra=()):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length", "0")))

    def do_GET(self):
        self.reply(405, b"POST OTLP requests to /v1/traces or /v1/metrics\n",
                   extra=(("Allow", "POST"),))

    def do_POST(self):
        body = self.read_body()
        n, fail = RX.begin()
        ctype_full = self.headers.get("Content-Type", "")
        ctype = ctype_full.split(";")[0].strip().lower()
        cenc = self.headers.get("Content-Encoding", "").strip().lower()
        entry = {"request": n, "transport": "http", "path": self.path, "status": 200,
                 "encoding": {"application/json": "json",
                              "application/x-protobuf": "protobuf"}.get(ctype),
                 "compressed": cenc == "gzip", "content_type": ctype_full,
                 "content_encoding": cenc, "spans": 0, "metrics": 0,
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "error": None}
        try:
            if fail:
                entry["status"] = 503
                self.reply(503, b"try again\n", extra=(("Retry-After", "1"),))
                return
            if self.path not in ("/v1/traces", "/v1/metrics"):
                entry["status"] = 404
                entry["error"] = "unknown path %s" % self.path
                self.reply(404, b"not found\n")
                return
            if entry["encoding"] is None:
                entry["status"] = 415
                entry["error"] = "unsupported Content-Type %r" % ctype_full
                self.reply(415, b"expected application/x-protobuf or application/json\n")
                return
            if cenc not in ("", "identity", "gzip"):
                entry["status"] = 415
                entry["error"] = "unsupported Content-Encoding %r" % cenc
                self.reply(415, b"expected Content-Encoding gzip or none\n")
                return
            if cenc == "gzip":
                try:
                    body = gzip.decompress(body)
                except (OSError, EOFError, ValueError) as e:
                    raise DecodeError("Content-Encoding gzip, but the body is not gzip: %s" % e)
            traces = self.path == "/v1/traces"
            answer, count = RX.handle(n, traces, body, entry["encoding"] == "json",
                                      entry["compressed"], "http")
            entry["spans" if traces else "metrics"] = count
            self.reply(200, answer, "application/json" if entry["encoding"] == "json"
                       else "application/x-protobuf")
        except DecodeError as e:
            entry["status"] = 400
            entry["error"] = str(e)
            self.reply(400, (str(e) + "\n").encode())
        finally:
            RX.log_request(entry)


class HttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    close_left = 0  # --close-first

    def process_request(self, request, client_address):
        if self.close_left > 0:
            # accepted (over TLS: handshake done), then reset unread, unanswered
            self.close_left -= 1
            request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            request.close()
            return
        super().process_request(request, client_address)


# ---------------------------------------------------------------- OTLP/gRPC

class Http2Sniffer:
    """Follows the client's half of an HTTP/2 connection and queues, for each
    gRPC message it carries, its compressed flag. Only frame headers and the
    5-byte gRPC message prefixes are read; the bytes go on unchanged."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    def __init__(self, flags):
        self.flags = flags  # shared deque
        self.buf = b""
        self.preface = False
        self.streams = {}  # stream id -> [prefix bytes so far, bytes left to skip]

    def feed(self, data):
        self.buf += data
        if not self.preface:
            if len(self.buf) < len(self.PREFACE):
                return
            self.buf = self.buf[len(self.PREFACE):]
            self.preface = True
        while len(self.buf) >= 9:
            length = int.from_bytes(self.buf[0:3], "big")
            if len(self.buf) < 9 + length:
                return
            ftype, fflags = self.buf[3], self.buf[4]
            sid = int.from_bytes(self.buf[5:9], "big") & 0x7FFFFFFF
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            if ftype == 0:  # DATA
                if fflags & 0x8:  # PADDED
                    pad = payload[0]
                    payload = payload[1:len(payload) - pad]
                self.data(sid, payload)
                if fflags & 0x1:  # END_STREAM
                    self.streams.pop(sid, None)
            elif ftype == 3:  # RST_STREAM
                self.streams.pop(sid, None)

    def data(self, sid, payload):
        st = self.streams.setdefault(sid, [b"", 0])
        i = 0
        while i < len(payload):
            if st[1] > 0:
                take = min(st[1], len(payload) - i)
                st[1] -= take
                i += take
                continue
            need = 5 - len(st[0])
            st[0] += payload[i:i + need]
            i += need
            if len(st[0]) == 5:
                self.flags.append(bool(st[0][0] & 1))
                st[1] = int.from_bytes(st[0][1:5], "big")
                st[0] = b""


class GrpcFront:
    """Listens on the public port and passes every connection through to
    grpcio's server on a private one, sniffing compressed flags on the way."""

    def __init__(self, port, backend_port, flags, tls=None):
        self.backend = ("127.0.0.1", backend_port)
        self.flags = flags
        self.tls = tls
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.stopping = False
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.tls:
                try:
                    c.settimeout(5)
                    c = self.tls.wrap_socket(c, server_side=True)
                    c.settimeout(None)
                except (ssl.SSLError, OSError):
                    c.close()
                    continue
            try:
                b = socket.create_connection(self.backend)
            except OSError:
                c.close()
                continue
            for s in (c, b):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sniffer = Http2Sniffer(self.flags)
            threading.Thread(target=self.pump, args=(c, b, sniffer), daemon=True).start()
            threading.Thread(target=self.pump, args=(b, c, None), daemon=True).start()

    @staticmethod
    def pump(src, dst, sniffer):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if sniffer:
                    sniffer.feed(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
                try:
                    s.shutdown(how)
                except OSError:
                    pass

    def close(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass


def grpc_handler(traces, flags):
    import grpc

    def export(body, ctx):
        n, fail = RX.begin()
        try:
            compressed = flags.popleft()
        except IndexError:
            compressed = None  # not seen by the sniffer: should not happen
        meta = {}
        for k, v in ctx.invocation_metadata():
            meta[k] = v if isinstance(v, str) else v.hex()
        entry = {"request": n, "transport": "grpc",
                 "path": TRACE_METHOD if traces else METRICS_METHOD, "status": 0,
                 "encoding": "protobuf", "compressed": compressed,
                 "content_type": "application/grpc", "content_encoding": None,
                 "spans": 0, "metrics": 0, "headers": meta, "error": None}
        try:
            if fail:
                entry["status"] = grpc.StatusCode.UNAVAILABLE.value[0]
                ctx.abort(grpc.StatusCode.UNAVAILABLE, "try again")
            try:
                answer, count = RX.handle(n, traces, body, False, compressed, "grpc")
            except DecodeError as e:
                entry["status"] = grpc.StatusCode.INVALID_ARGUMENT.value[0]
                entry["error"] = str(e)
                ctx.abort(grpc.StatusCode.INVALID_ARGUMENT, str(e))
            entry["spans" if traces else "metrics"] = count
            return answer
        finally:
            RX.log_request(entry)

    return grpc.unary_unary_rpc_method_handler(export)


def start_grpc(port, tls=None):
    import grpc
    from concurrent import futures

    flags = collections.deque()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4),
                         options=[("grpc.max_receive_message_length", 64 << 20)])
    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.trace.v1.TraceService",
            {"Export": grpc_handler(True, flags)}),
        grpc.method_handlers_generic_handler(
            "opentelemetry.proto.collector.metrics.v1.MetricsService",
            {"Export": grpc_handler(False, flags)}),
    ))
    backend = server.add_insecure_port("127.0.0.1:0")
    server.start()
    front = GrpcFront(port, backend, flags, tls)
    return server, front


def tls_context(spec, alpn, client_ca=None):
    """A server-side TLS context from CERT:KEY, offering the ALPN protocol alpn;
    with client_ca, clients must present a certificate that it verifies."""
    cert, key = spec.split(":", 1)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    if client_ca:
        ctx.load_verify_locations(cafile=client_ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.set_alpn_protocols([alpn])
    return ctx


# ---------------------------------------------------------------- --decode-json

def decode_json_file(args):
    global RX
    tmp = tempfile.mkdtemp(prefix="otlp-receiver.")
    try:
        compile_protos(args.proto_dir, tmp)
        RX = Receiver(args.out, args.metrics_out, args.requests_out, 0)
        with open(args.decode_json, "rb") as f:
            for i, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    doc = json.loads(line)
                except ValueError as e:
                    print("%s:%d: not JSON: %s" % (args.decode_json, i, e), file=sys.stderr)
                    return 1
                kinds = [k for k in ("resourceSpans", "resourceMetrics")
                         if isinstance(doc, dict) and k in doc]
                if len(kinds) != 1:
                    print("%s:%d: neither an OTLP/JSON trace request (resourceSpans) nor a "
                          "metrics request (resourceMetrics)" % (args.decode_json, i),
                          file=sys.stderr)
                    return 1
                n, _ = RX.begin()
                try:
                    RX.handle(n, kinds[0] == "resourceSpans", line, True, False, "file")
                except DecodeError as e:
                    print("%s:%d: %s" % (args.decode_json, i, e), file=sys.stderr)
                    return 1
        print("otlp_receiver: %s: %d requests, %d spans, %d metrics" %
              (args.decode_json, RX.n, RX.spans, RX.metrics), file=sys.stderr)
        RX.close()
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- main

def main():
    global RX
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--http", type=int, metavar="PORT", help="OTLP/HTTP on 127.0.0.1:PORT")
    ap.add_argument("--grpc", type=int, metavar="PORT", help="OTLP/gRPC on 127.0.0.1:PORT")
    ap.add_argument("--out", help="span lines (and metric lines) appended here")
    ap.add_argument("--metrics-out", help="metric lines appended here instead")
    ap.add_argument("--requests-out", help="one line per request appended here")
    ap.add_argument("--fail-first", type=int, default=0, metavar="N",
                    help="answer the first N requests 503 / UNAVAILABLE")
    ap.add_argument("--close-first", type=int, default=0, metavar="N",
                    help="OTLP/HTTP: close the first N connections unanswered")
    ap.add_argument("--proto-dir", default=DEFAULT_PROTO_DIR)
    ap.add_argument("--tls", metavar="CERT:KEY", help="serve over TLS only (PEM files)")
    ap.add_argument("--client-ca", metavar="FILE",
                    help="with --tls: require a client certificate that FILE verifies")
    ap.add_argument("--decode-json", metavar="FILE",
                    help="decode the OTLP/JSON request lines of FILE and exit")
    args = ap.parse_args()
    if args.decode_json:
        return decode_json_file(args)
    if args.http is None and args.grpc is None:
        ap.error("give --http PORT and/or --grpc PORT")
    if args.client_ca and not args.tls:
        ap.error("--client-ca needs --tls")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    tmp = tempfile.mkdtemp(prefix="otlp-receiver.")
    try:
        compile_protos(args.proto_dir, tmp)
        RX = Receiver(args.out, args.metrics_out, args.requests_out, args.fail_first)
        httpd = grpcd = front = None
        ports = []
        if args.http is not None:
            httpd = HttpServer(("127.0.0.1", args.http), HttpHandler)
            httpd.close_left = args.close_first
            if args.tls:
                httpd.socket = tls_context(args.tls, "http/1.1", args.client_ca).wrap_socket(
                    httpd.socket, server_side=True)
            threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.1},
                             daemon=True).start()
            ports.append("http=%d" % httpd.server_address[1])
        if args.grpc is not None:
            grpcd, front = start_grpc(args.grpc,
                                      args.tls and tls_context(args.tls, "h2", args.client_ca))
            ports.append("grpc=%d" % front.port)
        print("ready " + " ".join(ports), flush=True)
        while not stop.wait(0.2):
            pass
        if httpd:
            httpd.shutdown()
            httpd.server_close()
        if front:
            front.close()
        if grpcd:
            grpcd.stop(0.5).wait()
        print("otlp_receiver: %d requests (%d failed on purpose, %d undecodable), "
              "%d spans, %d metrics" % (RX.n, RX.failed, RX.errors, RX.spans, RX.metrics),
              file=sys.stderr, flush=True)
        RX.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
