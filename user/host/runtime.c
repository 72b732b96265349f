/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The flow driver: one thread per component, bounded streams between them.
 *
 * Level 0 (no tracer): the hot path keeps the host's own exact counters in
 * pre-allocated blocks (plain increments, each written by one thread) and
 * tests one word per step; nothing else. Production gate up: clocks,
 * histograms, head sampling and the span ring. With a per-step probe
 * attached, each probe site tests its own semaphore (tvn_probes_hot).
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"
#include "torvyn_probes.h"

#ifndef TORVYN_NO_PROBES
int tvn_probes_hot;
#endif
int tvn_level;

int tvn_force_level = -1;

/*
 * make bench's floor (build/torvyn-host-clocks-only): at Level 1 the step
 * reads its two clocks per invocation and does nothing else with them, what
 * any Level 1 that times every invocation cannot do without.
 */
#ifndef TVN_BENCH_CLOCKS_ONLY
#define TVN_BENCH_CLOCKS_ONLY 0
#endif

/* What a copy of the step does, by its hot-path mode (a constant in each copy). */
#define HOT(hm) ((hm) != TVN_HOT_OFF)
#define EV(hm) ((hm) == TVN_HOT_EVENTS) /* per-step probes tested */

static __attribute__((always_inline)) inline int step_level(const int hm)
{
	if (hm == TVN_HOT_LEVEL)
		return TORVYN_LEVEL_PRODUCTION;
	return hm == TVN_HOT_EVENTS ? __atomic_load_n(&tvn_level, __ATOMIC_RELAXED) : 0;
}

/*
 * Folds the probe semaphores into the words the hot path reads. hold_off
 * (--ab-period): the hot path runs as at Level 0 whatever is attached, for
 * the half periods that a benchmark compares against.
 */
static int probes_refresh(bool hold_off)
{
	int level = torvyn_probes__level();

#ifndef TORVYN_NO_PROBES
	int mode = TVN_HOT_EVENTS;

	/* --force-level: a level's in-process cost measured without a tracer */
	if (tvn_force_level >= 0)
		level = tvn_force_level;
	if (hold_off || (!level && !torvyn_probes__any()))
		mode = TVN_HOT_OFF;
	else if (level == TORVYN_LEVEL_PRODUCTION && !torvyn_probes__step_events())
		mode = TVN_HOT_LEVEL; /* the production copy of the step: no probe tests */
	__atomic_store_n(&tvn_level, hold_off ? 0 : level, __ATOMIC_RELAXED);
	__atomic_store_n(&tvn_probes_hot, mode, __ATOMIC_RELEASE);
#else
	(void)hold_off;
#endif
	return level;
}

static void *zalloc(size_t n)
{
	void *p = NULL;

	/* blocks get their own cache lines: each is written by one thread */
	if (posix_memalign(&p, 64, n))
		return NULL;
	memset(p, 0, n);
	return p;
}

/* How often the telemetry thread re-reads the probe semaphores. */
#define TVN_PROBE_POLL_NS (5 * 1000000ull)

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ull, .tv_nsec = ns % 1000000000ull };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void set_hdr(struct torvyn_block_hdr *h, uint32_t kind, uint32_t size, int flow_idx,
		    int idx, const char *flow_name, const char *name)
{
	h->kind = kind;
	h->size = size;
	h->flow_idx = flow_idx;
	h->idx = idx;
	snprintf(h->flow_name, sizeof(h->flow_name), "%s", flow_name);
	snprintf(h->name, sizeof(h->name), "%s", name);
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
		struct tvn_heap_elem *he = aligned_alloc(_Alignof(struct tvn_heap_elem), sizeof(*he));

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
	pool__return(e->buf);
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
 * of the element is written once, if the trace is exported (promote_fill),
 * so the 99 % of elements that never are do not pay for it.
 */
static __attribute__((always_inline)) inline struct torvyn_span_rec *span_next(struct tvn_elem *e)
{
	return tvn_span_rec__next(e->slot, &e->nrec, &e->ndropped);
}

/*
 * Completes a trace about to be exported: the header, and each record's
 * seq, parent and span id. Span ids derive from the random root span id and
 * the record's position (a splitmix64 step, never 0), so they are as
 * unpredictable as the root's and unique within the trace. The flow record
 * carries its own ids; a copy's parent is its invocation, named by record
 * index until now; every other record's parent is the root.
 */
static void promote_fill(struct tvn_flow *f, struct tvn_elem *e, uint32_t reason)
{
	struct tvn_span_slot *s = e->slot;
	uint64_t root = e->tctx.span_id; /* elem_ctx has run */
	uint32_t n = e->nrec < TVN_SLOT_RECS ? e->nrec : TVN_SLOT_RECS;

	memcpy(s->hdr.trace_id, e->tctx.trace_id, sizeof(s->hdr.trace_id));
	s->hdr.remote_parent_span_id = e->tctx.parent_span_id;
	s->hdr.flow_idx = f->idx;
	s->hdr.seq = e->seq;
	s->hdr.flags = e->tctx.flags;
	s->hdr.reason = reason;
	s->hdr.count = n;
	s->hdr.dropped = e->ndropped;
	for (uint32_t i = 0; i < n; i++) {
		struct torvyn_span_rec *r = &s->rec[i];
		uint64_t z = tvn_rng_at(root, i + 1);

		r->seq = e->seq;
		if (r->kind == TORVYN_SPAN_FLOW)
			continue;
		r->parent_span_id = root;
		r->span_id = z ? z : 1;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct torvyn_span_rec *r = &s->rec[i];

		if (r->kind == TORVYN_SPAN_COPY && r->aux_idx < n)
			r->parent_span_id = s->rec[r->aux_idx].span_id;
	}
}

/*
 * The source starts an element's trace: context, root span id, head sampling
 * (its span-ring slot came with its struct). A context the host generates gets its ids when read (elem_ctx): here only
 * the trace id's last word, which head sampling decides on, is computed.
 */
static __attribute__((always_inline)) inline void trace_begin(struct tvn_comp *c, struct tvn_elem *e,
								int level, uint64_t t0)
{
	struct tvn_flow *f = c->flow;
	struct tvn_host *h = f->host;
	bool sampled;

	if (!e->has_ctx) {
		e->tctx.parent_span_id = 0;
		e->tctx.flags = 0;
		e->has_ctx = TVN_CTX_DERIVED;
		/* the trace id's last 8 bytes, big endian, as elem_ctx writes them */
		sampled = tvn_sample_decide_lo(tvn_rng_at(f->id_key, 3 * e->seq + 2),
					       h->sample_threshold);
		if (!level || f->needs_ctx)
			elem_ctx(f, e); /* a component reads it */
	} else {
		/* an incoming context: a root span of ours under its parent */
		uint64_t span = tvn_rng_at(f->id_key, 3 * e->seq + 3);

		e->tctx.span_id = span ? span : 1;
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
	e->traced = 1;
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
	if (HOT(hm) && e->traced && e->slot) {
		/* the end of the last invocation is the end of the element's path */
		uint64_t t1 = e->t_last ? e->t_last : tvn_now_ns(), lat = t1 - e->t_start;
		struct tvn_span_slot *s = e->slot;
		uint32_t reason = UINT32_MAX;
		struct torvyn_span_rec *r;

		tvn_hist_lat_add(&c->blk->e2e_latency, lat);
		if (EV(hm) && e == c->rec_elem)
			c->rec.e2e_ns = lat;
		if (EV(hm) && TORVYN_ELEMENT_DONE_ENABLED())
			TORVYN_ELEMENT_DONE(f->idx, c->idx, e->seq, lat, status);
		if (status == TORVYN_STATUS_ERROR)
			reason = TORVYN_PROMOTE_ERROR;
		else if (lat > h->opts.latency_threshold_ns)
			reason = TORVYN_PROMOTE_LATENCY;
		else if (e->tctx.flags & TORVYN_TRACE_FLAG_SAMPLED)
			reason = TORVYN_PROMOTE_SAMPLED;
		if (reason != UINT32_MAX) {
			elem_ctx(f, e);
			/*
			 * The root span, written only for a trace that is exported;
			 * in a full slot it takes the last step's place (counted as
			 * dropped by span_next): a trace without its root is no trace.
			 */
			r = span_next(e);
			if (!r)
				r = &s->rec[TVN_SLOT_RECS - 1];
			*r = (struct torvyn_span_rec){ .span_id = e->tctx.span_id,
						       .parent_span_id = e->tctx.parent_span_id,
						       .start_ns = e->t_start,
						       .end_ns = t1,
						       .component_idx = (uint16_t)c->idx,
						       .kind = TORVYN_SPAN_FLOW,
						       .status = (uint8_t)status,
						       .error_kind = (uint8_t)error_kind,
						       .bytes = e->len };
			promote_fill(f, e, reason);
			__atomic_add_fetch(&f->blk->promoted_total[reason], 1, __ATOMIC_RELAXED);
			/* the records an exported trace lost to its full slot */
			if (e->ndropped)
				__atomic_add_fetch(&f->blk->spans_dropped, e->ndropped,
						   __ATOMIC_RELAXED);
			if (TORVYN_TRACE_PROMOTE_ENABLED())
				TORVYN_TRACE_PROMOTE(&s->hdr, s->rec, s->hdr.count, reason);
		}
	}
	elem_put(f, e);
}

/* ------------------------------------------------------------ streams */

/* Diagnostic: the element waited for a backpressured stream; a span of its trace. */
static void backpressure_span(struct tvn_comp *c, struct tvn_stream *s, struct tvn_elem *e,
			      uint64_t t0, uint32_t depth)
{
	struct torvyn_span_rec *r = span_next(e);

	if (r)
		*r = (struct torvyn_span_rec){ .kind = TORVYN_SPAN_BACKPRESSURE,
					       .component_idx = (uint16_t)s->idx,
					       .aux_idx = (uint16_t)c->idx,
					       .start_ns = t0,
					       .end_ns = e->t_enq,
					       .aux = depth };
}

static __attribute__((always_inline)) inline void
stream_push(struct tvn_comp *c, struct tvn_stream *s, struct tvn_elem *e, const int hm)
{
	struct torvyn_stream_block *b = s->blk;
	struct tvn_elem *victim = NULL;
	uint32_t cap = s->cfg.capacity, depth;
	bool waited = false;
	uint64_t tw = 0, seq;

	pthread_mutex_lock(&s->lock);
	if (s->cfg.policy == TORVYN_POLICY_BLOCK_PRODUCER) {
		/* hysteresis: once full, the producer waits for the low watermark */
		while (s->len >= cap || s->bp_active) {
			if (!waited)
				tw = tvn_now_ns();
			waited = true;
			s->waiting_producer++;
			pthread_cond_wait(&s->not_full, &s->lock);
			s->waiting_producer--;
			c->blk->wakeups++;
		}
	} else if (s->len >= cap) {
		b->elements_dropped++;
		if (s->cfg.policy == TORVYN_POLICY_DROP_OLDEST) {
			victim = s->ring[s->head];
			s->head = (s->head + 1) % cap;
			s->len--;
		} else {
			pthread_mutex_unlock(&s->lock);
			if (s->cfg.policy == TORVYN_POLICY_ERROR) {
				c->blk->errors++;
				c->blk->errors_by_kind[TORVYN_ERR_UNAVAILABLE]++;
				elem_end(c, e, TORVYN_STATUS_ERROR, TORVYN_ERR_UNAVAILABLE, hm);
			} else {
				elem_end(c, e, TORVYN_STATUS_CANCELLED, 0, hm);
			}
			return;
		}
	}
	if (EV(hm) && e->traced) {
		/*
		 * Everything about e is written before it enters the ring: once
		 * in, it belongs to the consumer, who may free it at once.
		 */
		e->t_enq = waited ? tvn_now_ns() : e->t_last;
		if (waited && e->slot && step_level(hm) >= TORVYN_LEVEL_DIAGNOSTIC)
			backpressure_span(c, s, e, tw, s->len);
	} else if (HOT(hm)) {
		/* production times no wait: no enqueue time left from an earlier hop */
		e->t_enq = 0;
	}
	seq = e->seq;
	s->ring[(s->head + s->len) % cap] = e;
	depth = ++s->len;
	b->current_depth = depth;
	if (depth > b->peak_depth)
		b->peak_depth = depth;
	if (depth >= cap && !s->bp_active) {
		s->bp_active = true;
		s->bp_start_ns = tvn_now_ns();
		b->backpressure_events++;
		if (EV(hm) && TORVYN_BACKPRESSURE_ACTIVATE_ENABLED())
			TORVYN_BACKPRESSURE_ACTIVATE(c->flow->idx, s->idx, depth);
	}
	if (s->waiting_consumer)
		pthread_cond_signal(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
	if (waited)
		c->blk->idle_ns += tvn_now_ns() - tw;
	if (EV(hm)) {
		/* e is the consumer's now: only its address and its copied seq are used */
		if (e == c->rec_elem) {
			c->rec.out_stream = (uint16_t)s->idx;
			c->rec.depth_after_push = depth;
		}
		if (TORVYN_QUEUE_ENQUEUE_ENABLED())
			TORVYN_QUEUE_ENQUEUE(c->flow->idx, s->idx, depth, seq);
	}
	if (victim) {
		/* drop-oldest: the victim ends here, counted on the stream */
		elem_end(c, victim, TORVYN_STATUS_CANCELLED, 0, hm);
	}
}

/* Diagnostic: the transfer into c becomes a span of the element's trace. */
static void transfer_span(struct tvn_comp *c, struct tvn_elem *e)
{
	struct torvyn_span_rec *r = span_next(e);

	if (r)
		*r = (struct torvyn_span_rec){ .kind = TORVYN_SPAN_TRANSFER,
					       .component_idx = e->holder,
					       .aux_idx = (uint16_t)c->idx,
					       .start_ns = e->t_enq,
					       .end_ns = tvn_now_ns(),
					       .aux = e->buf ? e->buf->id : 0,
					       .bytes = e->len };
}

static void pop_probes(struct tvn_comp *c, struct tvn_stream *s, struct tvn_elem *e,
		       uint32_t depth)
{
	if (c->rec_on) {
		c->rec.in_stream = (uint16_t)s->idx;
		c->rec.from_component = e->holder;
		c->rec.depth_after_pop = depth;
		c->rec.buffer_id = e->buf ? e->buf->id : 0;
	}
	if (TORVYN_BUFFER_TRANSFER_ENABLED())
		TORVYN_BUFFER_TRANSFER(c->flow->idx, e->buf ? e->buf->id : 0, e->holder, c->idx,
				       e->len, e->seq);
	if (e->traced && e->slot && tvn_level >= TORVYN_LEVEL_DIAGNOSTIC)
		transfer_span(c, e);
	if (TORVYN_QUEUE_DEQUEUE_ENABLED()) {
		uint64_t wait = e->traced && e->t_enq ? tvn_now_ns() - e->t_enq : 0;

		TORVYN_QUEUE_DEQUEUE(c->flow->idx, s->idx, depth, wait, e->seq);
	}
}

static __attribute__((always_inline)) inline struct tvn_elem *
stream_pop(struct tvn_comp *c, struct tvn_stream *s, const int hm)
{
	struct torvyn_stream_block *b = s->blk;
	struct tvn_elem *e;
	uint32_t depth;
	uint64_t tw = 0;

	pthread_mutex_lock(&s->lock);
	if (!s->len && !s->closed)
		tw = tvn_now_ns();
	while (!s->len && !s->closed) {
		s->waiting_consumer++;
		pthread_cond_wait(&s->not_empty, &s->lock);
		s->waiting_consumer--;
		c->blk->wakeups++;
	}
	if (!s->len) {
		pthread_mutex_unlock(&s->lock);
		return NULL;
	}
	e = s->ring[s->head];
	s->head = (s->head + 1) % s->cfg.capacity;
	depth = --s->len;
	b->current_depth = depth;
	b->elements_transferred++;
	if (s->bp_active && depth <= s->low_mark) {
		uint64_t dur = tvn_now_ns() - s->bp_start_ns;

		s->bp_active = false;
		b->backpressure_duration_ns += dur;
		if (EV(hm) && TORVYN_BACKPRESSURE_DEACTIVATE_ENABLED())
			TORVYN_BACKPRESSURE_DEACTIVATE(c->flow->idx, s->idx, depth, dur);
		if (s->waiting_producer)
			pthread_cond_signal(&s->not_full);
	} else if (s->waiting_producer && !s->bp_active) {
		pthread_cond_signal(&s->not_full);
	}
	pthread_mutex_unlock(&s->lock);
	if (tw)
		c->blk->idle_ns += tvn_now_ns() - tw;

	/* ownership of the buffer moves from the producer to this component */
	c->blk->transfers_in++;
	c->blk->transfers_in_bytes += e->len;
	if (EV(hm))
		pop_probes(c, s, e, depth);
	e->holder = c->idx;
	return e;
}

static void stream_close(struct tvn_stream *s)
{
	pthread_mutex_lock(&s->lock);
	s->closed = true;
	pthread_cond_broadcast(&s->not_empty);
	pthread_mutex_unlock(&s->lock);
}

/* ------------------------------------------------------------ invocation */

static const struct tvn_fault *fault_at(const struct tvn_comp_cfg *cfg, uint64_t seq, int type)
{
	for (int i = 0; i < cfg->n_faults; i++) {
		if (cfg->faults[i].at == seq && (int)cfg->faults[i].type == type)
			return &cfg->faults[i];
	}
	return NULL;
}

/* Production and up: the invocation's histogram and span records. */
static __attribute__((always_inline)) inline void
invoke_traced(struct tvn_comp *c, struct tvn_elem *e, int rc, uint64_t t0, uint64_t t1,
	      uint64_t bytes_in, int copy_reason, uint64_t copy_bytes, const int level)
{
	struct torvyn_span_rec *r;

	tvn_hist_lat_add(&c->blk->processing_time, t1 - t0);
	/* diagnostic: the wait in the input stream ends where this invocation starts */
	if (level >= TORVYN_LEVEL_DIAGNOSTIC && c->in && e->traced && e->t_enq)
		tvn_hist_lat_add(&c->in->blk->wait_time, t0 > e->t_enq ? t0 - e->t_enq : 0);
	e->t_last = t1;
	if (c->cfg->role == TORVYN_ROLE_SOURCE) {
		if (rc == TORVYN_COMPONENT_DROP)
			return; /* a source that produced nothing starts no trace */
		trace_begin(c, e, level, t0);
	}
	if (!e->traced || !e->slot)
		return;
	r = span_next(e);
	if (!r)
		return;
	/* span id, parent and seq: promote_fill */
	r->start_ns = t0;
	r->end_ns = t1;
	r->bytes = e->len;
	r->aux = bytes_in;
	r->component_idx = (uint16_t)c->idx;
	r->aux_idx = 0;
	r->kind = TORVYN_SPAN_INVOKE;
	r->status = rc < 0 ? TORVYN_STATUS_ERROR : TORVYN_STATUS_OK;
	r->error_kind = (uint8_t)(rc < 0 ? -rc : 0);
	r->reason = 0;
	if (copy_reason >= 0 && level >= TORVYN_LEVEL_DIAGNOSTIC) {
		/* its parent is the invocation: promote_fill resolves the index */
		uint16_t inv = (uint16_t)(r - e->slot->rec);

		r = span_next(e);
		if (r)
			*r = (struct torvyn_span_rec){ .kind = TORVYN_SPAN_COPY,
						       .component_idx = (uint16_t)c->idx,
						       .aux_idx = inv,
						       .start_ns = t0,
						       .end_ns = t1,
						       .reason = (uint8_t)copy_reason,
						       .bytes = copy_bytes,
						       .aux = e->buf ? e->buf->id : 0 };
	}
}

/* Runs one invocation with its accounting; returns what the component returned. */
static __attribute__((always_inline)) inline int invoke(struct tvn_comp *c, struct tvn_elem *e,
							 uint32_t *route, const int hm)
{
	struct torvyn_component_block *b = c->blk;
	const struct tvn_comp_cfg *cfg = c->cfg;
	const int level = step_level(hm);
	bool timed = level || (EV(hm) && TORVYN_COMPONENT_INVOKE_ENABLED());
	uint64_t t0 = 0, t1 = 0, bytes_in = e->len, copy_bytes = 0;
	int copy_reason, rc;

	if (cfg->n_faults) {
		const struct tvn_fault *st = fault_at(cfg, e->seq, TVN_FAULT_STALL);

		if (st)
			sleep_ns(st->ns);
	}
	if (timed)
		t0 = tvn_now_ns();
	rc = comp__invoke(c, e, &copy_reason, &copy_bytes, route);
	if (rc == TORVYN_COMPONENT_END)
		return rc;
	if (cfg->n_faults) {
		const struct tvn_fault *f = fault_at(cfg, e->seq, TVN_FAULT_DELAY);

		if (f)
			sleep_ns(f->ns);
		f = fault_at(cfg, e->seq, TVN_FAULT_ERROR);
		if (f && rc >= 0)
			rc = -(int)f->error_kind;
	}
	if (timed)
		t1 = tvn_now_ns();

	b->invocations++;
	b->bytes_in += bytes_in;
	if (rc >= 0) {
		b->bytes_out += e->len;
	} else {
		b->errors++;
		b->errors_by_kind[-rc]++;
	}
	if (copy_reason >= 0) {
		b->copies_total[copy_reason]++;
		b->copies_bytes[copy_reason] += copy_bytes;
		if (EV(hm) && TORVYN_BUFFER_COPY_ENABLED())
			TORVYN_BUFFER_COPY(c->flow->idx, c->idx, copy_reason, copy_bytes, e->seq);
	}
	if (level && TVN_BENCH_CLOCKS_ONLY)
		__asm__ volatile("" : : "r"(t0), "r"(t1)); /* the reads stay, nothing uses them */
	else if (level)
		invoke_traced(c, e, rc, t0, t1, bytes_in, copy_reason, copy_bytes, level);
	else if (cfg->role == TORVYN_ROLE_SOURCE && c->flow->needs_ctx && rc >= 0)
		trace_begin(c, e, 0, t0);
	if (EV(hm) && c->rec_on) {
		struct torvyn_invoke_rec *r = &c->rec;

		r->seq = e->seq;
		r->start_ns = t0;
		r->end_ns = t1;
		r->status = rc < 0 ? TORVYN_STATUS_ERROR : TORVYN_STATUS_OK;
		r->error_kind = rc < 0 ? -rc : 0;
		r->bytes_in = bytes_in;
		r->bytes_out = rc >= 0 ? e->len : 0;
		r->wait_ns = e->traced && e->t_enq && t0 > e->t_enq ? t0 - e->t_enq : 0;
		if (copy_reason >= 0) {
			r->copy_reason = (uint16_t)copy_reason;
			r->copy_bytes = copy_bytes;
		}
	}
	return rc;
}

static void fail_flow(struct tvn_flow *f)
{
	if (f->cfg->error_policy == TVN_ERROR_POLICY_FAIL)
		f->failed = 1;
}

static void rate_wait(struct tvn_comp *c, uint64_t produced, uint64_t start)
{
	uint64_t due = start + (uint64_t)((double)produced * 1e9 / c->cfg->rate);
	uint64_t now = tvn_now_ns();

	if (due > now)
		sleep_ns(due - now);
}

/*
 * --gap-log: how long the step that just ended kept this component busy, not
 * counting its voluntary waits (empty input, full output). A kernel stall of
 * the thread (a uprobe being attached under it, say) shows up here; a queue
 * that is simply empty does not.
 */
static void gap_begin(struct tvn_comp *c)
{
	c->iter_t0 = tvn_now_ns();
	c->iter_idle0 = c->blk->idle_ns;
}

static void gap_note(struct tvn_comp *c)
{
	uint64_t now = tvn_now_ns();
	uint64_t waited = c->blk->idle_ns - c->iter_idle0;
	uint64_t busy = now - c->iter_t0 > waited ? now - c->iter_t0 - waited : 0;

	if (busy > c->max_gap_ns)
		c->max_gap_ns = busy;
	if (busy > c->flow->host->opts.gap_threshold_ns && c->n_gaps < TVN_MAX_GAPS)
		c->gaps[c->n_gaps++] = (struct tvn_gap){ .end_ns = now, .gap_ns = busy };
}

/* Hot path only: a fresh record for the step about to run. */
static void rec_begin(struct tvn_comp *c, struct tvn_elem *e)
{
	struct torvyn_invoke_rec *r = &c->rec;

	/* only a tracer on component__invoke reads the record */
	c->rec_on = TORVYN_COMPONENT_INVOKE_ENABLED() != 0;
	if (!c->rec_on)
		return;
	memset(r, 0, sizeof(*r));
	r->flow_idx = c->flow->idx;
	r->component_idx = c->idx;
	r->in_stream = r->out_stream = r->copy_reason = TORVYN_NONE16;
	r->from_component = TORVYN_NONE16;
	c->rec_elem = e;
}


/* Hot path only: the step is over, the element moved on or ended. */
static void rec_fire(struct tvn_comp *c)
{
	const struct torvyn_invoke_rec *r = &c->rec;

	c->rec_elem = NULL;
	if (c->rec_on && TORVYN_COMPONENT_INVOKE_ENABLED())
		TORVYN_COMPONENT_INVOKE(r->flow_idx, r->component_idx, r->seq, r->start_ns, r->end_ns,
					r->status, r->bytes_in, r->bytes_out, r);
}

/* One source invocation; returns false when the source is done. */
static __attribute__((always_inline)) inline bool source_step(struct tvn_comp *c,
							       uint64_t *produced, const int hm)
{
	struct tvn_flow *f = c->flow;
	struct tvn_elem *e = elem_get(f);
	int rc;

	if (__builtin_expect(c->gaps != NULL, 0))
		gap_begin(c);
	e->seq = __atomic_fetch_add(&f->next_seq, 1, __ATOMIC_RELAXED);
	e->holder = c->idx;
	if (EV(hm))
		rec_begin(c, e);
	rc = invoke(c, e, NULL, hm);
	if (rc == TORVYN_COMPONENT_END) {
		c->rec_elem = NULL;
		elem_put(f, e);
		return false;
	}
	if (rc == TORVYN_COMPONENT_DROP) {
		elem_put(f, e);
	} else if (rc < 0) {
		(*produced)++;
		elem_end(c, e, TORVYN_STATUS_ERROR, -rc, hm);
		fail_flow(f);
	} else {
		(*produced)++;
		stream_push(c, c->out[0], e, hm);
	}
	if (EV(hm))
		rec_fire(c);
	if (__builtin_expect(c->gaps != NULL, 0))
		gap_note(c);
	return true;
}

/*
 * Each copy of the loop is a function of its own, so that the copy with
 * nothing attached is compiled as in the probes-compiled-out build (its
 * registers not shared with the other copies) plus one test of the mode per
 * step. A copy returns true when the mode changed, false when the source is
 * done.
 */
/* The source's next step, unless it is done; false when it is. */
static __attribute__((always_inline)) inline bool source_next(struct tvn_comp *c, uint64_t *produced,
							       uint64_t start, const int hm)
{
	struct tvn_flow *f = c->flow;
	struct tvn_host *h = f->host;

	if (h->stop || f->failed || (h->opts.elements && *produced >= h->opts.elements))
		return false;
	if (c->cfg->rate > 0)
		rate_wait(c, *produced, start);
	return source_step(c, produced, hm);
}

static __attribute__((always_inline)) inline bool source_run(struct tvn_comp *c, uint64_t *produced,
							      uint64_t start, const int hm)
{
	/* two steps per test of the mode: a switch waits one step longer */
	while (tvn_hot() == hm) {
		if (!source_next(c, produced, start, hm) || !source_next(c, produced, start, hm))
			return false;
	}
	return true;
}

static __attribute__((noinline)) bool source_run_off(struct tvn_comp *c, uint64_t *produced,
						     uint64_t start)
{
	return source_run(c, produced, start, TVN_HOT_OFF);
}

static __attribute__((noinline)) bool source_run_level(struct tvn_comp *c, uint64_t *produced,
						       uint64_t start)
{
	return source_run(c, produced, start, TVN_HOT_LEVEL);
}

static __attribute__((noinline)) bool source_run_events(struct tvn_comp *c, uint64_t *produced,
							uint64_t start)
{
	return source_run(c, produced, start, TVN_HOT_EVENTS);
}

static void source_loop(struct tvn_comp *c)
{
	uint64_t produced = 0, start = tvn_now_ns();
	bool more;

	do {
		int hm = tvn_hot();

		if (hm == TVN_HOT_OFF)
			more = source_run_off(c, &produced, start);
		else if (hm == TVN_HOT_LEVEL)
			more = source_run_level(c, &produced, start);
		else
			more = source_run_events(c, &produced, start);
	} while (more);
}

/* One element through a non-source component; returns false at end of stream. */
static __attribute__((always_inline)) inline bool stage_step(struct tvn_comp *c, const int hm)
{
	struct tvn_flow *f = c->flow;
	struct tvn_elem *e;
	uint32_t route = 0;
	int rc;

	if (EV(hm))
		rec_begin(c, NULL);
	e = stream_pop(c, c->in, hm);
	if (!e)
		return false;
	if (EV(hm) && c->rec_on)
		c->rec_elem = e;
	if (__builtin_expect(c->gaps != NULL, 0))
		gap_begin(c);
	rc = invoke(c, e, &route, hm);
	if (rc < 0) {
		elem_end(c, e, TORVYN_STATUS_ERROR, -rc, hm);
		fail_flow(f);
	} else if (rc == TORVYN_COMPONENT_DROP || c->cfg->role == TORVYN_ROLE_SINK || !c->n_out) {
		elem_end(c, e, TORVYN_STATUS_OK, 0, hm);
	} else {
		stream_push(c, c->out[route < (uint32_t)c->n_out ? route : 0], e, hm);
	}
	if (EV(hm))
		rec_fire(c);
	if (__builtin_expect(c->gaps != NULL, 0))
		gap_note(c);
	return true;
}

/* As source_run: a copy of the loop per mode; false at end of stream. */
static __attribute__((always_inline)) inline bool stage_run(struct tvn_comp *c, const int hm)
{
	/* two steps per test of the mode: a switch waits one step longer */
	while (tvn_hot() == hm) {
		if (!stage_step(c, hm) || !stage_step(c, hm))
			return false;
	}
	return true;
}

static __attribute__((noinline)) bool stage_run_off(struct tvn_comp *c)
{
	return stage_run(c, TVN_HOT_OFF);
}

static __attribute__((noinline)) bool stage_run_level(struct tvn_comp *c)
{
	return stage_run(c, TVN_HOT_LEVEL);
}

static __attribute__((noinline)) bool stage_run_events(struct tvn_comp *c)
{
	return stage_run(c, TVN_HOT_EVENTS);
}

static void stage_loop(struct tvn_comp *c)
{
	bool more;

	do {
		int hm = tvn_hot();

		if (hm == TVN_HOT_OFF)
			more = stage_run_off(c);
		else if (hm == TVN_HOT_LEVEL)
			more = stage_run_level(c);
		else
			more = stage_run_events(c);
	} while (more);
}

static void *comp_main(void *arg)
{
	struct tvn_comp *c = arg;

	struct tvn_flow *f = c->flow;

	if (c->cfg->role == TORVYN_ROLE_SOURCE) {
		source_loop(c);
		if (__atomic_sub_fetch(&f->sources_running, 1, __ATOMIC_ACQ_REL) == 0 &&
		    f->blk->state == TORVYN_FLOW_RUNNING)
			f->blk->state = TORVYN_FLOW_DRAINING;
	} else {
		stage_loop(c);
	}
	for (int i = 0; i < c->n_out; i++)
		stream_close(c->out[i]);
	__atomic_sub_fetch(&f->host->running, 1, __ATOMIC_ACQ_REL);
	return NULL;
}

/* ------------------------------------------------------------ setup */

static int flow_init(struct tvn_host *h, struct tvn_flow *f, int idx,
		     const struct tvn_flow_cfg *cfg, char *err, size_t errlen)
{
	uint32_t window;
	int rc;

	f->host = h;
	f->idx = idx;
	f->cfg = cfg;
	f->n_comps = cfg->n_comps;
	/* ids must differ across flows, runs and hosts */
	if (getrandom(&f->id_key, sizeof(f->id_key), 0) != sizeof(f->id_key))
		f->id_key = tvn_mono_ns() ^ ((uint64_t)getpid() << 32) ^ (uintptr_t)f;
	f->n_streams = cfg->n_streams;
	f->blk = zalloc(sizeof(*f->blk));
	if (!f->blk)
		return -ENOMEM;
	set_hdr(&f->blk->hdr, TORVYN_BLOCK_FLOW, sizeof(*f->blk), idx, 0, cfg->id, cfg->id);
	f->blk->n_components = cfg->n_comps;
	f->blk->state = TORVYN_FLOW_VALIDATED;
	window = (uint32_t)cfg->n_comps + 2;

	for (int i = 0; i < cfg->n_comps; i++) {
		struct tvn_comp *c = &f->comps[i];

		c->flow = f;
		c->idx = i;
		c->cfg = &cfg->comps[i];
		c->blk = zalloc(sizeof(*c->blk));
		if (!c->blk)
			return -ENOMEM;
		set_hdr(&c->blk->hdr, TORVYN_BLOCK_COMPONENT, sizeof(*c->blk), idx, i, cfg->id,
			c->cfg->id);
		c->blk->role = c->cfg->role;
		if (c->cfg->kind == TVN_KIND_FILE_SINK)
			f->needs_ctx = 1;
		if (h->opts.gap_log) {
			c->gaps = calloc(TVN_MAX_GAPS, sizeof(*c->gaps));
			if (!c->gaps)
				return -ENOMEM;
		}
	}
	for (int i = 0; i < cfg->n_streams; i++) {
		struct tvn_stream *s = &f->streams[i];

		s->flow = f;
		s->idx = i;
		s->cfg = cfg->streams[i];
		s->ring = calloc(s->cfg.capacity, sizeof(*s->ring));
		s->blk = zalloc(sizeof(*s->blk));
		if (!s->ring || !s->blk)
			return -ENOMEM;
		s->low_mark = (uint32_t)(s->cfg.low_watermark * s->cfg.capacity);
		pthread_mutex_init(&s->lock, NULL);
		pthread_cond_init(&s->not_empty, NULL);
		pthread_cond_init(&s->not_full, NULL);
		set_hdr(&s->blk->hdr, TORVYN_BLOCK_STREAM, sizeof(*s->blk), idx, i, cfg->id,
			s->cfg.id);
		s->blk->from_idx = s->cfg.from;
		s->blk->to_idx = s->cfg.to;
		s->blk->capacity = s->cfg.capacity;
		s->blk->policy = s->cfg.policy;
		f->comps[s->cfg.to].in = s;
		f->comps[s->cfg.from].out[f->comps[s->cfg.from].n_out++] = s;
		window += s->cfg.capacity;
	}

	/* every element in flight has its own element struct, and each struct its own slot */
	rc = tvn_span_ring__init(&f->ring, window);
	if (rc)
		return rc;
	f->n_elem = window;
	f->elem_mem = calloc(window, sizeof(*f->elem_mem));
	if (!f->elem_mem)
		return -ENOMEM;
	pthread_spin_init(&f->elem_lock, PTHREAD_PROCESS_PRIVATE);
	for (uint32_t i = 0; i < window; i++) {
		f->elem_mem[i].slot = tvn_span_ring__slot(&f->ring, i);
		f->elem_mem[i].next = f->elem_free;
		f->elem_free = &f->elem_mem[i];
	}
	for (int i = 0; i < cfg->n_comps; i++) {
		rc = comp__open(&f->comps[i], err, errlen);
		if (rc)
			return rc;
	}
	f->blk->state = TORVYN_FLOW_INSTANTIATED;
	return 0;
}

int host__init(struct tvn_host *h, struct tvn_pipeline_cfg *cfg, const struct tvn_host_opts *opts,
	       char *err, size_t errlen)
{
	int rc;

	memset(h, 0, sizeof(*h));
	h->opts = *opts;
	h->cfg = cfg;
	h->sample_threshold = tvn_sample_threshold(opts->sample_rate);
	rc = pool__init();
	if (rc) {
		snprintf(err, errlen, "cannot allocate the buffer pool: %s", strerror(-rc));
		return rc;
	}
	h->sys = zalloc(sizeof(*h->sys));
	h->pool = zalloc(sizeof(*h->pool));
	h->flows = calloc(cfg->n_flows, sizeof(*h->flows));
	if (!h->sys || !h->pool || !h->flows) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	set_hdr(&h->sys->hdr, TORVYN_BLOCK_SYSTEM, sizeof(*h->sys), 0, 0, "", "system");
	set_hdr(&h->pool->hdr, TORVYN_BLOCK_POOL, sizeof(*h->pool), 0, 0, "", "pool");
	h->sys->abi_version = TORVYN_PROBE_ABI_VERSION;
	h->sys->n_flows = cfg->n_flows;
	h->n_flows = cfg->n_flows;
	for (int i = 0; i < cfg->n_flows; i++) {
		rc = flow_init(h, &h->flows[i], i, &cfg->flows[i], err, errlen);
		if (rc) {
			if (!err[0])
				snprintf(err, errlen, "flow %s: %s", cfg->flows[i].id, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

void host__fini(struct tvn_host *h)
{
	for (int i = 0; h->flows && i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		for (int j = 0; j < f->n_comps; j++) {
			comp__close(&f->comps[j]);
			free(f->comps[j].blk);
			free(f->comps[j].gaps);
		}
		for (int j = 0; j < f->n_streams; j++) {
			struct tvn_stream *s = &f->streams[j];

			/* elements still queued (an interrupted run) give their buffers back */
			for (uint32_t k = 0; s->ring && k < s->len; k++)
				pool__return(s->ring[(s->head + k) % s->cfg.capacity]->buf);
			free(s->ring);
			free(s->blk);
			if (s->flow) {
				pthread_mutex_destroy(&s->lock);
				pthread_cond_destroy(&s->not_empty);
				pthread_cond_destroy(&s->not_full);
			}
		}
		tvn_span_ring__fini(&f->ring);
		free(f->elem_mem);
		free(f->blk);
	}
	free(h->flows);
	free(h->sys);
	free(h->pool);
	h->flows = NULL;
	pool__fini();
}

/* ------------------------------------------------------------ metric blocks */

void host__aggregate(struct tvn_host *h)
{
	struct torvyn_system_block *sys = h->sys;
	uint64_t flows_active = 0, comps_active = 0, wakeups = 0, idle = 0, dropped = 0;

	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];
		struct torvyn_flow_block *fb = f->blk;
		uint64_t total = 0, errors = 0, tr = 0, trb = 0;
		uint64_t copies[TORVYN_COPY_REASONS] = { 0 }, cbytes[TORVYN_COPY_REASONS] = { 0 };
		struct torvyn_hist_lat lat = { 0 };

		for (int j = 0; j < f->n_comps; j++) {
			struct torvyn_component_block *cb = f->comps[j].blk;

			total += cb->elements_ended;
			errors += cb->errors;
			tr += cb->transfers_in;
			trb += cb->transfers_in_bytes;
			wakeups += cb->wakeups;
			idle += cb->idle_ns;
			for (int r = 0; r < TORVYN_COPY_REASONS; r++) {
				copies[r] += cb->copies_total[r];
				cbytes[r] += cb->copies_bytes[r];
			}
			for (int k = 0; k < TORVYN_LAT_BUCKETS; k++)
				lat.bucket[k] += cb->e2e_latency.bucket[k];
			lat.sum_ns += cb->e2e_latency.sum_ns;
			lat.count += cb->e2e_latency.count;
		}
		/* a stream's drops ended at the producer: counted in its elements_ended */
		/* each field only grows, so a reader never sees a counter go back */
		fb->elements_total = total;
		fb->elements_errors = errors;
		memcpy(fb->copies_total, copies, sizeof(copies));
		memcpy(fb->copies_bytes, cbytes, sizeof(cbytes));
		fb->transfers_total = tr;
		fb->transfers_bytes = trb;
		fb->latency = lat;
		dropped += __atomic_load_n(&fb->spans_dropped, __ATOMIC_RELAXED);
		if (fb->state == TORVYN_FLOW_RUNNING || fb->state == TORVYN_FLOW_DRAINING) {
			flows_active++;
			comps_active += f->n_comps;
		}
	}
	pool__snapshot(h->pool);
	sys->flows_active = flows_active;
	sys->components_active = comps_active;
	sys->memory_total = pool__memory();
	sys->scheduler_wakeups = wakeups;
	sys->scheduler_idle_ns = idle;
	sys->spans_dropped = dropped;
}

static void flush_block(void *blk)
{
	struct torvyn_block_hdr *hdr = blk;

	hdr->flushes++;
	TORVYN_METRICS_FLUSH(blk, hdr->size, hdr->kind);
}

void host__flush(struct tvn_host *h)
{
	if (!TORVYN_METRICS_FLUSH_ENABLED())
		return;
	TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		for (int j = 0; j < f->n_comps; j++)
			flush_block(f->comps[j].blk);
		for (int j = 0; j < f->n_streams; j++)
			flush_block(f->streams[j].blk);
		flush_block(f->blk);
	}
	flush_block(h->pool);
	flush_block(h->sys);
}

/* ------------------------------------------------------------ run */

/*
 * --progress-log: "<CLOCK_MONOTONIC ns> <elements ended> <level> <half>" per
 * tick, so that a benchmark can compare throughput at two levels within one
 * run, free of the run-to-run spread. level is what the hot path runs at;
 * half is 0 in the halves --ab-period holds at Level 0, 1 otherwise.
 */
static void progress_note(struct tvn_host *h, FILE *log, int level, bool on)
{
	uint64_t ended = 0;

	for (int i = 0; i < h->n_flows; i++) {
		for (int j = 0; j < h->flows[i].n_comps; j++)
			ended += __atomic_load_n(&h->flows[i].comps[j].blk->elements_ended,
						 __ATOMIC_RELAXED);
	}
	fprintf(log, "%" PRIu64 " %" PRIu64 " %d %d\n", tvn_mono_ns(), ended, level, on);
}

static void *telemetry_main(void *arg)
{
	struct tvn_host *h = arg;
	int last = 0;
	uint64_t next = tvn_now_ns();

	while (!__atomic_load_n(&h->done, __ATOMIC_ACQUIRE)) {
		uint64_t ab = h->opts.ab_period_ms * 1000000ull;
		uint64_t t0 = __atomic_load_n(&h->run_start_ns, __ATOMIC_RELAXED);
		bool hold_off = ab && t0 && ((tvn_now_ns() - t0) / ab) % 2 == 1;
		int level = probes_refresh(hold_off);

		if (h->progress)
			progress_note(h, h->progress, hold_off ? 0 : level, !hold_off);

		if (level != last) {
			/* a tracer arrived: it gets every block now, not a period later */
			if (level > last)
				next = tvn_now_ns();
			/* tell the tracer the host saw the switch */
			if (level >= TORVYN_LEVEL_PRODUCTION)
				TORVYN_GATE_PRODUCTION(level);
			if (level >= TORVYN_LEVEL_DIAGNOSTIC)
				TORVYN_GATE_DIAGNOSTIC(level);
			TORVYN_ABI_VERSION(TORVYN_PROBE_ABI_VERSION);
			last = level;
		}
		if (tvn_now_ns() >= next) {
			tvn_clock__tick();
			if (level) {
				host__aggregate(h);
				host__flush(h);
			}
			next = tvn_now_ns() + (uint64_t)h->opts.flush_interval_ms * 1000000ull;
		}
		sleep_ns(TVN_PROBE_POLL_NS);
	}
	return NULL;
}

static void wait_for_tracer(struct tvn_host *h)
{
	while (!h->stop && !TORVYN_GATE_PRODUCTION_ENABLED())
		sleep_ns(1000000ull);
	/* the tracer raised the gates last: everything it attaches is in place */
	TORVYN_GATE_PRODUCTION(probes_refresh(false));
}

int host__run(struct tvn_host *h)
{
	pthread_t tele;
	int rc = 0;

	probes_refresh(false);
	tvn_clock__init();
	if (pthread_create(&tele, NULL, telemetry_main, h))
		return -errno;
	if (h->opts.wait_attach) {
		wait_for_tracer(h);
		/* the tracer learns the flows' names before their first trace */
		host__aggregate(h);
		host__flush(h);
	}
	h->run_start_ns = tvn_now_ns();
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		f->blk->start_ns = h->run_start_ns;
		f->blk->state = TORVYN_FLOW_RUNNING;
		if (TORVYN_FLOW_START_ENABLED())
			TORVYN_FLOW_START(f->idx, (char *)f->cfg->id, f->n_comps);
		for (int j = 0; j < f->n_comps; j++) {
			if (f->comps[j].cfg->role == TORVYN_ROLE_SOURCE)
				f->sources_running++;
		}
		for (int j = 0; j < f->n_comps; j++) {
			__atomic_add_fetch(&h->running, 1, __ATOMIC_ACQ_REL);
			rc = pthread_create(&f->comps[j].thread, NULL, comp_main, &f->comps[j]);
			if (!rc) {
				char name[16];

				/* "torvyn/F/C": tools (bench) map threads to components */
				snprintf(name, sizeof(name), "torvyn/%u/%u", (unsigned int)i & 0xff,
					 (unsigned int)j & 0xf);
				pthread_setname_np(f->comps[j].thread, name);
			}
			if (rc) {
				/* half a flow cannot drain: there is nothing sane to go on with */
				fprintf(stderr, "torvyn-host: cannot start a thread for %s/%s: %s\n",
					f->cfg->id, f->comps[j].cfg->id, strerror(rc));
				_exit(1);
			}
		}
	}
	if (h->opts.duration_s > 0) {
		uint64_t end = h->run_start_ns + (uint64_t)(h->opts.duration_s * 1e9);

		while (!h->stop && __atomic_load_n(&h->running, __ATOMIC_ACQUIRE) &&
		       tvn_now_ns() < end)
			sleep_ns(5000000ull);
		h->stop = 1;
	}
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		for (int j = 0; j < f->n_comps; j++)
			pthread_join(f->comps[j].thread, NULL);
		f->blk->end_ns = tvn_now_ns();
		f->blk->state = f->failed ? TORVYN_FLOW_FAILED :
			        h->interrupted ? TORVYN_FLOW_CANCELLED : TORVYN_FLOW_COMPLETED;
	}
	h->run_end_ns = tvn_now_ns();
	for (int i = 0; i < h->n_flows; i++) {
		for (int j = 0; j < h->flows[i].n_comps; j++) {
			if (h->flows[i].comps[j].max_gap_ns > h->max_gap_ns)
				h->max_gap_ns = h->flows[i].comps[j].max_gap_ns;
		}
	}
	__atomic_store_n(&h->done, 1, __ATOMIC_RELEASE);
	pthread_join(tele, NULL);
	host__aggregate(h);
	/* the final flush: the tracer sees the exact totals even after we exit */
	host__flush(h);
	for (int i = 0; i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		if (TORVYN_FLOW_END_ENABLED())
			TORVYN_FLOW_END(f->idx, f->blk->state, f->blk->elements_total,
					f->blk->elements_errors);
	}
	return rc;
}
