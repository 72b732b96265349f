// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The protobuf encoders of otlp.h (protobuf-c, generated from
 * user/trace/proto/): ExportTraceServiceRequest and
 * ExportMetricsServiceRequest. Every message of one request lives in an
 * arena freed once the request is packed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "otlp_internal.h"

/* ------------------------------------------------------------ protobuf: common */

static pb_keyvalue *pb_kv_new(struct tvn_otlp_arena *a, const char *key, size_t kmax)
{
	pb_keyvalue *kv = tvn_otlp_arena__alloc(a, sizeof(*kv));
	pb_anyvalue *v = tvn_otlp_arena__alloc(a, sizeof(*v));

	if (!kv || !v)
		return NULL;
	opentelemetry__proto__common__v1__key_value__init(kv);
	opentelemetry__proto__common__v1__any_value__init(v);
	kv->key = tvn_otlp_arena__str(a, key, kmax);
	kv->value = v;
	return kv->key ? kv : NULL;
}

/* key is read up to a NUL or kmax bytes (a span attribute's key is a fixed field). */
static pb_keyvalue *pb_kv_str(struct tvn_otlp_arena *a, const char *key, size_t kmax,
			      const char *val, size_t vmax)
{
	pb_keyvalue *kv = pb_kv_new(a, key, kmax);

	if (!kv)
		return NULL;
	kv->value->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	kv->value->string_value = tvn_otlp_arena__str(a, val, vmax);
	return kv->value->string_value ? kv : NULL;
}

static pb_keyvalue *pb_kv(struct tvn_otlp_arena *a, const struct tvn_otlp_kv *x)
{
	pb_keyvalue *kv;

	if (x->type == OTLP_STR)
		return pb_kv_str(a, x->key, sizeof(x->key), x->str, sizeof(x->str));
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
static pb_keyvalue **pb_kvs(struct tvn_otlp_arena *a, const struct tvn_otlp_kv *x, size_t n)
{
	pb_keyvalue **v;

	if (!n)
		return NULL;
	v = tvn_otlp_arena__alloc(a, n * sizeof(*v));
	for (size_t i = 0; v && i < n; i++)
		v[i] = pb_kv(a, &x[i]);
	return v;
}

static pb_resource *pb_res(struct tvn_otlp_arena *a, const struct tvn_otlp_resource *res)
{
	pb_resource *r = tvn_otlp_arena__alloc(a, sizeof(*r));
	struct tvn_otlp_res_attrs ra;

	if (!r)
		return NULL;
	opentelemetry__proto__resource__v1__resource__init(r);
	tvn_otlp_res_attrs__fill(&ra, res);
	r->n_attributes = ra.n;
	r->attributes = pb_kvs(a, ra.kv, ra.n);
	return r;
}

static pb_scope *pb_scope_new(struct tvn_otlp_arena *a)
{
	pb_scope *s = tvn_otlp_arena__alloc(a, sizeof(*s));

	if (!s)
		return NULL;
	opentelemetry__proto__common__v1__instrumentation_scope__init(s);
	s->name = tvn_otlp_arena__str(a, OTLP_SCOPE_NAME, sizeof(OTLP_SCOPE_NAME));
	s->version = tvn_otlp_arena__str(a, OTLP_SDK_VERSION, sizeof(OTLP_SDK_VERSION));
	return s;
}

static int pb_finish(struct tvn_otlp_arena *a, const ProtobufCMessage *msg, uint8_t **buf,
		     size_t *len)
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

static pb_span *pb_span_new(struct tvn_otlp_arena *a, const struct tvn_otlp_span *s)
{
	pb_span *p = tvn_otlp_arena__alloc(a, sizeof(*p));
	size_t na = (size_t)tvn_otlp_span__n_attrs(s);

	if (!p)
		return NULL;
	opentelemetry__proto__trace__v1__span__init(p);
	/* The struct outlives the pack: point at the caller's bytes. */
	p->trace_id = (ProtobufCBinaryData){sizeof(s->trace_id), (uint8_t *)s->trace_id};
	p->span_id = (ProtobufCBinaryData){sizeof(s->span_id), (uint8_t *)s->span_id};
	if (tvn_otlp_span__has_parent(s))
		p->parent_span_id =
		    (ProtobufCBinaryData){sizeof(s->parent_span_id), (uint8_t *)s->parent_span_id};
	p->flags = s->flags;
	p->name = tvn_otlp_arena__str(a, s->name, sizeof(s->name));
	p->kind = (Opentelemetry__Proto__Trace__V1__Span__SpanKind)s->kind;
	p->start_time_unix_nano = s->start_unix_ns;
	p->end_time_unix_nano = s->end_unix_ns;
	p->n_attributes = na;
	p->attributes = pb_kvs(a, s->attrs, na);
	if (s->status_code || s->status_message[0]) {
		pb_status *st = tvn_otlp_arena__alloc(a, sizeof(*st));

		if (!st)
			return NULL;
		opentelemetry__proto__trace__v1__status__init(st);
		st->code = (Opentelemetry__Proto__Trace__V1__Status__StatusCode)s->status_code;
		st->message = tvn_otlp_arena__str(a, s->status_message, sizeof(s->status_message));
		p->status = st;
	}
	return p;
}

/* A ResourceSpans for res with room for n spans, none in it yet. */
static pb_resource_spans *pb_rs_new(struct tvn_otlp_arena *a, const struct tvn_otlp_resource *res,
				    size_t n)
{
	pb_resource_spans *rs = tvn_otlp_arena__alloc(a, sizeof(*rs));
	pb_scope_spans **ss = tvn_otlp_arena__alloc(a, sizeof(*ss));

	if (!rs || !ss || !(*ss = tvn_otlp_arena__alloc(a, sizeof(**ss))))
		return NULL;
	opentelemetry__proto__trace__v1__resource_spans__init(rs);
	opentelemetry__proto__trace__v1__scope_spans__init(*ss);
	rs->resource = pb_res(a, res);
	rs->n_scope_spans = 1;
	rs->scope_spans = ss;
	(*ss)->scope = pb_scope_new(a);
	(*ss)->spans = n ? tvn_otlp_arena__alloc(a, n * sizeof(*(*ss)->spans)) : NULL;
	return rs;
}

int tvn_otlp__encode_traces_many_pb(const struct tvn_otlp_traces *t, uint8_t **buf, size_t *len)
{
	pb_trace_req req =
	    OPENTELEMETRY__PROTO__COLLECTOR__TRACE__V1__EXPORT_TRACE_SERVICE_REQUEST__INIT;
	struct tvn_otlp_arena a = {0};
	size_t *count;
	int err;

	err = tvn_otlp_traces__start(t, buf, len);
	if (err)
		return err;
	count = tvn_otlp_arena__alloc(&a, t->n_res * sizeof(*count));
	for (size_t i = 0; count && i < t->n; i++)
		count[tvn_otlp_traces__res_of(t, i)]++;
	req.n_resource_spans = t->n_res;
	req.resource_spans = tvn_otlp_arena__alloc(&a, t->n_res * sizeof(*req.resource_spans));
	for (size_t r = 0; count && req.resource_spans && r < t->n_res; r++)
		req.resource_spans[r] = pb_rs_new(&a, &t->res[r], count[r]);
	for (size_t i = 0; !a.oom && i < t->n; i++) {
		pb_scope_spans *ss =
		    req.resource_spans[tvn_otlp_traces__res_of(t, i)]->scope_spans[0];

		ss->spans[ss->n_spans++] = pb_span_new(&a, &t->spans[i]);
	}
	err = pb_finish(&a, &req.base, buf, len);
	tvn_otlp_arena__free(&a);
	return err;
}

int tvn_otlp__encode_traces_pb(const struct tvn_otlp_resource *res,
			       const struct tvn_otlp_span *spans, size_t n, uint8_t **buf,
			       size_t *len)
{
	struct tvn_otlp_traces t = {res, 1, spans, NULL, n};

	return tvn_otlp__encode_traces_many_pb(&t, buf, len);
}

/* ------------------------------------------------------------ metrics: protobuf */

struct pbm {
	struct tvn_otlp_arena *a;
	uint64_t start_ns, now_ns;
	double *bounds; /* one copy, shared by every histogram point */
};

static pb_keyvalue **pb_pt_attrs(struct tvn_otlp_arena *a, const struct tvn_otlp_point *p)
{
	pb_keyvalue **v;

	if (!p->na)
		return NULL;
	v = tvn_otlp_arena__alloc(a, (size_t)p->na * sizeof(*v));
	for (int i = 0; v && i < p->na; i++)
		v[i] = p->val[i] ? pb_kv_str(a, p->key[i], 256, p->val[i], SIZE_MAX) : NULL;
	return v;
}

static pb_number_point *pb_num_point(struct pbm *b, const struct tvn_otlp_point *p, bool cumulative)
{
	pb_number_point *d = tvn_otlp_arena__alloc(b->a, sizeof(*d));

	if (!d)
		return NULL;
	opentelemetry__proto__metrics__v1__number_data_point__init(d);
	d->n_attributes = (size_t)p->na;
	d->attributes = pb_pt_attrs(b->a, p);
	d->start_time_unix_nano = cumulative ? b->start_ns : 0;
	d->time_unix_nano = b->now_ns;
	if (p->vt == OTLP_POINT_DBL) {
		d->value_case =
		    OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_DOUBLE;
		d->as_double = p->d;
	} else {
		d->value_case = OPENTELEMETRY__PROTO__METRICS__V1__NUMBER_DATA_POINT__VALUE_AS_INT;
		d->as_int = p->i;
	}
	return d;
}

static pb_hist_point *pb_hist_pt(struct pbm *b, const struct tvn_otlp_point *p)
{
	pb_hist_point *d = tvn_otlp_arena__alloc(b->a, sizeof(*d));

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

/* A cumulative Histogram of m's points into pm. False on oom. */
static bool pb_histogram_set(struct pbm *b, pb_metric *pm, const struct tvn_otlp_metric *m,
			     const struct tvn_otlp_point *pts)
{
	pb_histogram *h = tvn_otlp_arena__alloc(b->a, sizeof(*h));
	pb_hist_point **v = tvn_otlp_arena__alloc(b->a, m->n * sizeof(*v));

	if (!h || !v)
		return false;
	opentelemetry__proto__metrics__v1__histogram__init(h);
	for (size_t i = 0; i < m->n; i++)
		v[i] = pb_hist_pt(b, &pts[i]);
	h->n_data_points = m->n;
	h->data_points = v;
	h->aggregation_temporality = AGG_CUMULATIVE;
	pm->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_HISTOGRAM;
	pm->histogram = h;
	return true;
}

/* A Sum (counters: monotonic, cumulative) or a Gauge of m's points into pm. False on oom. */
static bool pb_numbers_set(struct pbm *b, pb_metric *pm, const struct tvn_otlp_metric *m,
			   const struct tvn_otlp_point *pts)
{
	pb_number_point **v = tvn_otlp_arena__alloc(b->a, m->n * sizeof(*v));
	bool sum = m->kind == OTLP_METRIC_SUM;
	pb_sum *s = sum ? tvn_otlp_arena__alloc(b->a, sizeof(*s)) : NULL;
	pb_gauge *g = sum ? NULL : tvn_otlp_arena__alloc(b->a, sizeof(*g));

	if (!v || (!s && !g))
		return false;
	for (size_t i = 0; i < m->n; i++)
		v[i] = pb_num_point(b, &pts[i], sum);
	if (sum) {
		opentelemetry__proto__metrics__v1__sum__init(s);
		s->n_data_points = m->n;
		s->data_points = v;
		s->aggregation_temporality = AGG_CUMULATIVE;
		s->is_monotonic = 1;
		pm->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_SUM;
		pm->sum = s;
	} else {
		opentelemetry__proto__metrics__v1__gauge__init(g);
		g->n_data_points = m->n;
		g->data_points = v;
		pm->data_case = OPENTELEMETRY__PROTO__METRICS__V1__METRIC__DATA_GAUGE;
		pm->gauge = g;
	}
	return true;
}

static pb_metric *pb_metric_new(struct pbm *b, const struct tvn_otlp_metric *m,
				const struct tvn_otlp_point *pts)
{
	struct tvn_otlp_arena *a = b->a;
	pb_metric *pm = tvn_otlp_arena__alloc(a, sizeof(*pm));
	bool ok;

	if (!pm)
		return NULL;
	opentelemetry__proto__metrics__v1__metric__init(pm);
	pm->name = tvn_otlp_arena__str(a, m->name, SIZE_MAX);
	pm->description = tvn_otlp_arena__str(a, m->desc, SIZE_MAX);
	pm->unit = tvn_otlp_arena__str(a, m->unit, SIZE_MAX);
	if (m->kind == OTLP_METRIC_HIST)
		ok = pb_histogram_set(b, pm, m, pts);
	else
		ok = pb_numbers_set(b, pm, m, pts);
	return ok ? pm : NULL;
}

/*
 * One host's ResourceMetrics into *out: its snapshot collected into c, every
 * message in c's arena. 0 or -errno.
 */
static int pb_rm_new(struct tvn_otlp_metrics *c, const struct tvn_otlp_resource *res,
		     const struct tvn_snapshot *snap, uint64_t start_unix_ns, uint64_t now_unix_ns,
		     pb_resource_metrics **out)
{
	struct pbm b = {&c->a, start_unix_ns, now_unix_ns, NULL};
	pb_resource_metrics *rm;
	pb_scope_metrics **smp, *sm;
	int err;

	err = tvn_otlp_metrics__collect(c, snap);
	if (err)
		return err;
	rm = tvn_otlp_arena__alloc(&c->a, sizeof(*rm));
	smp = tvn_otlp_arena__alloc(&c->a, sizeof(*smp));
	sm = tvn_otlp_arena__alloc(&c->a, sizeof(*sm));
	b.bounds = tvn_otlp_arena__alloc(&c->a, sizeof(tvn_lat_bounds_s));
	if (!rm || !smp || !sm || !b.bounds)
		return -ENOMEM;
	memcpy(b.bounds, tvn_lat_bounds_s, sizeof(tvn_lat_bounds_s));
	opentelemetry__proto__metrics__v1__resource_metrics__init(rm);
	opentelemetry__proto__metrics__v1__scope_metrics__init(sm);
	rm->resource = pb_res(&c->a, res);
	rm->n_scope_metrics = 1;
	rm->scope_metrics = smp;
	*smp = sm;
	sm->scope = pb_scope_new(&c->a);
	sm->n_metrics = c->n_ms;
	sm->metrics = c->n_ms ? tvn_otlp_arena__alloc(&c->a, c->n_ms * sizeof(*sm->metrics)) : NULL;
	for (size_t i = 0; sm->metrics && i < c->n_ms; i++)
		sm->metrics[i] = pb_metric_new(&b, &c->ms[i], &c->pts[c->ms[i].first]);
	*out = rm;
	return c->a.oom ? -ENOMEM : 0;
}

int tvn_otlp__encode_metrics_many_pb(const struct tvn_otlp_resource *const *res,
				     const struct tvn_snapshot *const *snaps, size_t n,
				     uint64_t start_unix_ns, uint64_t now_unix_ns, uint8_t **buf,
				     size_t *len)
{
	pb_metrics_req req =
	    OPENTELEMETRY__PROTO__COLLECTOR__METRICS__V1__EXPORT_METRICS_SERVICE_REQUEST__INIT;
	struct tvn_otlp_metrics *c;
	struct tvn_otlp_arena a = {0}; /* the request's own: the list of hosts */
	int err;

	err = tvn_otlp_metrics__start(res, snaps, n, buf, len);
	if (err)
		return err;
	/* every host's messages live until the pack: one collection each */
	c = tvn_otlp_arena__alloc(&a, n * sizeof(*c));
	req.resource_metrics = tvn_otlp_arena__alloc(&a, n * sizeof(*req.resource_metrics));
	err = c && req.resource_metrics ? 0 : -ENOMEM;
	for (size_t i = 0; !err && i < n; i++)
		err = pb_rm_new(&c[i], res[i], snaps[i], start_unix_ns, now_unix_ns,
				&req.resource_metrics[i]);
	if (err)
		goto out;
	req.n_resource_metrics = n;
	err = pb_finish(&a, &req.base, buf, len);
out:
	for (size_t i = 0; c && i < n; i++)
		tvn_otlp_metrics__free(&c[i]);
	tvn_otlp_arena__free(&a);
	return err;
}

int tvn_otlp__encode_metrics_pb(const struct tvn_otlp_resource *res,
				const struct tvn_snapshot *snap, uint64_t start_unix_ns,
				uint64_t now_unix_ns, uint8_t **buf, size_t *len)
{
	return tvn_otlp__encode_metrics_many_pb(&res, &snap, 1, start_unix_ns, now_unix_ns, buf,
						len);
}
