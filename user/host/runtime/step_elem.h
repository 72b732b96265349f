/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hot path's elements: the copies of the step by mode, element structs
 * from the flow's free list, and an element's trace, from the source that
 * starts it to the component where its path ends.
 *
 * Part of the hot path's one translation unit: static functions that only
 * step.c includes (see there), so that the step loops inline them.
 */
#ifndef TORVYN_STEP_ELEM_H
#define TORVYN_STEP_ELEM_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "runtime_internal.h"
#include "torvyn_probes.h"

/* What a copy of the step does, by its hot-path mode (a constant in each copy). */
#define HOT(hm) ((hm) != TVN_HOT_OFF)
#define EV(hm) ((hm) == TVN_HOT_EVENTS) /* per-step probes tested */

static __attribute__((always_inline)) inline int step_level(const int hm)
{
	if (hm == TVN_HOT_LEVEL)
		return TORVYN_LEVEL_PRODUCTION;
	return hm == TVN_HOT_EVENTS ? __atomic_load_n(&tvn_level, __ATOMIC_RELAXED) : 0;
}

/* ------------------------------------------------------------ elements */

/* An element struct beyond the flow's own, with a span-ring slot of its own. */
struct tvn_heap_elem {
	struct tvn_span_slot slot;
	struct tvn_elem e;
};

static __attribute__((always_inline)) inline struct tvn_elem *elem_get(struct tvn_flow *f)
{
	struct tvn_elem *e;

	pthread_spin_lock(&f->elem_lock);
	e = f->elem_free;
	if (e)
		f->elem_free = e->next;
	pthread_spin_unlock(&f->elem_lock);
	if (!e) {
		/* more in flight than the streams hold: cannot happen, but never fail */
		struct tvn_heap_elem *he =
		    aligned_alloc(_Alignof(struct tvn_heap_elem), sizeof(*he));

		if (!he)
			abort();
		memset(he, 0, sizeof(*he));
		e = &he->e;
		e->slot = &he->slot;
		e->next = e; /* marks a heap element */
	}
	return e;
}

static __attribute__((always_inline)) inline void elem_put(struct tvn_flow *f, struct tvn_elem *e)
{
	tvn_pool__return(e->buf);
	if (e->next == e) {
		free((char *)e - offsetof(struct tvn_heap_elem, e));
		return;
	}
	memset(e, 0, offsetof(struct tvn_elem, slot));
	pthread_spin_lock(&f->elem_lock);
	e->next = f->elem_free;
	f->elem_free = e;
	pthread_spin_unlock(&f->elem_lock);
}

/* ------------------------------------------------------------ tracing */

/*
 * The next span record of the element's trace, for the caller to write whole
 * with its span id, parent and seq left 0: what is the same for every record
 * of the element is written once, if the trace is exported
 * (tvn_span_slot__promote), so the 99 % of elements that never are do not
 * pay for it.
 */
static __attribute__((always_inline)) inline struct torvyn_span_rec *span_next(struct tvn_elem *e)
{
	return tvn_span_rec__next(e->slot, &e->nrec, &e->ndropped);
}

/*
 * The source starts an element's trace: context, root span id, head sampling
 * (its span-ring slot came with its struct). A context the host generates gets its ids when read
 * (tvn_elem__fill_ctx): here only the trace id's last word, which head sampling decides on, is
 * computed.
 */
static __attribute__((always_inline)) inline void
trace_begin(struct tvn_comp *c, struct tvn_elem *e, int level, uint64_t t0)
{
	struct tvn_flow *f = c->flow;
	struct tvn_host *h = f->host;
	bool sampled;

	if (!e->has_ctx) {
		e->tctx.parent_span_id = 0;
		e->tctx.flags = 0;
		e->has_ctx = TVN_CTX_DERIVED;
		/* the trace id's last 8 bytes, big endian, as tvn_elem__fill_ctx writes them */
		sampled = tvn_sample_decide_lo(tvn_ids__trace_lo(f->id_key, e->seq),
					       h->sample_threshold);
		if (!level || f->needs_ctx)
			tvn_elem__fill_ctx(f, e); /* a component reads it */
	} else {
		/* an incoming context: a root span of ours under its parent */
		e->tctx.span_id = tvn_ids__span(f->id_key, e->seq);
		sampled = tvn_sample_decide(e->tctx.trace_id, h->sample_threshold);
	}
	if (!level)
		return;
	/* head sampling: deterministic from the trace id; an incoming sampled flag wins */
	if (e->tctx.parent_span_id && (e->tctx.flags & TORVYN_TRACE_FLAG_SAMPLED))
		e->tctx.flags |= TORVYN_TRACE_FLAG_REMOTE_SAMPLED;
	if (level >= TORVYN_LEVEL_DIAGNOSTIC)
		e->tctx.flags |= TORVYN_TRACE_FLAG_DIAGNOSTIC;
	if (sampled)
		e->tctx.flags |= TORVYN_TRACE_FLAG_SAMPLED;
	e->traced = e->slot != NULL; /* a trace lives in its slot */
	e->t_start = t0; /* nrec and ndropped are 0: elem_put */
}

/* The element's path ends at component c: count it, promote its trace if it earns it. */
static __attribute__((always_inline)) inline void elem_end(struct tvn_comp *c, struct tvn_elem *e,
							   int status, int error_kind, const int hm)
{
	struct tvn_flow *f = c->flow;
	struct tvn_host *h = f->host;

	c->blk->elements_ended++;
	if (EV(hm) && e == c->rec_elem)
		c->rec.ended = 1;
	if (HOT(hm) && e->traced) {
		/* the end of the last invocation is the end of the element's path */
		uint64_t t1 = e->t_last ? e->t_last : tvn_ticks(), lat = t1 - e->t_start;
		struct tvn_span_slot *s = e->slot;
		uint32_t reason = UINT32_MAX;
		struct torvyn_span_rec *r;

		tvn_hist_lat_add_ticks(&c->blk->e2e_latency, &c->e2e_ticks, lat);
		if (EV(hm) && e == c->rec_elem)
			c->rec.e2e_ns = tvn_ticks__dur_ns(lat);
		if (EV(hm) && TORVYN_ELEMENT_DONE_ENABLED())
			TORVYN_ELEMENT_DONE(f->idx, c->idx, e->seq, tvn_ticks__dur_ns(lat), status);
		if (status == TORVYN_STATUS_ERROR)
			reason = TORVYN_PROMOTE_ERROR;
		else if (lat > h->latency_ticks)
			reason = TORVYN_PROMOTE_LATENCY;
		else if (e->tctx.flags & TORVYN_TRACE_FLAG_SAMPLED)
			reason = TORVYN_PROMOTE_SAMPLED;
		if (reason != UINT32_MAX) {
			tvn_elem__fill_ctx(f, e);
			/*
			 * The root span, written only for a trace that is exported;
			 * in a full slot it takes the last step's place (counted as
			 * dropped by span_next): a trace without its root is no trace.
			 */
			r = span_next(e);
			if (!r)
				r = &s->rec[TVN_SLOT_RECS - 1];
			*r = (struct torvyn_span_rec){.span_id = e->tctx.span_id,
						      .parent_span_id = e->tctx.parent_span_id,
						      .start_ns = e->t_start,
						      .end_ns = t1,
						      .component_idx = (uint16_t)c->idx,
						      .kind = TORVYN_SPAN_FLOW,
						      .status = (uint8_t)status,
						      .error_kind = (uint8_t)error_kind,
						      .bytes = e->len};
			/*
			 * ids, header, counts and trace__promote: libtorvyn-probes; the
			 * trace's ticks become CLOCK_MONOTONIC ns, at one rate from its start
			 */
			struct tvn_clock seg = {.base_tsc = e->t_start,
						.base_ns = tvn_ticks__to_ns(e->t_start),
						.mult = __atomic_load_n(&tvn_clock.mult, __ATOMIC_RELAXED)};

			tvn_span_slot__promote(s, f->blk, &e->tctx, e->seq, e->nrec, e->ndropped,
					       reason, &seg);
			c->t_mark = tvn_ticks(); /* the probe's hit is not the next invocation's */
		}
	}
	elem_put(f, e);
}

#endif /* TORVYN_STEP_ELEM_H */
