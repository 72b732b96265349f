/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metric blocks are libtorvyn-probes' (include/torvyn/probes.h): it
 * derives the flow and system blocks from the component blocks and fires
 * metrics__flush. What only the host knows it writes here, just before each
 * aggregation: the histograms' sums its hot path keeps in clock ticks, and
 * its buffer pool.
 */
#include "runtime_internal.h"

void tvn_host__before_flush(struct tvn_probes *p, void *arg)
{
	struct tvn_host *h = arg;

	(void)p;
	/* the library's last flush (tvn_probes__close) comes after the flows are freed */
	for (int i = 0; h->flows && i < h->n_flows; i++) {
		struct tvn_flow *f = &h->flows[i];

		for (int j = 0; j < f->n_streams; j++)
			tvn_hist_lat__settle(&f->streams[j].blk->wait_time,
					     &f->streams[j].wait_ticks);
		for (int j = 0; j < f->n_comps; j++) {
			struct torvyn_component_block *cb = f->comps[j].blk;

			/* the hot path sums in clock ticks: the blocks hold ns */
			tvn_hist_lat__settle(&cb->processing_time, &f->comps[j].proc_ticks);
			tvn_hist_lat__settle(&cb->e2e_latency, &f->comps[j].e2e_ticks);
		}
	}
	tvn_pool__snapshot(&h->pool, h->pool_blk);
	h->sys->memory_total = tvn_pool__memory(&h->pool);
}

void tvn_host__tick(struct tvn_probes *p, bool due, void *arg)
{
	(void)p;
	tvn_batch__tick(arg, due); /* the step-record batches, flushed at each interval */
}
