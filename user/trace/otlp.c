// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OTLP encoding of spans and metric snapshots, as protobuf (protobuf-c,
 * generated from user/trace/proto/) and as OTLP/JSON (jansson), and decoding
 * of the Export*ServiceResponse partial_success.
 *
 * Metrics are first turned into a neutral list (name, kind, points with
 * attributes) by the metric model's walk (metric_model.h), the same that
 * renders /metrics, so the two encodings and the Prometheus text cannot
 * disagree about which series exist or what they hold. Every allocation of
 * one encoding goes into an arena freed at the end.
 *
 * OTLP/JSON differs from the proto3 JSON mapping in two ways we follow:
 * trace and span ids are lowercase hex (not base64) and enums are integers.
 * 64-bit integers are decimal strings, zero and empty fields are left out.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "opentelemetry/proto/collector/metrics/v1/metrics_service.pb-c.h"
#include "opentelemetry/proto/collector/trace/v1/trace_service.pb-c.h"

#include "metric_model.h"
#include "otlp.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define NS_PER_SEC 1000000000ULL

/*
 * The generated type names run past half a line; these short aliases exist
 * only to keep the encoders readable.
 */
typedef Opentelemetry__Proto__Common__V1__AnyValue pb_anyvalue;
typedef Opentelemetry__Proto__Common__V1__KeyValue pb_keyvalue;
typedef Opentelemetry__Proto__Common__V1__InstrumentationScope pb_scope;
typedef Opentelemetry__Proto__Resource__V1__Resource pb_resource;
typedef Opentelemetry__Proto__Trace__V1__Span pb_span;
typedef Opentelemetry__Proto__Trace__V1__Status pb_status;
typedef Opentelemetry__Proto__Trace__V1__ScopeSpans pb_scope_spans;
typedef Opentelemetry__Proto__Trace__V1__ResourceSpans pb_resource_spans;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceRequest pb_trace_req;
typedef Opentelemetry__Proto__Collector__Trace__V1__ExportTraceServiceResponse pb_trace_resp;
typedef Opentelemetry__Proto__Metrics__V1__Metric pb_metric;
typedef Opentelemetry__Proto__Metrics__V1__Sum pb_sum;
typedef Opentelemetry__Proto__Metrics__V1__Gauge pb_gauge;
typedef Opentelemetry__Proto__Metrics__V1__Histogram pb_histogram;
typedef Opentelemetry__Proto__Metrics__V1__NumberDataPoint pb_number_point;
typedef Opentelemetry__Proto__Metrics__V1__HistogramDataPoint pb_hist_point;
typedef Opentelemetry__Proto__Metrics__V1__ScopeMetrics pb_scope_metrics;
typedef Opentelemetry__Proto__Metrics__V1__ResourceMetrics pb_resource_metrics;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceRequest pb_metrics_req;
typedef Opentelemetry__Proto__Collector__Metrics__V1__ExportMetricsServiceResponse pb_metrics_resp;

#define AGG_CUMULATIVE                                                                             \
	OPENTELEMETRY__PROTO__METRICS__V1__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE

/* ------------------------------------------------------------ arena */

struct arena {
	void **blk;
	size_t n, cap;
	bool oom;
};

/* Zeroed memory that lives until ar_free; NULL (and oom set) on failure. */
static void *ar_alloc(struct arena *a, size_t size)
{
	void *p;

	if (a->oom)
		return NULL;
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 256;
		void **blk = realloc(a->blk, cap * sizeof(*blk));

		if (!blk)
			goto oom;
		a->blk = blk;
		a->cap = cap;
	}
	p = calloc(1, size ? size : 1);
	if (!p)
		goto oom;
	a->blk[a->n++] = p;
	return p;
oom:
	a->oom = true;
	return NULL;
}

static void ar_free(struct arena *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->blk[i]);
	free(a->blk);
	*a = (struct arena){0};
}

/*
 * A copy of s (up to a NUL or max bytes) with every byte that is not UTF-8
 * replaced by U+FFFD: protobuf strings must be UTF-8 (collectors reject the
 * whole request otherwise) and jansson refuses anything else. Names come from
 * the traced process and need not even end in NUL.
 */
static char *ar_str(struct arena *a, const char *s, size_t max)
{
	const unsigned char *v = (const unsigned char *)s;
	size_t n = strnlen(s, max);
	char *out = ar_alloc(a, 3 * n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n;) {
		size_t k = metric_model__utf8_seq(v + i, n - i);

		if (k == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(o, v + i, k);
		o += k;
		i += k;
	}
	*o = '\0';
	return out;
}

/* ------------------------------------------------------------ attributes */

void otlp_span__attr_str(struct otlp_span *s, const char *key, const char *val)
{
	struct otlp_kv *kv;

	if (!s || !key || s->n_attrs < 0 || s->n_attrs >= OTLP_MAX_ATTRS)
		return;
	kv = &s->attrs[s->n_attrs++];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->type = OTLP_STR;
	snprintf(kv->str, sizeof(kv->str), "%s", val ? val : "");
}

void otlp_span__attr_int(struct otlp_span *s, const char *key, int64_t val)
{
	struct otlp_kv *kv;

	if (!s || !key || s->n_attrs < 0 || s->n_attrs >= OTLP_MAX_ATTRS)
		return;
	kv = &s->attrs[s->n_attrs++];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->type = OTLP_INT;
	kv->i = val;
}

/* The resource's attributes: the named fields, telemetry.sdk.*, then extra. */
#define RES_MAX_ATTRS (8 + ARRAY_SIZE(((struct otlp_resource *)0)->extra))

struct res_attrs {
	struct otlp_kv kv[RES_MAX_ATTRS];
	size_t n;
};

static bool ra_has(const struct res_attrs *r, const char *key)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->kv[i].key, key))
			return true;
	return false;
}

static void ra_str(struct res_attrs *r, const char *key, const char *val, size_t max)
{
	struct otlp_kv *kv;
	size_t n = strnlen(val, max);

	if (!n || r->n == RES_MAX_ATTRS || ra_has(r, key))
		return;
	kv = &r->kv[r->n++];
	memset(kv, 0, sizeof(*kv));
	snprintf(kv->key, sizeof(kv->key), "%s", key);
	kv->type = OTLP_STR;
	snprintf(kv->str, sizeof(kv->str), "%.*s", (int)n, val);
}

/*
 * Keys must be unique within a resource: an extra attribute (from
 * OTEL_RESOURCE_ATTRIBUTES) that repeats one set above loses, as
 * OTEL_SERVICE_NAME wins over service.name there.
 */
static void res_attrs(const struct otlp_resource *res, struct res_attrs *r)
{
	r->n = 0;
	ra_str(r, "service.name", res->service_name[0] ? res->service_name : "torvyn-host",
	       sizeof(res->service_name));
	ra_str(r, "service.instance.id", res->service_instance_id,
	       sizeof(res->service_instance_id));
	ra_str(r, "host.name", res->host_name, sizeof(res->host_name));
	if (res->pid > 0) {
		struct otlp_kv *kv = &r->kv[r->n++];

		memset(kv, 0, sizeof(*kv));
		snprintf(kv->key, sizeof(kv->key), "process.pid");
		kv->type = OTLP_INT;
		kv->i = res->pid;
	}
	ra_str(r, "process.executable.name", res->executable_name, sizeof(res->executable_name));
	ra_str(r, "telemetry.sdk.name", OTLP_SDK_NAME, sizeof(OTLP_SDK_NAME));
	ra_str(r, "telemetry.sdk.language", OTLP_SDK_LANGUAGE, sizeof(OTLP_SDK_LANGUAGE));
	ra_str(r, "telemetry.sdk.version", OTLP_SDK_VERSION, sizeof(OTLP_SDK_VERSION));
	for (int i = 0; i < res->n_extra && i < (int)ARRAY_SIZE(res->extra); i++) {
		const struct otlp_kv *x = &res->extra[i];

		if (!x->key[0] || r->n == RES_MAX_ATTRS || ra_has(r, x->key))
			continue;
		r->kv[r->n++] = *x;
	}
}

static int span_n_attrs(const struct otlp_span *s)
{
	if (s->n_attrs < 0)
		return 0;
	return s->n_attrs > OTLP_MAX_ATTRS ? OTLP_MAX_ATTRS : s->n_attrs;
}

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

/* ------------------------------------------------------------ protobuf: common */

static pb_keyvalue *pb_kv_new(struct arena *a, const char *key, size_t kmax)
{
	pb_keyvalue *kv = ar_alloc(a, sizeof(*kv));
	pb_anyvalue *v = ar_alloc(a, sizeof(*v));

	if (!kv || !v)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = ar_str(a, key, kmax);
	kv->value = v;
	return kv->key ? kv : NULL;
}

static pb_keyvalue *pb_kv_str(struct arena *a, const char *key, const char *val, size_t vmax)
{
	pb_keyvalue *kv = pb_kv_new(a, key, 256);

	if (!kv)
		return NULL;
	kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	kv->value->string_value = ar_str(a, val, vmax);
	return kv->value->string_value ? kv : NULL;
}

static pb_keyvalue *pb_kv(struct arena *a, const struct otlp_kv *x)
{
	pb_keyvalue *kv;

	if (x->type == OTLP_STR)
		return pb_kv_str(a, x->key, x->str, sizeof(x->str));
	kv = pb_kv_new(a, x->key, sizeof(x->key));
	if (!kv)
		return NULL;
	switch (x->type) {
	case OTLP_INT:
		kv->value->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
		kv->value->int_value = x->i;
		break;
	case OTLP_DOUBLE:
		kv->value->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_DOUBLE_VALUE;
		kv->value->double_value = x->d;
		break;
	case OTLP_BOOL:
	default:
		kv->value->value_case =
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_BOOL_VALUE;
		kv->value->bool_value = x->i != 0;
		break;
	}
	return kv;
}

/* An array of n KeyValue pointers from otlp_kv; NULL for n == 0 or oom. */
static pb_keyvalue **pb_kvs(struct arena *a, const struct otlp_kv *x, size_t n)
{
	pb_keyvalue **v;

	if (!n)
		return NULL;
	v = ar_alloc(a, n * sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = pb_kv(a, &x[i]);
	return v;
}

static pb_resource *pb_res(struct arena *a, const struct otlp_resource *res)
{
	pb_resource *r = ar_alloc(a, sizeof(*r));
	struct res_attrs ra;

	if (!r)
		return NULL;
	opentelemetry__proto__resource__v1__resource__init(r);
	res_attrs(res, &ra);
	r->n_attributes = ra.n;
	r->attributes = pb_kvs(a, ra.kv, ra.n);
	return r;
}

static pb_scope *pb_scope_new(struct arena *a)
{
	pb_scope *s = ar_alloc(a, sizeof(*s));

	if (!s)
		return NULL;
	opentelemetry__proto__common__v1__instrumentation_scope__init(s);
	s->name = ar_str(a, OTLP_SCOPE_NAME, sizeof(OTLP_SCOPE_NAME));
	s->version = ar_str(a, OTLP_SDK_VERSION, sizeof(OTLP_SDK_VERSION));
	return s;
}

static int pb_finish(struct arena *a, const ProtobufCMessage *msg, uint8_t **buf, size_t *len)
{
	size_t n;
	uint8_t *out;

	if (a->oom)
		return -ENOMEM;
	n = protobuf_c_message_get_packed_size(msg);
	out = malloc(n ? n : 1);
	if (!out)
		return -ENOMEM;
	*len = protobuf_c_message_pack(msg, out);
	*buf = out;
	return 0;
}

/* ------------------------------------------------------------ protobuf: traces */

static pb_span *pb_span_new(struct arena *a, const struct otlp_span *s)
{
	pb_span *p = ar_alloc(a, sizeof(*p));
	size_t na = (size_t)span_n_attrs(s);

	if (!p)
		return NULL;
	opentelemetry__proto__trace__v1__span__init(p);
	/* The struct outlives the pack: point at the caller's bytes. */
	p->trace_id = (ProtobufCBinaryData){sizeof(s->trace_id), (uint8_t *)s->trace_id};
	p->span_id = (ProtobufCBinaryData){sizeof(s->span_id), (uint8_t *)s->span_id};
	if (!all_zero(s->parent_span_id, sizeof(s->parent_span_id)))
		p->parent_span_id =
		    (ProtobufCBinaryData){sizeof(s->parent_span_id), (uint8_t *)s->parent_span_id};
	p->flags = s->flags;
	p->name = ar_str(a, s->name, sizeof(s->name));
	p->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
	p->start_time_unix_nano = s->start_unix_ns;
	p->end_time_unix_nano = s->end_unix_ns;
	p->n_attributes = na;
	p->attributes = pb_kvs(a, s->attrs, na);
	if (s->status_code || s->status_message[0]) {
		pb_status *st = ar_alloc(a, sizeof(*st));

		if (!st)
			return NULL;
		opentelemetry__proto__trace__v1__status__init(st);
		st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status_code;
		st->message = ar_str(a, s->status_message, sizeof(s->status_message));
		p->status = st;
	}
	return p;
}

int otlp__encode_traces_pb(const struct otlp_resource *res, const struct otlp_span *spans, size_t n,
			   uint8_t **buf, size_t *len)
{
	pb_trace_req req =
	    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	pb_resource_spans rs = OPENTELEMETRY__PROTO__TRACE__V1__RESOURCE_SPANS__INIT;
	pb_scope_spans ss = OPENTELEMETRY__PROTO__TRACE__V1__SCOPE_SPANS__INIT;
	pb_resource_spans *rsp = &rs;
	pb_scope_spans *ssp = &ss;
	struct arena a = {0};
	int err;

	if (!res || (!spans && n) || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	rs.resource = pb_res(&a, res);
	rs.n_scope_spans = 1;
	rs.scope_spans = &ssp;
	ss.scope = pb_scope_new(&a);
	ss.n_spans = n;
	ss.spans = n ? ar_alloc(&a, n * sizeof(*ss.spans)) : NULL;
	for (size_t i = 0; ss.spans && i < n; i++)
		ss.spans[i] = pb_span_new(&a, &spans[i]);
	req.n_resource_spans = 1;
	req.resource_spans = &rsp;
	err = pb_finish(&a, &req.base, buf, len);
	ar_free(&a);
	return err;
}

/* ------------------------------------------------------------ JSON: common */

struct jctx {
	bool oom;
	int prec; /* digits %g needs for every double written to read back exactly */
};

static void jset(struct jctx *j, json_t *obj, const char *key, json_t *val)
{
	if (!obj || !val || json_object_set_new(obj, key, val))
		j->oom = true;
}

static void jpush(struct jctx *j, json_t *arr, json_t *val)
{
	if (!arr || !val || json_array_append_new(arr, val))
		j->oom = true;
}

/* A 64-bit integer as the decimal string OTLP/JSON wants. */
static json_t *j_u64(uint64_t x)
{
	char s[24];

	snprintf(s, sizeof(s), "%llu", (unsigned long long)x);
	return json_string(s);
}

static json_t *j_i64(int64_t x)
{
	char s[24];

	snprintf(s, sizeof(s), "%lld", (long long)x);
	return json_string(s);
}

/* A sanitized string: see ar_str. */
static json_t *j_str(const char *s, size_t max)
{
	struct arena a = {0};
	char *c = ar_str(&a, s, max);
	json_t *v = c ? json_string(c) : NULL;

	ar_free(&a);
	return v;
}

/*
 * A double. jansson prints every real with one %.*g precision: use the
 * smallest (15..17) that reads back exactly for all of them, so the bounds
 * print as 1e-07, not 9.9999999999999995e-08, unless another value needs
 * more. Proto3 JSON writes the non-finite values as strings.
 */
static json_t *j_dbl(struct jctx *j, double d)
{
	char s[40];
	int p;

	if (isnan(d))
		return json_string("NaN");
	if (isinf(d))
		return json_string(d > 0 ? "Infinity" : "-Infinity");
	for (p = 15; p < 17; p++) {
		snprintf(s, sizeof(s), "%.*g", p, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if (p > j->prec)
		j->prec = p;
	return json_real(d);
}

static json_t *j_hex(const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char s[2 * 16 + 1];

	for (size_t i = 0; i < n; i++) {
		s[2 * i] = hex[p[i] >> 4];
		s[2 * i + 1] = hex[p[i] & 15];
	}
	s[2 * n] = '\0';
	return json_string(s);
}

static json_t *j_kv(struct jctx *j, const struct otlp_kv *x)
{
	json_t *kv = json_object(), *v = json_object();

	jset(j, kv, "key", j_str(x->key, sizeof(x->key)));
	switch (x->type) {
	case OTLP_STR:
		jset(j, v, "stringValue", j_str(x->str, sizeof(x->str)));
		break;
	case OTLP_INT:
		jset(j, v, "intValue", j_i64(x->i));
		break;
	case OTLP_DOUBLE:
		jset(j, v, "doubleValue", j_dbl(j, x->d));
		break;
	case OTLP_BOOL:
	default:
		jset(j, v, "boolValue", json_boolean(x->i != 0));
		break;
	}
	jset(j, kv, "value", v);
	return kv;
}

static json_t *j_kvs(struct jctx *j, const struct otlp_kv *x, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		jpush(j, arr, j_kv(j, &x[i]));
	return arr;
}

static json_t *j_res(struct jctx *j, const struct otlp_resource *res)
{
	json_t *r = json_object();
	struct res_attrs ra;

	res_attrs(res, &ra);
	jset(j, r, "attributes", j_kvs(j, ra.kv, ra.n));
	return r;
}

static json_t *j_scope(struct jctx *j)
{
	json_t *s = json_object();

	jset(j, s, "name", json_string(OTLP_SCOPE_NAME));
	jset(j, s, "version", json_string(OTLP_SDK_VERSION));
	return s;
}

/*
 * {"<top>":[{"resource":...,"<scope_key>":[{"scope":...,"<list_key>":list}]}]}
 * and its compact text; takes list.
 */
static int j_finish(struct jctx *j, const struct otlp_resource *res, const char *top,
		    const char *scope_key, const char *list_key, json_t *list, char **buf,
		    size_t *len)
{
	json_t *root = json_object(), *rl = json_array(), *r = json_object();
	json_t *sl = json_array(), *s = json_object();
	char *text = NULL;

	jset(j, r, "resource", j_res(j, res));
	jset(j, s, "scope", j_scope(j));
	jset(j, s, list_key, list);
	jpush(j, sl, s);
	jset(j, r, scope_key, sl);
	jpush(j, rl, r);
	jset(j, root, top, rl);
	if (!j->oom)
		text = json_dumps(root, JSON_COMPACT | JSON_REAL_PRECISION(j->prec));
	json_decref(root);
	if (!text)
		return -ENOMEM;
	*buf = text;
	*len = strlen(text);
	return 0;
}

/* ------------------------------------------------------------ JSON: traces */

static json_t *j_span(struct jctx *j, const struct otlp_span *s)
{
	json_t *o = json_object();
	size_t na = (size_t)span_n_attrs(s);

	jset(j, o, "traceId", j_hex(s->trace_id, sizeof(s->trace_id)));
	jset(j, o, "spanId", j_hex(s->span_id, sizeof(s->span_id)));
	if (!all_zero(s->parent_span_id, sizeof(s->parent_span_id)))
		jset(j, o, "parentSpanId", j_hex(s->parent_span_id, sizeof(s->parent_span_id)));
	if (s->flags)
		jset(j, o, "flags", json_integer(s->flags));
	if (s->name[0])
		jset(j, o, "name", j_str(s->name, sizeof(s->name)));
	if (s->kind)
		jset(j, o, "kind", json_integer(s->kind));
	if (s->start_unix_ns)
		jset(j, o, "startTimeUnixNano", j_u64(s->start_unix_ns));
	if (s->end_unix_ns)
		jset(j, o, "endTimeUnixNano", j_u64(s->end_unix_ns));
	if (na)
		jset(j, o, "attributes", j_kvs(j, s->attrs, na));
	if (s->status_code || s->status_message[0]) {
		json_t *st = json_object();

		if (s->status_message[0])
			jset(j, st, "message", j_str(s->status_message, sizeof(s->status_message)));
		if (s->status_code)
			jset(j, st, "code", json_integer(s->status_code));
		jset(j, o, "status", st);
	}
	return o;
}

int otlp__encode_traces_json(const struct otlp_resource *res, const struct otlp_span *spans,
			     size_t n, char **buf, size_t *len)
{
	struct jctx j = {.prec = 15};
	json_t *list;

	if (!res || (!spans && n) || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	list = json_array();
	for (size_t i = 0; i < n; i++)
		jpush(&j, list, j_span(&j, &spans[i]));
	return j_finish(&j, res, "resourceSpans", "scopeSpans", "spans", list, buf, len);
}

/* ------------------------------------------------------------ metrics: collection */

/* The latency bounds of UPSTREAM.md (100 ns .. 10 s), in seconds. */
/* clang-format off */
static const double lat_bounds_s[TORVYN_LAT_BOUNDS] = {
	1e-07, 2.5e-07, 5e-07,
	1e-06, 2.5e-06, 5e-06,
	1e-05, 2.5e-05, 5e-05,
	1e-04, 2.5e-04, 5e-04,
	1e-03, 2.5e-03, 5e-03,
	1e-02, 2.5e-02, 5e-02,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10,
};
/* clang-format on */

enum mkind { MK_SUM, MK_GAUGE, MK_HIST };

static const enum mkind kind_of[] = {
    [METRIC_COUNTER] = MK_SUM,	  [METRIC_GAUGE] = MK_GAUGE, [METRIC_HISTOGRAM] = MK_HIST,
    [METRIC_STATESET] = MK_GAUGE, [METRIC_INFO] = MK_GAUGE,
};
enum pkind { PT_INT, PT_DBL, PT_HIST };

/* One data point of the neutral list; attribute strings live in the arena. */
struct mpoint {
	const char *key[METRIC_MAX_LABELS];
	const char *val[METRIC_MAX_LABELS];
	int na;
	enum pkind vt;
	int64_t i;
	double d;
	const struct metric_hist *h; /* a copy in the arena */
};

struct mmetric {
	const char *name, *desc, *unit;
	enum mkind kind;
	size_t first, n; /* its points in mctx.pts */
};

/* The metric model's walk turned into a list of metrics and their points. */
struct mctx {
	struct arena a;
	struct mpoint *pts;
	size_t n_pts, cap_pts;
	struct mmetric *ms;
	size_t n_ms, cap_ms;
};

/* Growing arrays outside the arena: a 100-flow snapshot has ~10k points. */
static void *grow(struct mctx *c, void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;

	if (n < *cap)
		return p;
	ncap = *cap ? *cap * 2 : 256;
	p = realloc(p, ncap * size);
	if (!p) {
		c->a.oom = true;
		return NULL;
	}
	*cap = ncap;
	return p;
}

/*
 * OTLP names are the model's; UCUM units ("s", "By"), except the families
 * whose upstream names keep integer nanoseconds ("ns").
 */
static int m_begin(void *ctx, const struct metric_family *f)
{
	struct mctx *c = ctx;
	struct mmetric *m = grow(c, c->ms, &c->cap_ms, c->n_ms, sizeof(*m));

	if (!m)
		return -ENOMEM;
	c->ms = m;
	m = &c->ms[c->n_ms++];
	m->name = f->otlp;
	m->desc = f->otlp_help ? f->otlp_help : f->help;
	m->unit = f->otlp_ns ? "ns" : !f->unit ? "" : !strcmp(f->unit, "seconds") ? "s" : "By";
	m->kind = kind_of[f->type];
	m->first = c->n_pts;
	m->n = 0;
	return 0;
}

static int64_t clamp_i64(uint64_t x)
{
	return x > INT64_MAX ? INT64_MAX : (int64_t)x;
}

static int m_sample(void *ctx, const struct metric_family *f, const struct metric_label *l, int n,
		    const struct metric_value *v)
{
	struct mctx *c = ctx;
	struct mpoint *p = grow(c, c->pts, &c->cap_pts, c->n_pts, sizeof(*p));
	struct metric_hist *h;

	if (!p)
		return -ENOMEM;
	c->pts = p;
	p = &c->pts[c->n_pts++];
	memset(p, 0, sizeof(*p));
	c->ms[c->n_ms - 1].n++;
	for (int i = 0; i < n; i++) {
		p->key[p->na] = l[i].key;
		p->val[p->na++] = ar_str(&c->a, l[i].val, l[i].vmax);
	}
	switch (v->kind) {
	case METRIC_U64:
		p->i = clamp_i64(v->u);
		break;
	case METRIC_I64:
		p->i = v->i;
		break;
	case METRIC_DBL:
		p->vt = PT_DBL;
		p->d = v->d;
		break;
	case METRIC_NS:
		if (f->otlp_ns) {
			p->i = clamp_i64(v->u);
			break;
		}
		p->vt = PT_DBL;
		p->d = (double)v->u / 1e9;
		break;
	case METRIC_HIST:
		h = ar_alloc(&c->a, sizeof(*h));
		if (h)
			*h = *v->h;
		p->vt = PT_HIST;
		p->h = h;
		break;
	}
	return c->a.oom ? -ENOMEM : 0;
}

static void mctx_free(struct mctx *c)
{
	free(c->pts);
	free(c->ms);
	ar_free(&c->a);
}

/* The neutral list of every family with points. */
static int collect(struct mctx *c, const struct snapshot *s)
{
	static const struct metric_visitor visitor = {.begin = m_begin, .sample = m_sample};
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return metric_model__walk(s, (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec,
				  &visitor, c);
}

/* ------------------------------------------------------------ metrics: protobuf */

struct pbm {
	struct arena *a;
	uint64_t start_ns, now_ns;
	double *bounds; /* one copy, shared by every histogram point */
};

static pb_keyvalue **pb_pt_attrs(struct arena *a, const struct mpoint *p)
{
	pb_keyvalue **v;

	if (!p->na)
		return NULL;
	v = ar_alloc(a, (size_t)p->na * sizeof(*v));
	for (int i = 0; v && i < p->na; i++)
		v[i] = p->val[i] ? pb_kv_str(a, p->key[i], p->val[i], SIZE_MAX) : NULL;
	return v;
}

static pb_number_point *pb_num_point(struct pbm *b, const struct mpoint *p, bool cumulative)
{
	pb_number_point *d = ar_alloc(b->a, sizeof(*d));

	if (!d)
		return NULL;
	opentelemetry__proto__metrics__v1__number_data_point__init(d);
	d->n_attributes = (size_t)p->na;
	d->attributes = pb_pt_attrs(b->a, p);
	d->start_time_unix_nano = cumulative ? b->start_ns : 0;
	d->time_unix_nano = b->now_ns;
	if (p->vt == PT_DBL) {
		d->value_case =
		    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
		d->as_double = p->d;
	} else {
		d->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
		d->as_int = p->i;
	}
	return d;
}

static pb_hist_point *pb_hist_pt(struct pbm *b, const struct mpoint *p)
{
	pb_hist_point *d = ar_alloc(b->a, sizeof(*d));

	if (!d || !p->h || !b->bounds)
		return NULL;
	opentelemetry__proto__metrics__v1__histogram_data_point__init(d);
	d->n_attributes = (size_t)p->na;
	d->attributes = pb_pt_attrs(b->a, p);
	d->start_time_unix_nano = b->start_ns;
	d->time_unix_nano = b->now_ns;
	d->count = p->h->count;
	d->sum = (double)p->h->sum_ns / 1e9;
	d->n_bucket_counts = TORVYN_LAT_BUCKETS;
	d->bucket_counts = (uint64_t *)p->h->bucket;
	d->n_explicit_bounds = TORVYN_LAT_BOUNDS;
	d->explicit_bounds = b->bounds;
	return d;
}

static pb_metric *pb_metric_new(struct pbm *b, const struct mmetric *m, const struct mpoint *pts)
{
	struct arena *a = b->a;
	pb_metric *pm = ar_alloc(a, sizeof(*pm));

	if (!pm)
		return NULL;
	opentelemetry__proto__metrics__v1__metric__init(pm);
	pm->name = ar_str(a, m->name, SIZE_MAX);
	pm->description = ar_str(a, m->desc, SIZE_MAX);
	pm->unit = ar_str(a, m->unit, SIZE_MAX);
	if (m->kind == MK_HIST) {
		pb_histogram *h = ar_alloc(a, sizeof(*h));
		pb_hist_point **v = ar_alloc(a, m->n * sizeof(*v));

		if (!h || !v)
			return NULL;
		opentelemetry__proto__metrics__v1__histogram__init(h);
		for (size_t i = 0; i < m->n; i++)
			v[i] = pb_hist_pt(b, &pts[i]);
		h->n_data_points = m->n;
		h->data_points = v;
		h->aggregation_temporality = AGG_CUMULATIVE;
		pm->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
		pm->histogram = h;
	} else {
		pb_number_point **v = ar_alloc(a, m->n * sizeof(*v));
		bool sum = m->kind == MK_SUM;

		if (!v)
			return NULL;
		for (size_t i = 0; i < m->n; i++)
			v[i] = pb_num_point(b, &pts[i], sum);
		if (sum) {
			pb_sum *s = ar_alloc(a, sizeof(*s));

			if (!s)
				return NULL;
			opentelemetry__proto__metrics__v1__sum__init(s);
			s->n_data_points = m->n;
			s->data_points = v;
			s->aggregation_temporality = AGG_CUMULATIVE;
			s->is_monotonic = 1;
			pm->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
			pm->sum = s;
		} else {
			pb_gauge *g = ar_alloc(a, sizeof(*g));

			if (!g)
				return NULL;
			opentelemetry__proto__metrics__v1__gauge__init(g);
			g->n_data_points = m->n;
			g->data_points = v;
			pm->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
			pm->gauge = g;
		}
	}
	return pm;
}

int otlp__encode_metrics_pb(const struct otlp_resource *res, const struct snapshot *snap,
			    uint64_t start_unix_ns, uint64_t now_unix_ns, uint8_t **buf,
			    size_t *len)
{
	pb_metrics_req req =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	pb_resource_metrics rm = OPENTELEMETRY__PROTO__METRICS__V1__RESOURCE_METRICS__INIT;
	pb_scope_metrics sm = OPENTELEMETRY__PROTO__METRICS__V1__SCOPE_METRICS__INIT;
	pb_resource_metrics *rmp = &rm;
	pb_scope_metrics *smp = &sm;
	struct mctx c = {0};
	struct pbm b = {&c.a, start_unix_ns, now_unix_ns, NULL};
	int err;

	if (!res || !snap || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	err = collect(&c, snap);
	if (err)
		goto out;
	b.bounds = ar_alloc(&c.a, sizeof(lat_bounds_s));
	if (b.bounds)
		memcpy(b.bounds, lat_bounds_s, sizeof(lat_bounds_s));
	rm.resource = pb_res(&c.a, res);
	rm.n_scope_metrics = 1;
	rm.scope_metrics = &smp;
	sm.scope = pb_scope_new(&c.a);
	sm.n_metrics = c.n_ms;
	sm.metrics = c.n_ms ? ar_alloc(&c.a, c.n_ms * sizeof(*sm.metrics)) : NULL;
	for (size_t i = 0; sm.metrics && i < c.n_ms; i++)
		sm.metrics[i] = pb_metric_new(&b, &c.ms[i], &c.pts[c.ms[i].first]);
	req.n_resource_metrics = 1;
	req.resource_metrics = &rmp;
	err = pb_finish(&c.a, &req.base, buf, len);
out:
	mctx_free(&c);
	return err;
}

/* ------------------------------------------------------------ metrics: JSON */

static json_t *j_pt_base(struct jctx *j, const struct mpoint *p, uint64_t start_ns, uint64_t now_ns)
{
	json_t *o = json_object();

	if (p->na) {
		json_t *arr = json_array();

		for (int i = 0; i < p->na; i++) {
			json_t *kv = json_object(), *v = json_object();

			jset(j, kv, "key", json_string(p->key[i]));
			jset(j, v, "stringValue", p->val[i] ? json_string(p->val[i]) : NULL);
			jset(j, kv, "value", v);
			jpush(j, arr, kv);
		}
		jset(j, o, "attributes", arr);
	}
	if (start_ns)
		jset(j, o, "startTimeUnixNano", j_u64(start_ns));
	if (now_ns)
		jset(j, o, "timeUnixNano", j_u64(now_ns));
	return o;
}

static json_t *j_hist_pt(struct jctx *j, const struct mpoint *p, uint64_t start_ns, uint64_t now_ns)
{
	json_t *o = j_pt_base(j, p, start_ns, now_ns);
	json_t *bc = json_array(), *eb = json_array();
	double sum = (double)p->h->sum_ns / 1e9;

	if (p->h->count)
		jset(j, o, "count", j_u64(p->h->count));
	if (sum != 0)
		jset(j, o, "sum", j_dbl(j, sum));
	for (int i = 0; i < TORVYN_LAT_BUCKETS; i++)
		jpush(j, bc, j_u64(p->h->bucket[i]));
	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++)
		jpush(j, eb, j_dbl(j, lat_bounds_s[i]));
	jset(j, o, "bucketCounts", bc);
	jset(j, o, "explicitBounds", eb);
	return o;
}

static json_t *j_num_pt(struct jctx *j, const struct mpoint *p, uint64_t start_ns, uint64_t now_ns)
{
	json_t *o = j_pt_base(j, p, start_ns, now_ns);

	if (p->vt == PT_DBL)
		jset(j, o, "asDouble", j_dbl(j, p->d));
	else
		jset(j, o, "asInt", j_i64(p->i));
	return o;
}

static json_t *j_metric(struct jctx *j, const struct mmetric *m, const struct mpoint *pts,
			uint64_t start_ns, uint64_t now_ns)
{
	json_t *o = json_object(), *data = json_object(), *dps = json_array();

	jset(j, o, "name", json_string(m->name));
	if (m->desc[0])
		jset(j, o, "description", json_string(m->desc));
	if (m->unit[0])
		jset(j, o, "unit", json_string(m->unit));
	for (size_t i = 0; i < m->n; i++) {
		if (m->kind == MK_HIST)
			jpush(j, dps, j_hist_pt(j, &pts[i], start_ns, now_ns));
		else
			jpush(j, dps,
			      j_num_pt(j, &pts[i], m->kind == MK_SUM ? start_ns : 0, now_ns));
	}
	jset(j, data, "dataPoints", dps);
	if (m->kind != MK_GAUGE)
		jset(j, data, "aggregationTemporality", json_integer(AGG_CUMULATIVE));
	if (m->kind == MK_SUM)
		jset(j, data, "isMonotonic", json_true());
	jset(j, o, m->kind == MK_HIST ? "histogram" : m->kind == MK_SUM ? "sum" : "gauge", data);
	return o;
}

int otlp__encode_metrics_json(const struct otlp_resource *res, const struct snapshot *snap,
			      uint64_t start_unix_ns, uint64_t now_unix_ns, char **buf, size_t *len)
{
	struct jctx j = {.prec = 15};
	struct mctx c = {0};
	json_t *list;
	int err;

	if (!res || !snap || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	err = collect(&c, snap);
	if (err)
		goto out;
	list = json_array();
	for (size_t i = 0; i < c.n_ms; i++)
		jpush(&j, list,
		      j_metric(&j, &c.ms[i], &c.pts[c.ms[i].first], start_unix_ns, now_unix_ns));
	err = j_finish(&j, res, "resourceMetrics", "scopeMetrics", "metrics", list, buf, len);
out:
	mctx_free(&c);
	return err;
}

/* ------------------------------------------------------------ responses */

static void put_msg(char *msg, size_t msglen, const char *s)
{
	if (msg && msglen)
		snprintf(msg, msglen, "%s", s ? s : "");
}

/* An int64 field of OTLP/JSON: a decimal string, though numbers are accepted too. */
static int j_get_i64(const json_t *v, int64_t *out)
{
	const char *s;
	char *end;
	long long x;

	if (!v || json_is_null(v))
		return 0;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return 0;
	}
	if (!json_is_string(v))
		return -EINVAL;
	s = json_string_value(v);
	errno = 0;
	x = strtoll(s, &end, 10);
	if (errno || end == s || *end)
		return -EINVAL;
	*out = x;
	return 0;
}

/* A field by its lowerCamelCase name or, as proto3 JSON parsers accept, its proto name. */
static json_t *j_field(const json_t *obj, const char *camel, const char *proto)
{
	json_t *v = json_object_get(obj, camel);

	return v ? v : json_object_get(obj, proto);
}

static int parse_json_resp(const uint8_t *body, size_t len, bool traces, int64_t *rejected,
			   char *msg, size_t msglen)
{
	json_t *root = json_loadb((const char *)body, len, 0, NULL), *ps, *em;
	int err = -EINVAL;

	if (!root || !json_is_object(root))
		goto out;
	ps = j_field(root, "partialSuccess", "partial_success");
	if (!ps || json_is_null(ps)) {
		err = 0;
		goto out;
	}
	if (!json_is_object(ps))
		goto out;
	err = traces
		  ? j_get_i64(j_field(ps, "rejectedSpans", "rejected_spans"), rejected)
		  : j_get_i64(j_field(ps, "rejectedDataPoints", "rejected_data_points"), rejected);
	if (err)
		goto out;
	em = j_field(ps, "errorMessage", "error_message");
	if (em && !json_is_null(em) && !json_is_string(em)) {
		err = -EINVAL;
		goto out;
	}
	put_msg(msg, msglen, em ? json_string_value(em) : "");
out:
	json_decref(root);
	return err;
}

static int parse_pb_resp(const uint8_t *body, size_t len, bool traces, int64_t *rejected, char *msg,
			 size_t msglen)
{
	if (traces) {
		pb_trace_resp *r =
		    opentelemetry__proto__collector__trace__v1__export_trace_service_response__unpack(
			NULL, len, body);

		if (!r)
			return -EINVAL;
		if (r->partial_success) {
			*rejected = r->partial_success->rejected_spans;
			put_msg(msg, msglen, r->partial_success->error_message);
		}
		opentelemetry__proto__collector__trace__v1__export_trace_service_response__free_unpacked(
		    r, NULL);
	} else {
		pb_metrics_resp *r =
		    opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__unpack(
			NULL, len, body);

		if (!r)
			return -EINVAL;
		if (r->partial_success) {
			*rejected = r->partial_success->rejected_data_points;
			put_msg(msg, msglen, r->partial_success->error_message);
		}
		opentelemetry__proto__collector__metrics__v1__export_metrics_service_response__free_unpacked(
		    r, NULL);
	}
	return 0;
}

int otlp__parse_response(const uint8_t *body, size_t len, bool json, bool traces, int64_t *rejected,
			 char *msg, size_t msglen)
{
	int64_t rej = 0;
	int err;

	put_msg(msg, msglen, "");
	if (rejected)
		*rejected = 0;
	if (!len)
		return 0; /* an empty body is the empty message: full success */
	if (!body)
		return -EINVAL;
	if (json)
		err = parse_json_resp(body, len, traces, &rej, msg, msglen);
	else
		err = parse_pb_resp(body, len, traces, &rej, msg, msglen);
	if (err) {
		put_msg(msg, msglen, "");
		return err;
	}
	if (rejected)
		*rejected = rej;
	return 0;
}
