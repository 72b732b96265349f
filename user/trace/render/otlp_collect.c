// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A snapshot as the neutral list both OTLP metrics encoders write: the
 * metric model's walk (metric_model.h), the same that renders /metrics,
 * turned into metrics (name, kind, unit) and their points (attributes,
 * value), so that the protobuf, the JSON and the Prometheus text cannot
 * disagree about which series exist or what they hold.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "otlp_internal.h"

static const enum tvn_otlp_metric_kind kind_of[] = {
    [METRIC_COUNTER] = OTLP_METRIC_SUM,	   [METRIC_GAUGE] = OTLP_METRIC_GAUGE,
    [METRIC_HISTOGRAM] = OTLP_METRIC_HIST, [METRIC_STATESET] = OTLP_METRIC_GAUGE,
    [METRIC_INFO] = OTLP_METRIC_GAUGE,
};

/*
 * Room for one more element in the array p of n (cap allocated) elements of
 * size bytes, grown outside the arena: a 100-flow snapshot has ~10k points.
 * Returns the array, moved or not; sets oom (p stays valid) if it cannot grow.
 */
static void *grow(struct tvn_otlp_metrics *c, void *p, size_t *cap, size_t n, size_t size)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return p;
	ncap = *cap ? *cap * 2 : 256;
	np = realloc(p, ncap * size);
	if (!np) {
		c->a.oom = true;
		return p;
	}
	*cap = ncap;
	return np;
}

/* A new element at the end of the array field arr of c (n_arr, cap_arr); NULL on oom. */
#define PUSH(c, arr)                                                                               \
	((c)->arr = grow(c, (c)->arr, &(c)->cap_##arr, (c)->n_##arr, sizeof(*(c)->arr)),           \
	 (c)->a.oom ? NULL : &(c)->arr[(c)->n_##arr++])

/* OTLP names and UCUM units ("s", "By", "{element}") are the catalogue's. */
static int m_begin(void *ctx, const struct tvn_metric_family *f)
{
	struct tvn_otlp_metrics *c = ctx;
	struct tvn_otlp_metric *m = PUSH(c, ms);

	if (!m)
		return -ENOMEM;
	m->name = f->otlp;
	m->desc = f->otlp_help ? f->otlp_help : f->help;
	m->unit = f->unit ? f->unit : "";
	m->kind = kind_of[f->type];
	m->first = c->n_pts;
	m->n = 0;
	return 0;
}

static int64_t clamp_i64(uint64_t x)
{
	return x > INT64_MAX ? INT64_MAX : (int64_t)x;
}

/* The point's value: integers stay integers, nanoseconds become seconds. */
static void point_value(struct tvn_otlp_metrics *c, struct tvn_otlp_point *p,
			const struct tvn_metric_value *v)
{
	struct tvn_metric_hist *h;

	switch (v->kind) {
	case METRIC_U64:
		p->i = clamp_i64(v->u);
		break;
	case METRIC_I64:
		p->i = v->i;
		break;
	case METRIC_DBL:
		p->vt = OTLP_POINT_DBL;
		p->d = v->d;
		break;
	case METRIC_NS:
		p->vt = OTLP_POINT_DBL;
		p->d = (double)v->u / 1e9;
		break;
	case METRIC_HIST:
		h = tvn_otlp_arena__alloc(&c->a, sizeof(*h));
		if (h)
			*h = *v->h;
		p->vt = OTLP_POINT_HIST;
		p->h = h;
		break;
	}
}

static int m_sample(void *ctx, const struct tvn_metric_family *f, const struct tvn_metric_label *l,
		    int n, const struct tvn_metric_value *v)
{
	struct tvn_otlp_metrics *c = ctx;
	struct tvn_otlp_point *p = PUSH(c, pts);

	(void)f;
	if (!p)
		return -ENOMEM;
	memset(p, 0, sizeof(*p));
	c->ms[c->n_ms - 1].n++;
	for (int i = 0; i < n; i++) {
		p->key[p->na] = l[i].key;
		p->val[p->na++] = tvn_otlp_arena__str(&c->a, l[i].val, l[i].vmax);
	}
	point_value(c, p, v);
	return c->a.oom ? -ENOMEM : 0;
}

void tvn_otlp_metrics__free(struct tvn_otlp_metrics *c)
{
	free(c->pts);
	free(c->ms);
	tvn_otlp_arena__free(&c->a);
}

int tvn_otlp_metrics__collect(struct tvn_otlp_metrics *c, const struct tvn_snapshot *s)
{
	static const struct tvn_metric_visitor visitor = {.begin = m_begin, .sample = m_sample};
	return tvn_metric_model__walk(s, tvn_time__mono_ns(), &visitor, c);
}

int tvn_otlp_metrics__start(const struct tvn_otlp_resource *const *res,
			    const struct tvn_snapshot *const *snaps, size_t n, void *out,
			    size_t *len)
{
	if ((n && (!res || !snaps)) || !out || !len)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!res[i] || !snaps[i])
			return -EINVAL;
	*(void **)out = NULL;
	*len = 0;
	return 0;
}
