/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The host's tiered buffer pool (pool.c). */
#ifndef TORVYN_POOL_H
#define TORVYN_POOL_H

#include <pthread.h>
#include <stdint.h>

#include <linux/types.h>
#include "torvyn_abi.h"

#define TVN_MAX_BUFFER (16u << 20)

struct tvn_pool_tier;

struct tvn_buf {
	uint8_t *data;
	uint32_t cap;
	uint8_t tier;	/* TORVYN_TIER_* */
	uint8_t pooled; /* 0: fallback allocation, freed on return */
	uint64_t id;
	struct tvn_buf *next;
	struct tvn_pool_tier *home; /* pooled: the tier it goes back to */
};

/* One tier: buffers of one size, under its lock. */
struct tvn_pool_tier {
	pthread_mutex_t lock;
	struct tvn_buf *free;
	struct tvn_buf *hdrs; /* capacity headers */
	uint8_t *mem;	      /* preallocated tiers: one block */
	uint32_t made;	      /* huge tier: buffers created so far */
	struct torvyn_pool_tier st;
};

struct tvn_pool {
	struct tvn_pool_tier tiers[TORVYN_TIERS];
	uint64_t next_id; /* atomic: the last buffer id handed out */
	uint64_t mapped;  /* bytes of pool memory */
};

int tvn_pool__init(struct tvn_pool *pool);
void tvn_pool__fini(struct tvn_pool *pool);
/* Returns a buffer of at least size bytes, or NULL (errno ENOMEM/E2BIG). */
struct tvn_buf *tvn_pool__alloc(struct tvn_pool *pool, uint32_t size);
/* Gives buf back to the pool it came from (frees a fallback allocation). */
void tvn_pool__return(struct tvn_buf *buf);
/* Copies the pool's counters into blk (under the tier locks). */
void tvn_pool__snapshot(struct tvn_pool *pool, struct torvyn_pool_block *blk);
uint64_t tvn_pool__memory(struct tvn_pool *pool);

#endif /* TORVYN_POOL_H */
