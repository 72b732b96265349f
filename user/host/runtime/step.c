/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The flow driver: one thread per component, bounded streams between them.
 *
 * Level 0 (no tracer): the hot path keeps the host's own exact counters in
 * pre-allocated blocks (plain increments, each written by one thread) and
 * tests one word per step; nothing else. Production gate up: clocks,
 * histograms, head sampling and the span ring. With a per-step probe
 * attached, each probe site tests its own semaphore (tvn_probes_hot).
 *
 * The hot path is one translation unit, so that the step loops inline what
 * they call as before: this file (invocations and the loops) with
 * step_elem.h (elements and their traces) and step_stream.h (streams), which
 * only it includes.
 */
#include <stdbool.h>
#include <stdint.h>

#include "components.h"
#include "runtime_internal.h"
#include "step_elem.h"
#include "step_stream.h"
#include "torvyn_probes.h"

/* The words the hot path reads (runtime.h), written by the telemetry thread. */
#ifndef TORVYN_NO_PROBES
int tvn_probes_hot;
#endif
int tvn_level;

/*
 * make bench's floor (build/torvyn-host-clocks-only): at Level 1 the step
 * reads its clock once per invocation (its start is the end of the one
 * before, see invoke) and does nothing else with it, what any Level 1 that
 * times every invocation cannot do without.
 */
#ifndef TVN_BENCH_CLOCKS_ONLY
#define TVN_BENCH_CLOCKS_ONLY 0
#endif

/* ------------------------------------------------------------ invocation */

static const struct tvn_fault *fault_at(const struct tvn_comp_cfg *cfg, uint64_t seq, int type)
{
	for (int i = 0; i < cfg->n_faults; i++) {
		if (cfg->faults[i].at == seq && (int)cfg->faults[i].type == type)
			return &cfg->faults[i];
	}
	return NULL;
}

/* A span record's last word: component_idx, aux_idx, kind, status, error_kind, reason. */
_Static_assert(offsetof(struct torvyn_span_rec, component_idx) == 56 &&
		   offsetof(struct torvyn_span_rec, reason) == 63 &&
		   sizeof(struct torvyn_span_rec) == 64,
	       "the span record's small fields fill its last 8 bytes");

static inline uint64_t span_tail(uint16_t comp, uint8_t kind, int rc)
{
	uint64_t w = (uint64_t)comp | (uint64_t)kind << 32;

	if (rc < 0) /* status, then error_kind */
		w |= (uint64_t)TORVYN_STATUS_ERROR << 40 | (uint64_t)(uint8_t)-rc << 48;
	return w;
}

/* Production and up: the invocation's histogram and span records (times in ticks). */
static __attribute__((always_inline)) inline void
invoke_traced(struct tvn_comp *c, struct tvn_elem *e, int rc, uint64_t t0, uint64_t t1,
	      uint64_t bytes_in, int copy_reason, uint64_t copy_bytes, const int level, const bool src)
{
	struct torvyn_span_rec *r;
	uint64_t tail;

	tvn_hist_lat_add_ticks(&c->blk->processing_time, &c->proc_ticks, t1 - t0);
	/* diagnostic: the wait in the input stream ends where this invocation starts */
	if (level >= TORVYN_LEVEL_DIAGNOSTIC && c->in && e->traced && e->t_enq)
		tvn_hist_lat_add_ticks(&c->in->blk->wait_time, &c->in->wait_ticks,
				       t0 > e->t_enq ? t0 - e->t_enq : 0);
	e->t_last = t1;
	if (src) {
		if (rc == TORVYN_COMPONENT_DROP)
			return; /* a source that produced nothing starts no trace */
		trace_begin(c, e, level, t0);
	}
	if (!e->traced) /* not since its source (a level change), or no slot */
		return;
	r = span_next(e);
	if (!r)
		return;
	/* span id, parent and seq: promote_fill; the small fields in one store */
	r->start_ns = t0;
	r->end_ns = t1;
	r->bytes = e->len;
	r->aux = bytes_in;
	tail = span_tail((uint16_t)c->idx, TORVYN_SPAN_INVOKE, rc);
	memcpy((char *)r + offsetof(struct torvyn_span_rec, component_idx), &tail, sizeof(tail));
	if (copy_reason >= 0 && level >= TORVYN_LEVEL_DIAGNOSTIC) {
		/* its parent is the invocation: promote_fill resolves the index */
		uint16_t inv = (uint16_t)(r - e->slot->rec);

		r = span_next(e);
		if (r)
			*r = (struct torvyn_span_rec){.kind = TORVYN_SPAN_COPY,
						      .component_idx = (uint16_t)c->idx,
						      .aux_idx = inv,
						      .start_ns = t0,
						      .end_ns = t1,
						      .reason = (uint8_t)copy_reason,
						      .bytes = copy_bytes,
						      .aux = e->buf ? e->buf->id : 0};
	}
}

/*
 * Runs one invocation with its accounting; returns what the component
 * returned. src: c is a source (a constant in each copy of the step).
 */
static __attribute__((always_inline)) inline int invoke(struct tvn_comp *c, struct tvn_elem *e,
							uint32_t *route, const int hm, const bool src)
{
	struct torvyn_component_block *b = c->blk;
	const struct tvn_comp_cfg *cfg = c->cfg;
	const int level = step_level(hm);
	bool timed = level || (EV(hm) && TORVYN_COMPONENT_INVOKE_ENABLED());
	uint64_t t0 = 0, t1 = 0, bytes_in = e->len, copy_bytes = 0;
	int copy_reason, rc;

	if (cfg->n_faults) {
		const struct tvn_fault *st = fault_at(cfg, e->seq, TVN_FAULT_STALL);

		if (st) {
			tvn_host__nap(c->flow->host, st->ns, false);
			c->t_mark = tvn_ticks(); /* a stall is not the invocation's */
		}
	}
	/*
	 * Production: one clock read per step. The invocation starts where the
	 * component's last one ended (t_mark), unless the thread waited since:
	 * every wait sets t_mark when it ends (stream_pop, stream_push,
	 * rate_wait, a stall, a promotion's probe, a change of mode). So its time
	 * also holds the step's own bookkeeping: passing the last element on and
	 * taking this one (docs/metrics.md). Diagnostic fires probes between
	 * steps: there, each invocation reads its own start.
	 */
	if (timed)
		t0 = EV(hm) ? tvn_ticks() : c->t_mark;
	rc = tvn_comp__invoke(c, e, &copy_reason, &copy_bytes, route);
	if (rc == TORVYN_COMPONENT_END)
		return rc;
	if (cfg->n_faults) {
		const struct tvn_fault *f = fault_at(cfg, e->seq, TVN_FAULT_DELAY);

		if (f)
			tvn_host__nap(c->flow->host, f->ns, false);
		f = fault_at(cfg, e->seq, TVN_FAULT_ERROR);
		if (f && rc >= 0)
			rc = -(int)f->error_kind;
	}
	if (timed) {
		t1 = tvn_ticks();
		c->t_mark = t1;
	}

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
		invoke_traced(c, e, rc, t0, t1, bytes_in, copy_reason, copy_bytes, level, src);
	else if (src && c->flow->needs_ctx && rc >= 0)
		trace_begin(c, e, 0, t0);
	if (EV(hm) && c->rec_on) {
		struct torvyn_invoke_rec *r = &c->rec;

		r->seq = e->seq;
		r->start_ns = tvn_ticks__to_ns(t0);
		r->end_ns = r->start_ns + tvn_ticks__dur_ns(t1 - t0);
		r->status = rc < 0 ? TORVYN_STATUS_ERROR : TORVYN_STATUS_OK;
		r->error_kind = rc < 0 ? -rc : 0;
		r->bytes_in = bytes_in;
		r->bytes_out = rc >= 0 ? e->len : 0;
		r->wait_ns =
		    e->traced && e->t_enq && t0 > e->t_enq ? tvn_ticks__dur_ns(t0 - e->t_enq) : 0;
		if (copy_reason >= 0) {
			r->copy_reason = (uint16_t)copy_reason;
			r->copy_bytes = copy_bytes;
		}
	}
	return rc;
}

/* A component returned an error: the flow fails if its policy says so, or if c cannot go on. */
static void fail_flow(struct tvn_flow *f, const struct tvn_comp *c)
{
	if (f->cfg->error_policy == TVN_ERROR_POLICY_FAIL || c->broken)
		f->failed = 1;
}

static void rate_wait(struct tvn_comp *c, uint64_t produced, uint64_t start)
{
	uint64_t due = start + (uint64_t)((double)produced * 1e9 / c->cfg->rate);
	uint64_t now = tvn_now_ns();

	if (due > now) {
		tvn_host__nap(c->flow->host, due - now, true);
		c->t_mark = tvn_ticks();
	}
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
		c->gaps[c->n_gaps++] = (struct tvn_gap){.end_ns = now, .gap_ns = busy};
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
		TORVYN_COMPONENT_INVOKE(r->flow_idx, r->component_idx, r->seq, r->start_ns,
					r->end_ns, r->status, r->bytes_in, r->bytes_out, r);
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
	rc = invoke(c, e, NULL, hm, true);
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
		fail_flow(f, c);
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
static __attribute__((always_inline)) inline bool
source_next(struct tvn_comp *c, uint64_t *produced, uint64_t start, const int hm)
{
	struct tvn_flow *f = c->flow;
	struct tvn_host *h = f->host;

	if (h->stop || f->failed || (h->opts.elements && *produced >= h->opts.elements))
		return false;
	if (c->cfg->rate > 0) {
		rate_wait(c, *produced, start);
		if (h->stop)
			return false;
	}
	return source_step(c, produced, hm);
}

static __attribute__((always_inline)) inline bool source_run(struct tvn_comp *c, uint64_t *produced,
							     uint64_t start, const int hm)
{
	c->t_mark = tvn_ticks(); /* the steps before may not have read the clock */
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
	rc = invoke(c, e, &route, hm, false);
	if (rc < 0) {
		elem_end(c, e, TORVYN_STATUS_ERROR, -rc, hm);
		fail_flow(f, c);
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
	c->t_mark = tvn_ticks(); /* the steps before may not have read the clock */
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

void *tvn_comp__main(void *arg)
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
