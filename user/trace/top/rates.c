// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * What two frames say that one cannot: rates from counter deltas, and p50
 * and p99 from the deltas of the processing-time buckets, interpolated in
 * their bucket as Prometheus' histogram_quantile() does. Then the order the
 * user asked for.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "top.h"
#include "top_internal.h"

/* A counter's increase; one that went down was reset and counts from 0. */
static double increase(double now, double before)
{
	return now >= before ? now - before : now;
}

double tvn_top_hist__quantile(const struct tvn_top_hist *h, double q)
{
	double rank, below, lower;
	int i;

	if (h->n < 2 || !(h->cum[h->n - 1] > 0) || isfinite(h->le[h->n - 1]))
		return NAN;
	rank = q * h->cum[h->n - 1];
	for (i = 0; i < h->n - 1 && h->cum[i] < rank; i++)
		;
	/* in the +Inf bucket: the highest finite bound is all we know */
	if (i == h->n - 1)
		return h->le[h->n - 2];
	below = i ? h->cum[i - 1] : 0;
	lower = i ? h->le[i - 1] : 0;
	if (h->cum[i] <= below)
		return h->le[i];
	return lower + (h->le[i] - lower) * (rank - below) / (h->cum[i] - below);
}

/* The buckets' increase from prev to cur, kept monotonic; -1 if their bounds differ. */
static int hist_increase(const struct tvn_top_hist *cur, const struct tvn_top_hist *prev,
			 struct tvn_top_hist *d)
{
	if (cur->n != prev->n)
		return -1;
	d->n = cur->n;
	for (int i = 0; i < cur->n; i++) {
		if (cur->le[i] != prev->le[i])
			return -1;
		d->le[i] = cur->le[i];
		d->cum[i] = increase(cur->cum[i], prev->cum[i]);
		if (i && d->cum[i] < d->cum[i - 1])
			d->cum[i] = d->cum[i - 1];
	}
	return 0;
}

static void comp_diff(struct tvn_top_comp *c, const struct tvn_top_comp *p, double dt)
{
	struct tvn_top_hist d;

	c->rate = c->err_rate = c->p50 = c->p99 = NAN;
	if (!p)
		return;
	c->rate = increase(c->invocations, p->invocations) / dt;
	c->err_rate = increase(c->errors, p->errors) / dt;
	if (!hist_increase(&c->hist, &p->hist, &d)) {
		c->p50 = tvn_top_hist__quantile(&d, 0.5);
		c->p99 = tvn_top_hist__quantile(&d, 0.99);
	}
}

static const struct tvn_top_flow *prev_flow(const struct tvn_top_frame *prev, int pid,
					    const char *id, int hint)
{
	for (int k = -1; k < prev->n_flows; k++) {
		int i = k < 0 ? hint : k;

		if (i < prev->n_flows && prev->targets[prev->flows[i].target].pid == pid &&
		    !strcmp(prev->flows[i].id, id))
			return &prev->flows[i];
	}
	return NULL;
}

static void flow_diff(const struct tvn_top_frame *cur, struct tvn_top_flow *fl,
		      const struct tvn_top_frame *prev, int hint, double dt)
{
	const struct tvn_top_flow *p =
	    prev ? prev_flow(prev, cur->targets[fl->target].pid, fl->id, hint) : NULL;

	fl->rate = p ? increase(fl->elements, p->elements) / dt : NAN;
	fl->err_rate = p ? increase(fl->errors, p->errors) / dt : NAN;
	fl->p99 = NAN;
	for (int j = 0; j < fl->n_comps; j++) {
		struct tvn_top_comp *c = &fl->comps[j];
		int k = p ? tvn_top__find(p->comps, p->n_comps, sizeof(*c), j, c->id) : -1;

		comp_diff(c, k < 0 ? NULL : &p->comps[k], dt);
		if (!isnan(c->p99) && (isnan(fl->p99) || c->p99 > fl->p99))
			fl->p99 = c->p99;
	}
	for (int j = 0; j < fl->n_streams; j++) {
		struct tvn_top_stream *s = &fl->streams[j];
		int k = p ? tvn_top__find(p->streams, p->n_streams, sizeof(*s), j, s->id) : -1;

		s->bp_rate = k < 0 ? NAN : increase(s->bp_events, p->streams[k].bp_events) / dt;
	}
}

void tvn_top_frame__diff(struct tvn_top_frame *cur, const struct tvn_top_frame *prev, double dt)
{
	if (!(dt > 0))
		prev = NULL;
	cur->dt = prev ? dt : 0;
	for (int i = 0; i < cur->n_flows; i++)
		flow_diff(cur, &cur->flows[i], prev && prev->n_flows ? prev : NULL, i, dt);
}

/* ------------------------------------------------------------ order */

static const char *const sort_names[TVN_TOP_SORT_COUNT] = {
    [TVN_TOP_SORT_ORDER] = "order",
    [TVN_TOP_SORT_RATE] = "rate",
    [TVN_TOP_SORT_P99] = "p99",
    [TVN_TOP_SORT_ERRORS] = "errors",
};

const char *tvn_top_sort__name(enum tvn_top_sort s)
{
	return s >= 0 && s < TVN_TOP_SORT_COUNT ? sort_names[s] : "?";
}

/* Descending by key (unknown last), then in the host's order. */
static int by_key(double kx, double ky, int ox, int oy)
{
	kx = isnan(kx) ? -1 : kx;
	ky = isnan(ky) ? -1 : ky;
	if (kx != ky)
		return kx < ky ? 1 : -1;
	return (ox > oy) - (ox < oy);
}

static double flow_key(const struct tvn_top_flow *f, enum tvn_top_sort s)
{
	return s == TVN_TOP_SORT_RATE	  ? f->rate
	       : s == TVN_TOP_SORT_P99	  ? f->p99
	       : s == TVN_TOP_SORT_ERRORS ? f->errors
					  : 0;
}

static double comp_key(const struct tvn_top_comp *c, enum tvn_top_sort s)
{
	return s == TVN_TOP_SORT_RATE	  ? c->rate
	       : s == TVN_TOP_SORT_P99	  ? c->p99
	       : s == TVN_TOP_SORT_ERRORS ? c->errors
					  : 0;
}

static int cmp_flow(const void *a, const void *b, void *arg)
{
	const struct tvn_top_flow *x = a, *y = b;
	enum tvn_top_sort s = *(const enum tvn_top_sort *)arg;

	if (x->target != y->target)
		return x->target < y->target ? -1 : 1;
	return by_key(flow_key(x, s), flow_key(y, s), x->order, y->order);
}

static int cmp_comp(const void *a, const void *b, void *arg)
{
	const struct tvn_top_comp *x = a, *y = b;
	enum tvn_top_sort s = *(const enum tvn_top_sort *)arg;

	return by_key(comp_key(x, s), comp_key(y, s), x->order, y->order);
}

void tvn_top_frame__sort(struct tvn_top_frame *f, enum tvn_top_sort s)
{
	qsort_r(f->flows, f->n_flows, sizeof(*f->flows), cmp_flow, &s);
	for (int i = 0; i < f->n_flows; i++)
		qsort_r(f->flows[i].comps, f->flows[i].n_comps, sizeof(*f->flows[i].comps),
			cmp_comp, &s);
}
