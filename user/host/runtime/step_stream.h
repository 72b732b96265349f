/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hot path's streams: a bounded ring under a mutex between two
 * components, its policy when full, backpressure with hysteresis, and the
 * diagnostic spans of a wait and of a transfer (in clock ticks, as every time
 * an element carries).
 *
 * Part of the hot path's one translation unit: static functions that only
 * step.c includes, after step_elem.h (see step.c).
 */
#ifndef TORVYN_STEP_STREAM_H
#define TORVYN_STEP_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "step_elem.h"

/* ------------------------------------------------------------ streams */

/* Diagnostic: the element waited for a backpressured stream; a span of its trace. */
static void backpressure_span(struct tvn_comp *c, struct tvn_stream *s, struct tvn_elem *e,
			      uint64_t t0, uint32_t depth)
{
	struct torvyn_span_rec *r = span_next(e);

	if (r)
		*r = (struct torvyn_span_rec){.kind = TORVYN_SPAN_BACKPRESSURE,
					      .component_idx = (uint16_t)s->idx,
					      .aux_idx = (uint16_t)c->idx,
					      .start_ns = t0,
					      .end_ns = e->t_enq,
					      .aux = depth};
}

/*
 * Locks s. True when the other side held it: the thread may have slept, and
 * the time is not the next invocation's (see invoke), nor is that of a
 * wake-up sent to the other side (a system call). Only the copies that time
 * ask: a try first costs a few instructions more than a plain lock.
 */
static __attribute__((always_inline)) inline bool stream_lock(struct tvn_stream *s, const int hm)
{
	if (!HOT(hm)) {
		pthread_mutex_lock(&s->lock);
		return false;
	}
	if (!pthread_mutex_trylock(&s->lock))
		return false;
	pthread_mutex_lock(&s->lock);
	return true;
}

/* After a step's slow path (a wait, a held lock, a wake-up): the next invocation starts now. */
static __attribute__((always_inline)) inline void
step_slow_end(struct tvn_comp *c, uint64_t tw, bool waited, bool slow, const int hm)
{
	if (waited || (HOT(hm) && slow)) {
		uint64_t now = tvn_ticks();

		if (waited)
			c->blk->idle_ns += tvn_ticks__dur_ns(now - tw);
		c->t_mark = now;
	}
}

static __attribute__((always_inline)) inline void
stream_push(struct tvn_comp *c, struct tvn_stream *s, struct tvn_elem *e, const int hm)
{
	struct torvyn_stream_block *b = s->blk;
	struct tvn_elem *victim = NULL;
	uint32_t cap = s->cfg.capacity, depth;
	bool waited = false, slow;
	uint64_t tw = 0, seq;

	slow = stream_lock(s, hm);
	if (s->cfg.policy == TORVYN_POLICY_BLOCK_PRODUCER) {
		/* hysteresis: once full, the producer waits for the low watermark */
		while (s->len >= cap || s->bp_active) {
			if (!waited)
				tw = tvn_ticks();
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
		e->t_enq = waited ? tvn_ticks() : e->t_last;
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
	if (s->waiting_consumer) {
		pthread_cond_signal(&s->not_empty);
		slow = true;
	}
	pthread_mutex_unlock(&s->lock);
	step_slow_end(c, tw, waited, slow, hm);
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
		*r = (struct torvyn_span_rec){.kind = TORVYN_SPAN_TRANSFER,
					      .component_idx = e->holder,
					      .aux_idx = (uint16_t)c->idx,
					      .start_ns = e->t_enq,
					      .end_ns = tvn_ticks(),
					      .aux = e->buf ? e->buf->id : 0,
					      .bytes = e->len};
}

static void pop_probes(struct tvn_comp *c, struct tvn_stream *s, struct tvn_elem *e, uint32_t depth)
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
		uint64_t wait =
		    e->traced && e->t_enq ? tvn_ticks__dur_ns(tvn_ticks() - e->t_enq) : 0;

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
	bool slow = stream_lock(s, hm);

	if (!s->len && !s->closed)
		tw = tvn_ticks();
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
		if (s->waiting_producer) {
			pthread_cond_signal(&s->not_full);
			slow = true;
		}
	} else if (s->waiting_producer && !s->bp_active) {
		pthread_cond_signal(&s->not_full);
		slow = true;
	}
	pthread_mutex_unlock(&s->lock);
	step_slow_end(c, tw, tw != 0, slow, hm);

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

#endif /* TORVYN_STEP_STREAM_H */
