// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The OTLP/JSON encoders of otlp.h (jansson).
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

#include <jansson.h>

#include "otlp_internal.h"

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

/* A sanitized string: see tvn_otlp_arena__str. */
static json_t *j_str(const char *s, size_t max)
{
	struct tvn_otlp_arena a = {0};
	char *c = tvn_otlp_arena__str(&a, s, max);
	json_t *v = c ? json_string(c) : NULL;

	tvn_otlp_arena__free(&a);
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

static json_t *j_kv(struct jctx *j, const struct tvn_otlp_kv *x)
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

static json_t *j_kvs(struct jctx *j, const struct tvn_otlp_kv *x, size_t n)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < n; i++)
		jpush(j, arr, j_kv(j, &x[i]));
	return arr;
}

static json_t *j_res(struct jctx *j, const struct tvn_otlp_resource *res)
{
	json_t *r = json_object();
	struct tvn_otlp_res_attrs ra;

	tvn_otlp_res_attrs__fill(&ra, res);
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

/* {"resource":...,"<scope_key>":[{"scope":...,"<list_key>":list}]}; takes list. */
static json_t *j_res_entry(struct jctx *j, const struct tvn_otlp_resource *res,
			   const char *scope_key, const char *list_key, json_t *list)
{
	json_t *r = json_object(), *sl = json_array(), *s = json_object();

	jset(j, r, "resource", j_res(j, res));
	jset(j, s, "scope", j_scope(j));
	jset(j, s, list_key, list);
	jpush(j, sl, s);
	jset(j, r, scope_key, sl);
	return r;
}

/* {"<top>":entries} as compact text; takes entries. */
static int j_finish(struct jctx *j, const char *top, json_t *entries, char **buf, size_t *len)
{
	json_t *root = json_object();
	char *text = NULL;

	jset(j, root, top, entries);
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

static json_t *j_span(struct jctx *j, const struct tvn_otlp_span *s)
{
	json_t *o = json_object();
	size_t na = (size_t)tvn_otlp_span__n_attrs(s);

	jset(j, o, "traceId", j_hex(s->trace_id, sizeof(s->trace_id)));
	jset(j, o, "spanId", j_hex(s->span_id, sizeof(s->span_id)));
	if (tvn_otlp_span__has_parent(s))
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

int tvn_otlp__encode_traces_many_json(const struct tvn_otlp_traces *t, char **buf, size_t *len)
{
	struct jctx j = {.prec = 15};
	json_t **lists, *entries;
	int err;

	err = tvn_otlp_traces__start(t, buf, len);
	if (err)
		return err;
	lists = calloc(t->n_res ? t->n_res : 1, sizeof(*lists));
	if (!lists)
		return -ENOMEM;
	for (size_t r = 0; r < t->n_res; r++)
		lists[r] = json_array();
	for (size_t i = 0; i < t->n; i++)
		jpush(&j, lists[tvn_otlp_traces__res_of(t, i)], j_span(&j, &t->spans[i]));
	entries = json_array();
	for (size_t r = 0; r < t->n_res; r++)
		jpush(&j, entries, j_res_entry(&j, &t->res[r], "scopeSpans", "spans", lists[r]));
	free(lists);
	return j_finish(&j, "resourceSpans", entries, buf, len);
}

int tvn_otlp__encode_traces_json(const struct tvn_otlp_resource *res,
				 const struct tvn_otlp_span *spans, size_t n, char **buf,
				 size_t *len)
{
	struct tvn_otlp_traces t = {res, 1, spans, NULL, n};

	return tvn_otlp__encode_traces_many_json(&t, buf, len);
}

/* ------------------------------------------------------------ JSON: metrics */

static json_t *j_pt_base(struct jctx *j, const struct tvn_otlp_point *p, uint64_t start_ns,
			 uint64_t now_ns)
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

static json_t *j_hist_pt(struct jctx *j, const struct tvn_otlp_point *p, uint64_t start_ns,
			 uint64_t now_ns)
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
		jpush(j, eb, j_dbl(j, tvn_lat_bounds_s[i]));
	jset(j, o, "bucketCounts", bc);
	jset(j, o, "explicitBounds", eb);
	return o;
}

static json_t *j_num_pt(struct jctx *j, const struct tvn_otlp_point *p, uint64_t start_ns,
			uint64_t now_ns)
{
	json_t *o = j_pt_base(j, p, start_ns, now_ns);

	if (p->vt == OTLP_POINT_DBL)
		jset(j, o, "asDouble", j_dbl(j, p->d));
	else
		jset(j, o, "asInt", j_i64(p->i));
	return o;
}

/* The field of a Metric that holds its data, by kind. */
static const char *const data_key[] = {
    [OTLP_METRIC_SUM] = "sum",
    [OTLP_METRIC_GAUGE] = "gauge",
    [OTLP_METRIC_HIST] = "histogram",
};

static json_t *j_metric(struct jctx *j, const struct tvn_otlp_metric *m,
			const struct tvn_otlp_point *pts, uint64_t start_ns, uint64_t now_ns)
{
	json_t *o = json_object(), *data = json_object(), *dps = json_array();

	jset(j, o, "name", json_string(m->name));
	if (m->desc[0])
		jset(j, o, "description", json_string(m->desc));
	if (m->unit[0])
		jset(j, o, "unit", json_string(m->unit));
	for (size_t i = 0; i < m->n; i++) {
		if (m->kind == OTLP_METRIC_HIST)
			jpush(j, dps, j_hist_pt(j, &pts[i], start_ns, now_ns));
		else
			jpush(j, dps,
			      j_num_pt(j, &pts[i], m->kind == OTLP_METRIC_SUM ? start_ns : 0,
				       now_ns));
	}
	jset(j, data, "dataPoints", dps);
	if (m->kind != OTLP_METRIC_GAUGE)
		jset(j, data, "aggregationTemporality", json_integer(AGG_CUMULATIVE));
	if (m->kind == OTLP_METRIC_SUM)
		jset(j, data, "isMonotonic", json_true());
	jset(j, o, data_key[m->kind], data);
	return o;
}

/* One host's ResourceMetrics. 0 or -errno. */
static int j_host_metrics(struct jctx *j, const struct tvn_otlp_resource *res,
			  const struct tvn_snapshot *snap, uint64_t start_ns, uint64_t now_ns,
			  json_t *entries)
{
	struct tvn_otlp_metrics c = {0};
	json_t *list;
	int err;

	err = tvn_otlp_metrics__collect(&c, snap);
	if (!err) {
		list = json_array();
		for (size_t i = 0; i < c.n_ms; i++)
			jpush(j, list,
			      j_metric(j, &c.ms[i], &c.pts[c.ms[i].first], start_ns, now_ns));
		jpush(j, entries, j_res_entry(j, res, "scopeMetrics", "metrics", list));
	}
	tvn_otlp_metrics__free(&c);
	return err;
}

int tvn_otlp__encode_metrics_many_json(const struct tvn_otlp_resource *const *res,
				       const struct tvn_snapshot *const *snaps, size_t n,
				       uint64_t start_unix_ns, uint64_t now_unix_ns, char **buf,
				       size_t *len)
{
	struct jctx j = {.prec = 15};
	json_t *entries;
	int err;

	err = tvn_otlp_metrics__start(res, snaps, n, buf, len);
	if (err)
		return err;
	entries = json_array();
	for (size_t i = 0; !err && i < n; i++)
		err = j_host_metrics(&j, res[i], snaps[i], start_unix_ns, now_unix_ns, entries);
	if (err) {
		json_decref(entries);
		return err;
	}
	return j_finish(&j, "resourceMetrics", entries, buf, len);
}

int tvn_otlp__encode_metrics_json(const struct tvn_otlp_resource *res,
				  const struct tvn_snapshot *snap, uint64_t start_unix_ns,
				  uint64_t now_unix_ns, char **buf, size_t *len)
{
	return tvn_otlp__encode_metrics_many_json(&res, &snap, 1, start_unix_ns, now_unix_ns, buf,
						  len);
}
