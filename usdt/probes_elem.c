// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtorvyn-probes: elements, steps, copies and streams. Counting is plain
 * stores into the blocks (one writer each); timing and span records start at
 * the production level; the per-event probes fire when attached.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probes_internal.h"

struct heap_elem {
	struct tvn_span_slot slot;
	struct tvn_probes_elem e;
};

static struct tvn_probes_elem *elem_get(struct tvn_probes_flow *f)
{
	struct tvn_probes_elem *e = NULL;
	struct heap_elem *he;

	if (f->elem_mem) {
		pthread_spin_lock(&f->elem_lock);
		e = f->elem_free;
		if (e)
			f->elem_free = e->next;
		pthread_spin_unlock(&f->elem_lock);
	}
	if (e)
		return e;
	/* more in flight than the host announced: never fail for that */
	he = aligned_alloc(_Alignof(struct heap_elem), sizeof(*he));
	if (!he)
		return NULL;
	memset(he, 0, sizeof(*he));
	he->e.slot = &he->slot;
	he->e.heap = true;
	return &he->e;
}

static void elem_put(struct tvn_probes_flow *f, struct tvn_probes_elem *e)
{
	if (e->heap) {
		free((char *)e - offsetof(struct heap_elem, e));
		return;
	}
	pthread_spin_lock(&f->elem_lock);
	e->next = f->elem_free;
	f->elem_free = e;
	pthread_spin_unlock(&f->elem_lock);
}

struct tvn_probes_elem *tvn_probes_flow__elem_begin(struct tvn_probes_flow *f,
						    const char *traceparent, size_t tp_len)
{
	struct tvn_probes_elem *e = elem_get(f);
	int level = torvyn_probes__level();

	if (!e)
		return NULL;
	e->flow = f;
	e->seq = __atomic_fetch_add(&f->next_seq, 1, __ATOMIC_RELAXED);
	e->len = e->t_enq = e->t_last = 0;
	e->nrec = e->ndropped = 0;
	e->holder = 0;
	if (!traceparent || tvn_traceparent_parse(traceparent, tp_len, &e->tctx)) {
		/* a context of our own: ids from the flow's key and the sequence number */
		tvn_ids__trace(f->id_key, e->seq, e->tctx.trace_id);
		e->tctx.parent_span_id = 0;
		e->tctx.flags = 0;
	}
	e->tctx.span_id = tvn_ids__span(f->id_key, e->seq);
	e->traced = level >= TORVYN_LEVEL_PRODUCTION;
	e->t_start = e->traced ? tvn_now_ns() : 0;
	if (!e->traced)
		return e;
	/* head sampling: deterministic from the trace id; an incoming sampled flag stays */
	if (e->tctx.parent_span_id && (e->tctx.flags & TORVYN_TRACE_FLAG_SAMPLED))
		e->tctx.flags |= TORVYN_TRACE_FLAG_REMOTE_SAMPLED;
	if (level >= TORVYN_LEVEL_DIAGNOSTIC)
		e->tctx.flags |= TORVYN_TRACE_FLAG_DIAGNOSTIC;
	if (tvn_sample_decide(e->tctx.trace_id, f->p->sample_threshold))
		e->tctx.flags |= TORVYN_TRACE_FLAG_SAMPLED;
	return e;
}

uint64_t tvn_probes_elem__seq(const struct tvn_probes_elem *e)
{
	return e->seq;
}

int tvn_probes_elem__traceparent(const struct tvn_probes_elem *e, char out[56])
{
	return tvn_traceparent_format(e->tctx.trace_id, e->tctx.span_id,
				      e->tctx.flags & TORVYN_TRACE_FLAG_SAMPLED, out);
}

/* ------------------------------------------------------------ the step record */

static void rec_reset(struct tvn_probes_flow *f, int comp)
{
	struct torvyn_invoke_rec *r = &f->comps[comp].rec;

	memset(r, 0, sizeof(*r));
	r->flow_idx = f->idx;
	r->component_idx = (uint16_t)comp;
	r->in_stream = r->out_stream = r->copy_reason = TORVYN_NONE16;
	r->from_component = TORVYN_NONE16;
	f->comps[comp].rec_elem = NULL;
	f->comps[comp].rec_pending = false;
}

void tvn_probes_comp__fire(struct tvn_probes_comp *c)
{
	const struct torvyn_invoke_rec *r = &c->rec;

	if (!c->rec_pending)
		return;
	c->rec_pending = false;
	if (TORVYN_COMPONENT_INVOKE_ENABLED())
		TORVYN_COMPONENT_INVOKE(r->flow_idx, r->component_idx, r->seq, r->start_ns,
					r->end_ns, r->status, r->bytes_in, r->bytes_out, r);
}

/* The component's last record goes out (if still pending); its next one starts blank. */
static void rec_next(struct tvn_probes_flow *f, int comp)
{
	tvn_probes_comp__fire(&f->comps[comp]);
	rec_reset(f, comp);
}

/* ------------------------------------------------------------ steps */

static struct torvyn_span_rec *span_next(struct tvn_probes_elem *e)
{
	return tvn_span_rec__next(e->slot, &e->nrec, &e->ndropped);
}

uint64_t tvn_probes_flow__step_begin(struct tvn_probes_flow *f, int comp, struct tvn_probes_elem *e)
{
	struct tvn_probes_comp *c = &f->comps[comp];
	bool rec = TORVYN_COMPONENT_INVOKE_ENABLED();

	if (!f->fire)
		f->fire = tvn_probes_comp__fire; /* the flow's end fires what is pending */
	if (c->rec_pending)
		rec_next(f, comp);
	/* a pop into this component may have started the record already */
	if (rec && (!e || c->rec_elem != e))
		rec_reset(f, comp);
	c->rec_elem = rec ? e : NULL;
	if (rec || torvyn_probes__level())
		return tvn_now_ns();
	return 0;
}

void tvn_probes_flow__step_end(struct tvn_probes_flow *f, int comp, struct tvn_probes_elem *e,
			       uint64_t t0, uint32_t status, uint32_t error_kind, uint64_t bytes_in,
			       uint64_t bytes_out)
{
	struct tvn_probes_comp *c = &f->comps[comp];
	struct torvyn_component_block *b = c->blk;
	uint64_t t1 = t0 ? tvn_now_ns() : 0;
	struct torvyn_span_rec *r;

	b->invocations++;
	b->bytes_in += bytes_in;
	if (status == TORVYN_STATUS_ERROR) {
		b->errors++;
		b->errors_by_kind[error_kind < TORVYN_ERR_KINDS ? error_kind
								: TORVYN_ERR_INTERNAL]++;
		bytes_out = 0;
	} else {
		b->bytes_out += bytes_out;
	}
	if (e) {
		e->len = bytes_out;
		e->holder = (uint16_t)comp;
	}
	if (t0 && torvyn_probes__level()) {
		tvn_hist_lat_add(&b->processing_time, t1 - t0);
		if (e && e->traced) {
			e->t_last = t1;
			r = span_next(e);
			if (r)
				*r = (struct torvyn_span_rec){.kind = TORVYN_SPAN_INVOKE,
							      .start_ns = t0,
							      .end_ns = t1,
							      .bytes = bytes_out,
							      .aux = bytes_in,
							      .component_idx = (uint16_t)comp,
							      .status = (uint8_t)status,
							      .error_kind = (uint8_t)error_kind};
		}
	}
	if (t0 && c->rec_elem == e && TORVYN_COMPONENT_INVOKE_ENABLED()) {
		struct torvyn_invoke_rec *ir = &c->rec;

		ir->seq = e ? e->seq : 0;
		ir->start_ns = t0;
		ir->end_ns = t1;
		ir->status = (uint8_t)status;
		ir->error_kind = (uint8_t)(status == TORVYN_STATUS_ERROR ? error_kind : 0);
		ir->bytes_in = bytes_in;
		ir->bytes_out = bytes_out;
		c->rec_pending = true;
		if (!e) /* nothing will move on: the record goes now */
			rec_next(f, comp);
	}
}

void tvn_probes_flow__copy(struct tvn_probes_flow *f, int comp, struct tvn_probes_elem *e,
			   uint32_t reason, uint64_t bytes)
{
	struct tvn_probes_comp *c = &f->comps[comp];
	struct torvyn_span_rec *r;

	if (reason >= TORVYN_COPY_REASONS)
		return;
	c->blk->copies_total[reason]++;
	c->blk->copies_bytes[reason] += bytes;
	if (TORVYN_BUFFER_COPY_ENABLED())
		TORVYN_BUFFER_COPY(f->idx, comp, reason, bytes, e ? e->seq : 0);
	if (e && c->rec_elem == e) {
		c->rec.copy_reason = (uint16_t)reason;
		c->rec.copy_bytes = bytes;
	}
	if (e && e->traced && torvyn_probes__level() >= TORVYN_LEVEL_DIAGNOSTIC) {
		uint64_t now = tvn_now_ns();

		r = span_next(e);
		if (r) /* its parent: the root (aux_idx names no record) */
			*r = (struct torvyn_span_rec){.kind = TORVYN_SPAN_COPY,
						      .component_idx = (uint16_t)comp,
						      .aux_idx = TORVYN_NONE16,
						      .start_ns = now,
						      .end_ns = now,
						      .reason = (uint8_t)reason,
						      .bytes = bytes};
	}
}

/* ------------------------------------------------------------ streams */

void tvn_probes_flow__push(struct tvn_probes_flow *f, int stream, struct tvn_probes_elem *e,
			   uint32_t depth)
{
	struct tvn_probes_stream *s = &f->streams[stream];
	struct torvyn_stream_block *b = s->blk;
	struct tvn_probes_comp *c = &f->comps[b->from_idx];

	/* producer and consumer both write the depth: atomics */
	__atomic_store_n(&b->current_depth, depth, __ATOMIC_RELAXED);
	if (depth > __atomic_load_n(&b->peak_depth, __ATOMIC_RELAXED))
		__atomic_store_n(&b->peak_depth, depth, __ATOMIC_RELAXED);
	if (depth >= b->capacity && !__atomic_exchange_n(&s->bp_active, true, __ATOMIC_ACQ_REL)) {
		s->bp_start_ns = tvn_now_ns();
		__atomic_add_fetch(&b->backpressure_events, 1, __ATOMIC_RELAXED);
		if (TORVYN_BACKPRESSURE_ACTIVATE_ENABLED())
			TORVYN_BACKPRESSURE_ACTIVATE(f->idx, stream, depth);
	}
	if (!e)
		return;
	if (e->traced)
		e->t_enq = tvn_now_ns();
	if (TORVYN_QUEUE_ENQUEUE_ENABLED())
		TORVYN_QUEUE_ENQUEUE(f->idx, stream, depth, e->seq);
	if (c->rec_elem == e) {
		/* the element moved on: the producer's step record is complete */
		c->rec.out_stream = (uint16_t)stream;
		c->rec.depth_after_push = depth;
		rec_next(f, (int)b->from_idx);
	}
}

void tvn_probes_flow__pop(struct tvn_probes_flow *f, int stream, struct tvn_probes_elem *e,
			  uint32_t depth)
{
	struct tvn_probes_stream *s = &f->streams[stream];
	struct torvyn_stream_block *b = s->blk;
	int to = (int)b->to_idx;
	struct tvn_probes_comp *c = &f->comps[to];
	uint64_t now = tvn_now_ns(), wait;
	int level = torvyn_probes__level();

	__atomic_store_n(&b->current_depth, depth, __ATOMIC_RELAXED);
	__atomic_add_fetch(&b->elements_transferred, 1, __ATOMIC_RELAXED);
	if (depth <= s->low_mark && __atomic_load_n(&s->bp_active, __ATOMIC_ACQUIRE) &&
	    __atomic_exchange_n(&s->bp_active, false, __ATOMIC_ACQ_REL)) {
		uint64_t dur = now - s->bp_start_ns;

		__atomic_add_fetch(&b->backpressure_duration_ns, dur, __ATOMIC_RELAXED);
		if (TORVYN_BACKPRESSURE_DEACTIVATE_ENABLED())
			TORVYN_BACKPRESSURE_DEACTIVATE(f->idx, stream, depth, dur);
	}
	if (!e)
		return;
	wait = e->traced && e->t_enq && now > e->t_enq ? now - e->t_enq : 0;
	/* ownership of the payload moves from the producer to the consumer */
	c->blk->transfers_in++;
	c->blk->transfers_in_bytes += e->len;
	if (level >= TORVYN_LEVEL_DIAGNOSTIC && e->traced && e->t_enq)
		tvn_hist_lat_add(&b->wait_time, wait);
	if (c->rec_pending)
		rec_next(f, to);
	if (TORVYN_COMPONENT_INVOKE_ENABLED()) {
		rec_reset(f, to);
		c->rec.in_stream = (uint16_t)stream;
		c->rec.from_component = e->holder;
		c->rec.depth_after_pop = depth;
		c->rec.wait_ns = wait;
		c->rec_elem = e;
	}
	if (TORVYN_BUFFER_TRANSFER_ENABLED())
		TORVYN_BUFFER_TRANSFER(f->idx, e->seq, e->holder, to, e->len, e->seq);
	if (e->traced && level >= TORVYN_LEVEL_DIAGNOSTIC) {
		struct torvyn_span_rec *r = span_next(e);

		if (r)
			*r = (struct torvyn_span_rec){.kind = TORVYN_SPAN_TRANSFER,
						      .component_idx = e->holder,
						      .aux_idx = (uint16_t)to,
						      .start_ns = e->t_enq ? e->t_enq : now,
						      .end_ns = now,
						      .aux = e->seq,
						      .bytes = e->len};
	}
	if (TORVYN_QUEUE_DEQUEUE_ENABLED())
		TORVYN_QUEUE_DEQUEUE(f->idx, stream, depth, wait, e->seq);
	e->holder = (uint16_t)to;
}

void tvn_probes_flow__dropped(struct tvn_probes_flow *f, int stream)
{
	__atomic_add_fetch(&f->streams[stream].blk->elements_dropped, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------ the end of an element */

static void promote(struct tvn_probes_flow *f, int comp, struct tvn_probes_elem *e, uint32_t status,
		    uint32_t error_kind, uint64_t t1, uint32_t reason)
{
	struct tvn_span_slot *s = e->slot;
	struct torvyn_span_rec *r = span_next(e);

	/* the root span; in a full slot it takes the last record's place */
	if (!r)
		r = &s->rec[TVN_SLOT_RECS - 1];
	*r = (struct torvyn_span_rec){.span_id = e->tctx.span_id,
				      .parent_span_id = e->tctx.parent_span_id,
				      .start_ns = e->t_start,
				      .end_ns = t1,
				      .component_idx = (uint16_t)comp,
				      .kind = TORVYN_SPAN_FLOW,
				      .status = (uint8_t)status,
				      .error_kind = (uint8_t)error_kind,
				      .bytes = e->len};
	tvn_span_slot__promote(s, f->blk, &e->tctx, e->seq, e->nrec, e->ndropped, reason, NULL);
}

void tvn_probes_flow__elem_end(struct tvn_probes_flow *f, int comp, struct tvn_probes_elem *e,
			       uint32_t status, uint32_t error_kind)
{
	struct tvn_probes_comp *c = &f->comps[comp];
	bool mine = c->rec_elem == e;

	c->blk->elements_ended++;
	if (mine)
		c->rec.ended = 1;
	if (e->traced) {
		uint64_t t1 = e->t_last ? e->t_last : tvn_now_ns(), lat = t1 - e->t_start;
		uint32_t reason = UINT32_MAX;

		tvn_hist_lat_add(&c->blk->e2e_latency, lat);
		if (mine)
			c->rec.e2e_ns = lat;
		if (TORVYN_ELEMENT_DONE_ENABLED())
			TORVYN_ELEMENT_DONE(f->idx, comp, e->seq, lat, status);
		if (status == TORVYN_STATUS_ERROR)
			reason = TORVYN_PROMOTE_ERROR;
		else if (lat > f->p->opts.latency_threshold_ns)
			reason = TORVYN_PROMOTE_LATENCY;
		else if (e->tctx.flags & TORVYN_TRACE_FLAG_SAMPLED)
			reason = TORVYN_PROMOTE_SAMPLED;
		if (reason != UINT32_MAX)
			promote(f, comp, e, status, error_kind, t1, reason);
	}
	if (mine)
		rec_next(f, comp);
	elem_put(f, e);
}
