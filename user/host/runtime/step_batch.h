/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The hot path's step-record batch: each component thread appends its step
 * records (struct torvyn_invoke_rec) to a batch of its own, allocated once,
 * and fires component__batch per TORVYN_BATCH_RECS of them, so Level 2 costs
 * a copy per step and a uprobe hit per 64 steps. The thread serves the
 * telemetry thread's flush requests (flush interval, drain: batch.c) at the
 * end of each step; while it waits on a stream, or runs a copy of the step
 * that does not batch, its batch is parked and the telemetry thread may
 * flush it for it.
 *
 * Part of the hot path's one translation unit: static functions that only
 * step.c includes, after step_elem.h (see step.c).
 */
#ifndef TORVYN_STEP_BATCH_H
#define TORVYN_STEP_BATCH_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "runtime_internal.h"

/* Thread start: the batch, parked until a copy of the step that batches runs. */
static void batch_open(struct tvn_comp *c)
{
	c->batch = calloc(1, sizeof(*c->batch));
	if (!c->batch)
		return; /* no batching for this thread; nothing else depends on it */
	/* a drain already under way is served: the batch is empty */
	__atomic_store_n(&c->batch_state, TVN_BATCH_PARK, __ATOMIC_SEQ_CST);
	__atomic_store_n(&c->batch_done,
			 __atomic_load_n(&c->flow->host->batch_gen, __ATOMIC_SEQ_CST),
			 __ATOMIC_RELAXED);
}

/* The thread takes its batch back; the telemetry thread may be flushing it. */
static void batch_own(struct tvn_comp *c)
{
	int want = TVN_BATCH_PARK;

	while (!__atomic_compare_exchange_n(&c->batch_state, &want, TVN_BATCH_OWN, false,
					    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
		want = TVN_BATCH_PARK;
		sched_yield();
	}
}

static __attribute__((noinline)) void batch_serve(struct tvn_comp *c, uint32_t gen)
{
	tvn_batch__fire(c);
	__atomic_store_n(&c->batch_done, gen, __ATOMIC_RELEASE);
}

/* A flush request the thread has not served yet: serve it. */
static __attribute__((always_inline)) inline void batch_poll(struct tvn_comp *c)
{
	uint32_t gen = __atomic_load_n(&c->flow->host->batch_gen, __ATOMIC_ACQUIRE);

	if (__builtin_expect(gen != c->batch_done, 0))
		batch_serve(c, gen);
}

/* The thread leaves its batch to the telemetry thread (a wait, a copy that does not batch). */
static __attribute__((always_inline)) inline void batch_park(struct tvn_comp *c)
{
	if (c->batch)
		__atomic_store_n(&c->batch_state, TVN_BATCH_PARK, __ATOMIC_RELEASE);
}

static __attribute__((always_inline)) inline void batch_unpark(struct tvn_comp *c)
{
	if (c->batch)
		batch_own(c);
}

/* Leaving the copy of the step that batches: requests served, then the batch parked. */
static void batch_poll_park(struct tvn_comp *c)
{
	if (!c->batch)
		return;
	batch_poll(c);
	batch_park(c);
}

/* Whether the step about to run keeps its record for the batch. */
static __attribute__((always_inline)) inline bool batch_wanted(const struct tvn_comp *c)
{
	return c->batch && __atomic_load_n(&c->flow->host->batch_on, __ATOMIC_RELAXED);
}

/*
 * The step is over: its record joins the batch, unless batching stopped while
 * it ran (a drain: the tracer is about to detach), then any request is served.
 */
static __attribute__((always_inline)) inline void batch_append(struct tvn_comp *c)
{
	struct tvn_batch *b = c->batch;

	if (!b)
		return;
	if (c->rec_batch && __atomic_load_n(&c->flow->host->batch_on, __ATOMIC_RELAXED)) {
		b->rec[b->n++] = c->rec;
		if (__builtin_expect(b->n == TORVYN_BATCH_RECS, 0))
			tvn_batch__fire(c);
	}
	batch_poll(c);
}

/* Thread exit: the partial batch goes out, and the batch with it. */
static void batch_close(struct tvn_comp *c)
{
	if (!c->batch)
		return;
	batch_own(c);
	tvn_batch__fire(c);
	__atomic_store_n(&c->batch_state, TVN_BATCH_NONE, __ATOMIC_RELEASE);
	free(c->batch);
	c->batch = NULL;
}

#endif /* TORVYN_STEP_BATCH_H */
