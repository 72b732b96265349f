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

/* c's rates over dt from p (NULL: unknown), or p's own when carry. */
static void comp_diff(struct tvn_top_comp *c, const struct tvn_top_comp *p, double dt, bool carry)
{
	struct tvn_top_hist d;

	c->rate = c->err_rate = c->p50 = c->p99 = NAN;
	if (p && carry) {
		c->rate = p->rate;
		c->err_rate = p->err_rate;
		c->p50 = p->p50;
		c->p99 = p->p99;
	} else if (p && dt > 0) {
		c->rate = increase(c->invocations, p->invocations) / dt;
		c->err_rate = increase(c->errors, p->errors) / dt;
		if (!hist_increase(&c->hist, &p->hist, &d)) {
			c->p50 = tvn_top_hist__quantile(&d, 0.5);
			c->p99 = tvn_top_hist__quantile(&d, 0.99);
		}
	}
}

static double stream_rate(const struct tvn_top_stream *s, const struct tvn_top_stream *p, double dt,
			  bool carry)
{
	if (!p)
		return NAN;
	if (carry)
		return p->bp_rate;
	return dt > 0 ? increase(s->bp_events, p->bp_events) / dt : NAN;
}

static const struct tvn_top_flow *prev_flow(const struct tvn_top_frame *prev, int pid,
					    const char *id, int hint)
{
	for (int k = -1; prev && k < prev->n_flows; k++) {
		int i = k < 0 ? hint : k;

		if (i < prev->n_flows && prev->targets[prev->flows[i].target].pid == pid &&
		    !strcmp(prev->flows[i].id, id))
			return &prev->flows[i];
	}
	return NULL;
}

static void flow_diff(const struct tvn_top_frame *cur, struct tvn_top_flow *fl,
		      const struct tvn_top_frame *prev, int hint)
{
	const struct tvn_top_target *t = &cur->targets[fl->target];
	const struct tvn_top_flow *p = prev_flow(prev, t->pid, fl->id, hint);
	double dt = t->rates_s;
	bool carry = t->carried;

	fl->rate = fl->err_rate = fl->p99 = NAN;
	if (p && carry) {
		fl->rate = p->rate;
		fl->err_rate = p->err_rate;
	} else if (p && dt > 0) {
		fl->rate = increase(fl->elements, p->elements) / dt;
		fl->err_rate = increase(fl->errors, p->errors) / dt;
	}
	for (int j = 0; j < fl->n_comps; j++) {
		struct tvn_top_comp *c = &fl->comps[j];
		int k = p ? tvn_top__find(p->comps, p->n_comps, sizeof(*c), j, c->id) : -1;

		comp_diff(c, k < 0 ? NULL : &p->comps[k], dt, carry);
		if (!isnan(c->p99) && (isnan(fl->p99) || c->p99 > fl->p99))
			fl->p99 = c->p99;
	}
	for (int j = 0; j < fl->n_streams; j++) {
		struct tvn_top_stream *s = &fl->streams[j];
		int k = p ? tvn_top__find(p->streams, p->n_streams, sizeof(*s), j, s->id) : -1;

		s->bp_rate = stream_rate(s, k < 0 ? NULL : &p->streams[k], dt, carry);
	}
}

static bool running(const struct tvn_top_target *t)
{
	return t->self[TVN_TOP_TARGET_UP] > 0 && t->self[TVN_TOP_LEVEL] >= 1;
}

/*
 * The span of t's rates: from the frame that first saw its previous counts
 * to the one that first saw its new counts. p is t in the previous frame,
 * scraped at p_at.
 */
static void target_diff(struct tvn_top_target *t, const struct tvn_top_target *p, double at,
			double p_at)
{
	double blocks = t->self[TVN_TOP_BLOCKS_RECEIVED];

	t->rates_s = 0;
	t->carried = false;
	/* without the count of flushes, every scrape is taken for new counts */
	if (isnan(blocks)) {
		t->seen_at = at;
		t->rates_s = p ? at - p_at : 0;
		return;
	}
	/* a first frame: how long ago its counts arrived is unknown */
	t->seen_at = NAN;
	if (!p)
		return;
	if (blocks != p->self[TVN_TOP_BLOCKS_RECEIVED]) {
		t->seen_at = at;
		t->rates_s = isnan(p->seen_at) ? 0 : at - p->seen_at;
		return;
	}
	/* no flush since p: these counts are as old as p's */
	t->seen_at = p->seen_at;
	if (!(t->self[TVN_TOP_TARGET_UP] > 0)) {
		/* the host is gone: its counts are final, any span tells it */
		t->rates_s = at - (isnan(p->seen_at) ? p_at : p->seen_at);
	} else if (running(t) && at - p->seen_at < TVN_TOP_CARRY_S) {
		t->rates_s = p->rates_s;
		t->carried = true;
	}
	/* else unknown: at level off, or silent too long, nothing tells the rate */
}

bool tvn_top_target__settled(const struct tvn_top_target *t)
{
	return !running(t) || (t->rates_s > 0 && !t->carried);
}

void tvn_top_frame__diff(struct tvn_top_frame *cur, const struct tvn_top_frame *prev)
{
	cur->dt = prev ? cur->at - prev->at : 0;
	for (int i = 0; i < cur->n_targets; i++) {
		const struct tvn_top_target *p = NULL;

		for (int j = 0; prev && j < prev->n_targets && !p; j++) {
			if (prev->targets[j].pid == cur->targets[i].pid)
				p = &prev->targets[j];
		}
		target_diff(&cur->targets[i], p, cur->at, prev ? prev->at : 0);
	}
	for (int i = 0; i < cur->n_flows; i++)
		flow_diff(cur, &cur->flows[i], prev, i);
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
	/* qsort_r's base must not be NULL, even for no elements (UBSan) */
	if (f->n_flows > 0)
		qsort_r(f->flows, f->n_flows, sizeof(*f->flows), cmp_flow, &s);
	for (int i = 0; i < f->n_flows; i++)
		if (f->flows[i].n_comps > 0)
			qsort_r(f->flows[i].comps, f->flows[i].n_comps, sizeof(*f->flows[i].comps),
				cmp_comp, &s);
}
