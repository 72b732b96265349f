// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * A sample of a session: the host's metric blocks (a snapshot), the fine
 * latency histograms of the step records and the scheduler's per-thread
 * figures, at one moment. Two of them frame the measured window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_internal.h"
#include "session.h"

static void on_fine(void *ctx, __u32 flow, __u32 comp, const struct tvn_fine_val *v)
{
	struct tvn_bench_sample *sm = ctx;
	__u32 slot;

	if (flow >= TORVYN_MAX_FLOWS)
		return;
	if (comp == TVN_FINE_E2E)
		slot = flow * TVN_BENCH_FINE_PER_FLOW + TORVYN_MAX_COMPONENTS;
	else if (comp < TORVYN_MAX_COMPONENTS)
		slot = flow * TVN_BENCH_FINE_PER_FLOW + comp;
	else
		return;
	sm->fine[slot] = *v;
}

static void on_sched(void *ctx, __u32 tid, const struct tvn_sched_val *v)
{
	struct tvn_bench_sample *sm = ctx;

	if (sm->n_threads >= TVN_BENCH_MAX_THREADS)
		return;
	sm->threads[sm->n_threads].tid = tid;
	sm->threads[sm->n_threads].v = *v;
	sm->n_threads++;
}

int tvn_bench_sample__init(struct tvn_bench_sample *sm, uint64_t mono_ns)
{
	memset(sm, 0, sizeof(*sm));
	sm->fine = calloc((size_t)TORVYN_MAX_FLOWS * TVN_BENCH_FINE_PER_FLOW, sizeof(*sm->fine));
	sm->threads = calloc(TVN_BENCH_MAX_THREADS, sizeof(*sm->threads));
	if (!sm->fine || !sm->threads)
		return -ENOMEM;
	sm->mono_ns = mono_ns;
	return 0;
}

int tvn_bench_sample__take(struct tvn_bench_sample *sm, struct tvn_session *s)
{
	if (tvn_bench_sample__init(sm, 0))
		return -ENOMEM;
	sm->mono_ns = tvn_bench__now_ns();
	if (tvn_session__snapshot(s, NULL, &sm->snap))
		return -ENOMEM;
	tvn_session__read_fine(s, on_fine, sm);
	tvn_session__read_sched(s, on_sched, sm);
	return 0;
}

void tvn_bench_sample__free(struct tvn_bench_sample *sm)
{
	tvn_snapshot__free(&sm->snap);
	free(sm->fine);
	free(sm->threads);
}

static void on_fine_e2e(void *ctx, __u32 flow, __u32 comp, const struct tvn_fine_val *v)
{
	struct tvn_bench_mark *m = ctx;

	(void)flow;
	if (comp != TVN_FINE_E2E)
		return;
	m->count += v->count;
	for (int i = 0; i < TVN_BENCH_HIST_BUCKETS; i++)
		m->d[i] += v->bucket[i];
}

int tvn_bench_mark__take(struct tvn_bench_mark *m, struct tvn_session *s)
{
	memset(m, 0, sizeof(*m));
	m->mono_ns = tvn_bench__now_ns();
	return tvn_session__read_fine(s, on_fine_e2e, m);
}

const struct tvn_sched_val *tvn_bench_sample__thread(const struct tvn_bench_sample *sm, __u32 tid)
{
	for (int i = 0; i < sm->n_threads; i++) {
		if (sm->threads[i].tid == tid)
			return &sm->threads[i].v;
	}
	return NULL;
}
