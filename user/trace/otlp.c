// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * OTLP encoding of spans and metric snapshots, as protobuf (protobuf-c,
 * generated from user/trace/proto/) and as OTLP/JSON (jansson), and decoding
 * of the Export*ServiceResponse partial_success.
 *
 * Metrics are first turned into a neutral list (name, kind, points with
 * attributes) by one walk over a table that mirrors prom.c's catalogue, so
 * the two encodings cannot disagree about which series exist or what they
 * hold. Every allocation of one encoding goes into an arena freed at the end.
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

#include "otlp.h"
#include "torvyn_names.h"

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

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		lo = c == 0xe0 ? 0xa0 : lo;
		hi = c == 0xed ? 0x9f : hi;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		lo = c == 0xf0 ? 0x90 : lo;
		hi = c == 0xf4 ? 0x8f : hi;
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
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
		size_t k = utf8_seq(v + i, n - i);

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

static char *ar_u64(struct arena *a, uint64_t x)
{
	char *s = ar_alloc(a, 24);

	if (s)
		snprintf(s, 24, "%llu", (unsigned long long)x);
	return s;
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

/* ------------------------------------------------------------ metrics: the catalogue */

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

_Static_assert(ARRAY_SIZE(torvyn_probe_names) == TVN_P_COUNT, "a probe has no name");
_Static_assert(ARRAY_SIZE(torvyn_promote_names) == 3, "promoted_total[] has 3 reasons");
_Static_assert(TORVYN_FLOW_FAILED == TORVYN_FLOW_STATES - 1, "flow states changed");

enum mkind { MK_SUM, MK_GAUGE, MK_HIST };

/* Where a family's points come from: as prom.c's enum src. */
enum src {
	SRC_FLOW,
	SRC_COMP,
	SRC_STREAM,
	SRC_TIER,
	SRC_SYS,
	SRC_DCOMP,
	SRC_DSTREAM,
	SRC_DPOOL,
	SRC_SELF,
	SRC_OWN,
};

enum val {
	V_U64,	/* __u64 at off: as_int */
	V_U32,	/* __u32 at off: as_int */
	V_INT,	/* int at off: as_int */
	V_DBL,	/* double at off: as_double */
	V_SEC,	/* __u64 nanoseconds at off: as_double seconds */
	V_HIST, /* struct torvyn_hist_lat at off */
	V_ARR,	/* __u64[n_names] at off, one point per name, attribute lkey */
	V_FN,	/* fn adds the entity's points */
};

#define MAX_PT_ATTRS 4

/* One data point of the neutral list; attribute strings live in the arena. */
struct mpoint {
	const char *key[MAX_PT_ATTRS];
	const char *val[MAX_PT_ATTRS];
	int na;
	enum val vt; /* V_U64 (as_int in i), V_DBL (as_double in d) or V_HIST */
	int64_t i;
	double d;
	const struct torvyn_hist_lat *h;
};

struct mmetric {
	char name[96];
	const char *desc, *unit;
	enum mkind kind;
	size_t first, n; /* its points in mctx.pts */
};

struct mctx {
	const struct snapshot *s;
	uint64_t now_mono_ns;
	const uint32_t *xfer_order;
	struct arena a;
	struct mpoint *pts;
	size_t n_pts, cap_pts;
	struct mmetric *ms;
	size_t n_ms, cap_ms;
	struct mmetric *cur;
};

struct mfam;
typedef void (*mfam_fn)(struct mctx *c, const struct mfam *f, const void *base,
			const struct mpoint *l);

struct mfam {
	const char *prom;     /* prom.c's family name (without _total) */
	const char *upstream; /* upstream Torvyn's dotted name, or NULL */
	enum mkind kind;
	const char *unit;
	const char *desc;
	enum src src;
	enum val val;
	size_t off;
	mfam_fn fn;
	const char *lkey; /* V_ARR */
	const char *const *names;
	size_t n_names;
};

/*
 * The OTLP name of a family: upstream's dotted name where it has one,
 * otherwise "torvyn." and the Prometheus name without "torvyn_" with dots
 * for underscores: torvyn_diagnostic_invocations_total ->
 * torvyn.diagnostic.invocations. A collector's Prometheus exporter turns
 * either back into our Prometheus name (it adds _total and the unit).
 */
static void fam_name(const struct mfam *f, char *out, size_t len)
{
	const char *p = f->prom + strlen("torvyn_");
	size_t o;

	if (f->upstream) {
		snprintf(out, len, "%s", f->upstream);
		return;
	}
	o = (size_t)snprintf(out, len, "torvyn.");
	for (; *p && o + 1 < len; p++)
		out[o++] = *p == '_' ? '.' : *p;
	out[o] = '\0';
}

/* ------------------------------------------------------------ metrics: the walk */

static struct mpoint *add_point(struct mctx *c, const struct mpoint *l)
{
	struct mpoint *p;

	if (c->a.oom)
		return NULL;
	if (c->n_pts == c->cap_pts) {
		size_t cap = c->cap_pts ? c->cap_pts * 2 : 256;

		p = realloc(c->pts, cap * sizeof(*p));
		if (!p) {
			c->a.oom = true;
			return NULL;
		}
		c->pts = p;
		c->cap_pts = cap;
	}
	p = &c->pts[c->n_pts++];
	*p = *l;
	c->cur->n++;
	return p;
}

static void pt_attr(struct mctx *c, struct mpoint *p, const char *key, const char *val, size_t vmax)
{
	if (p->na == MAX_PT_ATTRS)
		return;
	p->key[p->na] = key;
	p->val[p->na++] = ar_str(&c->a, val, vmax);
}

/* A name from a block, or the index when the block is absent or unnamed. */
static void pt_name(struct mctx *c, struct mpoint *p, const char *key, const char *name,
		    uint64_t idx)
{
	if (name && name[0]) {
		pt_attr(c, p, key, name, TORVYN_NAME_LEN);
		return;
	}
	if (p->na == MAX_PT_ATTRS)
		return;
	p->key[p->na] = key;
	p->val[p->na++] = ar_u64(&c->a, idx);
}

static void pt_int(struct mctx *c, const struct mpoint *l, uint64_t x)
{
	struct mpoint *p = add_point(c, l);

	if (p) {
		p->vt = V_U64;
		p->i = x > INT64_MAX ? INT64_MAX : (int64_t)x;
	}
}

static void pt_dbl(struct mctx *c, const struct mpoint *l, double d)
{
	struct mpoint *p = add_point(c, l);

	if (p) {
		p->vt = V_DBL;
		p->d = d;
	}
}

static uint64_t rd_u64(const void *base, size_t off)
{
	uint64_t x;

	memcpy(&x, (const char *)base + off, sizeof(x));
	return x;
}

static const char *flow_name(const struct snapshot *s, uint64_t fi)
{
	const struct snap_flow *f;

	if (!s->flows || fi >= (uint64_t)s->n_flows)
		return NULL;
	f = &s->flows[fi];
	if (f->present)
		return f->blk.hdr.flow_name;
	for (int i = 0; i < TORVYN_MAX_COMPONENTS; i++)
		if (f->comps[i].present)
			return f->comps[i].blk.hdr.flow_name;
	for (int i = 0; i < TORVYN_MAX_STREAMS; i++)
		if (f->streams[i].present)
			return f->streams[i].blk.hdr.flow_name;
	return NULL;
}

static const char *comp_name(const struct snapshot *s, uint64_t fi, uint64_t ci)
{
	const struct snap_comp *c;

	if (!s->flows || fi >= (uint64_t)s->n_flows || ci >= TORVYN_MAX_COMPONENTS)
		return NULL;
	c = &s->flows[fi].comps[ci];
	return c->present ? c->blk.hdr.name : NULL;
}

static const char *stream_name(const struct snapshot *s, uint64_t fi, uint64_t si)
{
	const struct snap_stream *st;

	if (!s->flows || fi >= (uint64_t)s->n_flows || si >= TORVYN_MAX_STREAMS)
		return NULL;
	st = &s->flows[fi].streams[si];
	return st->present ? st->blk.hdr.name : NULL;
}

static void put_entity(struct mctx *c, const struct mfam *f, const void *base,
		       const struct mpoint *l)
{
	const char *p = (const char *)base + f->off;
	struct mpoint *pt;
	uint32_t u32;
	double d;
	int i;

	switch (f->val) {
	case V_U64:
		pt_int(c, l, rd_u64(base, f->off));
		break;
	case V_U32:
		memcpy(&u32, p, sizeof(u32));
		pt_int(c, l, u32);
		break;
	case V_INT:
		memcpy(&i, p, sizeof(i));
		pt = add_point(c, l);
		if (pt) {
			pt->vt = V_U64;
			pt->i = i;
		}
		break;
	case V_DBL:
		memcpy(&d, p, sizeof(d));
		pt_dbl(c, l, d);
		break;
	case V_SEC:
		pt_dbl(c, l, (double)rd_u64(base, f->off) / 1e9);
		break;
	case V_HIST:
		pt = add_point(c, l);
		if (pt) {
			pt->vt = V_HIST;
			pt->h = (const struct torvyn_hist_lat *)p;
		}
		break;
	case V_ARR:
		for (size_t k = 0; k < f->n_names; k++) {
			struct mpoint x = *l;

			pt_attr(c, &x, f->lkey, f->names[k], 64);
			pt_int(c, &x, rd_u64(base, f->off + k * sizeof(__u64)));
		}
		break;
	case V_FN:
		f->fn(c, f, base, l);
		break;
	}
}

static void pt_flow(struct mctx *c, struct mpoint *l, int fi)
{
	memset(l, 0, sizeof(*l));
	pt_name(c, l, "flow_id", flow_name(c->s, (uint64_t)fi), (uint64_t)fi);
}

static void walk_flows(struct mctx *c, const struct mfam *f)
{
	const struct snapshot *s = c->s;
	struct mpoint l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		if (!s->flows[fi].present)
			continue;
		pt_flow(c, &l, fi);
		put_entity(c, f, &s->flows[fi].blk, &l);
	}
}

static void walk_comps(struct mctx *c, const struct mfam *f, bool diag)
{
	const struct snapshot *s = c->s;
	struct mpoint l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct snap_comp *sc = &s->flows[fi].comps[ci];

			if (!(diag ? sc->has_diag : sc->present))
				continue;
			pt_flow(c, &l, fi);
			pt_name(c, &l, "component_id", comp_name(s, fi, ci), ci);
			put_entity(c, f, diag ? (const void *)&sc->diag : &sc->blk, &l);
		}
	}
}

static void walk_streams(struct mctx *c, const struct mfam *f, bool diag)
{
	const struct snapshot *s = c->s;
	struct mpoint l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int si = 0; si < TORVYN_MAX_STREAMS; si++) {
			const struct snap_stream *st = &s->flows[fi].streams[si];

			if (!(diag ? st->has_diag : st->present))
				continue;
			pt_flow(c, &l, fi);
			pt_name(c, &l, "stream_id", stream_name(s, fi, si), si);
			put_entity(c, f, diag ? (const void *)&st->diag : &st->blk, &l);
		}
	}
}

static void walk_tiers(struct mctx *c, const struct mfam *f, bool diag)
{
	const struct snapshot *s = c->s;
	struct mpoint l;

	if (!(diag ? s->has_diag_pool : s->have_pool))
		return;
	for (int t = 0; t < TORVYN_TIERS; t++) {
		memset(&l, 0, sizeof(l));
		pt_attr(c, &l, "tier", torvyn_tier_names[t], 16);
		put_entity(c, f, diag ? (const void *)&s->diag_pool[t] : &s->pool.tier[t], &l);
	}
}

static void walk(struct mctx *c, const struct mfam *f)
{
	const struct snapshot *s = c->s;
	struct mpoint l = {.na = 0};

	switch (f->src) {
	case SRC_FLOW:
		walk_flows(c, f);
		break;
	case SRC_COMP:
	case SRC_DCOMP:
		walk_comps(c, f, f->src == SRC_DCOMP);
		break;
	case SRC_STREAM:
	case SRC_DSTREAM:
		walk_streams(c, f, f->src == SRC_DSTREAM);
		break;
	case SRC_TIER:
	case SRC_DPOOL:
		walk_tiers(c, f, f->src == SRC_DPOOL);
		break;
	case SRC_SYS:
		if (s->have_sys)
			put_entity(c, f, &s->sys, &l);
		break;
	case SRC_SELF:
		put_entity(c, f, s, &l);
		break;
	case SRC_OWN:
		f->fn(c, f, s, &l);
		break;
	}
}

/* ------------------------------------------------------------ metrics: special families */

static void fn_active_duration(struct mctx *c, const struct mfam *f, const void *base,
			       const struct mpoint *l)
{
	const struct torvyn_flow_block *b = base;
	uint64_t end = b->end_ns ? b->end_ns : c->now_mono_ns;

	(void)f;
	pt_dbl(c, l, b->start_ns && end > b->start_ns ? (double)(end - b->start_ns) / 1e9 : 0);
}

static void fn_flow_state(struct mctx *c, const struct mfam *f, const void *base,
			  const struct mpoint *l)
{
	const struct torvyn_flow_block *b = base;

	(void)f;
	for (uint32_t i = 0; i < TORVYN_FLOW_STATES; i++) {
		struct mpoint x = *l;

		pt_attr(c, &x, "state", torvyn_flow_state_names[i], 16);
		pt_int(c, &x, b->state == i);
	}
}

/* Only reasons that happened: the map has no entry for the others. */
static void fn_diag_copies(struct mctx *c, const struct mfam *f, const void *base,
			   const struct mpoint *unused)
{
	const struct snapshot *s = base;
	struct mpoint l;

	(void)unused;
	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int ci = 0; ci < TORVYN_MAX_COMPONENTS; ci++) {
			const struct tvn_count_val *cv = s->flows[fi].comps[ci].diag_copies;

			for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
				if (!cv[r].count)
					continue;
				pt_flow(c, &l, fi);
				pt_name(c, &l, "component_id", comp_name(s, fi, ci), ci);
				pt_attr(c, &l, "reason", torvyn_copy_reason_names[r], 32);
				pt_int(c, &l, rd_u64(&cv[r], f->off));
			}
		}
	}
}

static void fn_diag_transfers(struct mctx *c, const struct mfam *f, const void *base,
			      const struct mpoint *unused)
{
	const struct snapshot *s = base;
	struct mpoint l;

	(void)unused;
	for (int i = 0; i < s->n_transfers; i++) {
		const struct snap_transfer *t = &s->transfers[c->xfer_order[i]];

		memset(&l, 0, sizeof(l));
		pt_name(c, &l, "flow_id", flow_name(s, t->flow_idx), t->flow_idx);
		pt_name(c, &l, "from_component", comp_name(s, t->flow_idx, t->from_idx),
			t->from_idx);
		pt_name(c, &l, "to_component", comp_name(s, t->flow_idx, t->to_idx), t->to_idx);
		pt_int(c, &l, rd_u64(&t->val, f->off));
	}
}

static void fn_info(struct mctx *c, const struct mfam *f, const void *base,
		    const struct mpoint *unused)
{
	const struct snapshot *s = base;
	struct mpoint l = {.na = 0};
	char pid[24];

	(void)f;
	(void)unused;
	snprintf(pid, sizeof(pid), "%d", s->target_pid);
	pt_attr(c, &l, "pid", pid, sizeof(pid));
	pt_attr(c, &l, "exe", s->target_exe, sizeof(s->target_exe));
	pt_int(c, &l, 1);
}

/* ------------------------------------------------------------ metrics: the table */

#define FAM(p, up, k, u, d) .prom = (p), .upstream = (up), .kind = (k), .unit = (u), .desc = (d)
#define AT(s, type, field, v) .src = (s), .val = (v), .off = offsetof(type, field)
#define FLOW(f) AT(SRC_FLOW, struct torvyn_flow_block, f, V_U64)
#define FLOWv(f, v) AT(SRC_FLOW, struct torvyn_flow_block, f, v)
#define COMP(f) AT(SRC_COMP, struct torvyn_component_block, f, V_U64)
#define COMPv(f, v) AT(SRC_COMP, struct torvyn_component_block, f, v)
#define STREAM(f) AT(SRC_STREAM, struct torvyn_stream_block, f, V_U64)
#define STREAMv(f, v) AT(SRC_STREAM, struct torvyn_stream_block, f, v)
#define TIER(f) AT(SRC_TIER, struct torvyn_pool_tier, f, V_U64)
#define SYS(f) AT(SRC_SYS, struct torvyn_system_block, f, V_U64)
#define DCOMP(f) AT(SRC_DCOMP, struct tvn_invoke_val, f, V_U64)
#define DCOMPv(f, v) AT(SRC_DCOMP, struct tvn_invoke_val, f, v)
#define DSTREAM(f) AT(SRC_DSTREAM, struct tvn_queue_val, f, V_U64)
#define DSTREAMv(f, v) AT(SRC_DSTREAM, struct tvn_queue_val, f, v)
#define DPOOL(f) AT(SRC_DPOOL, struct tvn_pool_val, f, V_U64)
#define SELF(f) AT(SRC_SELF, struct snapshot, f, V_U64)
#define SELFv(f, v) AT(SRC_SELF, struct snapshot, f, v)
#define OWN(fun, field) AT(SRC_OWN, struct tvn_count_val, field, V_FN), .fn = (fun)
#define ARR(key, tbl) .lkey = (key), .names = (tbl), .n_names = ARRAY_SIZE(tbl)

/*
 * The families of docs/metrics.md, in prom.c's order. Units are UCUM: "s"
 * for values in seconds, "By" for bytes; upstream's two *_ns names keep
 * integer nanoseconds ("ns").
 */
static const struct mfam mfams[] = {
    /* flow */
    {FAM("torvyn_flow_elements", "flow.elements.total", MK_SUM, "",
	 "Elements that reached the end of the flow (sink, filter drop or error)."),
     FLOW(elements_total)},
    {FAM("torvyn_flow_elements_errors", "flow.elements.errors", MK_SUM, "",
	 "Elements on which a component returned an error."),
     FLOW(elements_errors)},
    {FAM("torvyn_flow_latency_seconds", "flow.latency", MK_HIST, "s",
	 "End-to-end latency of the elements of the flow."),
     FLOWv(latency, V_HIST)},
    {FAM("torvyn_flow_copies", "flow.copies.total", MK_SUM, "",
	 "Buffer copies in the flow, by reason."),
     FLOWv(copies_total, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn_flow_copies_bytes", "flow.copies.bytes", MK_SUM, "By",
	 "Bytes copied in the flow, by reason."),
     FLOWv(copies_bytes, V_ARR), ARR("reason", torvyn_copy_reason_names)},
    {FAM("torvyn_flow_transfers", NULL, MK_SUM, "",
	 "Buffer ownership transfers between the components of the flow."),
     FLOW(transfers_total)},
    {FAM("torvyn_flow_transfers_bytes", NULL, MK_SUM, "By",
	 "Bytes of the buffers whose ownership moved between components of the flow."),
     FLOW(transfers_bytes)},
    {FAM("torvyn_flow_active_duration_seconds", "flow.active_duration", MK_GAUGE, "s",
	 "Time the flow has been running, or ran until it ended."),
     FLOWv(start_ns, V_FN), .fn = fn_active_duration},
    {FAM("torvyn_flow_state", "flow.state", MK_GAUGE, "",
	 "Lifecycle state of the flow: 1 for the current state, 0 for the others."),
     FLOWv(state, V_FN), .fn = fn_flow_state},
    {FAM("torvyn_flow_traces_promoted", NULL, MK_SUM, "",
	 "Element traces exported, by reason: head-sampled, error or tail latency."),
     FLOWv(promoted_total, V_ARR), ARR("reason", torvyn_promote_names)},
    /* component */
    {FAM("torvyn_component_invocations", "component.invocations", MK_SUM, "",
	 "Invocations of the component."),
     COMP(invocations)},
    {FAM("torvyn_component_errors", "component.errors", MK_SUM, "",
	 "Invocations of the component that returned an error."),
     COMP(errors)},
    {FAM("torvyn_component_processing_time_seconds", "component.processing_time", MK_HIST, "s",
	 "Time per invocation of the component."),
     COMPv(processing_time, V_HIST)},
    {FAM("torvyn_component_fuel_consumed", "component.fuel_consumed", MK_SUM, "",
	 "WebAssembly fuel consumed by the component (always 0 for native components)."),
     COMP(fuel_consumed)},
    {FAM("torvyn_component_memory_current_bytes", "component.memory_current", MK_GAUGE, "By",
	 "Bytes of payload the component holds now."),
     COMP(memory_current)},
    {FAM("torvyn_component_input_bytes", NULL, MK_SUM, "By",
	 "Payload bytes passed into the component."),
     COMP(bytes_in)},
    {FAM("torvyn_component_output_bytes", NULL, MK_SUM, "By",
	 "Payload bytes produced by the component."),
     COMP(bytes_out)},
    {FAM("torvyn_component_wakeups", NULL, MK_SUM, "",
	 "Times the thread of the component woke from a wait."),
     COMP(wakeups)},
    {FAM("torvyn_component_idle_seconds", NULL, MK_SUM, "s",
	 "Time the component spent waiting for input or output."),
     COMPv(idle_ns, V_SEC)},
    /* stream */
    {FAM("torvyn_stream_elements_transferred", "stream.elements.transferred", MK_SUM, "",
	 "Elements passed through the stream."),
     STREAM(elements_transferred)},
    {FAM("torvyn_stream_elements_dropped", NULL, MK_SUM, "",
	 "Elements dropped by the overflow policy of the stream."),
     STREAM(elements_dropped)},
    {FAM("torvyn_stream_backpressure_events", "stream.backpressure.events", MK_SUM, "",
	 "Times backpressure activated on the stream."),
     STREAM(backpressure_events)},
    {FAM("torvyn_stream_backpressure_duration_seconds", "stream.backpressure.duration_ns", MK_SUM,
	 "ns", "Time the stream spent in backpressure."),
     STREAM(backpressure_duration_ns)},
    {FAM("torvyn_stream_queue_current_depth", "stream.queue.current_depth", MK_GAUGE, "",
	 "Elements in the queue of the stream now."),
     STREAM(current_depth)},
    {FAM("torvyn_stream_queue_peak_depth", "stream.queue.peak_depth", MK_GAUGE, "",
	 "Highest depth the queue of the stream reached."),
     STREAM(peak_depth)},
    {FAM("torvyn_stream_queue_capacity", NULL, MK_GAUGE, "",
	 "Capacity of the queue of the stream."),
     STREAMv(capacity, V_U32)},
    {FAM("torvyn_stream_queue_wait_time_seconds", "stream.queue.wait_time", MK_HIST, "s",
	 "Time elements waited in the queue of the stream."),
     STREAMv(wait_time, V_HIST)},
    /* pool */
    {FAM("torvyn_pool_capacity", "pool.capacity", MK_GAUGE, "", "Buffers in the pool tier."),
     TIER(capacity)},
    {FAM("torvyn_pool_available", "pool.available", MK_GAUGE, "",
	 "Free buffers in the pool tier now."),
     TIER(available)},
    {FAM("torvyn_pool_allocated", "pool.allocated", MK_SUM, "",
	 "Buffers served from the pool tier."),
     TIER(allocated)},
    {FAM("torvyn_pool_returned", "pool.returned", MK_SUM, "", "Buffers returned to the pool tier."),
     TIER(returned)},
    {FAM("torvyn_pool_fallback_count", "pool.fallback_count", MK_SUM, "",
	 "Buffers served by the system allocator because the pool tier was empty."),
     TIER(fallback_count)},
    {FAM("torvyn_pool_exhaustion_events", "pool.exhaustion_events", MK_SUM, "",
	 "Times the pool tier became empty."),
     TIER(exhaustion_events)},
    {FAM("torvyn_pool_buffer_size_bytes", NULL, MK_GAUGE, "By",
	 "Size of each buffer of the pool tier."),
     TIER(buffer_size)},
    /* system */
    {FAM("torvyn_system_flows_active", "system.flows.active", MK_GAUGE, "", "Flows running now."),
     SYS(flows_active)},
    {FAM("torvyn_system_components_active", "system.components.active", MK_GAUGE, "",
	 "Component instances running now."),
     SYS(components_active)},
    {FAM("torvyn_system_memory_total_bytes", "system.memory.total", MK_GAUGE, "By",
	 "Bytes of pool memory mapped."),
     SYS(memory_total)},
    {FAM("torvyn_system_scheduler_wakeups", "system.scheduler.wakeups", MK_SUM, "",
	 "Wakeups of the threads of the host."),
     SYS(scheduler_wakeups)},
    {FAM("torvyn_system_scheduler_idle_seconds", "system.scheduler.idle_ns", MK_SUM, "ns",
	 "Time the threads of the host spent idle."),
     SYS(scheduler_idle_ns)},
    {FAM("torvyn_system_spans_dropped", "system.spans_dropped", MK_SUM, "",
	 "Spans the host dropped before export."),
     SYS(spans_dropped)},
    /* diagnostic level, from the BPF maps */
    {FAM("torvyn_diagnostic_invocations", NULL, MK_SUM, "",
	 "Component invocations seen by the diagnostic probes."),
     DCOMP(invocations)},
    {FAM("torvyn_diagnostic_invocation_errors", NULL, MK_SUM, "",
	 "Component invocations that ended in an error, seen by the diagnostic probes."),
     DCOMP(errors)},
    {FAM("torvyn_diagnostic_processing_time_seconds", NULL, MK_HIST, "s",
	 "Time per component invocation, seen by the diagnostic probes."),
     DCOMPv(time, V_HIST)},
    {FAM("torvyn_diagnostic_copies", NULL, MK_SUM, "",
	 "Buffer copies per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, count)},
    {FAM("torvyn_diagnostic_copies_bytes", NULL, MK_SUM, "By",
	 "Bytes copied per component and reason, seen by the diagnostic probes."),
     OWN(fn_diag_copies, bytes)},
    {FAM("torvyn_diagnostic_transfers", NULL, MK_SUM, "",
	 "Buffer ownership transfers per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, count)},
    {FAM("torvyn_diagnostic_transfers_bytes", NULL, MK_SUM, "By",
	 "Bytes transferred per pair of components, seen by the diagnostic probes."),
     OWN(fn_diag_transfers, bytes)},
    {FAM("torvyn_diagnostic_queue_enqueues", NULL, MK_SUM, "",
	 "Elements enqueued on the stream, seen by the diagnostic probes."),
     DSTREAM(enqueues)},
    {FAM("torvyn_diagnostic_queue_dequeues", NULL, MK_SUM, "",
	 "Elements dequeued from the stream, seen by the diagnostic probes."),
     DSTREAM(dequeues)},
    {FAM("torvyn_diagnostic_queue_depth", NULL, MK_GAUGE, "",
	 "Depth of the queue of the stream after its latest event."),
     DSTREAM(depth)},
    {FAM("torvyn_diagnostic_queue_peak_depth", NULL, MK_GAUGE, "",
	 "Highest depth of the queue of the stream, seen by the diagnostic probes."),
     DSTREAM(peak_depth)},
    {FAM("torvyn_diagnostic_queue_wait_time_seconds", NULL, MK_HIST, "s",
	 "Time elements waited in the queue, seen by the diagnostic probes."),
     DSTREAMv(wait, V_HIST)},
    {FAM("torvyn_diagnostic_backpressure_events", NULL, MK_SUM, "",
	 "Times backpressure activated on the stream, seen by the diagnostic probes."),
     DSTREAM(bp_events)},
    {FAM("torvyn_diagnostic_backpressure_duration_seconds", NULL, MK_HIST, "s",
	 "Length of the backpressure episodes of the stream."),
     DSTREAMv(bp_duration, V_HIST)},
    {FAM("torvyn_diagnostic_pool_allocations", NULL, MK_SUM, "",
	 "Buffers served from the pool tier, seen by the diagnostic probes."),
     DPOOL(allocs)},
    {FAM("torvyn_diagnostic_pool_returns", NULL, MK_SUM, "",
	 "Buffers returned to the pool tier, seen by the diagnostic probes."),
     DPOOL(returns)},
    {FAM("torvyn_diagnostic_pool_fallbacks", NULL, MK_SUM, "",
	 "Allocations served by the system allocator, seen by the diagnostic probes."),
     DPOOL(fallbacks)},
    {FAM("torvyn_diagnostic_pool_exhaustions", NULL, MK_SUM, "",
	 "Times the pool tier became empty, seen by the diagnostic probes."),
     DPOOL(exhaustions)},
    /* the tracer itself */
    {FAM("torvyn_trace_level", NULL, MK_GAUGE, "",
	 "Probe level attached now: 0 off, 1 production, 2 diagnostic."),
     SELFv(level, V_INT)},
    {FAM("torvyn_trace_target_up", NULL, MK_GAUGE, "", "1 while the traced process lives, else 0."),
     SELFv(target_up, V_INT)},
    {FAM("torvyn_trace_probes_attached", NULL, MK_GAUGE, "", "Probe sites attached now."),
     SELFv(probes_attached, V_INT)},
    {FAM("torvyn_trace_events_lost", NULL, MK_SUM, "",
	 "Ring-buffer records lost because the buffer was full."),
     SELF(events_lost)},
    {FAM("torvyn_trace_probe_hits", NULL, MK_SUM, "", "BPF program runs per probe."),
     SELFv(probe_hits, V_ARR), ARR("probe", torvyn_probe_names)},
    {FAM("torvyn_trace_map_update_failures", NULL, MK_SUM, "",
	 "Diagnostic aggregation map updates that failed."),
     SELF(map_full)},
    {FAM("torvyn_trace_user_read_failures", NULL, MK_SUM, "",
	 "Reads of the memory of the traced process that failed."),
     SELF(read_fail)},
    {FAM("torvyn_trace_blocks_received", NULL, MK_SUM, "", "Metric blocks received from the host."),
     SELF(blocks_received)},
    {FAM("torvyn_trace_traces_received", NULL, MK_SUM, "",
	 "Promoted element traces received from the host."),
     SELF(traces_received)},
    {FAM("torvyn_trace_traces_filtered", NULL, MK_SUM, "",
	 "Promoted traces the tracer's own sampling dropped."),
     SELF(traces_filtered)},
    {FAM("torvyn_trace_spans_dropped", NULL, MK_SUM, "",
	 "Spans the OTLP exporter dropped: queue full or retries exhausted."),
     SELF(spans_dropped)},
    {FAM("torvyn_trace_spans_exported", NULL, MK_SUM, "", "Spans every OTLP destination accepted."),
     SELF(spans_exported)},
    {FAM("torvyn_trace_spans_rejected", NULL, MK_SUM, "",
	 "Spans an OTLP receiver rejected in a partial success."),
     SELF(spans_rejected)},
    {FAM("torvyn_trace_otlp_retries", NULL, MK_SUM, "", "OTLP requests retried."),
     SELF(otlp_retries)},
    {FAM("torvyn_trace_otlp_failures", NULL, MK_SUM, "",
	 "OTLP requests given up: a non-retryable answer or retries exhausted."),
     SELF(otlp_failures)},
    {FAM("torvyn_trace_otlp_partial_successes", NULL, MK_SUM, "",
	 "OTLP responses that reported a partial success."),
     SELF(otlp_partial_successes)},
    {FAM("torvyn_trace_otlp_metric_requests", NULL, MK_SUM, "", "OTLP metric requests sent."),
     SELF(otlp_metric_requests)},
    {FAM("torvyn_trace_level_switches", NULL, MK_SUM, "", "Changes of the attached probe level."),
     SELF(level_switches)},
    {FAM("torvyn_trace_scrapes", NULL, MK_SUM, "", "Metric expositions served."), SELF(scrapes)},
    {FAM("torvyn_trace_start_time_seconds", NULL, MK_GAUGE, "s",
	 "Start time of the tracer session in seconds since the Unix epoch."),
     SELFv(start_time, V_DBL)},
    {FAM("torvyn_trace_info", NULL, MK_GAUGE, "", "The traced process: always 1."), .src = SRC_OWN,
     .val = V_FN, .fn = fn_info},
};

/* ------------------------------------------------------------ metrics: collection */

struct xfer_key {
	uint32_t flow, from, to, idx;
};

static int xfer_cmp(const void *a, const void *b)
{
	const struct xfer_key *x = a, *y = b;

	if (x->flow != y->flow)
		return x->flow < y->flow ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Transfers come in BPF hash order; keep the points in a stable order. */
static uint32_t *sort_transfers(struct mctx *c)
{
	const struct snapshot *s = c->s;
	size_t n = (size_t)s->n_transfers;
	struct xfer_key *k = malloc(sizeof(*k) * n);
	uint32_t *order = ar_alloc(&c->a, sizeof(*order) * n);

	if (!k || !order) {
		free(k);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		k[i] = (struct xfer_key){s->transfers[i].flow_idx, s->transfers[i].from_idx,
					 s->transfers[i].to_idx, (uint32_t)i};
	qsort(k, n, sizeof(*k), xfer_cmp);
	for (size_t i = 0; i < n; i++)
		order[i] = k[i].idx;
	free(k);
	return order;
}

static void collect_fam(struct mctx *c, const struct mfam *f)
{
	struct mmetric *m;

	if (c->n_ms == c->cap_ms) {
		size_t cap = c->cap_ms ? c->cap_ms * 2 : 64;

		m = realloc(c->ms, cap * sizeof(*m));
		if (!m) {
			c->a.oom = true;
			return;
		}
		c->ms = m;
		c->cap_ms = cap;
	}
	m = &c->ms[c->n_ms];
	memset(m, 0, sizeof(*m));
	fam_name(f, m->name, sizeof(m->name));
	m->desc = f->desc;
	m->unit = f->unit;
	m->kind = f->kind;
	m->first = c->n_pts;
	c->cur = m;
	walk(c, f);
	if (m->n)
		c->n_ms++; /* a family without points is left out, as in /metrics */
}

static void mctx_free(struct mctx *c)
{
	free(c->pts);
	free(c->ms);
	ar_free(&c->a);
}

/* The neutral list of every family with points; c->s must be the sanitized view. */
static int collect(struct mctx *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->now_mono_ns = (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
	if (c->s->n_transfers > 0) {
		c->xfer_order = sort_transfers(c);
		if (!c->xfer_order)
			return -ENOMEM;
	}
	for (size_t i = 0; i < ARRAY_SIZE(mfams) && !c->a.oom; i++)
		collect_fam(c, &mfams[i]);
	return c->a.oom ? -ENOMEM : 0;
}

/* Negative counts or missing arrays mean "none". */
static void snap_view(const struct snapshot *snap, struct snapshot *view)
{
	*view = *snap;
	if (view->n_flows < 0 || !view->flows)
		view->n_flows = 0;
	if (view->n_transfers < 0 || !view->transfers)
		view->n_transfers = 0;
}

/*
 * OTLP bucket_counts are per bucket. A block read mid-update may have count
 * behind its buckets; as prom.c does for +Inf, the last bucket and count take
 * the larger, so count always equals the sum of the buckets.
 */
static void hist_norm(const struct torvyn_hist_lat *h, uint64_t out[TORVYN_LAT_BUCKETS],
		      uint64_t *count, double *sum_s)
{
	uint64_t cum = 0;

	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		out[i] = h->bucket[i];
		cum += h->bucket[i];
	}
	*count = h->count > cum ? h->count : cum;
	out[TORVYN_LAT_BOUNDS] = *count - cum;
	*sum_s = (double)h->sum_ns / 1e9;
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
	if (p->vt == V_DBL) {
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
	uint64_t *buckets = ar_alloc(b->a, TORVYN_LAT_BUCKETS * sizeof(*buckets));

	if (!d || !buckets || !b->bounds)
		return NULL;
	opentelemetry__proto__metrics__v1__histogram_data_point__init(d);
	d->n_attributes = (size_t)p->na;
	d->attributes = pb_pt_attrs(b->a, p);
	d->start_time_unix_nano = b->start_ns;
	d->time_unix_nano = b->now_ns;
	hist_norm(p->h, buckets, &d->count, &d->sum);
	d->n_bucket_counts = TORVYN_LAT_BUCKETS;
	d->bucket_counts = buckets;
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
	pm->name = ar_str(a, m->name, sizeof(m->name));
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
	struct snapshot view;
	struct mctx c = {0};
	struct pbm b = {&c.a, start_unix_ns, now_unix_ns, NULL};
	int err;

	if (!res || !snap || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	snap_view(snap, &view);
	c.s = &view;
	err = collect(&c);
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
	uint64_t buckets[TORVYN_LAT_BUCKETS], count;
	double sum;

	hist_norm(p->h, buckets, &count, &sum);
	if (count)
		jset(j, o, "count", j_u64(count));
	if (sum != 0)
		jset(j, o, "sum", j_dbl(j, sum));
	for (int i = 0; i < TORVYN_LAT_BUCKETS; i++)
		jpush(j, bc, j_u64(buckets[i]));
	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++)
		jpush(j, eb, j_dbl(j, lat_bounds_s[i]));
	jset(j, o, "bucketCounts", bc);
	jset(j, o, "explicitBounds", eb);
	return o;
}

static json_t *j_num_pt(struct jctx *j, const struct mpoint *p, uint64_t start_ns, uint64_t now_ns)
{
	json_t *o = j_pt_base(j, p, start_ns, now_ns);

	if (p->vt == V_DBL)
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
	struct snapshot view;
	struct mctx c = {0};
	json_t *list;
	int err;

	if (!res || !snap || !buf || !len)
		return -EINVAL;
	*buf = NULL;
	*len = 0;
	snap_view(snap, &view);
	c.s = &view;
	err = collect(&c);
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
