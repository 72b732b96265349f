// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * libtorvyn-probes: pools. A file of its own: a host with a pool of its own
 * (torvyn-host fires the pool probes inline) does not pull these sites in.
 */
#include "probes_internal.h"

int tvn_probes__pool_tier(struct tvn_probes *p, uint32_t tier, uint64_t buffer_size,
			  uint64_t capacity)
{
	struct torvyn_pool_tier *t;

	if (tier >= TORVYN_TIERS)
		return -EINVAL;
	t = &p->pool->tier[tier];
	t->buffer_size = buffer_size;
	t->capacity = capacity;
	__atomic_store_n(&t->available, capacity, __ATOMIC_RELAXED);
	return 0;
}

void tvn_probes__pool_event(struct tvn_probes *p, enum tvn_probes_pool_event ev, uint32_t tier,
			    uint64_t size)
{
	struct torvyn_pool_tier *t;

	if (tier >= TORVYN_TIERS)
		return;
	t = &p->pool->tier[tier];
	/* several threads share a pool: every count is atomic */
	switch (ev) {
	case TVN_POOL_ALLOC:
		__atomic_add_fetch(&t->allocated, 1, __ATOMIC_RELAXED);
		__atomic_sub_fetch(&t->available, 1, __ATOMIC_RELAXED);
		if (TORVYN_POOL_ALLOC_ENABLED())
			TORVYN_POOL_ALLOC(tier, size);
		break;
	case TVN_POOL_RETURN:
		__atomic_add_fetch(&t->returned, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&t->available, 1, __ATOMIC_RELAXED);
		if (TORVYN_POOL_RETURN_ENABLED())
			TORVYN_POOL_RETURN(tier, size);
		break;
	case TVN_POOL_FALLBACK:
		__atomic_add_fetch(&t->fallback_count, 1, __ATOMIC_RELAXED);
		if (TORVYN_POOL_FALLBACK_ENABLED())
			TORVYN_POOL_FALLBACK(tier, size);
		break;
	case TVN_POOL_EXHAUSTED:
		__atomic_add_fetch(&t->exhaustion_events, 1, __ATOMIC_RELAXED);
		if (TORVYN_POOL_EXHAUSTED_ENABLED())
			TORVYN_POOL_EXHAUSTED(tier);
		break;
	}
}
