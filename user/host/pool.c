/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The tiered buffer pool: Small 256 B x 4096, Medium 4 KiB x 1024, Large
 * 64 KiB x 256 preallocated; Huge 1 MiB x 32 allocated on first use. An empty
 * tier falls back to the system allocator and counts it (docs/metrics.md).
 * A buffer knows its tier, so giving it back needs no pool.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"
#include "runtime.h"
#include "torvyn_probes.h"

static const struct {
	uint32_t size;
	uint32_t count;
	bool prealloc;
} tier_spec[TORVYN_TIERS] = {
    {256, 4096, true},
    {4096, 1024, true},
    {65536, 256, true},
    {1u << 20, 32, false},
};

int tvn_pool__init(struct tvn_pool *pool)
{
	pool->next_id = 0;
	pool->mapped = 0;
	for (int t = 0; t < TORVYN_TIERS; t++) {
		struct tvn_pool_tier *tr = &pool->tiers[t];

		memset(tr, 0, sizeof(*tr));
		pthread_mutex_init(&tr->lock, NULL);
		tr->st.buffer_size = tier_spec[t].size;
		tr->st.capacity = tier_spec[t].count;
		tr->hdrs = calloc(tier_spec[t].count, sizeof(*tr->hdrs));
		if (!tr->hdrs)
			return -ENOMEM;
		/* available: buffers the tier can still hand out without a fallback */
		tr->st.available = tier_spec[t].count;
		if (!tier_spec[t].prealloc)
			continue;
		tr->mem = malloc((size_t)tier_spec[t].size * tier_spec[t].count);
		if (!tr->mem)
			return -ENOMEM;
		pool->mapped += (uint64_t)tier_spec[t].size * tier_spec[t].count;
		for (uint32_t i = tier_spec[t].count; i-- > 0;) {
			struct tvn_buf *b = &tr->hdrs[i];

			b->data = tr->mem + (size_t)i * tier_spec[t].size;
			b->cap = tier_spec[t].size;
			b->tier = t;
			b->pooled = 1;
			b->home = tr;
			b->next = tr->free;
			tr->free = b;
		}
		tr->made = tier_spec[t].count;
	}
	return 0;
}

void tvn_pool__fini(struct tvn_pool *pool)
{
	for (int t = 0; t < TORVYN_TIERS; t++) {
		struct tvn_pool_tier *tr = &pool->tiers[t];

		if (!tier_spec[t].prealloc) {
			for (uint32_t i = 0; i < tr->made; i++)
				free(tr->hdrs[i].data);
		}
		free(tr->mem);
		free(tr->hdrs);
		tr->mem = NULL;
		tr->hdrs = NULL;
		pthread_mutex_destroy(&tr->lock);
	}
	pool->mapped = 0;
}

static int tier_for(uint32_t size)
{
	for (int t = 0; t < TORVYN_TIERS; t++) {
		if (size <= tier_spec[t].size)
			return t;
	}
	return TORVYN_TIER_HUGE; /* up to TVN_MAX_BUFFER, always a fallback */
}

static struct tvn_buf *fallback_alloc(int t, uint32_t size)
{
	struct tvn_buf *b = malloc(sizeof(*b));

	if (!b)
		return NULL;
	b->data = malloc(size);
	if (!b->data) {
		free(b);
		return NULL;
	}
	b->cap = size;
	b->tier = t;
	b->pooled = 0;
	b->next = NULL;
	b->home = NULL;
	return b;
}

struct tvn_buf *tvn_pool__alloc(struct tvn_pool *pool, uint32_t size)
{
	struct tvn_buf *b;
	struct tvn_pool_tier *tr;
	int t;

	if (size > TVN_MAX_BUFFER) {
		errno = E2BIG;
		return NULL;
	}
	t = tier_for(size);
	tr = &pool->tiers[t];
	pthread_mutex_lock(&tr->lock);
	b = tr->free;
	if (!b && size <= tier_spec[t].size && tr->made < tier_spec[t].count) {
		/* huge tier: create on first use, up to its capacity */
		b = &tr->hdrs[tr->made];
		b->data = malloc(tier_spec[t].size);
		if (b->data) {
			b->cap = tier_spec[t].size;
			b->tier = t;
			b->pooled = 1;
			b->home = tr;
			tr->made++;
			pool->mapped += tier_spec[t].size;
		} else {
			b = NULL;
		}
	} else if (b) {
		tr->free = b->next;
	}
	if (b) {
		tr->st.allocated++;
		tr->st.available--;
		if (tr->st.available == 0) {
			tr->st.exhaustion_events++;
			if (tvn_hot() && TORVYN_POOL_EXHAUSTED_ENABLED())
				TORVYN_POOL_EXHAUSTED(t);
		}
		pthread_mutex_unlock(&tr->lock);
		if (tvn_hot() && TORVYN_POOL_ALLOC_ENABLED())
			TORVYN_POOL_ALLOC(t, b->cap);
	} else {
		tr->st.fallback_count++;
		pthread_mutex_unlock(&tr->lock);
		b = fallback_alloc(t, size);
		if (!b) {
			errno = ENOMEM;
			return NULL;
		}
		if (tvn_hot() && TORVYN_POOL_FALLBACK_ENABLED())
			TORVYN_POOL_FALLBACK(t, size);
	}
	b->id = __atomic_add_fetch(&pool->next_id, 1, __ATOMIC_RELAXED);
	return b;
}

void tvn_pool__return(struct tvn_buf *b)
{
	struct tvn_pool_tier *tr;

	if (!b)
		return;
	if (!b->pooled) {
		free(b->data);
		free(b);
		return;
	}
	tr = b->home;
	if (tvn_hot() && TORVYN_POOL_RETURN_ENABLED())
		TORVYN_POOL_RETURN(b->tier, b->cap);
	pthread_mutex_lock(&tr->lock);
	b->next = tr->free;
	tr->free = b;
	tr->st.returned++;
	tr->st.available++;
	pthread_mutex_unlock(&tr->lock);
}

void tvn_pool__snapshot(struct tvn_pool *pool, struct torvyn_pool_block *blk)
{
	for (int t = 0; t < TORVYN_TIERS; t++) {
		pthread_mutex_lock(&pool->tiers[t].lock);
		blk->tier[t] = pool->tiers[t].st;
		pthread_mutex_unlock(&pool->tiers[t].lock);
	}
}

uint64_t tvn_pool__memory(struct tvn_pool *pool)
{
	return __atomic_load_n(&pool->mapped, __ATOMIC_RELAXED);
}
