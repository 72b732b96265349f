/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The host's tiered buffer pool (pool.c). */
#ifndef TORVYN_POOL_H
#define TORVYN_POOL_H

#include <stdint.h>

#include <linux/types.h>
#include "torvyn_abi.h"

#define TVN_MAX_BUFFER (16u << 20)

struct tvn_buf {
	uint8_t *data;
	uint32_t cap;
	uint8_t tier;	/* TORVYN_TIER_* */
	uint8_t pooled; /* 0: fallback allocation, freed on return */
	uint64_t id;
	struct tvn_buf *next;
};

/* Returns a buffer of at least size bytes, or NULL (errno ENOMEM/E2BIG). */
struct tvn_buf *tvn_pool__alloc(uint32_t size);
void tvn_pool__return(struct tvn_buf *buf);
int tvn_pool__init(void);
void tvn_pool__fini(void);
/* Copies the pool's counters into blk (under the tier locks). */
void tvn_pool__snapshot(struct torvyn_pool_block *blk);
uint64_t tvn_pool__memory(void);

#endif /* TORVYN_POOL_H */
