/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The metric blocks are libtorvyn-probes' (include/torvyn/probes.h): it
 * derives the flow and system blocks from the component blocks and fires
 * metrics__flush. What only the host knows, its buffer pool, it writes here,
 * just before each aggregation.
 */
#include "runtime_internal.h"

void tvn_host__before_flush(struct tvn_probes *p, void *arg)
{
	struct tvn_host *h = arg;

	(void)p;
	tvn_pool__snapshot(&h->pool, h->pool_blk);
	h->sys->memory_total = tvn_pool__memory(&h->pool);
}
