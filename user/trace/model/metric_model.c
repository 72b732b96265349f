// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The walk of the metric catalogue (metric_catalog.c) over a snapshot.
 *
 * Each catalogue entry names where its samples come from: each entity that
 * has data (a present flow, a component with diagnostic aggregates, ...)
 * gives one label set and a base pointer that the family's offset applies
 * to. A few families walk the snapshot themselves. Nothing is allocated per
 * sample: labels and values live on the stack for the visitor's call.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metric_model_internal.h"
#include "names.h"
#include "torvyn_names.h"

/* ------------------------------------------------------------ samples */

void tvn_metric_walk__emit(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			   const struct tvn_metric_lset *l, const struct tvn_metric_value *v)
{
	(void)f; /* w->pub is f's, its names derived */
	if (w->err)
		return;
	if (!w->begun) {
		w->begun = true;
		if (w->v->begin)
			w->err = w->v->begin(w->ctx, &w->pub);
		if (w->err)
			return;
	}
	if (!w->n_extra) {
		w->err = w->v->sample(w->ctx, &w->pub, l->l, l->n, v);
		return;
	}
	{
		struct tvn_metric_label all[TVN_METRIC_MAX_TARGET_LABELS + METRIC_MAX_LABELS];
		int n = w->n_extra;

		memcpy(all, w->extra, w->n_extra * sizeof(all[0]));
		/* a label of the target's (pid, exe) wins over the sample's own of that name */
		for (int i = 0; i < l->n; i++) {
			bool dup = false;

			for (int k = 0; k < w->n_extra && !dup; k++)
				dup = !strcmp(w->extra[k].key, l->l[i].key);
			if (!dup)
				all[n++] = l->l[i];
		}
		w->err = w->v->sample(w->ctx, &w->pub, all, n, v);
	}
}

void tvn_metric_walk__emit_u64(struct tvn_metric_walk *w, const struct tvn_metric_fam *f,
			       const struct tvn_metric_lset *l, uint64_t x)
{
	struct tvn_metric_value v = {.kind = METRIC_U64, .u = x};

	tvn_metric_walk__emit(w, f, l, &v);
}

void tvn_metric_lset__add(struct tvn_metric_lset *l, const char *key, const char *val, size_t vmax)
{
	if (l->n == METRIC_MAX_LABELS)
		return;
	l->l[l->n++] = (struct tvn_metric_label){key, val, vmax};
}

/* A name from a block, or the index when the block is absent or unnamed. */
void tvn_metric_lset__name(struct tvn_metric_lset *l, const char *key, const char *name,
			   uint64_t idx)
{
	if (name && name[0]) {
		tvn_metric_lset__add(l, key, name, TORVYN_NAME_LEN);
		return;
	}
	if (l->n == METRIC_MAX_LABELS)
		return;
	snprintf(l->num[l->n], sizeof(l->num[0]), "%llu", (unsigned long long)idx);
	tvn_metric_lset__add(l, key, l->num[l->n], sizeof(l->num[0]));
}

const char *tvn_metric_walk__flow_name(const struct tvn_snapshot *s, uint64_t fi)
{
	return fi < (uint64_t)s->n_flows ? tvn_names__flow(&s->flows[fi]) : NULL;
}

const char *tvn_metric_walk__comp_name(const struct tvn_snapshot *s, uint64_t fi, uint64_t ci)
{
	return fi < (uint64_t)s->n_flows ? tvn_names__component(&s->flows[fi], (int)ci) : NULL;
}

/*
 * A block read mid-update may have count behind its buckets: count takes the
 * larger and the last bucket the difference, so count is the buckets' sum.
 */
static void hist_norm(const struct torvyn_hist_lat *h, struct tvn_metric_hist *out)
{
	uint64_t cum = 0;

	for (int i = 0; i < TORVYN_LAT_BOUNDS; i++) {
		out->bucket[i] = h->bucket[i];
		cum += h->bucket[i];
	}
	out->count = h->count > cum ? h->count : cum;
	out->bucket[TORVYN_LAT_BOUNDS] = out->count - cum;
	out->sum_ns = h->sum_ns;
}

static void put_entity(struct tvn_metric_walk *w, const struct tvn_metric_fam *f, const void *base,
		       const struct tvn_metric_lset *l)
{
	const char *p = (const char *)base + f->off;
	struct tvn_metric_value v = {.kind = METRIC_U64};
	struct tvn_metric_hist h;
	uint32_t u32;
	int i;

	switch (f->val) {
	case V_U64:
		v.u = tvn_metric_walk__read_u64(base, f->off);
		if (f->if_set && !v.u)
			return;
		break;
	case V_U32:
		memcpy(&u32, p, sizeof(u32));
		v.u = u32;
		break;
	case V_INT:
		memcpy(&i, p, sizeof(i));
		v.kind = METRIC_I64;
		v.i = i;
		break;
	case V_DBL:
		v.kind = METRIC_DBL;
		memcpy(&v.d, p, sizeof(v.d));
		break;
	case V_NS:
		v.kind = METRIC_NS;
		v.u = tvn_metric_walk__read_u64(base, f->off);
		break;
	case V_HIST:
		hist_norm((const struct torvyn_hist_lat *)p, &h);
		v.kind = METRIC_HIST;
		v.h = &h;
		break;
	case V_ARR:
		for (size_t k = 0; k < f->n_names; k++) {
			struct tvn_metric_lset x = *l;

			tvn_metric_lset__add(&x, f->lkey, f->names[k], 64);
			tvn_metric_walk__emit_u64(
			    w, f, &x, tvn_metric_walk__read_u64(base, f->off + k * sizeof(__u64)));
		}
		return;
	case V_FN:
		f->fn(w, f, base, l);
		return;
	}
	tvn_metric_walk__emit(w, f, l, &v);
}

int tvn_metric_fam__derive(const struct tvn_metric_fam *f, struct tvn_metric_family *pub,
			   char *prom, size_t prom_len, char *unit, size_t unit_len)
{
	static const char *const drop[] = {[METRIC_COUNTER] = "_total", [METRIC_INFO] = "_info"};
	const char *sfx = drop[f->pub.type];
	size_t n, sl = sfx ? strlen(sfx) : 0;
	int ret;

	*pub = f->pub;
	ret = tvn_metric_name__prom(f->pub.otlp, f->pub.unit, tvn_metric_name__kind(f->pub.type),
				    prom, prom_len);
	ret = ret ?: tvn_metric_name__unit(f->pub.unit, unit, unit_len);
	if (ret)
		return ret;
	n = strlen(prom);
	/* OpenMetrics names the family without the suffix of its samples */
	if (sl && n > sl && !strcmp(prom + n - sl, sfx))
		prom[n - sl] = 0;
	pub->prom = prom;
	pub->prom_unit = unit[0] ? unit : NULL;
	return 0;
}

/* ------------------------------------------------------------ entities */

void tvn_metric_lset__flow(struct tvn_metric_lset *l, const struct tvn_snapshot *s, int fi)
{
	l->n = 0;
	tvn_metric_lset__name(l, "flow_id", tvn_metric_walk__flow_name(s, (uint64_t)fi),
			      (uint64_t)fi);
}

static void walk_flows(struct tvn_metric_walk *w, const struct tvn_metric_fam *f)
{
	const struct tvn_snapshot *s = w->s;
	struct tvn_metric_lset l;

	for (int fi = 0; fi < s->n_flows; fi++) {
		if (!s->flows[fi].present)
			continue;
		tvn_metric_lset__flow(&l, s, fi);
		put_entity(w, f, &s->flows[fi].blk, &l);
	}
}

/* A component or a stream of a flow, as the walk sees it. */
struct member {
	bool present, has_diag;
	const void *blk, *diag;
	const char *name; /* NULL without a block */
};

static void member_of(const struct tvn_snap_flow *fl, bool stream, int i, struct member *m)
{
	if (stream) {
		const struct tvn_snap_stream *st = &fl->streams[i];

		*m = (struct member){st->present, st->has_diag, &st->blk, &st->diag,
				     tvn_names__stream(fl, i)};
	} else {
		const struct tvn_snap_comp *sc = &fl->comps[i];

		*m = (struct member){sc->present, sc->has_diag, &sc->blk, &sc->diag,
				     tvn_names__component(fl, i)};
	}
}

/* The components (or streams) of every flow that have a block (or diagnostic data). */
static void walk_members(struct tvn_metric_walk *w, const struct tvn_metric_fam *f, bool stream,
			 bool diag)
{
	const struct tvn_snapshot *s = w->s;
	int n = stream ? TORVYN_MAX_STREAMS : TORVYN_MAX_COMPONENTS;
	const char *key = stream ? "stream_id" : "component_id";
	struct tvn_metric_lset l;
	struct member m;

	for (int fi = 0; fi < s->n_flows; fi++) {
		for (int i = 0; i < n; i++) {
			member_of(&s->flows[fi], stream, i, &m);
			if (!(diag ? m.has_diag : m.present))
				continue;
			tvn_metric_lset__flow(&l, s, fi);
			tvn_metric_lset__name(&l, key, m.name, i);
			put_entity(w, f, diag ? m.diag : m.blk, &l);
		}
	}
}

static void walk_tiers(struct tvn_metric_walk *w, const struct tvn_metric_fam *f, bool diag)
{
	const struct tvn_snapshot *s = w->s;
	struct tvn_metric_lset l;

	if (!(diag ? s->has_diag_pool : s->have_pool))
		return;
	for (int t = 0; t < TORVYN_TIERS; t++) {
		l.n = 0;
		tvn_metric_lset__add(&l, "tier", torvyn_tier_names[t], 16);
		put_entity(w, f, diag ? (const void *)&s->diag_pool[t] : &s->pool.tier[t], &l);
	}
}

static void walk_fam(struct tvn_metric_walk *w, const struct tvn_metric_fam *f)
{
	const struct tvn_snapshot *s = w->s;
	struct tvn_metric_lset l = {.n = 0};

	switch (f->src) {
	case SRC_FLOW:
		walk_flows(w, f);
		break;
	case SRC_COMP:
	case SRC_DCOMP:
		walk_members(w, f, false, f->src == SRC_DCOMP);
		break;
	case SRC_STREAM:
	case SRC_DSTREAM:
		walk_members(w, f, true, f->src == SRC_DSTREAM);
		break;
	case SRC_TIER:
	case SRC_DPOOL:
		walk_tiers(w, f, f->src == SRC_DPOOL);
		break;
	case SRC_SYS:
		if (s->have_sys)
			put_entity(w, f, &s->sys, &l);
		break;
	case SRC_SELF:
		put_entity(w, f, s, &l);
		break;
	case SRC_OWN:
		f->fn(w, f, s, &l);
		break;
	}
}

/* ------------------------------------------------------------ UTF-8 */

size_t tvn_metric_model__utf8_seq(const unsigned char *s, size_t n)
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

/* ------------------------------------------------------------ the walk */

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

/* The transfers come in BPF hash order; an exposition must be stable. */
static uint32_t *sort_transfers(const struct tvn_snapshot *s)
{
	size_t n = (size_t)s->n_transfers;
	struct xfer_key *k = malloc(sizeof(*k) * n);
	uint32_t *order = malloc(sizeof(*order) * n);

	if (!k || !order) {
		free(k);
		free(order);
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

/* The walk's view of one target: counts that match the arrays, transfers sorted. */
struct view {
	struct tvn_snapshot s;
	uint32_t *order;
};

static int view_of(const struct tvn_snapshot *s, struct view *out)
{
	out->s = *s;
	out->order = NULL;
	/* Negative counts or missing arrays mean "none". */
	if (out->s.n_flows < 0 || !out->s.flows)
		out->s.n_flows = 0;
	if (out->s.n_transfers < 0 || !out->s.transfers)
		out->s.n_transfers = 0;
	if (out->s.n_transfers > 0) {
		out->order = sort_transfers(&out->s);
		if (!out->order)
			return -ENOMEM;
	}
	return 0;
}

int tvn_metric_model__walk_many(const struct tvn_metric_target *t, int n, uint64_t now_mono_ns,
				const struct tvn_metric_visitor *v, void *ctx)
{
	struct tvn_metric_walk w = {.now_ns = now_mono_ns, .v = v, .ctx = ctx};
	struct view *views;
	int built = 0;

	if ((!t && n) || n < 0 || !v || !v->sample)
		return -EINVAL;
	views = calloc(n ? n : 1, sizeof(*views));
	if (!views)
		return -ENOMEM;
	for (; built < n && !w.err; built++) {
		if (!t[built].s || t[built].n_labels > TVN_METRIC_MAX_TARGET_LABELS)
			w.err = -EINVAL;
		else
			w.err = view_of(t[built].s, &views[built]);
	}
	for (size_t i = 0; i < tvn_metric_n_fams && !w.err; i++) {
		w.begun = false;
		w.err = tvn_metric_fam__derive(&tvn_metric_fams[i], &w.pub, w.prom, sizeof(w.prom),
					       w.prom_unit, sizeof(w.prom_unit));
		for (int k = 0; k < n && !w.err; k++) {
			w.s = &views[k].s;
			w.xfer_order = views[k].order;
			w.extra = t[k].labels;
			w.n_extra = t[k].n_labels;
			walk_fam(&w, &tvn_metric_fams[i]);
		}
		if (w.begun && !w.err && v->end)
			w.err = v->end(ctx, &w.pub);
	}
	for (int k = 0; k < built; k++)
		free(views[k].order);
	free(views);
	return w.err;
}

int tvn_metric_model__walk(const struct tvn_snapshot *s, uint64_t now_mono_ns,
			   const struct tvn_metric_visitor *v, void *ctx)
{
	struct tvn_metric_target t = {.s = s};

	if (!s)
		return -EINVAL;
	return tvn_metric_model__walk_many(&t, 1, now_mono_ns, v, ctx);
}
